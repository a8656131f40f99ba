/* SPDX-License-Identifier: MIT */
/* gemm_pack_ref.c - the portable SGEMM packers: the twins of every ISA packer
 * and the ones the ISAs without their own use. */
#include "gemm.h"

/* d(p, i) = src[i * ld + p] for i < rows, 0 for rows <= i < w; d: (kc, w).
 * Reads rows of src, writes with stride w. */
void jg_f32_gemm_pack_t_ref(float *restrict d, const float *restrict src, ptrdiff_t ld, int kc,
                            int w, int rows)
{
    for (int i = 0; i < rows; i++) {
        const float *restrict si = src + (ptrdiff_t)i * ld;
        for (int p = 0; p < kc; p++) d[(size_t)p * w + i] = si[p];
    }
    for (int i = rows; i < w; i++)
        for (int p = 0; p < kc; p++) d[(size_t)p * w + i] = 0.0f;
}

/* d(p, i) = src[p * ld + i] for i < rows, 0 for rows <= i < w; d: (kc, w).
 * Rows of the panel are contiguous runs of src. */
void jg_f32_gemm_pack_n_ref(float *restrict d, const float *restrict src, ptrdiff_t ld, int kc,
                            int w, int rows)
{
    for (int p = 0; p < kc; p++) {
        const float *restrict sp = src + (ptrdiff_t)p * ld;
        float *restrict dp = d + (size_t)p * w;
        for (int i = 0; i < rows; i++) dp[i] = sp[i];
        for (int i = rows; i < w; i++) dp[i] = 0.0f;
    }
}
