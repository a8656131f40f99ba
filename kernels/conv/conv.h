/* SPDX-License-Identifier: MIT */
/*
 * conv.h - internal to the conv2d family.
 *
 * Two ways to compute each pass:
 *  - im2col + GEMM (portable C around the dispatched SGEMM; every ISA),
 *  - direct SIMD kernels for few input channels, where the GEMM depth
 *    C*KH*KW is too short for a GEMM to run well (first layer, C = 1).
 * jg_conv_select picks per ISA; the direct kernels also pick per shape.
 */
#ifndef JG_CONV_INTERNAL_H
#define JG_CONV_INTERNAL_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validates a shape (sizes >= 1, pads >= 0, output >= 1x1, every per-image
 * matrix dimension fits an int); fills oh, ow. 0 or -EINVAL. */
int jg_conv2d_check_shape(const jg_conv2d_shape_t *s, int *oh, int *ow);

/* col(c*KH*KW + i*KW + j, oh*OW + ow) = x(c, oh*sh + i - ph, ow*sw + j - pw),
 * 0 in the padding. x: (C, H, W) of one image; col: (C*KH*KW, OH*OW);
 * pad: jg_conv2d_pad_floats(s) floats of scratch (unused by the portable
 * version). */
typedef void (*jg_conv2d_im2col_fn)(float *restrict col, const float *restrict x,
                                    const jg_conv2d_shape_t *s, int oh, int ow,
                                    float *restrict pad);
/* The adjoint of im2col: dx(c, ih, iw) += every col entry that im2col read
 * from it, in a fixed order. dx: (C, H, W); col: (C*KH*KW, OH*OW). */
typedef void (*jg_conv2d_col2im_fn)(float *restrict dx, const float *restrict col,
                                    const jg_conv2d_shape_t *s, int oh, int ow,
                                    float *restrict pad);
/* The portable versions (im2col_ref.c): the twins of every ISA's. */
void jg_f32_conv2d_im2col_ref(float *restrict col, const float *restrict x,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad);
void jg_f32_conv2d_col2im_ref(float *restrict dx, const float *restrict col,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad);
#if defined(__x86_64__) || defined(_M_X64)
/* stride_w == 1: row copies from a zero-padded plane with masked vectors;
 * other strides use the portable version. */
void jg_f32_conv2d_im2col_avx512(float *restrict col, const float *restrict x,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad);
void jg_f32_conv2d_col2im_avx512(float *restrict dx, const float *restrict col,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad);
#endif
/* Bit mask of the first min(remaining, 16) lanes of a 16-float vector (the
 * AVX-512 files turn it into a __mmask16). remaining >= 1. */
static inline unsigned jg_conv2d_tail_bits(int remaining)
{
    return remaining >= 16 ? 0xffffu : (1u << remaining) - 1u;
}

/* Floats of one zero-padded input plane set: C * (H + 2ph) * (W + 2pw). */
size_t jg_conv2d_pad_floats(const jg_conv2d_shape_t *s);

/* Direct kernel for one image and all K filters; returns 0 when it did the
 * work, 1 when this shape is not one it handles (caller uses im2col+GEMM).
 * y: (K, OH, OW); x: (C, H, W); w: (K, C, KH, KW); bias: (K) or NULL;
 * scratch: jg_conv2d_direct_scratch_floats(s) floats. */
typedef int (*jg_conv2d_direct_fwd_fn)(float *y, const float *x, const float *w,
                                       const float *bias,
                                       const jg_conv2d_shape_t *s, int oh,
                                       int ow, float *scratch);
/* Direct dw += dy (*) x for one image (same handles/declines rule).
 * dw: (K, C, KH, KW); dy: (K, OH, OW); x: (C, H, W). */
typedef int (*jg_conv2d_direct_bwdw_fn)(float *dw, const float *dy,
                                        const float *x,
                                        const jg_conv2d_shape_t *s, int oh,
                                        int ow, float *scratch);

/* 1 when the direct kernels take this shape (same rule for every ISA). */
/* Largest GEMM depth C*KH*KW the direct kernels take. Measured (Zen 4 guest,
 * 2 threads, bench conv, medians of 2): paper-simplecnn's second conv
 * (512,3,14,14) -> 9 3x3, CKK 27: forward 0.85 ms direct vs 1.14 ms
 * im2col+GEMM; the first default layer has CKK 9. Deeper filters (CKK 288)
 * go through the GEMM. */
#define JG_CONV_DIRECT_MAX_CKK 32

int jg_conv2d_direct_ok(const jg_conv2d_shape_t *s, int oh, int ow);
/* Per-thread scratch of the direct kernels: a zero-padded input plane. */
size_t jg_conv2d_direct_scratch_floats(const jg_conv2d_shape_t *s, int oh, int ow);
/* xp(c, y, x) = x(c, y - ph, x - pw), zero outside; xp: (C, H+2ph, W+2pw). */
void jg_conv2d_pad_input(float *xp, const float *x, const jg_conv2d_shape_t *s);

int jg_f32_conv2d_direct_fwd_ref(float *y, const float *x, const float *w,
                                 const float *bias, const jg_conv2d_shape_t *s,
                                 int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_ref(float *dw, const float *dy, const float *x,
                                  const jg_conv2d_shape_t *s, int oh, int ow,
                                  float *scratch);
#if defined(__x86_64__) || defined(_M_X64)
int jg_f32_conv2d_direct_fwd_avx512(float *y, const float *x, const float *w,
                                    const float *bias, const jg_conv2d_shape_t *s,
                                    int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_avx512(float *dw, const float *dy, const float *x,
                                     const jg_conv2d_shape_t *s, int oh, int ow,
                                     float *scratch);
#endif

#ifdef __cplusplus
}
#endif

#endif /* JG_CONV_INTERNAL_H */
