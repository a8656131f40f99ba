/* SPDX-License-Identifier: MIT */
/* gemm_neon.c - aarch64 Advanced SIMD SGEMM micro-kernel, 8 x 12 tile.
 *
 * 32 q registers: 24 accumulators (8 rows x 3 vectors along n), 3 B vectors
 * and 2 A vectors; FMA by lane (vfmaq_laneq_f32) uses the 8 A values without
 * separate broadcasts, so each k step is 5 loads for 24 FMAs. */
#include <arm_neon.h>

#include "gemm.h"

#define MR 8
#define NR 12

/* One k step for row r of the tile, A value in lane l of register av. */
#define ROW_FMA(r, av, l)                                    \
    do {                                                     \
        acc[r][0] = vfmaq_laneq_f32(acc[r][0], b0, av, l);   \
        acc[r][1] = vfmaq_laneq_f32(acc[r][1], b1, av, l);   \
        acc[r][2] = vfmaq_laneq_f32(acc[r][2], b2, av, l);   \
    } while (0)

/* C(8, 12) = alpha * sum_p a(p, :)^T b(p, :) + beta * C */
void jg_f32_gemm_ukernel_8x12_neon(int kc, float alpha, const float *restrict a,
                                   const float *restrict b, float beta,
                                   float *restrict c, ptrdiff_t ldc)
{
    float32x4_t acc[MR][3]; // (8, 12) in 24 q registers
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = acc[i][2] = vdupq_n_f32(0.0f);
    for (int p = 0; p < kc; p++) {
        const float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        const float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        ROW_FMA(0, a0, 0);
        ROW_FMA(1, a0, 1);
        ROW_FMA(2, a0, 2);
        ROW_FMA(3, a0, 3);
        ROW_FMA(4, a1, 0);
        ROW_FMA(5, a1, 1);
        ROW_FMA(6, a1, 2);
        ROW_FMA(7, a1, 3);
        a += MR;
        b += NR;
    }
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < 3; j++) {
            const float32x4_t r = vmulq_n_f32(acc[i][j], alpha);
            /* beta == 0 must not read C */
            vst1q_f32(ci + 4 * j, beta == 0.0f ? r : vfmaq_n_f32(r, vld1q_f32(ci + 4 * j), beta));
        }
    }
}

const jg_sgemm_config_t jg_sgemm_config_neon = {
    .mr = MR, .nr = NR, .mc = 128, .kc = 256, .nc = 3072,
    .ukernel = jg_f32_gemm_ukernel_8x12_neon,
    .pack_t = jg_f32_gemm_pack_t_ref,
    .pack_n = jg_f32_gemm_pack_n_ref,
};
