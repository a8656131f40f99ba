/* SPDX-License-Identifier: MIT */
/*
 * neon_count.c - one kernel call, for bench/neon_count.sh to count the
 * instructions it executes under qemu-aarch64 (qemu-user cannot time code).
 * usage: neon_count none|gemm|conv|maxpool|relu; the ISA comes from
 * JOULEGRAD_ISA. "none" does the same set-up without the call, so the
 * script's difference is the call alone. Exit status 0, or 1 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_kernels.h"

static float *filled(size_t n, unsigned seed)
{
    float *p = malloc(n * sizeof(float));
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: neon_count none|gemm|conv|maxpool|relu\n", stderr);
        return 1;
    }
    const char *what = argv[1];
    if (jg_kernels_init() != 0) return 1;
    /* the operands of every case, made in every case */
    const int n = 96;
    float *a = filled((size_t)n * n, 1), *b = filled((size_t)n * n, 2), *c = filled((size_t)n * n, 3);
    const jg_conv2d_shape_t cs = {4, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1};
    const ptrdiff_t ws = jg_conv2d_workspace_bytes(&cs);
    float *x = filled(4 * 28 * 28, 4), *w = filled(32 * 9, 5), *bias = filled(32, 6);
    float *y = filled((size_t)4 * 32 * 28 * 28, 7);
    void *work = ws > 0 ? malloc((size_t)ws) : NULL;
    const jg_pool2d_shape_t ps = {4, 32, 14, 14, 2, 2, 2, 2, 0, 0};
    float *px = filled((size_t)4 * 32 * 14 * 14, 8), *py = filled((size_t)4 * 32 * 7 * 7, 9);
    int32_t *am = malloc((size_t)4 * 32 * 7 * 7 * sizeof(int32_t));
    float *r = filled(25088, 10), *ry = filled(25088, 11);
    if (!a || !b || !c || ws < 0 || !x || !w || !bias || !y || (ws > 0 && !work) || !px || !py ||
        !am || !r || !ry)
        return 1;
    int rc = 0;
    if (!strcmp(what, "gemm"))
        rc = jg_sgemm(JG_NOTRANS, JG_NOTRANS, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    else if (!strcmp(what, "conv"))
        rc = jg_conv2d_forward(y, x, w, bias, &cs, work);
    else if (!strcmp(what, "maxpool"))
        rc = jg_maxpool2d_forward(py, am, px, &ps);
    else if (!strcmp(what, "relu"))
        rc = jg_relu_forward(ry, r, 25088);
    else if (strcmp(what, "none") != 0)
        rc = 1;
    printf("%s %s %d %.6g\n", what, jg_isa_name(jg_kernels_isa()), rc, (double)c[0] + y[0] + py[0] + ry[0]);
    free(a), free(b), free(c), free(x), free(w), free(bias), free(y), free(work);
    free(px), free(py), free(am), free(r), free(ry);
    return rc != 0;
}
