/* SPDX-License-Identifier: MIT */
/*
 * norm.h - internal to the norm family: per-channel batch-norm kernels, one
 * set per ISA. norm.c validates, splits the channels over threads (each
 * channel owned by one thread, so results do not depend on the thread count)
 * and calls these through the table that jg_norm_select fills.
 *
 * Every kernel sees one channel: the n planes of hw floats at x + i*cs,
 * i < n, where cs = C*HW is the image stride (NCHW).
 *
 * Statistics are two-pass (mean, then centred squares) with the floats
 * widened to double and accumulated in double lanes; the lanes are reduced in
 * a fixed order. The double sums carry ~1e-16 relative error, so the float
 * mean/rstd a SIMD variant stores match _ref to the last bit in nearly all
 * cases and to 1 ulp otherwise.
 */
#ifndef JG_NORM_INTERNAL_H
#define JG_NORM_INTERNAL_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mean = sum x / M; var = sum (x - mean)^2 / M (biased), M = n*hw, double */
typedef void (*jg_bn_moments_fn)(double *mean, double *var, const float *x, int n, int hw,
                                 size_t cs);
/* y = (x - mean) * scale + shift */
typedef void (*jg_bn_apply_fn)(float *y, const float *x, int n, int hw, size_t cs, float mean,
                               float scale, float shift);
/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
typedef void (*jg_bn_bwd_sums_fn)(double *sdy, double *sdyxc, const float *dy, const float *x,
                                  int n, int hw, size_t cs, float mean);
/* dx (+)= a*dy + k*(x - mean) + b: added, or written when set */
typedef void (*jg_bn_bwd_apply_fn)(float *dx, const float *dy, const float *x, int n, int hw,
                                   size_t cs, float mean, float a, float k, float b, int set);

typedef struct {
    jg_bn_moments_fn moments;
    jg_bn_apply_fn apply;
    jg_bn_bwd_sums_fn bwd_sums;
    jg_bn_bwd_apply_fn bwd_apply;
} jg_norm_kernels_t;

#define JG_NORM_DECLARE(isa) \
    void jg_f32_bn_moments_##isa(double *mean, double *var, const float *x, int n, int hw, \
                                 size_t cs); \
    void jg_f32_bn_apply_##isa(float *y, const float *x, int n, int hw, size_t cs, float mean, \
                               float scale, float shift); \
    void jg_f32_bn_bwd_sums_##isa(double *sdy, double *sdyxc, const float *dy, const float *x, \
                                  int n, int hw, size_t cs, float mean); \
    void jg_f32_bn_bwd_apply_##isa(float *dx, const float *dy, const float *x, int n, int hw, \
                                   size_t cs, float mean, float a, float k, float b, int set);

JG_NORM_DECLARE(ref)
JG_NORM_DECLARE(avx2)
JG_NORM_DECLARE(avx512)
JG_NORM_DECLARE(neon)

#ifdef __cplusplus
}
#endif

#endif /* JG_NORM_INTERNAL_H */
