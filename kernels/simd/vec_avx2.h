/* SPDX-License-Identifier: MIT */
/*
 * vec_avx2.h - AVX2 + FMA3 version of the macro layer; see vec_avx512.h for
 * the meaning of every name. Include only from a *_avx2.c file.
 */
#ifndef JG_VEC_AVX2_H
#define JG_VEC_AVX2_H

#include <immintrin.h>
#include <stddef.h>

#define JG_VFN(name) jg_f32_##name##_avx2
#define VEPR 8

typedef __m256 vf_t;
typedef __m256 vcmp_t;   /* all-ones lanes where true */
typedef __m256i vtail_t; /* all-ones lanes that are live */

#define VTAIL(rem) \
    _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rem)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define VTAIL_NONE _mm256_setzero_si256()

#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VLOADT(p, t, fill) \
    _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps((p), (t)), _mm256_castsi256_ps(t))
#define VSTORET(p, t, v) _mm256_maskstore_ps((p), (t), (v))
#define VZEROT(t, v) _mm256_and_ps((v), _mm256_castsi256_ps(t))

#define VSET1(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VSQRT(a) _mm256_sqrt_ps(a)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
#define VROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VGT(a, b) _mm256_cmp_ps((a), (b), _CMP_GT_OQ)
#define VGE(a, b) _mm256_cmp_ps((a), (b), _CMP_GE_OQ)
#define VLT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define VSEL(m, a, b) _mm256_blendv_ps((b), (a), (m))

static inline float vreduce_max_avx2(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_movehdup_ps(s)));
}
#define VREDUCE_MAX(v) vreduce_max_avx2(v)

static inline vf_t vabs(vf_t a)
{
    return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff)));
}

static inline vf_t vcopysign(vf_t mag, vf_t sgn)
{
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    return _mm256_or_ps(_mm256_andnot_ps(sign, mag), _mm256_and_ps(sign, sgn));
}

static inline vf_t vldexp(vf_t p, vf_t n)
{
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const vf_t s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const vf_t s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

typedef struct {
    __m256d lo, hi;
} vdsum_t;

static inline vdsum_t vdsum_zero(void)
{
    const vdsum_t s = {_mm256_setzero_pd(), _mm256_setzero_pd()};
    return s;
}

static inline vdsum_t vdsum_add(vdsum_t s, vf_t v)
{
    s.lo = _mm256_add_pd(s.lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    s.hi = _mm256_add_pd(s.hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    return s;
}

static inline double vdsum_reduce(vdsum_t s)
{
    const __m256d t = _mm256_add_pd(s.lo, s.hi);
    const __m128d u = _mm_add_pd(_mm256_castpd256_pd128(t), _mm256_extractf128_pd(t, 1));
    return _mm_cvtsd_f64(_mm_add_sd(u, _mm_unpackhi_pd(u, u)));
}

/* ---- used by the pool and norm templates (see vec_avx512.h) ----------- */

#define VTAILN(n) VTAIL(n) /* the compare already clamps */

#define VNLE(a, b) _mm256_cmp_ps((a), (b), _CMP_NLE_UQ)
#define VORD(a) _mm256_cmp_ps((a), (a), _CMP_ORD_Q)
#define VCMP_AND(m1, m2) _mm256_and_ps((m1), (m2))

typedef __m256i vi_t;
#define VI_SET1(x) _mm256_set1_epi32(x)
#define VI_ADD(a, b) _mm256_add_epi32((a), (b))
#define VI_SEL(m, a, b) \
    _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), (m)))
#define VI_STORE(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define VI_STORET(p, t, v) _mm256_maskstore_epi32((int *)(p), (t), (v))

static inline vi_t vi_iota(int step)
{
    return _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(step));
}

/* even lanes of (lo, hi) */
static inline __m256 vpick_avx2(__m256 lo, __m256 hi, int odd)
{
    const __m256 t = odd ? _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1))
                         : _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline void vld_even_odd(const float *p, int cnt, vf_t *even, vf_t *odd)
{
    const __m256 lo = _mm256_maskload_ps(p, VTAILN(cnt));
    const __m256 hi = _mm256_maskload_ps(p + 8, VTAILN(cnt - 8));
    *even = vpick_avx2(lo, hi, 0);
    if (odd) *odd = vpick_avx2(lo, hi, 1);
}

static inline vf_t vld_strided(const float *p, int sw, int n, vi_t idx)
{
    if (sw == 1) return _mm256_maskload_ps(p, VTAILN(n));
    if (sw == 2) {
        vf_t e;
        vld_even_odd(p, 2 * n - 1, &e, NULL);
        return e;
    }
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, idx,
                                    _mm256_castsi256_ps(VTAILN(n)), 4);
}

static inline void vzip(vf_t a, vf_t b, vf_t *lo, vf_t *hi)
{
    const __m256 ul = _mm256_unpacklo_ps(a, b), uh = _mm256_unpackhi_ps(a, b);
    *lo = _mm256_permute2f128_ps(ul, uh, 0x20);
    *hi = _mm256_permute2f128_ps(ul, uh, 0x31);
}

static inline vdsum_t vdsum_add_dev(vdsum_t s, vf_t v, double mu)
{
    const __m256d m = _mm256_set1_pd(mu);
    s.lo = _mm256_add_pd(s.lo, _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m));
    s.hi = _mm256_add_pd(s.hi, _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m));
    return s;
}

static inline vdsum_t vdsum_add_sqdev(vdsum_t s, vf_t v, double mu)
{
    const __m256d m = _mm256_set1_pd(mu);
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m);
    s.lo = _mm256_fmadd_pd(d0, d0, s.lo);
    s.hi = _mm256_fmadd_pd(d1, d1, s.hi);
    return s;
}

static inline vdsum_t vdsum_add_muldev(vdsum_t s, vf_t g, vf_t v, double mu)
{
    const __m256d m = _mm256_set1_pd(mu);
    const __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), m);
    const __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), m);
    s.lo = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(g)), d0, s.lo);
    s.hi = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(g, 1)), d1, s.hi);
    return s;
}

static inline float vreduce_add_avx2(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}
#define VREDUCE_ADD(v) vreduce_add_avx2(v)

#endif /* JG_VEC_AVX2_H */
