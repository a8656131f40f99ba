/* SPDX-License-Identifier: MIT */
/*
 * conv_ref.c - shape checks and the direct seven-loop conv2d twins: the
 * oracle every fast path is tested against. Each output element is summed in
 * double and written (or added) once, so the oracle is more accurate than
 * anything it checks and needs no workspace.
 */
#include <limits.h>
#include <string.h>

#include "conv.h"

int jg_conv2d_check_shape(const jg_conv2d_shape_t *s, int *oh, int *ow)
{
    JG_CHECK(s);
    JG_CHECK(s->n >= 1 && s->c >= 1 && s->h >= 1 && s->w >= 1 && s->k >= 1);
    JG_CHECK(s->kh >= 1 && s->kw >= 1 && s->stride_h >= 1 && s->stride_w >= 1);
    JG_CHECK(s->pad_h >= 0 && s->pad_w >= 0);
    /* long long: h + 2*pad cannot overflow for int inputs. */
    const long long eh = (long long)s->h + 2LL * s->pad_h - s->kh;
    const long long ew = (long long)s->w + 2LL * s->pad_w - s->kw;
    JG_CHECK(eh >= 0 && ew >= 0);
    const long long o_h = eh / s->stride_h + 1, o_w = ew / s->stride_w + 1;
    /* The fast paths index padded planes and per-image matrices with ints. */
    JG_CHECK((long long)s->h + 2LL * s->pad_h <= INT_MAX);
    JG_CHECK((long long)s->w + 2LL * s->pad_w <= INT_MAX);
    JG_CHECK(o_h * o_w <= INT_MAX);
    JG_CHECK((long long)s->c * s->kh * s->kw <= INT_MAX);
    JG_CHECK((long long)s->h * s->w <= INT_MAX);
    if (oh) *oh = (int)o_h;
    if (ow) *ow = (int)o_w;
    return 0;
}

int jg_conv2d_out_hw(const jg_conv2d_shape_t *s, int *oh, int *ow)
{
    JG_CHECK(oh && ow);
    return jg_conv2d_check_shape(s, oh, ow);
}

/* y(n,k,oh,ow) = bias(k) + sum_{c,i,j} w(k,c,i,j) * x(n,c,oh*sh+i-ph,ow*sw+j-pw) */
int jg_conv2d_forward_ref(float *y, const float *x, const float *w,
                          const float *bias, const jg_conv2d_shape_t *s)
{
    JG_CHECK(y && x && w);
    int OH, OW;
    const int err = jg_conv2d_check_shape(s, &OH, &OW);
    if (err) return err;
    const int C = s->c, H = s->h, W = s->w, K = s->k, KH = s->kh, KW = s->kw;
    for (int n = 0; n < s->n; n++) {
        const float *xn = x + (size_t)n * C * H * W;            // (C, H, W)
        for (int k = 0; k < K; k++) {
            float *ynk = y + ((size_t)n * K + k) * OH * OW;     // (OH, OW)
            const float *wk = w + (size_t)k * C * KH * KW;      // (C, KH, KW)
            for (int oy = 0; oy < OH; oy++) {
                for (int ox = 0; ox < OW; ox++) {
                    double acc = bias ? bias[k] : 0.0;
                    for (int c = 0; c < C; c++) {
                        for (int i = 0; i < KH; i++) {
                            const int ih = oy * s->stride_h + i - s->pad_h;
                            if (ih < 0 || ih >= H) continue;
                            for (int j = 0; j < KW; j++) {
                                const int iw = ox * s->stride_w + j - s->pad_w;
                                if (iw < 0 || iw >= W) continue;
                                acc += (double)wk[((size_t)c * KH + i) * KW + j] *
                                       xn[((size_t)c * H + ih) * W + iw];
                            }
                        }
                    }
                    ynk[(size_t)oy * OW + ox] = (float)acc;
                }
            }
        }
    }
    return 0;
}

/* dx(n,c,h,w) += sum_{k,i,j : h = oh*sh+i-ph, w = ow*sw+j-pw} w(k,c,i,j) * dy(n,k,oh,ow)
 * Gathered per input element so each dx element is written once. */
int jg_conv2d_backward_data_ref(float *dx, const float *dy, const float *w,
                                const jg_conv2d_shape_t *s)
{
    JG_CHECK(dx && dy && w);
    int OH, OW;
    const int err = jg_conv2d_check_shape(s, &OH, &OW);
    if (err) return err;
    const int C = s->c, H = s->h, W = s->w, K = s->k, KH = s->kh, KW = s->kw;
    const int sh = s->stride_h, sw = s->stride_w;
    for (int n = 0; n < s->n; n++) {
        const float *dyn = dy + (size_t)n * K * OH * OW;        // (K, OH, OW)
        for (int c = 0; c < C; c++) {
            float *dxc = dx + ((size_t)n * C + c) * H * W;      // (H, W)
            for (int ih = 0; ih < H; ih++) {
                for (int iw = 0; iw < W; iw++) {
                    double acc = 0;
                    for (int i = 0; i < KH; i++) {
                        const int ty = ih + s->pad_h - i; /* = oy * sh */
                        if (ty < 0 || ty % sh) continue;
                        const int oy = ty / sh;
                        if (oy >= OH) continue;
                        for (int j = 0; j < KW; j++) {
                            const int tx = iw + s->pad_w - j;
                            if (tx < 0 || tx % sw) continue;
                            const int ox = tx / sw;
                            if (ox >= OW) continue;
                            for (int k = 0; k < K; k++)
                                acc += (double)w[(((size_t)k * C + c) * KH + i) * KW + j] *
                                       dyn[((size_t)k * OH + oy) * OW + ox];
                        }
                    }
                    dxc[(size_t)ih * W + iw] += (float)acc;
                }
            }
        }
    }
    return 0;
}

int jg_conv2d_backward_data_set_ref(float *dx, const float *dy, const float *w,
                                    const jg_conv2d_shape_t *s)
{
    JG_CHECK(dx && dy && w);
    const int err = jg_conv2d_check_shape(s, NULL, NULL);
    if (err) return err;
    memset(dx, 0, sizeof(float) * (size_t)s->n * s->c * s->h * s->w);
    return jg_conv2d_backward_data_ref(dx, dy, w, s);
}

/* dw(k,c,i,j) += sum_{n,oh,ow} dy(n,k,oh,ow) * x(n,c,oh*sh+i-ph,ow*sw+j-pw);
 * dbias(k) += sum_{n,oh,ow} dy(n,k,oh,ow) */
int jg_conv2d_backward_weights_ref(float *dw, float *dbias, const float *dy,
                                   const float *x, const jg_conv2d_shape_t *s)
{
    JG_CHECK(dw && dy && x);
    int OH, OW;
    const int err = jg_conv2d_check_shape(s, &OH, &OW);
    if (err) return err;
    const int C = s->c, H = s->h, W = s->w, K = s->k, KH = s->kh, KW = s->kw;
    for (int k = 0; k < K; k++) {
        for (int c = 0; c < C; c++) {
            for (int i = 0; i < KH; i++) {
                for (int j = 0; j < KW; j++) {
                    double acc = 0;
                    for (int n = 0; n < s->n; n++) {
                        const float *dynk = dy + ((size_t)n * K + k) * OH * OW; // (OH, OW)
                        const float *xnc = x + ((size_t)n * C + c) * H * W;     // (H, W)
                        for (int oy = 0; oy < OH; oy++) {
                            const int ih = oy * s->stride_h + i - s->pad_h;
                            if (ih < 0 || ih >= H) continue;
                            for (int ox = 0; ox < OW; ox++) {
                                const int iw = ox * s->stride_w + j - s->pad_w;
                                if (iw < 0 || iw >= W) continue;
                                acc += (double)dynk[(size_t)oy * OW + ox] *
                                       xnc[(size_t)ih * W + iw];
                            }
                        }
                    }
                    dw[(((size_t)k * C + c) * KH + i) * KW + j] += (float)acc;
                }
            }
        }
        if (dbias) {
            double acc = 0;
            for (int n = 0; n < s->n; n++) {
                const float *dynk = dy + ((size_t)n * K + k) * OH * OW;
                for (size_t p = 0; p < (size_t)OH * OW; p++) acc += dynk[p];
            }
            dbias[k] += (float)acc;
        }
    }
    return 0;
}
