/* SPDX-License-Identifier: MIT */
/* gemm.h - internal to the gemm family. */
#ifndef JG_GEMM_INTERNAL_H
#define JG_GEMM_INTERNAL_H

#include "internal.h"

/* Validates the arguments of jg_sgemm / jg_sgemm_ref: 0 or -EINVAL. */
int jg_sgemm_check(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                   const float *a, int lda, const float *b, int ldb,
                   const float *c, int ldc);

#endif
