/* SPDX-License-Identifier: MIT */
/*
 * norm_avx512.c - AVX-512F per-channel batch-norm kernels. Sums widen each
 * 16-float vector to two 8-double vectors (two accumulator pairs for latency);
 * row remainders use masked loads/stores.
 */
#include <immintrin.h>

#include "norm.h"

#define VL 16

static inline __mmask16 tail_mask(int n)
{
    return n >= VL ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* low / high 8 floats of v as doubles */
#define CVT_LO(v) _mm512_cvtps_pd(_mm512_castps512_ps256(v))
#define CVT_HI(v) \
    _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))

/* mean = sum x / M; var = sum (x - mean)^2 / M, two passes in double */
void jg_f32_bn_moments_avx512(double *mean, double *var, const float *x, int n, int hw,
                              size_t cs)
{
    const double m = (double)n * hw;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        for (int j = 0; j < hw; j += VL) {
            const __m512 v = _mm512_maskz_loadu_ps(tail_mask(hw - j), r + j);
            s0 = _mm512_add_pd(s0, CVT_LO(v));
            s1 = _mm512_add_pd(s1, CVT_HI(v));
        }
    }
    const double mu = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1)) / m;
    const __m512d mv = _mm512_set1_pd(mu);
    __m512d q0 = _mm512_setzero_pd(), q1 = _mm512_setzero_pd();
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        for (int j = 0; j < hw; j += VL) {
            const __mmask16 mk = tail_mask(hw - j);
            const __m512 v = _mm512_maskz_loadu_ps(mk, r + j);
            /* masked-off lanes give d = 0, not -mean */
            const __m512d d0 = _mm512_maskz_sub_pd((__mmask8)mk, CVT_LO(v), mv);
            const __m512d d1 = _mm512_maskz_sub_pd((__mmask8)(mk >> 8), CVT_HI(v), mv);
            q0 = _mm512_fmadd_pd(d0, d0, q0);
            q1 = _mm512_fmadd_pd(d1, d1, q1);
        }
    }
    *mean = mu;
    *var = _mm512_reduce_add_pd(_mm512_add_pd(q0, q1)) / m;
}

/* y = (x - mean) * scale + shift */
void jg_f32_bn_apply_avx512(float *y, const float *x, int n, int hw, size_t cs, float mean,
                            float scale, float shift)
{
    const __m512 mv = _mm512_set1_ps(mean), sv = _mm512_set1_ps(scale);
    const __m512 bv = _mm512_set1_ps(shift);
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        float *o = y + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL)
            _mm512_storeu_ps(
                o + j, _mm512_fmadd_ps(_mm512_sub_ps(_mm512_loadu_ps(r + j), mv), sv, bv));
        if (j < hw) {
            const __mmask16 mk = tail_mask(hw - j);
            const __m512 v = _mm512_maskz_loadu_ps(mk, r + j);
            _mm512_mask_storeu_ps(o + j, mk, _mm512_fmadd_ps(_mm512_sub_ps(v, mv), sv, bv));
        }
    }
}

/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
void jg_f32_bn_bwd_sums_avx512(double *sdy, double *sdyxc, const float *dy, const float *x,
                               int n, int hw, size_t cs, float mean)
{
    const __m512d mv = _mm512_set1_pd(mean);
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    __m512d t0 = _mm512_setzero_pd(), t1 = _mm512_setzero_pd();
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        for (int j = 0; j < hw; j += VL) {
            const __mmask16 mk = tail_mask(hw - j);
            /* masked-off lanes: dy = 0, so both products vanish */
            const __m512 gv = _mm512_maskz_loadu_ps(mk, g + j);
            const __m512 xv = _mm512_maskz_loadu_ps(mk, r + j);
            const __m512d g0 = CVT_LO(gv), g1 = CVT_HI(gv);
            s0 = _mm512_add_pd(s0, g0);
            s1 = _mm512_add_pd(s1, g1);
            t0 = _mm512_fmadd_pd(g0, _mm512_sub_pd(CVT_LO(xv), mv), t0);
            t1 = _mm512_fmadd_pd(g1, _mm512_sub_pd(CVT_HI(xv), mv), t1);
        }
    }
    *sdy = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    *sdyxc = _mm512_reduce_add_pd(_mm512_add_pd(t0, t1));
}

/* dx += a*dy + k*(x - mean) + b */
void jg_f32_bn_bwd_apply_avx512(float *dx, const float *dy, const float *x, int n, int hw,
                                size_t cs, float mean, float a, float k, float b)
{
    const __m512 mv = _mm512_set1_ps(mean), av = _mm512_set1_ps(a);
    const __m512 kv = _mm512_set1_ps(k), bv = _mm512_set1_ps(b);
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        float *o = dx + i * cs;
        for (int j = 0; j < hw; j += VL) {
            const __mmask16 mk = tail_mask(hw - j);
            const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(mk, r + j), mv);
            const __m512 t = _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(mk, g + j),
                                             _mm512_fmadd_ps(kv, d, bv));
            _mm512_mask_storeu_ps(o + j, mk,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(mk, o + j), t));
        }
    }
}
