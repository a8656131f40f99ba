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

void jg_f32_wino_in_tf_avx2(float *v, const float *xp, const jg_wino_geom_t *g, int t0, int nt,
                           ptrdiff_t ts, ptrdiff_t cs)
{
    const size_t plane = (size_t)g->hp * g->wp;
    for (int t = t0; t < t0 + nt; t++) {
        const float *p = xp + (size_t)(2 * (t / g->tw)) * g->wp + 2 * (t % g->tw);
        float *o = v + 16 * (t - t0) * ts;
        for (int c = 0; c < g->cin; c++, p += plane, o += 16 * cs) tstore(o, in_tile(p, g->wp));
    }
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
    __m128 row0 = _mm256_castps256_ps128(o), row1 = _mm256_extractf128_ps(o, 1);
    if (bias) {
        const __m128 b = _mm_set1_ps(bias[k]);
        row0 = _mm_add_ps(row0, b);
        row1 = _mm_add_ps(row1, b);
    }
    float *d0 = y + ((size_t)k * g->oh + oy) * g->ow + ox, *d1 = d0 + g->ow;
    if (ox + 1 < g->ow && oy + 1 < g->oh) {
        /* __m64 accesses may alias floats */
        if (accumulate) {
            row0 = _mm_add_ps(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)d0), row0);
            row1 = _mm_add_ps(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)d1), row1);
        }
        _mm_storel_pi((__m64 *)(void *)d0, row0);
        _mm_storel_pi((__m64 *)(void *)d1, row1);
        return;
    }
    float o0[4], o1[4];
    _mm_storeu_ps(o0, row0);
    _mm_storeu_ps(o1, row1);
    const int nb = ox + 1 < g->ow ? 2 : 1;
    for (int b = 0; b < nb; b++) d0[b] = accumulate ? d0[b] + o0[b] : o0[b];
    if (oy + 1 < g->oh)
        for (int b = 0; b < nb; b++) d1[b] = accumulate ? d1[b] + o1[b] : o1[b];
}

static inline __attribute__((always_inline)) void
gemm_block(const int tb, const int kb, float *y, const float *v, const float *u,
           const float *bias, const jg_wino_geom_t *g, int t, int k0, int accumulate)
{
    const int cin = g->cin;
    tuple_t acc[TB][KB];
#pragma GCC unroll 2
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 3
        for (int j = 0; j < kb; j++) acc[i][j].lo = acc[i][j].hi = _mm256_setzero_ps();
    const float *uk = u + 16 * (size_t)k0 * cin;
    for (int c = 0; c < cin; c++) {
        tuple_t uc[KB];
#pragma GCC unroll 3
        for (int j = 0; j < kb; j++) uc[j] = tload(uk + 16 * ((size_t)j * cin + c));
#pragma GCC unroll 2
        for (int i = 0; i < tb; i++) {
            const tuple_t vt = tload(v + 16 * ((size_t)i * cin + c));
#pragma GCC unroll 3
            for (int j = 0; j < kb; j++) acc[i][j] = tfma(vt, uc[j], acc[i][j]);
        }
    }
    int oy[TB], ox[TB];
#pragma GCC unroll 2
    for (int i = 0; i < tb; i++) oy[i] = 2 * ((t + i) / g->tw), ox[i] = 2 * ((t + i) % g->tw);
#pragma GCC unroll 2
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 3
        for (int j = 0; j < kb; j++)
            out_tile(y, acc[i][j], g, k0 + j, oy[i], ox[i], bias, accumulate);
}

#define GEMM_KB(tb, kb)                                                                    \
    case kb:                                                                               \
        gemm_block(tb, kb, y, v, u, bias, g, t, k0, accumulate);                           \
        break

#define GEMM_TB(tb)                                                                        \
    static void gemm_tb##tb(int kb, float *y, const float *v, const float *u,             \
                            const float *bias, const jg_wino_geom_t *g, int t, int k0,    \
                            int accumulate)                                                \
    {                                                                                      \
        switch (kb) {                                                                      \
            GEMM_KB(tb, 1);                                                                \
            GEMM_KB(tb, 2);                                                                \
            GEMM_KB(tb, 3);                                                                \
        default: break;                                                                    \
        }                                                                                  \
    }
GEMM_TB(1)
GEMM_TB(2)

void jg_f32_wino_gemm_out_avx2(float *y, const float *v, const float *u, const float *bias,
                               const jg_wino_geom_t *g, int t0, int nt, int accumulate)
{
    for (int i = 0; i < nt; i += TB) {
        const int tb = nt - i < TB ? nt - i : TB;
        const float *vb = v + 16 * (size_t)i * g->cin;
        for (int k0 = 0; k0 < g->cout; k0 += KB) {
            const int kb = g->cout - k0 < KB ? g->cout - k0 : KB;
            if (tb == 1)
                gemm_tb1(kb, y, vb, u, bias, g, t0 + i, k0, accumulate);
            else
                gemm_tb2(kb, y, vb, u, bias, g, t0 + i, k0, accumulate);
        }
    }
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

void jg_f32_wino_dy_tf_avx2(float *d, const float *dy, const jg_wino_geom_t *g, int t0, int nt,
                           ptrdiff_t ts, ptrdiff_t ks)
{
    const size_t plane = (size_t)g->oh * g->ow;
    for (int t = t0; t < t0 + nt; t++) {
        const int oy = 2 * (t / g->tw), ox = 2 * (t % g->tw);
        const int full = oy + 1 < g->oh && ox + 1 < g->ow;
        const float *p = dy + (size_t)oy * g->ow + ox;
        float *o = d + 16 * (t - t0) * ts;
        for (int k = 0; k < g->cout; k++, p += plane, o += 16 * ks) {
            __m128 e;
            if (full) {
                e = _mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)p);
                e = _mm_loadh_pi(e, (const __m64 *)(const void *)(p + g->ow));
            } else {
                const int b1 = ox + 1 < g->ow, a1 = oy + 1 < g->oh;
                e = _mm_setr_ps(p[0], b1 ? p[1] : 0.0f, a1 ? p[g->ow] : 0.0f,
                                a1 && b1 ? p[g->ow + 1] : 0.0f);
            }
            tstore(o, dy_tile(e));
        }
    }
}

static inline __attribute__((always_inline)) void
wgrad_block(const int kb, const int cb, float *s, const float *d, const float *v,
            const jg_wino_geom_t *g, int nt, ptrdiff_t ld, int k0, int c0)
{
    const int cin = g->cin;
    tuple_t acc[WKB][WCB];
#pragma GCC unroll 3
    for (int i = 0; i < kb; i++)
#pragma GCC unroll 2
        for (int j = 0; j < cb; j++) acc[i][j].lo = acc[i][j].hi = _mm256_setzero_ps();
    for (int t = 0; t < nt; t++) {
        const float *dt = d + 16 * (k0 * ld + t), *vt = v + 16 * (c0 * ld + t);
        tuple_t vc[WCB];
#pragma GCC unroll 2
        for (int j = 0; j < cb; j++) vc[j] = tload(vt + 16 * j * ld);
#pragma GCC unroll 3
        for (int i = 0; i < kb; i++) {
            const tuple_t dk = tload(dt + 16 * i * ld);
#pragma GCC unroll 2
            for (int j = 0; j < cb; j++) acc[i][j] = tfma(dk, vc[j], acc[i][j]);
        }
    }
#pragma GCC unroll 3
    for (int i = 0; i < kb; i++) {
        float *si = s + 16 * ((size_t)(k0 + i) * cin + c0);
#pragma GCC unroll 2
        for (int j = 0; j < cb; j++) {
            tuple_t o = tload(si + 16 * j);
            o.lo = _mm256_add_ps(o.lo, acc[i][j].lo);
            o.hi = _mm256_add_ps(o.hi, acc[i][j].hi);
            tstore(si + 16 * j, o);
        }
    }
}

#define WGRAD_CB(kb, cb)                                                                   \
    case cb:                                                                               \
        wgrad_block(kb, cb, s, d, v, g, nt, ld, k0, c0);                                   \
        break

#define WGRAD_KB(kb)                                                                       \
    static void wgrad_kb##kb(int cb, float *s, const float *d, const float *v,            \
                             const jg_wino_geom_t *g, int nt, ptrdiff_t ld, int k0,        \
                             int c0)                                                       \
    {                                                                                      \
        switch (cb) {                                                                      \
            WGRAD_CB(kb, 1);                                                               \
            WGRAD_CB(kb, 2);                                                               \
        default: break;                                                                    \
        }                                                                                  \
    }
WGRAD_KB(1)
WGRAD_KB(2)
WGRAD_KB(3)

void jg_f32_wino_wgrad_avx2(float *s, const float *d, const float *v, const jg_wino_geom_t *g,
                            int nt, ptrdiff_t ld)
{
    for (int k0 = 0; k0 < g->cout; k0 += WKB) {
        const int kb = g->cout - k0 < WKB ? g->cout - k0 : WKB;
        for (int c0 = 0; c0 < g->cin; c0 += WCB) {
            const int cb = g->cin - c0 < WCB ? g->cin - c0 : WCB;
            switch (kb) {
            case 1: wgrad_kb1(cb, s, d, v, g, nt, ld, k0, c0); break;
            case 2: wgrad_kb2(cb, s, d, v, g, nt, ld, k0, c0); break;
            default: wgrad_kb3(cb, s, d, v, g, nt, ld, k0, c0); break;
            }
        }
    }
}

const jg_wino_kernels_t jg_wino_kernels_avx2 = {
    jg_f32_wino_pad_ref, /* row copies: the portable loop */
    jg_f32_wino_in_tf_avx2,
    jg_f32_wino_gemm_out_avx2,
    jg_f32_wino_dy_tf_avx2,
    jg_f32_wino_wgrad_avx2,
};
