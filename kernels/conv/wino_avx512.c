/* SPDX-License-Identifier: MIT */
/*
 * wino_avx512.c - Winograd F(2x2, 3x3) kernels with AVX-512F (conv.h).
 * Twin: wino_ref.c, bit for bit.
 *
 * One tuple (the 16 transform points of one tile and channel) is one zmm;
 * row i of the 4x4 grid is 128-bit lane i. The transforms are lane
 * shuffles (rows) and in-lane permutes (columns) plus one FMA each, whose
 * +-1 factors make it an exact add or subtract. The tuple GEMM multiplies
 * lane-wise: a block of TB tiles x KB output channels is 24 accumulators fed
 * by TB + KB loads per input channel; its output transform and stores
 * follow at once, so M is never stored.
 */
#include <immintrin.h>
#include <stdint.h>

#include "conv.h"

#define TB 4 /* tiles per GEMM block */
#define KB 6 /* output channels per GEMM block */
#define WKB 4 /* weight gradient: output channels per block */
#define WCB 6 /* weight gradient: input channels per block */

/* the four 128-bit rows of a, reordered */
#define ROWS(a, r0, r1, r2, r3) _mm512_shuffle_f32x4((a), (a), _MM_SHUFFLE(r3, r2, r1, r0))
/* the four elements of every row of a, reordered */
#define COLS(a, e0, e1, e2, e3) _mm512_permute_ps((a), _MM_SHUFFLE(e3, e2, e1, e0))

/* B^T d B of the 4x4 patch at p (rows wp apart). Rows first:
 * (d0 - d2, d1 + d2, d2 - d1, d1 - d3) = X + s Y with s = -1, 1, -1, -1;
 * then the same inside every row. */
static inline __m512 in_tile(const float *p, int wp, __m512 s_row, __m512 s_col)
{
    /* row i into lane i: a masked load from 4i floats before the row (in
     * the padded plane: p + i wp - 4i >= p for wp >= 4) */
    __m512 d = _mm512_maskz_loadu_ps(0x000f, p);
    d = _mm512_mask_loadu_ps(d, 0x00f0, p + wp - 4);
    d = _mm512_mask_loadu_ps(d, 0x0f00, p + 2 * wp - 8);
    d = _mm512_mask_loadu_ps(d, 0xf000, p + 3 * wp - 12);
    const __m512 r = _mm512_fmadd_ps(ROWS(d, 2, 2, 1, 3), s_row, ROWS(d, 0, 1, 2, 1));
    return _mm512_fmadd_ps(COLS(r, 2, 2, 1, 3), s_col, COLS(r, 0, 1, 2, 1));
}

void jg_f32_wino_in_tf_avx512(float *v, const float *xp, const jg_wino_geom_t *g, int t0, int nt,
                           ptrdiff_t ts, ptrdiff_t cs)
{
    const __m512 s_row = _mm512_setr_ps(-1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m512 s_col = _mm512_setr_ps(-1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1);
    const size_t plane = (size_t)g->hp * g->wp;
    for (int t = t0; t < t0 + nt; t++) {
        const float *p = xp + (size_t)(2 * (t / g->tw)) * g->wp + 2 * (t % g->tw);
        float *o = v + 16 * (t - t0) * ts;
        for (int c = 0; c < g->cin; c++, p += plane, o += 16 * cs)
            _mm512_storeu_ps(o, in_tile(p, g->wp, s_row, s_col));
    }
}

/* y(k, 2ty.., 2tx..) from the accumulated tuple m: A^T m A, rows first:
 * (m0 + (m1 + m2), m1 - (m2 + m3)), then the same inside the two rows. */
static inline void out_tile(float *y, __m512 m, const jg_wino_geom_t *g, int k, int oy, int ox,
                            const float *bias, int accumulate)
{
    const __m512 s = _mm512_setr_ps(1, 1, 1, 1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512 sc = _mm512_setr_ps(1, -1, 0, 0, 1, -1, 0, 0, 1, -1, 0, 0, 1, -1, 0, 0);
    const __m512 w = _mm512_add_ps(m, ROWS(m, 1, 2, 3, 3)); /* w_i = m_i + m_i+1 */
    const __m512 r = _mm512_fmadd_ps(ROWS(w, 1, 2, 2, 2), s, m);
    const __m512 wc = _mm512_add_ps(r, COLS(r, 1, 2, 3, 3));
    const __m512 o = _mm512_fmadd_ps(COLS(wc, 1, 2, 2, 2), sc, r);
    __m128 row0 = _mm512_castps512_ps128(o), row1 = _mm512_extractf32x4_ps(o, 1);
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
    /* a tile on the bottom or right edge of an odd-sized output */
    float o0[4], o1[4];
    _mm_storeu_ps(o0, row0);
    _mm_storeu_ps(o1, row1);
    const int nb = ox + 1 < g->ow ? 2 : 1;
    for (int b = 0; b < nb; b++) d0[b] = accumulate ? d0[b] + o0[b] : o0[b];
    if (oy + 1 < g->oh)
        for (int b = 0; b < nb; b++) d1[b] = accumulate ? d1[b] + o1[b] : o1[b];
}

/* tb tiles from t (v: their tuples, cin apart) x kb output channels from k0.
 * tb and kb are constants after inlining, so the accumulators stay in
 * registers. */
static inline __attribute__((always_inline)) void
gemm_block(const int tb, const int kb, float *y, const float *v, const float *u,
           const float *bias, const jg_wino_geom_t *g, int t, int k0, int accumulate)
{
    const int cin = g->cin;
    __m512 acc[TB][KB];
#pragma GCC unroll 4
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 6
        for (int j = 0; j < kb; j++) acc[i][j] = _mm512_setzero_ps();
    const float *uk = u + 16 * (size_t)k0 * cin;
    for (int c = 0; c < cin; c++) {
        __m512 uc[KB];
#pragma GCC unroll 6
        for (int j = 0; j < kb; j++) uc[j] = _mm512_loadu_ps(uk + 16 * ((size_t)j * cin + c));
#pragma GCC unroll 4
        for (int i = 0; i < tb; i++) {
            const __m512 vt = _mm512_loadu_ps(v + 16 * ((size_t)i * cin + c));
#pragma GCC unroll 6
            for (int j = 0; j < kb; j++) acc[i][j] = _mm512_fmadd_ps(vt, uc[j], acc[i][j]);
        }
    }
    int oy[TB], ox[TB]; /* top-left output of each tile */
#pragma GCC unroll 4
    for (int i = 0; i < tb; i++) oy[i] = 2 * ((t + i) / g->tw), ox[i] = 2 * ((t + i) % g->tw);
#pragma GCC unroll 4
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 6
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
            GEMM_KB(tb, 4);                                                                \
            GEMM_KB(tb, 5);                                                                \
            GEMM_KB(tb, 6);                                                                \
        default: break;                                                                    \
        }                                                                                  \
    }
GEMM_TB(1)
GEMM_TB(2)
GEMM_TB(3)
GEMM_TB(4)

void jg_f32_wino_gemm_out_avx512(float *y, const float *v, const float *u, const float *bias,
                                 const jg_wino_geom_t *g, int t0, int nt, int accumulate)
{
    for (int i = 0; i < nt; i += TB) {
        const int tb = nt - i < TB ? nt - i : TB;
        const float *vb = v + 16 * (size_t)i * g->cin;
        for (int k0 = 0; k0 < g->cout; k0 += KB) {
            const int kb = g->cout - k0 < KB ? g->cout - k0 : KB;
            switch (tb) {
            case 1: gemm_tb1(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
            case 2: gemm_tb2(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
            case 3: gemm_tb3(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
            default: gemm_tb4(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
            }
        }
    }
}

/* A e A^T of the 2x2 tile e = (e0 e1; e2 e3): rows (e0 e1), (e0+e2 e1+e3),
 * (e0-e2 e1-e3), (-e2 -e3), then inside each row (x0, x0+x1, x0-x1, -x1).
 * Blends, not multiplies by 0 or 1, so signed zeros match the twin. */
static inline __m512 dy_tile(__m128 e)
{
    const __m512 sign = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    const __m512 b = _mm512_broadcast_f32x4(e);
    const __m512 l = COLS(b, 0, 1, 0, 1), r = COLS(b, 2, 3, 2, 3);
    __m512 x = _mm512_mask_blend_ps(0x00f0, l, _mm512_add_ps(l, r));
    x = _mm512_mask_blend_ps(0x0f00, x, _mm512_sub_ps(l, r));
    x = _mm512_mask_blend_ps(0xf000, x,
                             _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(r),
                                                                  _mm512_castps_si512(sign))));
    const __m512 a0 = COLS(x, 0, 0, 0, 0), a1 = COLS(x, 1, 1, 1, 1);
    __m512 o = _mm512_mask_blend_ps(0x2222, a0, _mm512_add_ps(a0, a1));
    o = _mm512_mask_blend_ps(0x4444, o, _mm512_sub_ps(a0, a1));
    return _mm512_mask_blend_ps(0x8888, o,
                                _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a1),
                                                                     _mm512_castps_si512(sign))));
}

void jg_f32_wino_dy_tf_avx512(float *d, const float *dy, const jg_wino_geom_t *g, int t0, int nt,
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
            _mm512_storeu_ps(o, dy_tile(e));
        }
    }
}

/* s(k0.., c0..) += sum over nt tiles of d(t, k) . v(t, c), for kb x cb
 * tuples (constants after inlining). */
static inline __attribute__((always_inline)) void
wgrad_block(const int kb, const int cb, float *s, const float *d, const float *v,
            const jg_wino_geom_t *g, int nt, ptrdiff_t ld, int k0, int c0)
{
    const int cin = g->cin;
    __m512 acc[WKB][WCB];
#pragma GCC unroll 4
    for (int i = 0; i < kb; i++)
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++) acc[i][j] = _mm512_setzero_ps();
    for (int t = 0; t < nt; t++) {
        const float *dt = d + 16 * (k0 * ld + t), *vt = v + 16 * (c0 * ld + t);
        __m512 dk[WKB];
#pragma GCC unroll 4
        for (int i = 0; i < kb; i++) dk[i] = _mm512_loadu_ps(dt + 16 * i * ld);
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++) {
            const __m512 vc = _mm512_loadu_ps(vt + 16 * j * ld);
#pragma GCC unroll 4
            for (int i = 0; i < kb; i++) acc[i][j] = _mm512_fmadd_ps(dk[i], vc, acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < kb; i++) {
        float *si = s + 16 * ((size_t)(k0 + i) * cin + c0);
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++)
            _mm512_storeu_ps(si + 16 * j, _mm512_add_ps(_mm512_loadu_ps(si + 16 * j), acc[i][j]));
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
            WGRAD_CB(kb, 3);                                                               \
            WGRAD_CB(kb, 4);                                                               \
            WGRAD_CB(kb, 5);                                                               \
            WGRAD_CB(kb, 6);                                                               \
        default: break;                                                                    \
        }                                                                                  \
    }
WGRAD_KB(1)
WGRAD_KB(2)
WGRAD_KB(3)
WGRAD_KB(4)

void jg_f32_wino_wgrad_avx512(float *s, const float *d, const float *v, const jg_wino_geom_t *g,
                              int nt, ptrdiff_t ld)
{
    for (int k0 = 0; k0 < g->cout; k0 += WKB) {
        const int kb = g->cout - k0 < WKB ? g->cout - k0 : WKB;
        for (int c0 = 0; c0 < g->cin; c0 += WCB) {
            const int cb = g->cin - c0 < WCB ? g->cin - c0 : WCB;
            switch (kb) {
            case 1: wgrad_kb1(cb, s, d, v, g, nt, ld, k0, c0); break;
            case 2: wgrad_kb2(cb, s, d, v, g, nt, ld, k0, c0); break;
            case 3: wgrad_kb3(cb, s, d, v, g, nt, ld, k0, c0); break;
            default: wgrad_kb4(cb, s, d, v, g, nt, ld, k0, c0); break;
            }
        }
    }
}

/* p + d floats, as an address: the masked loads below start up to pw floats
 * before a row (those lanes are masked off and never read). */
static inline const float *shifted(const float *p, ptrdiff_t d)
{
    return (const float *)((uintptr_t)p + (uintptr_t)(d * (ptrdiff_t)sizeof(float)));
}

/* jg_f32_wino_pad_ref with masked row copies (rows are 14..28 floats); the
 * masks depend only on the 16-column chunk q, so they are made once per
 * chunk. */
void jg_f32_wino_pad_avx512(float *xp, const float *x, const jg_wino_geom_t *g)
{
    const int rows = g->h < g->hp - g->ph ? g->h : g->hp - g->ph;
    const int cols = g->w < g->wp - g->pw ? g->w : g->wp - g->pw;
    const __m512 z = _mm512_setzero_ps();
    const size_t plane = (size_t)g->hp * g->wp;
    for (int q = 0; q < g->wp; q += 16) {
        const __mmask16 st = (__mmask16)jg_conv2d_tail_bits(g->wp - q);
        const int lo = g->pw - q, hi = g->pw + cols - q; /* live lanes [lo, hi) */
        const __mmask16 live =
            (hi <= 0 || lo >= 16)
                ? 0
                : (__mmask16)(jg_conv2d_tail_bits(hi < 16 ? hi : 16) &
                              ~(lo > 0 ? jg_conv2d_tail_bits(lo) : 0u));
        for (int c = 0; c < g->cin; c++) {
            float *d = xp + c * plane + q;
            const float *sr = shifted(x + (size_t)c * g->h * g->w, q - g->pw);
            int r = 0;
            for (; r < g->ph; r++) _mm512_mask_storeu_ps(d + (size_t)r * g->wp, st, z);
            for (; r < g->ph + rows; r++, sr += g->w)
                _mm512_mask_storeu_ps(d + (size_t)r * g->wp, st, _mm512_maskz_loadu_ps(live, sr));
            for (; r < g->hp; r++) _mm512_mask_storeu_ps(d + (size_t)r * g->wp, st, z);
        }
    }
}

const jg_wino_kernels_t jg_wino_kernels_avx512 = {
    jg_f32_wino_pad_avx512,
    jg_f32_wino_in_tf_avx512,
    jg_f32_wino_gemm_out_avx512,
    jg_f32_wino_dy_tf_avx512,
    jg_f32_wino_wgrad_avx512,
};
