/* SPDX-License-Identifier: MIT */
/*
 * im2col_avx512.c - im2col / col2im for stride_w == 1 with AVX-512F.
 * Twin: im2col_ref.c (also the fallback for other strides).
 *
 * Output rows are short (OW = 14 or 28 in the default network), so the
 * portable version spends its time on per-row bookkeeping (valid range,
 * zero fill, short copy loops). Here the input is zero-padded once per image
 * and every (tap, output row) becomes one or two masked 16-wide copies
 * with no range logic; col2im accumulates into a zeroed padded plane the
 * same way and adds its interior to dx at the end.
 */
#include <immintrin.h>
#include <string.h>

#include "conv.h"

static __mmask16 tail_mask(int remaining)
{
    return (__mmask16)jg_conv2d_tail_bits(remaining);
}

/* col(c*KH*KW + i*KW + j, oy*OW + ox) = xp(c, oy*sh + i, ox + j) */
void jg_f32_conv2d_im2col_avx512(float *restrict col, const float *restrict x,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad)
{
    if (s->stride_w != 1) {
        jg_f32_conv2d_im2col_ref(col, x, s, oh, ow, pad);
        return;
    }
    const int Hp = s->h + 2 * s->pad_h, Wp = s->w + 2 * s->pad_w, sh = s->stride_h;
    const size_t ohw = (size_t)oh * ow;
    jg_conv2d_pad_input(pad, x, s);                             // (C, Hp, Wp)
    float *row = col;                                           // (OH, OW) per tap
    for (int c = 0; c < s->c; c++) {
        for (int i = 0; i < s->kh; i++) {
            for (int j = 0; j < s->kw; j++, row += ohw) {
                /* in range: (oh-1)*sh + i < Hp and (ow-1) + j < Wp */
                const float *src = pad + ((size_t)c * Hp + i) * Wp + j;
                for (int oy = 0; oy < oh; oy++, src += (size_t)sh * Wp) {
                    float *dst = row + (size_t)oy * ow;
                    for (int ox = 0; ox < ow; ox += 16) {
                        const __mmask16 m = tail_mask(ow - ox);
                        _mm512_mask_storeu_ps(dst + ox, m, _mm512_maskz_loadu_ps(m, src + ox));
                    }
                }
            }
        }
    }
}

/* dxp(c, oy*sh + i, ox + j) += col(tap, oy*OW + ox) over taps in (c, i, j)
 * order, then dx(c, y, x) += dxp(c, y + ph, x + pw). */
void jg_f32_conv2d_col2im_avx512(float *restrict dx, const float *restrict col,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad)
{
    if (s->stride_w != 1) {
        jg_f32_conv2d_col2im_ref(dx, col, s, oh, ow, pad);
        return;
    }
    const int H = s->h, W = s->w, Hp = H + 2 * s->pad_h, Wp = W + 2 * s->pad_w;
    const int sh = s->stride_h;
    const size_t ohw = (size_t)oh * ow;
    memset(pad, 0, sizeof(float) * jg_conv2d_pad_floats(s));  // (C, Hp, Wp)
    const float *row = col;
    for (int c = 0; c < s->c; c++) {
        for (int i = 0; i < s->kh; i++) {
            for (int j = 0; j < s->kw; j++, row += ohw) {
                float *dst = pad + ((size_t)c * Hp + i) * Wp + j;
                for (int oy = 0; oy < oh; oy++, dst += (size_t)sh * Wp) {
                    const float *src = row + (size_t)oy * ow;
                    for (int ox = 0; ox < ow; ox += 16) {
                        const __mmask16 m = tail_mask(ow - ox);
                        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dst + ox),
                                                       _mm512_maskz_loadu_ps(m, src + ox));
                        _mm512_mask_storeu_ps(dst + ox, m, v);
                    }
                }
            }
        }
    }
    for (int c = 0; c < s->c; c++) {
        for (int y = 0; y < H; y++) {
            float *d = dx + ((size_t)c * H + y) * W;
            const float *p = pad + ((size_t)c * Hp + y + s->pad_h) * Wp + s->pad_w;
            for (int xx = 0; xx < W; xx += 16) {
                const __mmask16 m = tail_mask(W - xx);
                const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, d + xx),
                                               _mm512_maskz_loadu_ps(m, p + xx));
                _mm512_mask_storeu_ps(d + xx, m, v);
            }
        }
    }
}
