/* SPDX-License-Identifier: MIT */
/*
 * conv_direct_avx512.c - direct conv2d for shallow filters (C*KH*KW <=
 * JG_CONV_DIRECT_MAX_CKK, stride 1) with AVX-512F. Twin: conv_direct_ref.c.
 *
 * The input plane is zero-padded once per image, so every tap is an
 * unguarded (masked at the row end) 16-wide load.
 *  forward: a tile of up to 8 output channels x 1, 2 or 4 rows x 16 or
 *           32 columns (up to 24 accumulators); each input vector feeds
 *           one FMA per channel of the tile.
 *  dW:      up to 3 output channels x up to 9 taps (27 accumulators),
 *           summed over a group of images and reduced horizontally once at
 *           the end.
 */
#include <immintrin.h>

#include "conv.h"

#define FWD_KB 8   /* most output channels per forward tile */
#define FWD_ACC 24 /* accumulators a forward tile may hold */
#define BWD_MAXT 9 /* most taps per dW tile */
#define BWD_KB 3   /* most output channels per dW tile */

static __mmask16 tail_mask(int remaining)
{
    return (__mmask16)jg_conv2d_tail_bits(remaining);
}

/* y(k0 .. k0+kb-1, oy .. oy+rb-1, ox0 .. ox0+16*nv-1): kb x rb x nv
 * accumulators in registers (kb, rb, nv constants after inlining). Per tap,
 * kb weight broadcasts and rb*nv input loads feed kb*rb*nv FMAs; every
 * output sums its bias, then the taps in (c, i, j) order. A row of 16 or
 * fewer columns takes one vector (nv = 1), so a 14-wide plane wastes 2 lanes
 * in 16, not 18 in 32, and rows make up the accumulators instead. */
static inline __attribute__((always_inline)) void
fwd_tile(const int kb, const int rb, const int nv, float *y, const float *xp, const float *w,
         const float *bias, int k0, int oy, int ox0, int oh, int ow, int C, int KH, int KW,
         int Hp, int Wp)
{
    const __mmask16 m0 = tail_mask(ow - ox0);
    const __mmask16 m1 = nv == 2 && ow - ox0 > 16 ? tail_mask(ow - ox0 - 16) : 0;
    const int ckk = C * KH * KW;
    __m512 acc[4][FWD_KB][2];
#pragma GCC unroll 8
    for (int kk = 0; kk < kb; kk++) {
        const __m512 b = _mm512_set1_ps(bias ? bias[k0 + kk] : 0.0f);
#pragma GCC unroll 4
        for (int rr = 0; rr < rb; rr++) acc[rr][kk][0] = acc[rr][kk][1] = b;
    }
    const float *wt = w + (size_t)k0 * ckk; // w(k0, tap)
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < KH; i++) {
            const float *row = xp + ((size_t)c * Hp + oy + i) * Wp + ox0;
            for (int j = 0; j < KW; j++, wt++) {
                __m512 wv[FWD_KB];
#pragma GCC unroll 8
                for (int kk = 0; kk < kb; kk++) wv[kk] = _mm512_set1_ps(wt[(size_t)kk * ckk]);
#pragma GCC unroll 4
                for (int rr = 0; rr < rb; rr++) {
                    const float *r = row + (size_t)rr * Wp + j;
                    const __m512 x0 = _mm512_maskz_loadu_ps(m0, r);
                    const __m512 x1 = nv == 2 ? _mm512_maskz_loadu_ps(m1, r + 16) : x0;
#pragma GCC unroll 8
                    for (int kk = 0; kk < kb; kk++) {
                        acc[rr][kk][0] = _mm512_fmadd_ps(wv[kk], x0, acc[rr][kk][0]);
                        if (nv == 2) acc[rr][kk][1] = _mm512_fmadd_ps(wv[kk], x1, acc[rr][kk][1]);
                    }
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int kk = 0; kk < kb; kk++) {
#pragma GCC unroll 4
        for (int rr = 0; rr < rb; rr++) {
            float *yr = y + ((size_t)(k0 + kk) * oh + oy + rr) * ow + ox0;
            _mm512_mask_storeu_ps(yr, m0, acc[rr][kk][0]);
            if (nv == 2) _mm512_mask_storeu_ps(yr + 16, m1, acc[rr][kk][1]);
        }
    }
}

typedef void (*fwd_tile_fn)(float *y, const float *xp, const float *w, const float *bias, int k0,
                            int oy, int ox0, int oh, int ow, int C, int KH, int KW, int Hp,
                            int Wp);

/* One function per (kb, rb, nv), rb in {1, 2, 4}. */
#define FWD_TILE_FN(kb, rb, nv)                                                                \
    static void fwd_##kb##_##rb##_##nv(float *y, const float *xp, const float *w,              \
                                       const float *bias, int k0, int oy, int ox0, int oh,     \
                                       int ow, int C, int KH, int KW, int Hp, int Wp)          \
    {                                                                                          \
        fwd_tile(kb, rb, nv, y, xp, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);          \
    }
#define FWD_TILE_KB(kb)                                                                        \
    FWD_TILE_FN(kb, 1, 1)                                                                      \
    FWD_TILE_FN(kb, 2, 1)                                                                      \
    FWD_TILE_FN(kb, 4, 1)                                                                      \
    FWD_TILE_FN(kb, 1, 2)                                                                      \
    FWD_TILE_FN(kb, 2, 2)                                                                      \
    FWD_TILE_FN(kb, 4, 2)
FWD_TILE_KB(1)
FWD_TILE_KB(2)
FWD_TILE_KB(3)
FWD_TILE_KB(4)
FWD_TILE_KB(5)
FWD_TILE_KB(6)
FWD_TILE_KB(7)
FWD_TILE_KB(8)
#define FWD_ROW(kb)                                                                            \
    {fwd_##kb##_1_1, fwd_##kb##_2_1, fwd_##kb##_4_1,                                           \
     fwd_##kb##_1_2, fwd_##kb##_2_2, fwd_##kb##_4_2}
/* [kb - 1][(0, 1, 2 for rb 1, 2, 4) + 3 * (nv - 1)] */
static const fwd_tile_fn fwd_tiles[FWD_KB][6] = {FWD_ROW(1), FWD_ROW(2), FWD_ROW(3),
                                                  FWD_ROW(4), FWD_ROW(5), FWD_ROW(6),
                                                  FWD_ROW(7), FWD_ROW(8)};

/* The most rows (1, 2 or 4) whose kb x rows x nv accumulators fit FWD_ACC. */
static int fwd_rows(int kb, int nv)
{
    const int r = FWD_ACC / (kb * nv);
    return r >= 4 ? 4 : r >= 2 ? 2 : 1;
}

int jg_f32_conv2d_direct_fwd_avx512(float *y, const float *x, const float *w,
                                    const float *bias, const jg_conv2d_shape_t *s,
                                    int oh, int ow, float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    jg_conv2d_pad_input(scratch, x, s);                         // (C, Hp, Wp)
    for (int ox0 = 0; ox0 < ow; ox0 += 32) {
        const int nv = ow - ox0 > 16 ? 2 : 1;
        /* channel blocks as even as the width allows (K = 9 is 5 + 4, not
         * 8 + 1): at most 8 wide for one vector a row, 6 for two, so that
         * two rows of two vectors still fill the accumulators */
        const int kmax = nv == 2 ? FWD_ACC / 4 : FWD_KB;
        const int nkb = (K + kmax - 1) / kmax;
        for (int b = 0; b < nkb; b++) {
            int k0, kb;
            jg_conv2d_kblock(K, nkb, b, &k0, &kb);
            const int rb = fwd_rows(kb, nv), ri = rb == 4 ? 2 : rb - 1;
            const fwd_tile_fn full = fwd_tiles[kb - 1][ri + 3 * (nv - 1)];
            const fwd_tile_fn one = fwd_tiles[kb - 1][3 * (nv - 1)];
            int oy = 0;
            for (; oy + rb <= oh; oy += rb)
                full(y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);
            for (; oy < oh; oy++) one(y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);
        }
    }
    return 0;
}

/* dw(k0+kk, t0+tt) += sum over the nimg images and (oy, ox) of
 * dy(k0+kk, oy, ox) * xp(tap t0+tt at oy, ox) for kb (1..3) channels and nt
 * (1..9) taps: each x vector feeds kb channels, so kb*nt FMAs take nt + kb
 * loads. kb and nt are constants after inlining, which keeps the kb*nt
 * accumulators in registers (27 of 32 at 3 x 9). tap_off[t] is the offset
 * of tap t in a padded plane; the images' planes are xplane floats apart,
 * their dy dyimg. */
static inline __attribute__((always_inline)) void
bwdw_tile(const int kb, const int nt, float *dw, const float *dy, const float *xp,
          const size_t *tap_off, int k0, int t0, int ckk, int oh, int ow, int Wp, int nimg,
          size_t xplane, size_t dyimg)
{
    __m512 acc[BWD_KB][BWD_MAXT];
#pragma GCC unroll 3
    for (int kk = 0; kk < kb; kk++)
#pragma GCC unroll 9
        for (int tt = 0; tt < nt; tt++) acc[kk][tt] = _mm512_setzero_ps();
    for (int g = 0; g < nimg; g++) {
        const float *dyg = dy + g * dyimg + (size_t)k0 * oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            const float *xr = xp + g * xplane + (size_t)oy * Wp;
            for (int ox = 0; ox < ow; ox += 16) {
                /* the mask keeps every load inside the padded plane */
                const __mmask16 m = tail_mask(ow - ox);
                __m512 d[BWD_KB];
#pragma GCC unroll 3
                for (int kk = 0; kk < kb; kk++)
                    d[kk] = _mm512_maskz_loadu_ps(m, dyg + ((size_t)kk * oh + oy) * ow + ox);
#pragma GCC unroll 9
                for (int tt = 0; tt < nt; tt++) {
                    const __m512 xv = _mm512_maskz_loadu_ps(m, xr + tap_off[t0 + tt] + ox);
#pragma GCC unroll 3
                    for (int kk = 0; kk < kb; kk++)
                        acc[kk][tt] = _mm512_fmadd_ps(d[kk], xv, acc[kk][tt]);
                }
            }
        }
    }
#pragma GCC unroll 3
    for (int kk = 0; kk < kb; kk++)
#pragma GCC unroll 9
        for (int tt = 0; tt < nt; tt++)
            dw[(size_t)(k0 + kk) * ckk + t0 + tt] += _mm512_reduce_add_ps(acc[kk][tt]);
}

#define BWD_TILE(kb, n)                                                                    \
    case n:                                                                                \
        bwdw_tile(kb, n, dw, dy, xp, tap_off, k0, t0, ckk, oh, ow, Wp, nimg, xplane, dyimg); \
        break
#define BWD_KB_FN(kb)                                                                      \
    static void bwdw_kb##kb(int nt, float *dw, const float *dy, const float *xp,           \
                            const size_t *tap_off, int k0, int t0, int ckk, int oh, int ow, \
                            int Wp, int nimg, size_t xplane, size_t dyimg)                 \
    {                                                                                      \
        switch (nt) {                                                                      \
            BWD_TILE(kb, 1);                                                               \
            BWD_TILE(kb, 2);                                                               \
            BWD_TILE(kb, 3);                                                               \
            BWD_TILE(kb, 4);                                                               \
            BWD_TILE(kb, 5);                                                               \
            BWD_TILE(kb, 6);                                                               \
            BWD_TILE(kb, 7);                                                               \
            BWD_TILE(kb, 8);                                                               \
            BWD_TILE(kb, 9);                                                               \
        default: break;                                                                    \
        }                                                                                  \
    }
BWD_KB_FN(1)
BWD_KB_FN(2)
BWD_KB_FN(3)

int jg_f32_conv2d_direct_bwdw_avx512(float *dw, const float *dy, const float *x,
                                     const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                     float *scratch)
{
    size_t tap_off[JG_CONV_DIRECT_MAX_CKK];
    const size_t xplane = jg_conv2d_direct_bwdw_prep(tap_off, scratch, x, s, oh, ow, nimg);
    if (!xplane) return 1;
    const int K = s->k, ckk = s->c * s->kh * s->kw, Wp = s->w + 2 * s->pad_w;
    const size_t dyimg = (size_t)K * oh * ow;
    const float *xp = scratch;
    /* channel blocks of 3 as even as they come (K = 32 is 3 x 10 + 2) */
    const int nkb = (K + BWD_KB - 1) / BWD_KB;
    for (int b = 0; b < nkb; b++) {
        int k0, kb;
        jg_conv2d_kblock(K, nkb, b, &k0, &kb);
        for (int t0 = 0; t0 < ckk; t0 += BWD_MAXT) {
            const int nt = ckk - t0 < BWD_MAXT ? ckk - t0 : BWD_MAXT;
            if (kb == 3)
                bwdw_kb3(nt, dw, dy, xp, tap_off, k0, t0, ckk, oh, ow, Wp, nimg, xplane, dyimg);
            else if (kb == 2)
                bwdw_kb2(nt, dw, dy, xp, tap_off, k0, t0, ckk, oh, ow, Wp, nimg, xplane, dyimg);
            else
                bwdw_kb1(nt, dw, dy, xp, tap_off, k0, t0, ckk, oh, ow, Wp, nimg, xplane, dyimg);
        }
    }
    return 0;
}
