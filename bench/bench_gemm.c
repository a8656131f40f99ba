/* SPDX-License-Identifier: MIT */
/* Placeholder until the gemm benchmark lands. */
#include <stdio.h>

#include "jg_bench.h"

int jg_bench_gemm_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "joulegrad: bench gemm is not written yet\n");
    return 1;
}
