/* SPDX-License-Identifier: MIT */
/* gemm.h - internal to the gemm family. */
#ifndef JG_GEMM_INTERNAL_H
#define JG_GEMM_INTERNAL_H

#include "internal.h"

/* Validates the arguments of jg_sgemm / jg_sgemm_ref: 0 or -EINVAL. */
int jg_sgemm_check(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                   const float *a, int lda, const float *b, int ldb,
                   const float *c, int ldc);

/* jg_sgemm on the calling thread only: no OpenMP region, packing buffers
 * thread-local. For callers that already parallelise over an outer loop
 * (conv2d over images). Same contract and return values as jg_sgemm. */
int jg_sgemm_serial(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc);

#endif
