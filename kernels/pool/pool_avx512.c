/* SPDX-License-Identifier: MIT */
/*
 * pool_avx512.c - AVX-512F pooling plane kernels, 16 output columns per
 * vector. Column remainders use masked loads/stores (masked-off lanes never
 * fault), so no read leaves the row. Same comparison/summation order as the
 * _ref twins, hence bit-identical results.
 */
#include <immintrin.h>

#include "pool.h"

#define VL 16

static inline __mmask16 tail_mask(int n)
{
    return n >= VL ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

/* Even/odd lanes of the 32 floats in (lo, hi). */
static inline __m512 even32(__m512 lo, __m512 hi)
{
    const __m512i idx =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, idx, hi);
}

static inline __m512 odd32(__m512 lo, __m512 hi)
{
    const __m512i idx =
        _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, idx, hi);
}

/* lanes l < n get p[l*sw], others 0; reads only p[0 .. (n-1)*sw] */
static inline __m512 load_strided(const float *p, int sw, int n, __m512i lane_sw)
{
    if (sw == 1) return _mm512_maskz_loadu_ps(tail_mask(n), p);
    if (sw == 2) {
        const int cnt = 2 * n - 1;
        const __m512 lo = _mm512_maskz_loadu_ps(tail_mask(cnt), p);
        const __m512 hi = _mm512_maskz_loadu_ps(tail_mask(cnt - VL), p + VL);
        return even32(lo, hi);
    }
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), tail_mask(n), lane_sw, p, 4);
}

/* Replace (best, bidx) by (v, idx) where !(v <= best) and best is not NaN. */
#define MAX_UPDATE(best, bidx, v, idx) \
    do { \
        const __mmask16 m_ = _mm512_mask_cmp_ps_mask( \
            _mm512_cmp_ps_mask((best), (best), _CMP_ORD_Q), (v), (best), _CMP_NLE_UQ); \
        (best) = _mm512_mask_mov_ps((best), m_, (v)); \
        (bidx) = _mm512_mask_mov_epi32((bidx), m_, (idx)); \
    } while (0)

static void maxpool_2x2s2(float *y, int32_t *argmax, const float *x, int w, int oh, int ow)
{
    const __m512i lane2 =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    for (int i = 0; i < oh; i++) {
        const float *r0 = x + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VL) {
            const int n = ow - j < VL ? ow - j : VL;
            const __mmask16 m0 = tail_mask(2 * n), m1 = tail_mask(2 * n - VL);
            const __m512 a0 = _mm512_maskz_loadu_ps(m0, r0 + 2 * j);
            const __m512 a1 = _mm512_maskz_loadu_ps(m1, r0 + 2 * j + VL);
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, r1 + 2 * j);
            const __m512 b1 = _mm512_maskz_loadu_ps(m1, r1 + 2 * j + VL);
            const __m512i i00 = _mm512_add_epi32(_mm512_set1_epi32(2 * i * w + 2 * j), lane2);
            const __m512i one = _mm512_set1_epi32(1), wv = _mm512_set1_epi32(w);
            __m512 best = even32(a0, a1);
            __m512i bidx = i00;
            MAX_UPDATE(best, bidx, odd32(a0, a1), _mm512_add_epi32(i00, one));
            const __m512i i10 = _mm512_add_epi32(i00, wv);
            MAX_UPDATE(best, bidx, even32(b0, b1), i10);
            MAX_UPDATE(best, bidx, odd32(b0, b1), _mm512_add_epi32(i10, one));
            _mm512_mask_storeu_ps(y + (size_t)i * ow + j, tail_mask(n), best);
            _mm512_mask_storeu_epi32(argmax + (size_t)i * ow + j, tail_mask(n), bidx);
        }
    }
}

/* y(oh,ow) = max over the window of x; argmax = flat ih*W+iw of the winner */
void jg_f32_maxpool_fwd_plane_avx512(float *y, int32_t *argmax, const float *x,
                                     const jg_pool2d_shape_t *s, int oh, int ow)
{
    if (s->kh == 2 && s->kw == 2 && s->stride_h == 2 && s->stride_w == 2 && s->pad_h == 0 &&
        s->pad_w == 0) {
        maxpool_2x2s2(y, argmax, x, s->w, oh, ow);
        return;
    }
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int sw = s->stride_w, w = s->w;
    const __m512i lane_sw = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(sw));
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
        for (int j = lo; j < hi; j += VL) {
            const int n = hi - j < VL ? hi - j : VL;
            const int c0 = j * sw - s->pad_w; /* first input column of lane 0 */
            int base = ih0 * w + c0;
            __m512 best = load_strided(x + base, sw, n, lane_sw);
            __m512i bidx = _mm512_add_epi32(_mm512_set1_epi32(base), lane_sw);
            for (int ih = ih0; ih < ih1; ih++) {
                for (int q = ih == ih0 ? 1 : 0; q < s->kw; q++) {
                    base = ih * w + c0 + q;
                    const __m512 v = load_strided(x + base, sw, n, lane_sw);
                    MAX_UPDATE(best, bidx, v,
                               _mm512_add_epi32(_mm512_set1_epi32(base), lane_sw));
                }
            }
            _mm512_mask_storeu_ps(y + (size_t)i * ow + j, tail_mask(n), best);
            _mm512_mask_storeu_epi32(argmax + (size_t)i * ow + j, tail_mask(n), bidx);
        }
        for (int j = hi; j < ow; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
    }
}

/* y(oh,ow) = sum over the window of x / (kh*kw); padding counts as zeros */
void jg_f32_avgpool_fwd_plane_avx512(float *y, const float *x, const jg_pool2d_shape_t *s,
                                     int oh, int ow)
{
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int sw = s->stride_w, w = s->w;
    const __m512 div = _mm512_set1_ps((float)(s->kh * s->kw));
    const __m512i lane_sw = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32(sw));
    const int k2s2 = s->kw == 2 && sw == 2;
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
        for (int j = lo; j < hi; j += VL) {
            const int n = hi - j < VL ? hi - j : VL;
            const int c0 = j * sw - s->pad_w;
            __m512 acc = _mm512_setzero_ps();
            for (int ih = ih0; ih < ih1; ih++) {
                const float *r = x + (size_t)ih * w + c0;
                if (k2s2) {
                    /* both window columns from one pair of loads */
                    const __m512 a0 = _mm512_maskz_loadu_ps(tail_mask(2 * n), r);
                    const __m512 a1 = _mm512_maskz_loadu_ps(tail_mask(2 * n - VL), r + VL);
                    acc = _mm512_add_ps(acc, even32(a0, a1));
                    acc = _mm512_add_ps(acc, odd32(a0, a1));
                } else {
                    for (int q = 0; q < s->kw; q++)
                        acc = _mm512_add_ps(acc, load_strided(r + q, sw, n, lane_sw));
                }
            }
            _mm512_mask_storeu_ps(y + (size_t)i * ow + j, tail_mask(n),
                                  _mm512_div_ps(acc, div));
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
    const __m512 div = _mm512_set1_ps((float)(s->kh * s->kw));
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
        for (int v = s->kw - 1; v >= 0; v--) {
            for (int j = lo; j < hi; j += VL) {
                const __mmask16 m = tail_mask(hi - j);
                const __m512 g =
                    _mm512_div_ps(_mm512_maskz_loadu_ps(m, dy + (size_t)i * ow + j), div);
                for (int ih = ih0; ih < ih1; ih++) {
                    float *p = dx + (size_t)ih * s->w + j - s->pad_w + v;
                    _mm512_mask_storeu_ps(p, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, p), g));
                }
            }
        }
        for (int j = hi; j < ow; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
    }
}

/* dx(ih,iw) += dy(oh,ow) / (kh*kw) for every window that covers (ih,iw) */
void jg_f32_avgpool_bwd_plane_avx512(float *dx, const float *dy, const jg_pool2d_shape_t *s,
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
    const __m512 div = _mm512_set1_ps(4.0f);
    const __m512i dup_lo = _mm512_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7);
    const __m512i dup_hi =
        _mm512_setr_epi32(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (int i = 0; i < oh; i++) {
        float *r0 = dx + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VL) {
            const int n = ow - j < VL ? ow - j : VL;
            const __mmask16 m0 = tail_mask(2 * n), m1 = tail_mask(2 * n - VL);
            const __m512 g = _mm512_div_ps(
                _mm512_maskz_loadu_ps(tail_mask(n), dy + (size_t)i * ow + j), div);
            const __m512 glo = _mm512_permutexvar_ps(dup_lo, g);
            const __m512 ghi = _mm512_permutexvar_ps(dup_hi, g);
            float *p0 = r0 + 2 * j, *p1 = r1 + 2 * j;
            _mm512_mask_storeu_ps(p0, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, p0), glo));
            _mm512_mask_storeu_ps(p0 + VL, m1,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m1, p0 + VL), ghi));
            _mm512_mask_storeu_ps(p1, m0, _mm512_add_ps(_mm512_maskz_loadu_ps(m0, p1), glo));
            _mm512_mask_storeu_ps(p1 + VL, m1,
                                  _mm512_add_ps(_mm512_maskz_loadu_ps(m1, p1 + VL), ghi));
        }
    }
}
