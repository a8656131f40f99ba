/* SPDX-License-Identifier: MIT */
/*
 * conv_direct_avx512.c - direct conv2d for shallow filters (C*KH*KW <=
 * JG_CONV_DIRECT_MAX_CKK, stride 1) with AVX-512F. Twin: conv_direct_ref.c.
 *
 * The input plane is zero-padded once per image, so every tap is an
 * unguarded (masked at the row end) 16-wide load.
 *  forward: a tile of 8 output channels x 32 output columns of one row
 *           (16 accumulators); each input vector feeds 8 FMAs.
 *  dW:      2 output channels x up to 9 taps (18 accumulators), 1 channel
 *           for an odd K's last one, summed over the image and reduced
 *           horizontally once at the end.
 */
#include <immintrin.h>

#include "conv.h"

#define FWD_KB 8   /* output channels per forward tile */
#define BWD_MAXT 9 /* taps per general dW tile (its accumulator array) */

static __mmask16 tail_mask(int remaining)
{
    return (__mmask16)jg_conv2d_tail_bits(remaining);
}

/* One tap for 8 channels: wt points at w(k0, tap); channel stride ckk. */
#define FWD_FMA8(wt, ckk, x0, x1)                                             \
    do {                                                                      \
        __m512 wv;                                                            \
        wv = _mm512_set1_ps((wt)[0]);                                         \
        a00 = _mm512_fmadd_ps(wv, x0, a00), a01 = _mm512_fmadd_ps(wv, x1, a01); \
        wv = _mm512_set1_ps((wt)[(ckk)]);                                     \
        a10 = _mm512_fmadd_ps(wv, x0, a10), a11 = _mm512_fmadd_ps(wv, x1, a11); \
        wv = _mm512_set1_ps((wt)[2 * (ckk)]);                                 \
        a20 = _mm512_fmadd_ps(wv, x0, a20), a21 = _mm512_fmadd_ps(wv, x1, a21); \
        wv = _mm512_set1_ps((wt)[3 * (ckk)]);                                 \
        a30 = _mm512_fmadd_ps(wv, x0, a30), a31 = _mm512_fmadd_ps(wv, x1, a31); \
        wv = _mm512_set1_ps((wt)[4 * (ckk)]);                                 \
        a40 = _mm512_fmadd_ps(wv, x0, a40), a41 = _mm512_fmadd_ps(wv, x1, a41); \
        wv = _mm512_set1_ps((wt)[5 * (ckk)]);                                 \
        a50 = _mm512_fmadd_ps(wv, x0, a50), a51 = _mm512_fmadd_ps(wv, x1, a51); \
        wv = _mm512_set1_ps((wt)[6 * (ckk)]);                                 \
        a60 = _mm512_fmadd_ps(wv, x0, a60), a61 = _mm512_fmadd_ps(wv, x1, a61); \
        wv = _mm512_set1_ps((wt)[7 * (ckk)]);                                 \
        a70 = _mm512_fmadd_ps(wv, x0, a70), a71 = _mm512_fmadd_ps(wv, x1, a71); \
    } while (0)

#define FWD_STORE(kk, lo, hi)                                                 \
    do {                                                                      \
        float *yr = y + ((size_t)(k0 + (kk)) * oh + oy) * ow + ox0;           \
        _mm512_mask_storeu_ps(yr, m0, lo);                                    \
        _mm512_mask_storeu_ps(yr + 16, m1, hi);                               \
    } while (0)

/* y(k0 .. k0+7, oy, ox0 .. ox0+31): 16 accumulators in registers. */
static void fwd_tile8(float *y, const float *xp, const float *w, const float *bias,
                      int k0, int oy, int ox0, int oh, int ow, int C, int KH, int KW,
                      int Hp, int Wp)
{
    const __mmask16 m0 = tail_mask(ow - ox0);
    const __mmask16 m1 = ow - ox0 > 16 ? tail_mask(ow - ox0 - 16) : 0;
    const int ckk = C * KH * KW;
    __m512 a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71;
    a00 = a01 = _mm512_set1_ps(bias ? bias[k0 + 0] : 0.0f);
    a10 = a11 = _mm512_set1_ps(bias ? bias[k0 + 1] : 0.0f);
    a20 = a21 = _mm512_set1_ps(bias ? bias[k0 + 2] : 0.0f);
    a30 = a31 = _mm512_set1_ps(bias ? bias[k0 + 3] : 0.0f);
    a40 = a41 = _mm512_set1_ps(bias ? bias[k0 + 4] : 0.0f);
    a50 = a51 = _mm512_set1_ps(bias ? bias[k0 + 5] : 0.0f);
    a60 = a61 = _mm512_set1_ps(bias ? bias[k0 + 6] : 0.0f);
    a70 = a71 = _mm512_set1_ps(bias ? bias[k0 + 7] : 0.0f);
    const float *wt = w + (size_t)k0 * ckk;                     // w(k0, tap)
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < KH; i++) {
            const float *row = xp + ((size_t)c * Hp + oy + i) * Wp + ox0;
            for (int j = 0; j < KW; j++, wt++) {
                const __m512 x0 = _mm512_maskz_loadu_ps(m0, row + j);
                const __m512 x1 = _mm512_maskz_loadu_ps(m1, row + j + 16);
                FWD_FMA8(wt, ckk, x0, x1);
            }
        }
    }
    FWD_STORE(0, a00, a01);
    FWD_STORE(1, a10, a11);
    FWD_STORE(2, a20, a21);
    FWD_STORE(3, a30, a31);
    FWD_STORE(4, a40, a41);
    FWD_STORE(5, a50, a51);
    FWD_STORE(6, a60, a61);
    FWD_STORE(7, a70, a71);
}

/* y(k0 .. k0+kb-1, oy, ox0 .. ox0+31) for the K % 8 tail, kb in 1..7: 2*kb
 * accumulators, so each input vector feeds 2*kb independent FMA chains (one
 * channel at a time left only 2 chains, latency-bound: the 3-channel first
 * layer of paper-simplecnn ran at ~9 GFLOPS). kb is a constant after
 * inlining, which keeps the arrays in registers. */
static inline __attribute__((always_inline)) void
fwd_tile_kb(const int kb, float *y, const float *xp, const float *w, const float *bias, int k0,
            int oy, int ox0, int oh, int ow, int C, int KH, int KW, int Hp, int Wp)
{
    const __mmask16 m0 = tail_mask(ow - ox0);
    const __mmask16 m1 = ow - ox0 > 16 ? tail_mask(ow - ox0 - 16) : 0;
    const int ckk = C * KH * KW;
    __m512 lo[FWD_KB], hi[FWD_KB];
#pragma GCC unroll 8
    for (int kk = 0; kk < kb; kk++) lo[kk] = hi[kk] = _mm512_set1_ps(bias ? bias[k0 + kk] : 0.0f);
    const float *wt = w + (size_t)k0 * ckk;                     // w(k0, tap)
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < KH; i++) {
            const float *row = xp + ((size_t)c * Hp + oy + i) * Wp + ox0;
            for (int j = 0; j < KW; j++, wt++) {
                const __m512 x0 = _mm512_maskz_loadu_ps(m0, row + j);
                const __m512 x1 = _mm512_maskz_loadu_ps(m1, row + j + 16);
#pragma GCC unroll 8
                for (int kk = 0; kk < kb; kk++) {
                    const __m512 wv = _mm512_set1_ps(wt[(size_t)kk * ckk]);
                    lo[kk] = _mm512_fmadd_ps(wv, x0, lo[kk]);
                    hi[kk] = _mm512_fmadd_ps(wv, x1, hi[kk]);
                }
            }
        }
    }
#pragma GCC unroll 8
    for (int kk = 0; kk < kb; kk++) FWD_STORE(kk, lo[kk], hi[kk]);
}

#define FWD_TAIL(n)                                                                        \
    case n:                                                                                \
        fwd_tile_kb(n, y, xp, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);            \
        break

static void fwd_tail(int kb, float *y, const float *xp, const float *w, const float *bias,
                     int k0, int oy, int ox0, int oh, int ow, int C, int KH, int KW, int Hp,
                     int Wp)
{
    switch (kb) {
        FWD_TAIL(1);
        FWD_TAIL(2);
        FWD_TAIL(3);
        FWD_TAIL(4);
        FWD_TAIL(5);
        FWD_TAIL(6);
        FWD_TAIL(7);
    default: break;
    }
}

int jg_f32_conv2d_direct_fwd_avx512(float *y, const float *x, const float *w,
                                    const float *bias, const jg_conv2d_shape_t *s,
                                    int oh, int ow, float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    jg_conv2d_pad_input(scratch, x, s);                         // (C, Hp, Wp)
    for (int oy = 0; oy < oh; oy++) {
        for (int ox0 = 0; ox0 < ow; ox0 += 32) {
            int k0 = 0;
            for (; k0 + FWD_KB <= K; k0 += FWD_KB)
                fwd_tile8(y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);
            if (k0 < K)
                fwd_tail(K - k0, y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp);
        }
    }
    return 0;
}

/* dw(k0+kk, t0+tt) += sum_{oy,ox} dy(k0+kk, oy, ox) * xp(tap t0+tt at oy, ox)
 * for one channel k0 and taps tt < nt (<= BWD_MAXT); the general case.
 * tap_off[t] is the offset of tap t in the padded plane. */
static void bwdw_tile1(float *dw, const float *dy, const float *xp, const size_t *tap_off,
                       int k0, int t0, int nt, int ckk, int oh, int ow, int Wp)
{
    __m512 acc[BWD_MAXT];
    for (int tt = 0; tt < nt; tt++) acc[tt] = _mm512_setzero_ps();
    for (int oy = 0; oy < oh; oy++) {
        const float *xr = xp + (size_t)oy * Wp;
        for (int ox = 0; ox < ow; ox += 16) {
            /* the mask keeps every load inside the padded plane */
            const __mmask16 m = tail_mask(ow - ox);
            const __m512 d = _mm512_maskz_loadu_ps(m, dy + ((size_t)k0 * oh + oy) * ow + ox);
            for (int tt = 0; tt < nt; tt++)
                acc[tt] = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(m, xr + tap_off[t0 + tt] + ox),
                                          acc[tt]);
        }
    }
    for (int tt = 0; tt < nt; tt++)
        dw[(size_t)k0 * ckk + t0 + tt] += _mm512_reduce_add_ps(acc[tt]);
}

/* The same for channels k0, k0+1 and taps t0 .. t0+nt-1, nt in 1..9: each
 * x vector feeds both channels, so 2*nt FMAs take nt + 2 loads (one channel
 * at a time needs two loads per FMA). nt is a constant after inlining, which
 * keeps the 2*nt accumulators in registers. */
static inline __attribute__((always_inline)) void
bwdw_tile2(const int nt, float *dw, const float *dy, const float *xp, const size_t *tap_off,
           int k0, int t0, int ckk, int oh, int ow, int Wp)
{
    __m512 p[BWD_MAXT], q[BWD_MAXT];
#pragma GCC unroll 9
    for (int tt = 0; tt < nt; tt++) p[tt] = q[tt] = _mm512_setzero_ps();
    const float *dy0 = dy + (size_t)k0 * oh * ow, *dy1 = dy0 + (size_t)oh * ow;
    for (int oy = 0; oy < oh; oy++) {
        const float *xr = xp + (size_t)oy * Wp;
        for (int ox = 0; ox < ow; ox += 16) {
            const __mmask16 m = tail_mask(ow - ox);
            const __m512 d0 = _mm512_maskz_loadu_ps(m, dy0 + (size_t)oy * ow + ox);
            const __m512 d1 = _mm512_maskz_loadu_ps(m, dy1 + (size_t)oy * ow + ox);
#pragma GCC unroll 9
            for (int tt = 0; tt < nt; tt++) {
                const __m512 xv = _mm512_maskz_loadu_ps(m, xr + tap_off[t0 + tt] + ox);
                p[tt] = _mm512_fmadd_ps(d0, xv, p[tt]);
                q[tt] = _mm512_fmadd_ps(d1, xv, q[tt]);
            }
        }
    }
#pragma GCC unroll 9
    for (int tt = 0; tt < nt; tt++) {
        dw[(size_t)k0 * ckk + t0 + tt] += _mm512_reduce_add_ps(p[tt]);
        dw[(size_t)(k0 + 1) * ckk + t0 + tt] += _mm512_reduce_add_ps(q[tt]);
    }
}

#define BWD_TILE2(n)                                                                       \
    case n:                                                                                \
        bwdw_tile2(n, dw, dy, xp, tap_off, k0, t0, ckk, oh, ow, Wp);                       \
        break

static void bwdw_pair(int nt, float *dw, const float *dy, const float *xp, const size_t *tap_off,
                      int k0, int t0, int ckk, int oh, int ow, int Wp)
{
    switch (nt) {
        BWD_TILE2(1);
        BWD_TILE2(2);
        BWD_TILE2(3);
        BWD_TILE2(4);
        BWD_TILE2(5);
        BWD_TILE2(6);
        BWD_TILE2(7);
        BWD_TILE2(8);
        BWD_TILE2(9);
    default: break;
    }
}

int jg_f32_conv2d_direct_bwdw_avx512(float *dw, const float *dy, const float *x,
                                     const jg_conv2d_shape_t *s, int oh, int ow,
                                     float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw, ckk = C * KH * KW;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    size_t tap_off[JG_CONV_DIRECT_MAX_CKK];
    if (ckk > JG_CONV_DIRECT_MAX_CKK) return 1;
    for (int c = 0, t = 0; c < C; c++)
        for (int i = 0; i < KH; i++)
            for (int j = 0; j < KW; j++, t++) tap_off[t] = ((size_t)c * Hp + i) * Wp + j;
    jg_conv2d_pad_input(scratch, x, s);                         // (C, Hp, Wp)
    int k0 = 0;
    for (; k0 + 2 <= K; k0 += 2)
        for (int t0 = 0; t0 < ckk; t0 += BWD_MAXT) {
            const int nt = ckk - t0 < BWD_MAXT ? ckk - t0 : BWD_MAXT;
            bwdw_pair(nt, dw, dy, scratch, tap_off, k0, t0, ckk, oh, ow, Wp);
        }
    for (; k0 < K; k0++)
        for (int t0 = 0; t0 < ckk; t0 += BWD_MAXT) {
            const int nt = ckk - t0 < BWD_MAXT ? ckk - t0 : BWD_MAXT;
            bwdw_tile1(dw, dy, scratch, tap_off, k0, t0, nt, ckk, oh, ow, Wp);
        }
    return 0;
}
