/* SPDX-License-Identifier: MIT */
/*
 * act.h - internal to the act family (activations and the bias helpers).
 *
 * Variants are named jg_f32_<op>_<isa> (XNNPACK/ggml style). They take the
 * public arguments minus validation and threading: act.c checks arguments,
 * splits large inputs into chunks across OpenMP threads and calls the
 * selected variant per chunk. Every SIMD variant has a _ref twin in
 * act_ref.c with the same signature; the SIMD bodies are written once in
 * act_tmpl.h over the macro layer in vec_<isa>.h.
 */
#ifndef JG_ACT_INTERNAL_H
#define JG_ACT_INTERNAL_H

#include "internal.h"

#define JG_ACT_DECLARE(isa)                                                          \
    void jg_f32_relu_forward_##isa(float *y, const float *x, size_t n);              \
    void jg_f32_relu_backward_##isa(float *dx, const float *dy, const float *x,      \
                                    size_t n);                                       \
    void jg_f32_relu_backward_set_##isa(float *dx, const float *dy, const float *x,  \
                                        size_t n);                                   \
    void jg_f32_leaky_relu_forward_##isa(float *y, const float *x, float slope,      \
                                         size_t n);                                  \
    void jg_f32_leaky_relu_backward_##isa(float *dx, const float *dy,                \
                                          const float *x, float slope, size_t n);    \
    void jg_f32_sigmoid_forward_##isa(float *y, const float *x, size_t n);           \
    void jg_f32_sigmoid_backward_##isa(float *dx, const float *dy, const float *y,   \
                                       size_t n);                                    \
    void jg_f32_tanh_forward_##isa(float *y, const float *x, size_t n);              \
    void jg_f32_tanh_backward_##isa(float *dx, const float *dy, const float *y,      \
                                    size_t n);                                       \
    void jg_f32_bias_add_rows_##isa(float *y, const float *b, int rows, int cols,    \
                                    int ld);                                         \
    void jg_f32_bias_grad_rows_##isa(float *db, const float *dy, int rows, int cols, \
                                     int ld);

JG_ACT_DECLARE(ref)
JG_ACT_DECLARE(avx2)
JG_ACT_DECLARE(avx512)
JG_ACT_DECLARE(neon)

/* Argument checks shared by the public dispatching and _ref entry points. */
#define JG_BIAS_CHECK(out, in, rows, cols, ld) \
    do { \
        JG_CHECK((out) && (in)); \
        JG_CHECK((rows) >= 1 && (cols) >= 1 && (ld) >= (cols)); \
    } while (0)

#endif /* JG_ACT_INTERNAL_H */
