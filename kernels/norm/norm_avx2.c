/* SPDX-License-Identifier: MIT */
/*
 * norm_avx2.c - AVX2+FMA per-channel batch-norm kernels. Sums widen each
 * 8-float vector to two 4-double vectors; row remainders run in scalar (sums:
 * into a separate double, added last, so the order is fixed).
 */
#include <immintrin.h>

#include "norm.h"

#define VL 8

/* low / high 4 floats of v as doubles */
#define CVT_LO(v) _mm256_cvtps_pd(_mm256_castps256_ps128(v))
#define CVT_HI(v) _mm256_cvtps_pd(_mm256_extractf128_ps((v), 1))

static inline double hsum(__m256d v)
{
    const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* mean = sum x / M; var = sum (x - mean)^2 / M, two passes in double */
void jg_f32_bn_moments_avx2(double *mean, double *var, const float *x, int n, int hw, size_t cs)
{
    const double m = (double)n * hw;
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    double st = 0.0;
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const __m256 v = _mm256_loadu_ps(r + j);
            s0 = _mm256_add_pd(s0, CVT_LO(v));
            s1 = _mm256_add_pd(s1, CVT_HI(v));
        }
        for (; j < hw; j++) st += r[j];
    }
    const double mu = (hsum(_mm256_add_pd(s0, s1)) + st) / m;
    const __m256d mv = _mm256_set1_pd(mu);
    __m256d q0 = _mm256_setzero_pd(), q1 = _mm256_setzero_pd();
    double qt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const __m256 v = _mm256_loadu_ps(r + j);
            const __m256d d0 = _mm256_sub_pd(CVT_LO(v), mv), d1 = _mm256_sub_pd(CVT_HI(v), mv);
            q0 = _mm256_fmadd_pd(d0, d0, q0);
            q1 = _mm256_fmadd_pd(d1, d1, q1);
        }
        for (; j < hw; j++) {
            const double d = (double)r[j] - mu;
            qt += d * d;
        }
    }
    *mean = mu;
    *var = (hsum(_mm256_add_pd(q0, q1)) + qt) / m;
}

/* y = (x - mean) * scale + shift */
void jg_f32_bn_apply_avx2(float *y, const float *x, int n, int hw, size_t cs, float mean,
                          float scale, float shift)
{
    const __m256 mv = _mm256_set1_ps(mean), sv = _mm256_set1_ps(scale);
    const __m256 bv = _mm256_set1_ps(shift);
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        float *o = y + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL)
            _mm256_storeu_ps(
                o + j, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(r + j), mv), sv, bv));
        for (; j < hw; j++) o[j] = (r[j] - mean) * scale + shift;
    }
}

/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
void jg_f32_bn_bwd_sums_avx2(double *sdy, double *sdyxc, const float *dy, const float *x, int n,
                             int hw, size_t cs, float mean)
{
    const __m256d mv = _mm256_set1_pd(mean);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    __m256d t0 = _mm256_setzero_pd(), t1 = _mm256_setzero_pd();
    double st = 0.0, tt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const __m256 gv = _mm256_loadu_ps(g + j), xv = _mm256_loadu_ps(r + j);
            const __m256d g0 = CVT_LO(gv), g1 = CVT_HI(gv);
            s0 = _mm256_add_pd(s0, g0);
            s1 = _mm256_add_pd(s1, g1);
            t0 = _mm256_fmadd_pd(g0, _mm256_sub_pd(CVT_LO(xv), mv), t0);
            t1 = _mm256_fmadd_pd(g1, _mm256_sub_pd(CVT_HI(xv), mv), t1);
        }
        for (; j < hw; j++) {
            st += g[j];
            tt += (double)g[j] * ((double)r[j] - mean);
        }
    }
    *sdy = hsum(_mm256_add_pd(s0, s1)) + st;
    *sdyxc = hsum(_mm256_add_pd(t0, t1)) + tt;
}

/* dx += a*dy + k*(x - mean) + b */
void jg_f32_bn_bwd_apply_avx2(float *dx, const float *dy, const float *x, int n, int hw,
                              size_t cs, float mean, float a, float k, float b)
{
    const __m256 mv = _mm256_set1_ps(mean), av = _mm256_set1_ps(a);
    const __m256 kv = _mm256_set1_ps(k), bv = _mm256_set1_ps(b);
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        float *o = dx + i * cs;
        int j = 0;
        for (; j + VL <= hw; j += VL) {
            const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(r + j), mv);
            const __m256 t =
                _mm256_fmadd_ps(av, _mm256_loadu_ps(g + j), _mm256_fmadd_ps(kv, d, bv));
            _mm256_storeu_ps(o + j, _mm256_add_ps(_mm256_loadu_ps(o + j), t));
        }
        for (; j < hw; j++) o[j] += a * g[j] + k * (r[j] - mean) + b;
    }
}
