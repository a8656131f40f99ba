/* SPDX-License-Identifier: MIT */
/* gemm_ukernel_ref.c - the portable SGEMM micro-kernel: the scalar twin of
 * every SIMD micro-kernel (same packed operands, same k order) and the one
 * JOULEGRAD_ISA=ref runs. */
#include "gemm.h"

/* C(mr, nr) = alpha * sum_p a(p, :)^T b(p, :) + beta * C */
void jg_f32_gemm_ukernel_ref(int mr, int nr, int kc, float alpha,
                             const float *a, const float *b, float beta,
                             float *c, ptrdiff_t ldc)
{
    float acc[JG_SGEMM_MR_MAX * JG_SGEMM_NR_MAX] = {0}; // (mr, nr)
    for (int p = 0; p < kc; p++) {
        for (int i = 0; i < mr; i++) {
            const float ai = a[(size_t)p * mr + i];
            for (int j = 0; j < nr; j++) acc[i * nr + j] += ai * b[(size_t)p * nr + j];
        }
    }
    for (int i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        for (int j = 0; j < nr; j++) {
            /* beta == 0 must not read C: NaNs there must not propagate */
            ci[j] = beta == 0.0f ? alpha * acc[i * nr + j]
                                 : alpha * acc[i * nr + j] + beta * ci[j];
        }
    }
}

/* Fixed-tile twins with the signature of the SIMD micro-kernels
 * (jg_f32_gemm_ukernel_<MR>x<NR>_<isa>). 4 x 16 is the ref ISA's own tile:
 * it keeps acc in registers when the compiler vectorises and is cheap to pad
 * at edges. */
void jg_f32_gemm_ukernel_4x16_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc)
{
    jg_f32_gemm_ukernel_ref(4, 16, kc, alpha, a, b, beta, c, ldc);
}

void jg_f32_gemm_ukernel_6x16_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc)
{
    jg_f32_gemm_ukernel_ref(6, 16, kc, alpha, a, b, beta, c, ldc);
}

void jg_f32_gemm_ukernel_8x12_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc)
{
    jg_f32_gemm_ukernel_ref(8, 12, kc, alpha, a, b, beta, c, ldc);
}

void jg_f32_gemm_ukernel_14x32_ref(int kc, float alpha, const float *a, const float *b,
                                   float beta, float *c, ptrdiff_t ldc)
{
    jg_f32_gemm_ukernel_ref(14, 32, kc, alpha, a, b, beta, c, ldc);
}

void jg_f32_gemm_ukernel_16x16_ref(int kc, float alpha, const float *a, const float *b,
                                   float beta, float *c, ptrdiff_t ldc)
{
    jg_f32_gemm_ukernel_ref(16, 16, kc, alpha, a, b, beta, c, ldc);
}

const jg_sgemm_config_t jg_sgemm_config_ref = {
    .mr = 4, .nr = 16, .mc = 128, .kc = 256, .nc = 2048,
    .ukernel = jg_f32_gemm_ukernel_4x16_ref,
    .pack_t = jg_f32_gemm_pack_t_ref,
    .pack_n = jg_f32_gemm_pack_n_ref,
};
