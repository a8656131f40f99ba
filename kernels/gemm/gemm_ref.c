/* SPDX-License-Identifier: MIT */
/* gemm_ref.c - the plain triple loop: the oracle every optimised SGEMM is
 * tested against. Accumulates in double so the oracle is more accurate than
 * anything it checks. */
#include "gemm.h"

int jg_sgemm_check(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                   const float *a, int lda, const float *b, int ldb,
                   const float *c, int ldc)
{
    JG_CHECK(a && b && c);
    JG_CHECK(m >= 1 && n >= 1 && k >= 1);
    JG_CHECK(ta == JG_NOTRANS || ta == JG_TRANS);
    JG_CHECK(tb == JG_NOTRANS || tb == JG_TRANS);
    JG_CHECK(lda >= (ta == JG_NOTRANS ? k : m));
    JG_CHECK(ldb >= (tb == JG_NOTRANS ? n : k));
    JG_CHECK(ldc >= n);
    return 0;
}

int jg_sgemm_ref(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc)
{
    const int err = jg_sgemm_check(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    if (err) return err;
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (int p = 0; p < k; p++) {
                const float av = ta == JG_NOTRANS ? a[(size_t)i * lda + p] : a[(size_t)p * lda + i];
                const float bv = tb == JG_NOTRANS ? b[(size_t)p * ldb + j] : b[(size_t)j * ldb + p];
                acc += (double)av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = (float)(alpha * acc + (beta == 0.0f ? 0.0 : (double)beta * *cij));
        }
    }
    return 0;
}
