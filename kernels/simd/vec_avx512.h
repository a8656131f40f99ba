/* SPDX-License-Identifier: MIT */
/*
 * vec_avx512.h - the thin macro layer (ggml style) over AVX-512F intrinsics
 * that the loop templates of the act, loss and optim families (*_tmpl.h) are
 * written against. vec_avx2.h and vec_neon.h define the same names with the
 * same meaning, so every loop is written once and compiled once per ISA.
 * Include only from a file compiled with -mavx512f -mfma (a *_avx512.c).
 */
#ifndef JG_VEC_AVX512_H
#define JG_VEC_AVX512_H

#include <immintrin.h>
#include <stddef.h>

#define JG_VFN(name) jg_f32_##name##_avx512 /* exported variant name */
#define VEPR 16                              /* floats per register */

typedef __m512 vf_t;
typedef __mmask16 vcmp_t;  /* lane predicate from a comparison */
typedef __mmask16 vtail_t; /* live lanes of a partial vector */

#define VTAIL(rem) ((__mmask16)((1u << (rem)) - 1u))
#define VTAIL_NONE ((__mmask16)0)

#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
/* Dead lanes read as `fill` and are never written; masked lanes never fault. */
#define VLOADT(p, t, fill) _mm512_mask_loadu_ps(_mm512_set1_ps(fill), (t), (p))
#define VSTORET(p, t, v) _mm512_mask_storeu_ps((p), (t), (v))
#define VZEROT(t, v) _mm512_maskz_mov_ps((t), (v)) /* dead lanes -> 0 */

#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VSQRT(a) _mm512_sqrt_ps(a)
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c)) /* a*b + c, one rounding */
/* max/min return the second operand when either is NaN: put the data last
 * so a NaN propagates (NEON propagates always). */
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VGT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GT_OQ)
#define VGE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_GE_OQ)
#define VLT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define VSEL(m, a, b) _mm512_mask_blend_ps((m), (b), (a)) /* m ? a : b */
#define VREDUCE_MAX(v) _mm512_reduce_max_ps(v) /* order-free: max is exact */

static inline vf_t vabs(vf_t a)
{
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
}

/* |mag| with the sign bit of sgn */
static inline vf_t vcopysign(vf_t mag, vf_t sgn)
{
    const __m512i m = _mm512_set1_epi32(0x7fffffff);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(m, _mm512_castps_si512(mag)),
                                               _mm512_andnot_si512(m, _mm512_castps_si512(sgn))));
}

/* p * 2^n for integral n in [-152, 128]: two factors 2^(n/2) keep both in
 * the normal range, so results in the denormal range round only once. */
static inline vf_t vldexp(vf_t p, vf_t n)
{
    const __m512i ni = _mm512_cvtps_epi32(n);
    const __m512i n1 = _mm512_srai_epi32(ni, 1), n2 = _mm512_sub_epi32(ni, n1);
    const __m512i bias = _mm512_set1_epi32(127);
    const vf_t s1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n1, bias), 23));
    const vf_t s2 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n2, bias), 23));
    return _mm512_mul_ps(_mm512_mul_ps(p, s1), s2);
}

/* A sum of float vectors kept in double (two registers of 8 doubles), for
 * long reductions whose float error would grow with the length. */
typedef struct {
    __m512d lo, hi;
} vdsum_t;

static inline vdsum_t vdsum_zero(void)
{
    const vdsum_t s = {_mm512_setzero_pd(), _mm512_setzero_pd()};
    return s;
}

static inline vdsum_t vdsum_add(vdsum_t s, vf_t v)
{
    const __m256 hi = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    s.lo = _mm512_add_pd(s.lo, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    s.hi = _mm512_add_pd(s.hi, _mm512_cvtps_pd(hi));
    return s;
}

static inline double vdsum_reduce(vdsum_t s)
{
    return _mm512_reduce_add_pd(_mm512_add_pd(s.lo, s.hi));
}

/* ---- used by the pool and norm templates ------------------------------ */

/* Live lanes of a partial vector for any count: n <= 0 none, n >= VEPR all. */
#define VTAILN(n) \
    ((__mmask16)((n) <= 0 ? 0u : (n) >= 16 ? 0xffffu : (1u << (n)) - 1u))

/* Predicates: !(a <= b) (a larger, or either NaN); a not NaN; and. */
#define VNLE(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_NLE_UQ)
#define VORD(a) _mm512_cmp_ps_mask((a), (a), _CMP_ORD_Q)
#define VCMP_AND(m1, m2) ((__mmask16)((m1) & (m2)))

/* int32 lanes (max-pool argmax) */
typedef __m512i vi_t;
#define VI_SET1(x) _mm512_set1_epi32(x)
#define VI_ADD(a, b) _mm512_add_epi32((a), (b))
#define VI_SEL(m, a, b) _mm512_mask_blend_epi32((m), (b), (a)) /* m ? a : b */
#define VI_STORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define VI_STORET(p, t, v) _mm512_mask_storeu_epi32((p), (t), (v))

/* lanes l * step */
static inline vi_t vi_iota(int step)
{
    return _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(step));
}

/* Even / odd floats of p[0 .. cnt) (cnt <= 2*VEPR) in lanes 0.., others 0;
 * reads nothing at or past p[cnt]. */
static inline void vld_even_odd(const float *p, int cnt, vf_t *even, vf_t *odd)
{
    const __m512 lo = _mm512_maskz_loadu_ps(VTAILN(cnt), p);
    const __m512 hi = _mm512_maskz_loadu_ps(VTAILN(cnt - 16), p + 16);
    const __m512i ie =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *even = _mm512_permutex2var_ps(lo, ie, hi);
    if (odd) *odd = _mm512_permutex2var_ps(lo, _mm512_add_epi32(ie, _mm512_set1_epi32(1)), hi);
}

/* lanes l < n get p[l * sw] (others 0); reads p[0 .. (n-1)*sw] only.
 * idx = vi_iota(sw). */
static inline vf_t vld_strided(const float *p, int sw, int n, vi_t idx)
{
    if (sw == 1) return _mm512_maskz_loadu_ps(VTAILN(n), p);
    if (sw == 2) {
        vf_t e;
        vld_even_odd(p, 2 * n - 1, &e, NULL);
        return e;
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), VTAILN(n), idx, p, 4);
}

/* Interleaved lanes of a and b: lo = a0 b0 a1 b1 .., hi = the second half. */
static inline void vzip(vf_t a, vf_t b, vf_t *lo, vf_t *hi)
{
    *lo = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), b);
    *hi = _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), b);
}

/* s += (v - mu)^2 and s += g * (v - mu), lane-wise in double */
static inline vdsum_t vdsum_add_dev(vdsum_t s, vf_t v, double mu)
{
    const __m512d m = _mm512_set1_pd(mu);
    const __m256 vh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    s.lo = _mm512_add_pd(s.lo, _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), m));
    s.hi = _mm512_add_pd(s.hi, _mm512_sub_pd(_mm512_cvtps_pd(vh), m));
    return s;
}

static inline vdsum_t vdsum_add_sqdev(vdsum_t s, vf_t v, double mu)
{
    const __m512d m = _mm512_set1_pd(mu);
    const __m256 vh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), m);
    const __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(vh), m);
    s.lo = _mm512_fmadd_pd(d0, d0, s.lo);
    s.hi = _mm512_fmadd_pd(d1, d1, s.hi);
    return s;
}

static inline vdsum_t vdsum_add_muldev(vdsum_t s, vf_t g, vf_t v, double mu)
{
    const __m512d m = _mm512_set1_pd(mu);
    const __m256 vh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
    const __m256 gh = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(g), 1));
    const __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), m);
    const __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(vh), m);
    s.lo = _mm512_fmadd_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(g)), d0, s.lo);
    s.hi = _mm512_fmadd_pd(_mm512_cvtps_pd(gh), d1, s.hi);
    return s;
}

/* horizontal sum (lanes in a fixed tree order) */
#define VREDUCE_ADD(v) _mm512_reduce_add_ps(v)

#endif /* JG_VEC_AVX512_H */
