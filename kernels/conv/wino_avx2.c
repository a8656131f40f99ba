/* SPDX-License-Identifier: MIT */
/*
 * wino_avx2.c - Winograd F(2x2, 3x3) kernels with AVX2+FMA (conv.h).
 * Twin: wino_ref.c, bit for bit.
 *
 * One tuple (16 transform points) is two ymm: rows 0-1 of the 4x4 grid in
 * `lo`, rows 2-3 in `hi`, one row per 128-bit lane. Rows combine with
 * 128-bit lane permutes, columns with in-lane permutes, each step one FMA
 * whose +-1 factors make it an exact add or subtract, as on AVX-512. With 16
 * ymm registers the GEMM block is 2 tiles x 3 output channels (12
 * accumulators; the filter tuples come from memory operands) and the
 * weight-gradient block 3 x 2. Measured on the second default layer, one
 * image, one thread: the GEMM at 58% of the FMA peak and dW at 42% (a 2 x 2
 * block, all in registers, did worse: 52% and 36%, more loads per FMA).
 */
#include <immintrin.h>
#include <stdint.h>

#include "conv.h"
#include "wino_x86.h"

#define TB 2  /* tiles per GEMM block */
#define KB 3  /* output channels per GEMM block */
#define WKB 3 /* weight gradient: output channels per block */
#define WCB 2 /* weight gradient: input channels per block */

typedef struct {
    __m256 lo, hi;
} tuple_t;

#define COLS(a, e0, e1, e2, e3) _mm256_permute_ps((a), _MM_SHUFFLE(e3, e2, e1, e0))

static inline tuple_t tload(const float *p)
{
    const tuple_t t = {_mm256_loadu_ps(p), _mm256_loadu_ps(p + 8)};
    return t;
}

static inline void tstore(float *p, tuple_t t)
{
    _mm256_storeu_ps(p, t.lo);
    _mm256_storeu_ps(p + 8, t.hi);
}

static inline tuple_t tfma(tuple_t a, tuple_t b, tuple_t c)
{
    const tuple_t t = {_mm256_fmadd_ps(a.lo, b.lo, c.lo), _mm256_fmadd_ps(a.hi, b.hi, c.hi)};
    return t;
}

static inline tuple_t tzero(void)
{
    const tuple_t t = {_mm256_setzero_ps(), _mm256_setzero_ps()};
    return t;
}

static inline tuple_t tadd(tuple_t a, tuple_t b)
{
    const tuple_t t = {_mm256_add_ps(a.lo, b.lo), _mm256_add_ps(a.hi, b.hi)};
    return t;
}

#define WT tuple_t
#define WT_ZERO() tzero()
#define WT_LOAD(p) tload(p)
#define WT_STORE(p, t) tstore((p), (t))
#define WT_FMA(a, b, c) tfma((a), (b), (c))
#define WT_ADD(a, b) tadd((a), (b))
#define WINO_FN(name) jg_f32_wino_##name##_avx2

/* (x0 - x2, x1 + x2, x2 - x1, x1 - x3) inside every 128-bit lane */
static inline __m256 bt_cols(__m256 r)
{
    const __m256 s = _mm256_setr_ps(-1, 1, -1, -1, -1, 1, -1, -1);
    return _mm256_fmadd_ps(COLS(r, 2, 2, 1, 3), s, COLS(r, 0, 1, 2, 1));
}

/* B^T d B of the 4x4 patch at p (rows wp apart): rows first,
 * (d0 - d2, d1 + d2 | d2 - d1, d1 - d3), then inside every row. */
static inline tuple_t in_tile(const float *p, int wp)
{
    const __m256 d01 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p)),
                                            _mm_loadu_ps(p + wp), 1);
    const __m256 d23 = _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(p + 2 * wp)),
                                            _mm_loadu_ps(p + 3 * wp), 1);
    const __m256 s_lo = _mm256_setr_ps(-1, -1, -1, -1, 1, 1, 1, 1);
    const __m256 s_hi = _mm256_set1_ps(-1.0f);
    /* lo: (d0, d1) + s (d2, d2); hi: (d2, d1) + s (d1, d3) */
    const __m256 r_lo = _mm256_fmadd_ps(_mm256_permute2f128_ps(d23, d23, 0x00), s_lo, d01);
    const __m256 r_hi = _mm256_fmadd_ps(_mm256_permute2f128_ps(d01, d23, 0x31), s_hi,
                                        _mm256_permute2f128_ps(d23, d01, 0x30));
    const tuple_t t = {bt_cols(r_lo), bt_cols(r_hi)};
    return t;
}

/* y(k, oy.., ox..) from the tuple m: A^T m A, rows first
 * (m0 + (m1 + m2), m1 - (m2 + m3)), then inside the two rows. */
static inline void out_tile(float *y, tuple_t m, const jg_wino_geom_t *g, int k, int oy, int ox,
                            const float *bias, int accumulate)
{
    const __m256 s = _mm256_setr_ps(1, 1, 1, 1, -1, -1, -1, -1);
    const __m256 sc = _mm256_setr_ps(1, -1, 0, 0, 1, -1, 0, 0);
    const __m256 w = _mm256_add_ps(_mm256_permute2f128_ps(m.lo, m.hi, 0x21), m.hi); /* w_i = m_i+1 + m_i+2 */
    const __m256 r = _mm256_fmadd_ps(w, s, m.lo);
    const __m256 wc = _mm256_add_ps(r, COLS(r, 1, 2, 3, 3));
    const __m256 o = _mm256_fmadd_ps(COLS(wc, 1, 2, 2, 2), sc, r);
    jg_wino_store_tile(y, _mm256_castps256_ps128(o), _mm256_extractf128_ps(o, 1), g, k, oy, ox,
                       bias, accumulate);
}

/* (x0, x0 + x1, x0 - x1, -x1) inside every 128-bit lane of x = (x0 x1 ..) */
static inline __m256 a_cols(__m256 x)
{
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const __m256 a0 = COLS(x, 0, 0, 0, 0), a1 = COLS(x, 1, 1, 1, 1);
    __m256 o = _mm256_blend_ps(a0, _mm256_add_ps(a0, a1), 0x22);
    o = _mm256_blend_ps(o, _mm256_sub_ps(a0, a1), 0x44);
    return _mm256_blend_ps(o, _mm256_xor_ps(a1, sign), 0x88);
}

/* A e A^T of the 2x2 tile e = (e0 e1; e2 e3): rows (e0 e1), (e0+e2 e1+e3),
 * (e0-e2 e1-e3), (-e2 -e3), then inside each row; blends keep signed zeros
 * as in the twin. */
static inline tuple_t dy_tile(__m128 e)
{
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const __m256 b = _mm256_broadcast_ps(&e);
    const __m256 l = COLS(b, 0, 1, 0, 1), r = COLS(b, 2, 3, 2, 3);
    const __m256 x01 = _mm256_blend_ps(l, _mm256_add_ps(l, r), 0xf0);
    const __m256 x23 = _mm256_blend_ps(_mm256_sub_ps(l, r), _mm256_xor_ps(r, sign), 0xf0);
    const tuple_t t = {a_cols(x01), a_cols(x23)};
    return t;
}

#include "wino_tmpl.h"

const jg_wino_kernels_t jg_wino_kernels_avx2 = {
    jg_f32_wino_pad_ref, /* row copies: the portable loop */
    jg_f32_wino_in_tf_avx2,
    jg_f32_wino_gemm_out_avx2,
    jg_f32_wino_dy_tf_avx2,
    jg_f32_wino_wgrad_avx2,
};
