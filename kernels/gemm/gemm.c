/* SPDX-License-Identifier: MIT */
/* Placeholder driver: forwards to the reference until the blocked driver lands. */
#include "gemm.h"

void jg_gemm_select(jg_isa_t isa)
{
    (void)isa;
}

int jg_sgemm(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
             float alpha, const float *a, int lda, const float *b, int ldb,
             float beta, float *c, int ldc)
{
    jg_kernels_ensure_init();
    return jg_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

int jg_sgemm_serial(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc)
{
    jg_kernels_ensure_init();
    return jg_sgemm_ref(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
