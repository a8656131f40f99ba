/* SPDX-License-Identifier: MIT */
/*
 * pool_tmpl.h - the SIMD pooling plane kernels, written once against the
 * macro layer. Included by pool_avx2.c, pool_avx512.c and pool_neon.c right
 * after their vec_<isa>.h; JG_VFN gives each copy its ISA suffix.
 *
 * Generates (per ISA, <isa> = avx2 | avx512 | neon):
 *   jg_f32_maxpool_fwd_plane_<isa>   twin jg_f32_maxpool_fwd_plane_ref
 *   jg_f32_avgpool_fwd_plane_<isa>   twin jg_f32_avgpool_fwd_plane_ref
 *   jg_f32_avgpool_bwd_plane_<isa>   twin jg_f32_avgpool_bwd_plane_ref
 *
 * VEPR output columns per vector. Column remainders use masked loads and
 * stores (on NEON through a stack buffer), so no read leaves the row. Every
 * function compares and sums in the order of its _ref twin, so the results
 * are bit-identical to the oracle.
 */
#include "pool/pool.h"
#include "simd/vmath.h"

static inline int is_2x2s2(const jg_pool2d_shape_t *s)
{
    return s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 && s->pad_h == 0 &&
           s->pad_w == 0;
}

/* n live int32 lanes (full vectors skip the mask) */
static inline void sti_n(int32_t *p, int n, vi_t v)
{
    if (n >= VEPR)
        VI_STORE(p, v);
    else
        VI_STORET(p, VTAILN(n), v);
}

/* Replace (best, bidx) by (v, idx) where !(v <= best) and best is not NaN:
 * the NaN policy of pool.h. */
#define MAX_UPDATE(best, bidx, v, idx)                                  \
    do {                                                                \
        const vcmp_t m_ = VCMP_AND(VNLE((v), (best)), VORD(best));      \
        (best) = VSEL(m_, (v), (best));                                 \
        (bidx) = VI_SEL(m_, (idx), (bidx));                             \
    } while (0)

/* 2x2 window, stride 2, no padding: 2*ow <= W, so both rows of every window
 * are inside the plane; one even/odd split per row gives the four taps. */
static void maxpool_2x2s2(float *y, int32_t *argmax, const float *x, int w, int oh, int ow)
{
    const vi_t lane2 = vi_iota(2), one = VI_SET1(1), wv = VI_SET1(w);
    for (int i = 0; i < oh; i++) {
        const float *r0 = x + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VEPR) {
            const int n = ow - j < VEPR ? ow - j : VEPR;
            vf_t a0, a1, b0, b1;
            vld_even_odd(r0 + 2 * j, 2 * n, &a0, &a1);
            vld_even_odd(r1 + 2 * j, 2 * n, &b0, &b1);
            const vi_t i00 = VI_ADD(VI_SET1(2 * i * w + 2 * j), lane2);
            const vi_t i10 = VI_ADD(i00, wv);
            vf_t best = a0;
            vi_t bidx = i00;
            MAX_UPDATE(best, bidx, a1, VI_ADD(i00, one));
            MAX_UPDATE(best, bidx, b0, i10);
            MAX_UPDATE(best, bidx, b1, VI_ADD(i10, one));
            vst_n(y + (size_t)i * ow + j, n, best);
            sti_n(argmax + (size_t)i * ow + j, n, bidx);
        }
    }
}

/* y(oh,ow) = max over the window of x; argmax = flat ih*W+iw of the winner */
void JG_VFN(maxpool_fwd_plane)(float *y, int32_t *argmax, const float *x,
                               const jg_pool2d_shape_t *s, int oh, int ow)
{
    if (is_2x2s2(s)) {
        maxpool_2x2s2(y, argmax, x, s->w, oh, ow);
        return;
    }
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int sw = s->stride_w, w = s->w;
    const vi_t lane_sw = vi_iota(sw);
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
        for (int j = lo; j < hi; j += VEPR) {
            const int n = hi - j < VEPR ? hi - j : VEPR;
            const int c0 = j * sw - s->pad_w; /* first input column of lane 0 */
            int base = ih0 * w + c0;
            vf_t best = vld_strided(x + base, sw, n, lane_sw);
            vi_t bidx = VI_ADD(VI_SET1(base), lane_sw);
            for (int ih = ih0; ih < ih1; ih++) {
                for (int q = ih == ih0 ? 1 : 0; q < s->kw; q++) {
                    base = ih * w + c0 + q;
                    const vf_t v = vld_strided(x + base, sw, n, lane_sw);
                    MAX_UPDATE(best, bidx, v, VI_ADD(VI_SET1(base), lane_sw));
                }
            }
            vst_n(y + (size_t)i * ow + j, n, best);
            sti_n(argmax + (size_t)i * ow + j, n, bidx);
        }
        for (int j = hi; j < ow; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
    }
}

/* y(oh,ow) = sum over the window of x / (kh*kw); padding counts as zeros */
void JG_VFN(avgpool_fwd_plane)(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                               int ow)
{
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int sw = s->stride_w, w = s->w;
    const vf_t div = VSET1((float)(s->kh * s->kw));
    const vi_t lane_sw = vi_iota(sw);
    const int k2s2 = s->kw == 2 && sw == 2;
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
        for (int j = lo; j < hi; j += VEPR) {
            const int n = hi - j < VEPR ? hi - j : VEPR;
            const int c0 = j * sw - s->pad_w;
            vf_t acc = VSET1(0.0f);
            for (int ih = ih0; ih < ih1; ih++) {
                const float *r = x + (size_t)ih * w + c0;
                if (k2s2) {
                    /* both window columns from one even/odd split */
                    vf_t e, o;
                    vld_even_odd(r, 2 * n, &e, &o);
                    acc = VADD(acc, e);
                    acc = VADD(acc, o);
                } else {
                    for (int q = 0; q < s->kw; q++)
                        acc = VADD(acc, vld_strided(r + q, sw, n, lane_sw));
                }
            }
            vst_n(y + (size_t)i * ow + j, n, VDIV(acc, div));
        }
        for (int j = hi; j < ow; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
    }
}

/* Overlapping windows with stride_w == 1. _ref adds into each dx element in
 * increasing (oh, ow) order; here, per output row, the left border columns go
 * first, then window column v = kw-1 .. 0 over the interior (for a fixed dx
 * element a smaller v means a larger ow, so descending v keeps ow
 * increasing), then the right border: the same order, bit-identical. */
static void avgpool_bwd_s1(float *dx, const float *dy, const jg_pool2d_shape_t *s, int oh,
                           int ow)
{
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const vf_t div = VSET1((float)(s->kh * s->kw));
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
        for (int v = s->kw - 1; v >= 0; v--) {
            for (int j = lo; j < hi; j += VEPR) {
                const int n = hi - j;
                const vf_t g = VDIV(vld_n(dy + (size_t)i * ow + j, n), div);
                for (int ih = ih0; ih < ih1; ih++) {
                    float *p = dx + (size_t)ih * s->w + j - s->pad_w + v;
                    vst_n(p, n, VADD(vld_n(p, n), g));
                }
            }
        }
        for (int j = hi; j < ow; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
    }
}

/* dx(ih,iw) += dy(oh,ow) / (kh*kw) for every window that covers (ih,iw) */
void JG_VFN(avgpool_bwd_plane)(float *dx, const float *dy, const jg_pool2d_shape_t *s, int oh,
                               int ow)
{
    /* 2x2/s2/p0 does not overlap: one contribution per dx element, so the
     * order cannot differ from _ref. */
    if (!is_2x2s2(s)) {
        if (s->stride_w == 1)
            avgpool_bwd_s1(dx, dy, s, oh, ow);
        else
            jg_f32_avgpool_bwd_plane_ref(dx, dy, s, oh, ow);
        return;
    }
    const int w = s->w;
    const vf_t div = VSET1(4.0f);
    for (int i = 0; i < oh; i++) {
        float *r0 = dx + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VEPR) {
            const int n = ow - j < VEPR ? ow - j : VEPR;
            const int n0 = 2 * n, n1 = 2 * n - VEPR; /* live floats of each half */
            const vf_t g = VDIV(vld_n(dy + (size_t)i * ow + j, n), div);
            vf_t glo, ghi; /* (g0 g0 g1 g1 ..) */
            vzip(g, g, &glo, &ghi);
            float *p0 = r0 + 2 * j, *p1 = r1 + 2 * j;
            vst_n(p0, n0, VADD(vld_n(p0, n0), glo));
            vst_n(p1, n0, VADD(vld_n(p1, n0), glo));
            if (n1 > 0) {
                vst_n(p0 + VEPR, n1, VADD(vld_n(p0 + VEPR, n1), ghi));
                vst_n(p1 + VEPR, n1, VADD(vld_n(p1 + VEPR, n1), ghi));
            }
        }
    }
}
