/* SPDX-License-Identifier: MIT */
/* gemm_avx2.c - AVX2+FMA SGEMM micro-kernel, 6 x 16 tile.
 *
 * 16 ymm registers: 12 accumulators (6 rows x 2 vectors along n), 2 B vectors
 * and 1 broadcast of A; 12 independent FMAs per k step cover 2 pipes x
 * 4-5 cycles of latency. */
#include <immintrin.h>

#include "gemm.h"

#define MR 6
#define NR 16

/* C(6, 16) = alpha * sum_p a(p, :)^T b(p, :) + beta * C */
void jg_f32_gemm_ukernel_6x16_avx2(int kc, float alpha, const float *restrict a,
                                   const float *restrict b, float beta,
                                   float *restrict c, ptrdiff_t ldc)
{
    __m256 acc0[MR], acc1[MR]; // (6, 16) in 12 ymm
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) acc0[i] = acc1[i] = _mm256_setzero_ps();
    for (int p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
        a += MR;
        b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0.0f) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc0[i]));
            _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc1[i]));
        }
    } else {
        const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            _mm256_storeu_ps(ci, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci),
                                                 _mm256_mul_ps(va, acc0[i])));
            _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8),
                                                     _mm256_mul_ps(va, acc1[i])));
        }
    }
}

const jg_sgemm_config_t jg_sgemm_config_avx2 = {
    .mr = MR, .nr = NR, .mc = 144, .kc = 256, .nc = 4096,
    .ukernel = jg_f32_gemm_ukernel_6x16_avx2,
    .pack_t = jg_f32_gemm_pack_t_ref,
    .pack_n = jg_f32_gemm_pack_n_ref,
};
