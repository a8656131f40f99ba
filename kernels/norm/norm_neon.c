/* SPDX-License-Identifier: MIT */
/*
 * norm_neon.c - NEON per-channel batch-norm kernels. Sums widen each 4-float
 * vector to two 2-double vectors; row remainders run in scalar (sums: into a
 * separate double, added last, so the order is fixed).
 */
#include <arm_neon.h>

#include "norm.h"

#define VL 4

/* mean = sum x / M; var = sum (x - mean)^2 / M, two passes in double */
void jg_f32_bn_moments_neon(double *mean, double *var, const float *x, int n, int hw, size_t cs)
{
    const double m = (double)n * hw;
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    double st = 0.0;
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const float32x4_t v = vld1q_f32(r + j);
            s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(v)));
            s1 = vaddq_f64(s1, vcvt_high_f64_f32(v));
        }
        for (; j < hw; j++) st += r[j];
    }
    const double mu = (vaddvq_f64(vaddq_f64(s0, s1)) + st) / m;
    const float64x2_t mv = vdupq_n_f64(mu);
    float64x2_t q0 = vdupq_n_f64(0.0), q1 = vdupq_n_f64(0.0);
    double qt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const float32x4_t v = vld1q_f32(r + j);
            const float64x2_t d0 = vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), mv);
            const float64x2_t d1 = vsubq_f64(vcvt_high_f64_f32(v), mv);
            q0 = vfmaq_f64(q0, d0, d0);
            q1 = vfmaq_f64(q1, d1, d1);
        }
        for (; j < hw; j++) {
            const double d = (double)r[j] - mu;
            qt += d * d;
        }
    }
    *mean = mu;
    *var = (vaddvq_f64(vaddq_f64(q0, q1)) + qt) / m;
}

/* y = (x - mean) * scale + shift */
void jg_f32_bn_apply_neon(float *y, const float *x, int n, int hw, size_t cs, float mean,
                          float scale, float shift)
{
    const float32x4_t mv = vdupq_n_f32(mean), sv = vdupq_n_f32(scale);
    const float32x4_t bv = vdupq_n_f32(shift);
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        float *o = y + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL)
            vst1q_f32(o + j, vfmaq_f32(bv, vsubq_f32(vld1q_f32(r + j), mv), sv));
        for (; j < hw; j++) o[j] = (r[j] - mean) * scale + shift;
    }
}

/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
void jg_f32_bn_bwd_sums_neon(double *sdy, double *sdyxc, const float *dy, const float *x, int n,
                             int hw, size_t cs, float mean)
{
    const float64x2_t mv = vdupq_n_f64(mean);
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = vdupq_n_f64(0.0);
    float64x2_t t0 = vdupq_n_f64(0.0), t1 = vdupq_n_f64(0.0);
    double st = 0.0, tt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const float32x4_t gv = vld1q_f32(g + j), xv = vld1q_f32(r + j);
            const float64x2_t g0 = vcvt_f64_f32(vget_low_f32(gv)), g1 = vcvt_high_f64_f32(gv);
            s0 = vaddq_f64(s0, g0);
            s1 = vaddq_f64(s1, g1);
            t0 = vfmaq_f64(t0, g0, vsubq_f64(vcvt_f64_f32(vget_low_f32(xv)), mv));
            t1 = vfmaq_f64(t1, g1, vsubq_f64(vcvt_high_f64_f32(xv), mv));
        }
        for (; j < hw; j++) {
            st += g[j];
            tt += (double)g[j] * ((double)r[j] - mean);
        }
    }
    *sdy = vaddvq_f64(vaddq_f64(s0, s1)) + st;
    *sdyxc = vaddvq_f64(vaddq_f64(t0, t1)) + tt;
}

/* dx += a*dy + k*(x - mean) + b */
void jg_f32_bn_bwd_apply_neon(float *dx, const float *dy, const float *x, int n, int hw,
                              size_t cs, float mean, float a, float k, float b)
{
    const float32x4_t mv = vdupq_n_f32(mean), av = vdupq_n_f32(a);
    const float32x4_t kv = vdupq_n_f32(k), bv = vdupq_n_f32(b);
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        float *o = dx + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const float32x4_t d = vsubq_f32(vld1q_f32(r + j), mv);
            const float32x4_t t = vfmaq_f32(vfmaq_f32(bv, kv, d), av, vld1q_f32(g + j));
            vst1q_f32(o + j, vaddq_f32(vld1q_f32(o + j), t));
        }
        for (; j < hw; j++) o[j] += a * g[j] + k * (r[j] - mean) + b;
    }
}
