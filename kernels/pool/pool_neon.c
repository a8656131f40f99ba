/* SPDX-License-Identifier: MIT */
/*
 * pool_neon.c - NEON pooling plane kernels, 4 output columns per vector.
 * NEON has no masked loads: a vector runs only when every float it loads
 * (vld2q reads 8) lies inside the row; the remaining columns use the scalar
 * helpers. Same comparison/summation order as the _ref twins, hence
 * bit-identical results.
 */
#include <arm_neon.h>

#include "pool.h"

#define VL 4

/* Replace (best, bidx) by (v, idx) where !(v <= best) and best is not NaN. */
#define MAX_UPDATE(best, bidx, v, idx) \
    do { \
        const uint32x4_t m_ = \
            vandq_u32(vmvnq_u32(vcleq_f32((v), (best))), vceqq_f32((best), (best))); \
        (best) = vbslq_f32(m_, (v), (best)); \
        (bidx) = vbslq_s32(m_, (idx), (bidx)); \
    } while (0)

static inline int32x4_t lane_idx(int base, int sw)
{
    const int32_t l[VL] = {base, base + sw, base + 2 * sw, base + 3 * sw};
    return vld1q_s32(l);
}

/* p[0], p[sw], p[2sw], p[3sw] for sw = 1 or 2 */
static inline float32x4_t load_strided(const float *p, int sw)
{
    return sw == 1 ? vld1q_f32(p) : vld2q_f32(p).val[0];
}

static void maxpool_2x2s2(float *y, int32_t *argmax, const float *x, const jg_pool2d_shape_t *s,
                          int oh, int ow)
{
    const int w = s->w;
    const int32x4_t one = vdupq_n_s32(1), wv = vdupq_n_s32(w);
    for (int i = 0; i < oh; i++) {
        const float *r0 = x + (size_t)2 * i * w, *r1 = r0 + w;
        int j = 0;
        /* 2*ow <= W, so the 8 floats of each vld2q stay inside the row */
        for (; j + VL <= ow; j += VL) {
            const float32x4x2_t a = vld2q_f32(r0 + 2 * j), b = vld2q_f32(r1 + 2 * j);
            const int32x4_t i00 = lane_idx(2 * i * w + 2 * j, 2);
            float32x4_t best = a.val[0];
            int32x4_t bidx = i00;
            MAX_UPDATE(best, bidx, a.val[1], vaddq_s32(i00, one));
            const int32x4_t i10 = vaddq_s32(i00, wv);
            MAX_UPDATE(best, bidx, b.val[0], i10);
            MAX_UPDATE(best, bidx, b.val[1], vaddq_s32(i10, one));
            vst1q_f32(y + (size_t)i * ow + j, best);
            vst1q_s32(argmax + (size_t)i * ow + j, bidx);
        }
        for (; j < ow; j++) jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
    }
}

/* Last output column (exclusive) of the interior range [lo, hi) whose vector
 * loads stay inside the row: vld2q reads one float past the last one used. */
static int vec_hi(const jg_pool2d_shape_t *s, int lo, int hi)
{
    const int sw = s->stride_w;
    int j = lo;
    while (j + VL <= hi && (j + VL - 1) * sw - s->pad_w + s->kw - 1 + (sw - 1) <= s->w - 1)
        j += VL;
    return j;
}

/* y(oh,ow) = max over the window of x; argmax = flat ih*W+iw of the winner */
void jg_f32_maxpool_fwd_plane_neon(float *y, int32_t *argmax, const float *x,
                                   const jg_pool2d_shape_t *s, int oh, int ow)
{
    if (s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 && s->pad_h == 0 &&
        s->pad_w == 0) {
        maxpool_2x2s2(y, argmax, x, s, oh, ow);
        return;
    }
    const int sw = s->stride_w, w = s->w;
    if (sw > 2) {
        jg_f32_maxpool_fwd_plane_ref(y, argmax, x, s, oh, ow);
        return;
    }
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int vh = vec_hi(s, lo, hi);
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
        for (int j = lo; j < vh; j += VL) {
            const int c0 = j * sw - s->pad_w;
            int base = ih0 * w + c0;
            float32x4_t best = load_strided(x + base, sw);
            int32x4_t bidx = lane_idx(base, sw);
            for (int ih = ih0; ih < ih1; ih++) {
                for (int q = ih == ih0 ? 1 : 0; q < s->kw; q++) {
                    base = ih * w + c0 + q;
                    MAX_UPDATE(best, bidx, load_strided(x + base, sw), lane_idx(base, sw));
                }
            }
            vst1q_f32(y + (size_t)i * ow + j, best);
            vst1q_s32(argmax + (size_t)i * ow + j, bidx);
        }
        for (int j = vh; j < ow; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
    }
}

/* y(oh,ow) = sum over the window of x / (kh*kw); padding counts as zeros */
void jg_f32_avgpool_fwd_plane_neon(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                   int ow)
{
    const int sw = s->stride_w, w = s->w;
    if (sw > 2) {
        jg_f32_avgpool_fwd_plane_ref(y, x, s, oh, ow);
        return;
    }
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int vh = vec_hi(s, lo, hi);
    const float32x4_t div = vdupq_n_f32((float)(s->kh * s->kw));
    const int k2s2 = s->kw == 2 && sw == 2;
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
        for (int j = lo; j < vh; j += VL) {
            const int c0 = j * sw - s->pad_w;
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (int ih = ih0; ih < ih1; ih++) {
                const float *r = x + (size_t)ih * w + c0;
                if (k2s2) {
                    const float32x4x2_t a = vld2q_f32(r);
                    acc = vaddq_f32(vaddq_f32(acc, a.val[0]), a.val[1]);
                } else {
                    for (int q = 0; q < s->kw; q++)
                        acc = vaddq_f32(acc, load_strided(r + q, sw));
                }
            }
            vst1q_f32(y + (size_t)i * ow + j, vdivq_f32(acc, div));
        }
        for (int j = vh; j < ow; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
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
    const float dv = (float)(s->kh * s->kw);
    const float32x4_t div = vdupq_n_f32(dv);
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        const float *d = dy + (size_t)i * ow;
        for (int j = 0; j < lo; j++) jg_pool_avg_bwd_one(dx, d[j], s, i, j);
        for (int v = s->kw - 1; v >= 0; v--) {
            int j = lo;
            for (; j + VL <= hi; j += VL) {
                const float32x4_t g = vdivq_f32(vld1q_f32(d + j), div);
                for (int ih = ih0; ih < ih1; ih++) {
                    float *p = dx + (size_t)ih * s->w + j - s->pad_w + v;
                    vst1q_f32(p, vaddq_f32(vld1q_f32(p), g));
                }
            }
            for (; j < hi; j++) {
                const float g = d[j] / dv;
                for (int ih = ih0; ih < ih1; ih++)
                    dx[(size_t)ih * s->w + j - s->pad_w + v] += g;
            }
        }
        for (int j = hi; j < ow; j++) jg_pool_avg_bwd_one(dx, d[j], s, i, j);
    }
}

/* dx(ih,iw) += dy(oh,ow) / (kh*kw) for every window that covers (ih,iw) */
void jg_f32_avgpool_bwd_plane_neon(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                   int oh, int ow)
{
    /* 2x2/s2/p0 does not overlap: one contribution per dx element, so the
     * order cannot differ from _ref. */
    if (!(s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 && s->pad_h == 0 &&
          s->pad_w == 0)) {
        if (s->stride_w == 1)
            avgpool_bwd_s1(dx, dy, s, oh, ow);
        else
            jg_f32_avgpool_bwd_plane_ref(dx, dy, s, oh, ow);
        return;
    }
    const int w = s->w;
    const float32x4_t div = vdupq_n_f32(4.0f);
    for (int i = 0; i < oh; i++) {
        float *r0 = dx + (size_t)2 * i * w, *r1 = r0 + w;
        int j = 0;
        for (; j + VL <= ow; j += VL) {
            const float32x4_t g = vdivq_f32(vld1q_f32(dy + (size_t)i * ow + j), div);
            float32x4x2_t a = vld2q_f32(r0 + 2 * j), b = vld2q_f32(r1 + 2 * j);
            a.val[0] = vaddq_f32(a.val[0], g);
            a.val[1] = vaddq_f32(a.val[1], g);
            b.val[0] = vaddq_f32(b.val[0], g);
            b.val[1] = vaddq_f32(b.val[1], g);
            vst2q_f32(r0 + 2 * j, a);
            vst2q_f32(r1 + 2 * j, b);
        }
        for (; j < ow; j++) {
            const float g = dy[(size_t)i * ow + j] / 4.0f;
            r0[2 * j] += g;
            r0[2 * j + 1] += g;
            r1[2 * j] += g;
            r1[2 * j + 1] += g;
        }
    }
}
