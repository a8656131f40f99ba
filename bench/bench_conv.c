/* SPDX-License-Identifier: MIT */
/* Placeholder until the conv benchmark lands. */
#include <stdio.h>

#include "jg_bench.h"

int jg_bench_conv_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "joulegrad: bench conv is not written yet\n");
    return 1;
}
