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
#include "wino_x86.h"

#define TB 4  /* tiles per GEMM block */
#define KB 6  /* output channels per GEMM block */
#define WKB 4 /* weight gradient: output channels per block */
#define WCB 6 /* weight gradient: input channels per block */

typedef __m512 wt_t; /* one tuple */
#define WT wt_t
#define WT_ZERO() _mm512_setzero_ps()
#define WT_LOAD(p) _mm512_loadu_ps(p)
#define WT_STORE(p, t) _mm512_storeu_ps((p), (t))
#define WT_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define WT_ADD(a, b) _mm512_add_ps((a), (b))
#define WINO_FN(name) jg_f32_wino_##name##_avx512

/* the four 128-bit rows of a, reordered */
#define ROWS(a, r0, r1, r2, r3) _mm512_shuffle_f32x4((a), (a), _MM_SHUFFLE(r3, r2, r1, r0))
/* the four elements of every row of a, reordered */
#define COLS(a, e0, e1, e2, e3) _mm512_permute_ps((a), _MM_SHUFFLE(e3, e2, e1, e0))

/* B^T d B of the 4x4 patch at p (rows wp apart). Rows first:
 * (d0 - d2, d1 + d2, d2 - d1, d1 - d3) = X + s Y with s = -1, 1, -1, -1;
 * then the same inside every row. */
static inline __m512 in_tile(const float *p, int wp)
{
    const __m512 s_row = _mm512_setr_ps(-1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m512 s_col = _mm512_setr_ps(-1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1);
    /* row i into lane i: a masked load from 4i floats before the row (in
     * the padded plane: p + i wp - 4i >= p for wp >= 4) */
    __m512 d = _mm512_maskz_loadu_ps(0x000f, p);
    d = _mm512_mask_loadu_ps(d, 0x00f0, p + wp - 4);
    d = _mm512_mask_loadu_ps(d, 0x0f00, p + 2 * wp - 8);
    d = _mm512_mask_loadu_ps(d, 0xf000, p + 3 * wp - 12);
    const __m512 r = _mm512_fmadd_ps(ROWS(d, 2, 2, 1, 3), s_row, ROWS(d, 0, 1, 2, 1));
    return _mm512_fmadd_ps(COLS(r, 2, 2, 1, 3), s_col, COLS(r, 0, 1, 2, 1));
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
    jg_wino_store_tile(y, _mm512_castps512_ps128(o), _mm512_extractf32x4_ps(o, 1), g, k, oy, ox,
                       bias, accumulate);
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

#include "wino_tmpl.h"

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
