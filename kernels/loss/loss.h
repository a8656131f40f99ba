/* SPDX-License-Identifier: MIT */
/*
 * loss.h - internal to the loss family (softmax fused with cross-entropy).
 *
 * A variant handles a block of whole rows; loss.c validates, splits rows
 * over threads and combines. Every SIMD variant (loss_tmpl.h) has a _ref
 * twin in loss_ref.c with the same signature.
 */
#ifndef JG_LOSS_INTERNAL_H
#define JG_LOSS_INTERNAL_H

#include "internal.h"

/* softmax_xent_rows: probs(i,:) = softmax(logits(i,:)) for n rows of k;
 * returns sum_i -log probs(i, labels[i]) in double, rows summed in order.
 * softmax_xent_backward_rows: dlogits += s * (probs - onehot(labels)), where
 * the caller passes s = scale / n_total. Labels are already validated. */
#define JG_LOSS_DECLARE(isa)                                                          \
    double jg_f32_softmax_xent_rows_##isa(float *probs, const float *logits,          \
                                          const int32_t *labels, int n, int k);       \
    void jg_f32_softmax_xent_backward_rows_##isa(float *dlogits, const float *probs,  \
                                                 const int32_t *labels, int n, int k, \
                                                 float s);

JG_LOSS_DECLARE(ref)
JG_LOSS_DECLARE(avx2)
JG_LOSS_DECLARE(avx512)
JG_LOSS_DECLARE(neon)

/* 0, or -EINVAL for NULLs, n or k < 1, or any label outside [0, k).
 * Checked before anything is written. */
int jg_softmax_xent_check(const void *out, const void *in, const int32_t *labels,
                          int n, int k);

#endif /* JG_LOSS_INTERNAL_H */
