/* SPDX-License-Identifier: MIT */
/*
 * im2col_ref.c - unfold one image into the GEMM operand and fold it back.
 * Portable C: both are memory-bound copies; rows of the column matrix are
 * built from contiguous input runs (plain copy loops when stride_w == 1) with the
 * padding zero-filled, so no per-element bounds test sits in the inner loop.
 */
#include <string.h>

#include "conv.h"

/* Output columns ox whose input column ox*sw + j - pw lies in [0, W):
 * [*lo, *hi). Empty when *lo >= *hi. */
static void valid_range(int j, int pad, int stride, int in, int out, int *lo, int *hi)
{
    /* ox >= ceil((pad - j) / stride) */
    const int a = pad - j;
    int l = a <= 0 ? 0 : (a + stride - 1) / stride;
    /* ox <= floor((in - 1 + pad - j) / stride) */
    const int b = in - 1 + pad - j;
    int h = b < 0 ? 0 : b / stride + 1;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* col(c*KH*KW + i*KW + j, oh*OW + ow) = x(c, oh*sh + i - ph, ow*sw + j - pw) */
void jg_f32_conv2d_im2col_ref(float *restrict col, const float *restrict x,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad)
{
    (void)pad;
    const int C = s->c, H = s->h, W = s->w, KH = s->kh, KW = s->kw;
    const int sh = s->stride_h, sw = s->stride_w, ph = s->pad_h, pw = s->pad_w;
    const size_t ohw = (size_t)oh * ow;
    for (int c = 0; c < C; c++) {
        const float *xc = x + (size_t)c * H * W;                // (H, W)
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                float *row = col + (((size_t)c * KH + i) * KW + j) * ohw; // (OH, OW)
                int lo, hi;
                valid_range(j, pw, sw, W, ow, &lo, &hi);
                for (int oy = 0; oy < oh; oy++) {
                    float *restrict dst = row + (size_t)oy * ow;
                    const int ih = oy * sh + i - ph;
                    if (ih < 0 || ih >= H) {
                        memset(dst, 0, sizeof(float) * (size_t)ow);
                        continue;
                    }
                    /* in-range by construction: lo*sw + j - pw >= 0 */
                    const float *src = xc + (size_t)ih * W;
                    const int off = j - pw;
                    for (int ox = 0; ox < lo; ox++) dst[ox] = 0;
                    if (sw == 1) {
                        /* rows are short (OW ~ 14..28): a loop beats memcpy calls */
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox + off];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw + off];
                    }
                    for (int ox = hi; ox < ow; ox++) dst[ox] = 0;
                }
            }
        }
    }
}

/* dx(c, ih, iw) += col(c*KH*KW + i*KW + j, oh*OW + ow) at every (i, j, oh, ow)
 * that reads (ih, iw); taps are added in (i, j, oh, ow) order. */
void jg_f32_conv2d_col2im_ref(float *restrict dx, const float *restrict col,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad)
{
    (void)pad;
    const int C = s->c, H = s->h, W = s->w, KH = s->kh, KW = s->kw;
    const int sh = s->stride_h, sw = s->stride_w, ph = s->pad_h, pw = s->pad_w;
    const size_t ohw = (size_t)oh * ow;
    for (int c = 0; c < C; c++) {
        float *dxc = dx + (size_t)c * H * W;                    // (H, W)
        for (int i = 0; i < KH; i++) {
            for (int j = 0; j < KW; j++) {
                const float *row = col + (((size_t)c * KH + i) * KW + j) * ohw; // (OH, OW)
                int lo, hi;
                valid_range(j, pw, sw, W, ow, &lo, &hi);
                for (int oy = 0; oy < oh; oy++) {
                    const int ih = oy * sh + i - ph;
                    if (ih < 0 || ih >= H) continue;
                    const float *src = row + (size_t)oy * ow;
                    float *restrict dst = dxc + (size_t)ih * W;
                    const int off = j - pw;
                    if (sw == 1) {
                        for (int ox = lo; ox < hi; ox++) dst[ox + off] += src[ox];
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox * sw + off] += src[ox];
                    }
                }
            }
        }
    }
}

size_t jg_conv2d_pad_floats(const jg_conv2d_shape_t *s)
{
    return (size_t)s->c * (size_t)(s->h + 2 * s->pad_h) * (size_t)(s->w + 2 * s->pad_w);
}
