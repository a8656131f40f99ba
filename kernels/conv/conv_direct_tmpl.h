/* SPDX-License-Identifier: MIT */
/*
 * conv_direct_tmpl.h - the direct conv2d kernels for shallow filters
 * (jg_conv2d_direct_ok: C*KH*KW <= JG_CONV_DIRECT_MAX_CKK, stride 1),
 * written once against the macro layer for the ISAs without a hand-tuned
 * file (AVX-512 has conv_direct_avx512.c). Included by conv_direct_avx2.c
 * and conv_direct_neon.c after their vec_<isa>.h.
 *
 * Generates (per ISA, <isa> = avx2 | neon):
 *   jg_f32_conv2d_direct_fwd_<isa>    twin jg_f32_conv2d_direct_fwd_ref
 *   jg_f32_conv2d_direct_bwdw_<isa>   twin jg_f32_conv2d_direct_bwdw_ref
 *
 * The input plane is zero-padded once per image (jg_conv2d_pad_input), so
 * every tap is one unguarded load (masked at the row end).
 *  forward: up to DKB output channels x 2 vectors of a row (two rows
 *           for a single channel); each input vector feeds one FMA per
 *           channel of the tile.
 *  dW:      2 output channels x up to DTB taps (2 DTB accumulators), summed
 *           over a group of images and reduced horizontally once at the end.
 * Sums run in another order than the twin (vector lanes), within the
 * tolerance the tests allow for conv2d.
 */
#include "conv/conv.h"
#include "simd/vmath.h"

/* Tile sizes measured on the Zen 4 guest with JOULEGRAD_ISA=avx2 (2 threads,
 * bench conv, forward ms, 3 runs: paper-simplecnn conv1 / conv2, default
 * conv1): 4 channels, 1 row (before) 0.45 / 0.64 / 0.65-0.68; DKB 3 and
 * two rows only when 4 DKB <= DACC = 6 (single channels) 0.42-0.44 /
 * 0.64-0.70 / 0.46-0.47; 3 channels x 2 rows (12 accumulators, one
 * register short) 0.40-0.50 / 0.80-0.88 / 0.45-0.46; 4 x 2: 0.41-0.51 /
 * 0.80-0.89 / 0.58-0.74; 2 x 2: 0.44-0.56 / 0.68-0.73 / 0.44-0.46. */
#if defined(__aarch64__)
/* NEON has 32 registers: 3 channels x 2 rows x 2 vectors. Executed
 * instructions of the default net's first layer at batch 4 under qemu
 * (bench/neon_count.sh; qemu cannot time): 4 x 1 (before) 1,866,570; 3 x 1
 * (the AVX2 choice) 1,490,770; 4 x 2 1,594,762; 3 x 2 1,333,642. */
#define DKB 3
#define DACC 12
#else
#define DKB 3  /* most output channels per forward tile */
#define DACC 6 /* most accumulators: two rows only for one channel */
#endif
#define DTB 4 /* taps per dW tile */

/* y(k0 .. k0+kb-1, oy .. oy+rb-1, ox0 .. ox0+2*VEPR-1): 2 kb rb
 * accumulators (kb and rb are constants after inlining). Per tap, kb
 * weights and 2 rb input vectors feed 2 kb rb FMAs. */
static inline __attribute__((always_inline)) void
dfwd_tile(const int kb, const int rb, float *y, const float *xp, const float *w,
          const float *bias, int k0, int oy, int ox0, int oh, int ow, int C, int KH, int KW,
          int Hp, int Wp)
{
    const int n0 = ow - ox0, n1 = ow - ox0 - VEPR; /* live lanes of each vector */
    const int ckk = C * KH * KW;
    vf_t lo[2][DKB], hi[2][DKB];
#pragma GCC unroll 3
    for (int kk = 0; kk < kb; kk++)
#pragma GCC unroll 2
        for (int rr = 0; rr < rb; rr++) lo[rr][kk] = hi[rr][kk] = VSET1(bias ? bias[k0 + kk] : 0.0f);
    const float *wt = w + (size_t)k0 * ckk; // w(k0, tap)
    for (int c = 0; c < C; c++) {
        for (int i = 0; i < KH; i++) {
            const float *row = xp + ((size_t)c * Hp + oy + i) * Wp + ox0;
            for (int j = 0; j < KW; j++, wt++) {
#pragma GCC unroll 2
                for (int rr = 0; rr < rb; rr++) {
                    const float *r = row + (size_t)rr * Wp + j;
                    const vf_t x0 = vld_n(r, n0);
                    const vf_t x1 = n1 > 0 ? vld_n(r + VEPR, n1) : VSET1(0.0f);
#pragma GCC unroll 3
                    for (int kk = 0; kk < kb; kk++) {
                        const vf_t wv = VSET1(wt[(size_t)kk * ckk]);
                        lo[rr][kk] = VFMA(wv, x0, lo[rr][kk]);
                        hi[rr][kk] = VFMA(wv, x1, hi[rr][kk]);
                    }
                }
            }
        }
    }
#pragma GCC unroll 3
    for (int kk = 0; kk < kb; kk++) {
#pragma GCC unroll 2
        for (int rr = 0; rr < rb; rr++) {
            float *yr = y + ((size_t)(k0 + kk) * oh + oy + rr) * ow + ox0;
            vst_n(yr, n0, lo[rr][kk]);
            if (n1 > 0) vst_n(yr + VEPR, n1, hi[rr][kk]);
        }
    }
}

#define DFWD(kb)                                                                           \
    case kb:                                                                               \
        if (rb == 2)                                                                       \
            dfwd_tile(kb, 2, y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp); \
        else                                                                               \
            dfwd_tile(kb, 1, y, scratch, w, bias, k0, oy, ox0, oh, ow, C, KH, KW, Hp, Wp); \
        break

int JG_VFN(conv2d_direct_fwd)(float *y, const float *x, const float *w, const float *bias,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    jg_conv2d_pad_input(scratch, x, s); // (C, Hp, Wp)
    /* channel blocks as even as DKB allows (K = 4 is 2 + 2, not 3 + 1) */
    const int nkb = (K + DKB - 1) / DKB;
    for (int b = 0; b < nkb; b++) {
        int k0, kb;
        jg_conv2d_kblock(K, nkb, b, &k0, &kb);
        for (int oy = 0, rb = 1; oy < oh; oy += rb) {
            rb = oh - oy >= 2 && 4 * kb <= DACC ? 2 : 1;
            for (int ox0 = 0; ox0 < ow; ox0 += 2 * VEPR) {
                switch (kb) {
                    DFWD(1);
                    DFWD(2);
#if DKB > 3
                    DFWD(3);
#endif
                default: DFWD(DKB);
                }
            }
        }
    }
    return 0;
}

/* dw(k0+kk, t0+tt) += sum over the nimg images and (oy, ox) of
 * dy(k0+kk, oy, ox) * xp(tap t0+tt at oy, ox) for kb (1 or 2) channels and
 * nt (<= DTB) taps; tap_off[t] is the offset of tap t in a padded plane,
 * the images' planes are xplane floats apart, their dy dyimg. */
static inline __attribute__((always_inline)) void
dbwdw_tile(const int kb, const int nt, float *dw, const float *dy, const float *xp,
           const size_t *tap_off, int k0, int t0, int ckk, int oh, int ow, int Wp, int nimg,
           size_t xplane, size_t dyimg)
{
    vf_t acc[2][DTB];
#pragma GCC unroll 4
    for (int tt = 0; tt < nt; tt++) acc[0][tt] = acc[1][tt] = VSET1(0.0f);
    for (int g = 0; g < nimg; g++) {
        const float *dy0 = dy + g * dyimg + (size_t)k0 * oh * ow, *dy1 = dy0 + (size_t)oh * ow;
        for (int oy = 0; oy < oh; oy++) {
            const float *xr = xp + g * xplane + (size_t)oy * Wp;
            for (int ox = 0; ox < ow; ox += VEPR) {
                const int n = ow - ox;
                const vf_t d0 = vld_n(dy0 + (size_t)oy * ow + ox, n);
                const vf_t d1 = kb == 2 ? vld_n(dy1 + (size_t)oy * ow + ox, n) : d0;
#pragma GCC unroll 4
                for (int tt = 0; tt < nt; tt++) {
                    const vf_t xv = vld_n(xr + tap_off[t0 + tt] + ox, n);
                    acc[0][tt] = VFMA(d0, xv, acc[0][tt]);
                    if (kb == 2) acc[1][tt] = VFMA(d1, xv, acc[1][tt]);
                }
            }
        }
    }
#pragma GCC unroll 4
    for (int tt = 0; tt < nt; tt++) {
        dw[(size_t)k0 * ckk + t0 + tt] += VREDUCE_ADD(acc[0][tt]);
        if (kb == 2) dw[(size_t)(k0 + 1) * ckk + t0 + tt] += VREDUCE_ADD(acc[1][tt]);
    }
}

#define DBWD(kb, nt)                                                                       \
    case nt:                                                                               \
        dbwdw_tile(kb, nt, dw, dy, scratch, tap_off, k0, t0, ckk, oh, ow, Wp, nimg, xplane, \
                   dyimg);                                                                 \
        break

int JG_VFN(conv2d_direct_bwdw)(float *dw, const float *dy, const float *x,
                               const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                               float *scratch)
{
    size_t tap_off[JG_CONV_DIRECT_MAX_CKK];
    const size_t xplane = jg_conv2d_direct_bwdw_prep(tap_off, scratch, x, s, oh, ow, nimg);
    if (!xplane) return 1;
    const int K = s->k, ckk = s->c * s->kh * s->kw, Wp = s->w + 2 * s->pad_w;
    const size_t dyimg = (size_t)K * oh * ow;
    for (int k0 = 0; k0 < K; k0 += 2) {
        for (int t0 = 0; t0 < ckk; t0 += DTB) {
            const int nt = ckk - t0 < DTB ? ckk - t0 : DTB;
            if (K - k0 >= 2) {
                switch (nt) {
                    DBWD(2, 1);
                    DBWD(2, 2);
                    DBWD(2, 3);
                default: DBWD(2, DTB);
                }
            } else {
                switch (nt) {
                    DBWD(1, 1);
                    DBWD(1, 2);
                    DBWD(1, 3);
                default: DBWD(1, DTB);
                }
            }
        }
    }
    return 0;
}
