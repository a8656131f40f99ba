/* SPDX-License-Identifier: MIT */
/*
 * conv_direct_ref.c - direct conv2d for shallow filters (C*KH*KW small,
 * stride 1), scalar: the twin of conv_direct_avx512.c with the same loop
 * structure (zero-padded input plane, then unguarded taps), in float.
 */
#include <string.h>

#include "conv.h"

int jg_conv2d_direct_ok(const jg_conv2d_shape_t *s, int oh, int ow)
{
    (void)oh;
    (void)ow;
    /* 1x1 unpadded: the GEMM reads x in place and needs no workspace */
    const int pointwise = s->kh == 1 && s->kw == 1 && s->pad_h == 0 && s->pad_w == 0;
    return s->stride_h == 1 && s->stride_w == 1 && !pointwise &&
           s->c * s->kh * s->kw <= JG_CONV_DIRECT_MAX_CKK;
}

size_t jg_conv2d_direct_scratch_floats(const jg_conv2d_shape_t *s, int oh, int ow)
{
    (void)oh;
    (void)ow;
    return JG_CONV_DIRECT_GROUP * jg_conv2d_pad_floats(s);
}

void jg_conv2d_pad_input(float *xp, const float *x, const jg_conv2d_shape_t *s)
{
    const int H = s->h, W = s->w, ph = s->pad_h, pw = s->pad_w;
    const int Hp = H + 2 * ph, Wp = W + 2 * pw;
    for (int c = 0; c < s->c; c++) {
        float *xpc = xp + (size_t)c * Hp * Wp;                  // (Hp, Wp)
        const float *xc = x + (size_t)c * H * W;                // (H, W)
        memset(xpc, 0, sizeof(float) * (size_t)ph * Wp);
        for (int y = 0; y < H; y++) {
            float *row = xpc + (size_t)(y + ph) * Wp;
            memset(row, 0, sizeof(float) * (size_t)pw);
            memcpy(row + pw, xc + (size_t)y * W, sizeof(float) * (size_t)W);
            memset(row + pw + W, 0, sizeof(float) * (size_t)pw);
        }
        memset(xpc + (size_t)(ph + H) * Wp, 0, sizeof(float) * (size_t)ph * Wp);
    }
}

/* y(k,oy,ox) = bias(k) + sum_{c,i,j} w(k,c,i,j) * xp(c, oy+i, ox+j) */
int jg_f32_conv2d_direct_fwd_ref(float *y, const float *x, const float *w,
                                 const float *bias, const jg_conv2d_shape_t *s,
                                 int oh, int ow, float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    jg_conv2d_pad_input(scratch, x, s);
    for (int k = 0; k < K; k++) {
        const float *wk = w + (size_t)k * C * KH * KW;          // (C, KH, KW)
        float *yk = y + (size_t)k * oh * ow;                    // (OH, OW)
        for (int oy = 0; oy < oh; oy++) {
            for (int ox = 0; ox < ow; ox++) {
                float acc = bias ? bias[k] : 0.0f;
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < KH; i++)
                        for (int j = 0; j < KW; j++)
                            acc += wk[(c * KH + i) * KW + j] *
                                   scratch[((size_t)c * Hp + oy + i) * Wp + ox + j];
                yk[(size_t)oy * ow + ox] = acc;
            }
        }
    }
    return 0;
}

size_t jg_conv2d_direct_bwdw_prep(size_t *tap_off, float *scratch, const float *x,
                                  const jg_conv2d_shape_t *s, int oh, int ow, int nimg)
{
    const int C = s->c, KH = s->kh, KW = s->kw;
    if (!jg_conv2d_direct_ok(s, oh, ow) || nimg < 1 || nimg > JG_CONV_DIRECT_GROUP) return 0;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    for (int c = 0, t = 0; c < C; c++)
        for (int i = 0; i < KH; i++)
            for (int j = 0; j < KW; j++, t++) tap_off[t] = ((size_t)c * Hp + i) * Wp + j;
    const size_t xplane = jg_conv2d_pad_floats(s);
    for (int g = 0; g < nimg; g++) // nimg x (C, Hp, Wp)
        jg_conv2d_pad_input(scratch + g * xplane, x + (size_t)g * C * s->h * s->w, s);
    return xplane;
}

static void bwdw_image_ref(float *dw, const float *dy, const float *x,
                           const jg_conv2d_shape_t *s, int oh, int ow, float *scratch)
{
    const int C = s->c, K = s->k, KH = s->kh, KW = s->kw;
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w;
    jg_conv2d_pad_input(scratch, x, s);
    for (int k = 0; k < K; k++) {
        const float *dyk = dy + (size_t)k * oh * ow;            // (OH, OW)
        for (int c = 0; c < C; c++) {
            for (int i = 0; i < KH; i++) {
                for (int j = 0; j < KW; j++) {
                    float acc = 0;
                    for (int oy = 0; oy < oh; oy++)
                        for (int ox = 0; ox < ow; ox++)
                            acc += dyk[(size_t)oy * ow + ox] *
                                   scratch[((size_t)c * Hp + oy + i) * Wp + ox + j];
                    dw[(((size_t)k * C + c) * KH + i) * KW + j] += acc;
                }
            }
        }
    }
}

/* dw(k,c,i,j) += sum_{oy,ox} dy(k,oy,ox) * xp(c, oy+i, ox+j), image by image */
int jg_f32_conv2d_direct_bwdw_ref(float *dw, const float *dy, const float *x,
                                  const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                  float *scratch)
{
    if (!jg_conv2d_direct_ok(s, oh, ow)) return 1;
    for (int n = 0; n < nimg; n++)
        bwdw_image_ref(dw, dy + (size_t)n * s->k * oh * ow, x + (size_t)n * s->c * s->h * s->w,
                       s, oh, ow, scratch);
    return 0;
}
