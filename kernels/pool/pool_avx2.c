/* SPDX-License-Identifier: MIT */
/*
 * pool_avx2.c - AVX2 pooling plane kernels, 8 output columns per vector.
 * Column remainders use _mm256_maskload/maskstore (masked-off lanes never
 * fault), so no read leaves the row. Same comparison/summation order as the
 * _ref twins, hence bit-identical results.
 */
#include <immintrin.h>

#include "pool.h"

#define VL 8

static const int32_t mask_tab[2 * VL] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                         0,  0,  0,  0,  0,  0,  0,  0};

/* lanes l < n set */
static inline __m256i tail_mask(int n)
{
    n = n < 0 ? 0 : n > VL ? VL : n;
    return _mm256_loadu_si256((const __m256i *)(mask_tab + VL - n));
}

/* Even/odd lanes of the 16 floats in (lo, hi). */
static inline __m256 even16(__m256 lo, __m256 hi)
{
    const __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

static inline __m256 odd16(__m256 lo, __m256 hi)
{
    const __m256 t = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(t), _MM_SHUFFLE(3, 1, 2, 0)));
}

/* lanes l < n get p[l*sw], others 0; reads only p[0 .. (n-1)*sw] */
static inline __m256 load_strided(const float *p, int sw, int n, __m256i lane_sw)
{
    if (sw == 1) return _mm256_maskload_ps(p, tail_mask(n));
    if (sw == 2) {
        const int cnt = 2 * n - 1;
        const __m256 lo = _mm256_maskload_ps(p, tail_mask(cnt));
        const __m256 hi = _mm256_maskload_ps(p + VL, tail_mask(cnt - VL));
        return even16(lo, hi);
    }
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, lane_sw,
                                    _mm256_castsi256_ps(tail_mask(n)), 4);
}

/* Replace (best, bidx) by (v, idx) where !(v <= best) and best is not NaN. */
#define MAX_UPDATE(best, bidx, v, idx) \
    do { \
        const __m256 m_ = _mm256_and_ps(_mm256_cmp_ps((v), (best), _CMP_NLE_UQ), \
                                        _mm256_cmp_ps((best), (best), _CMP_ORD_Q)); \
        (best) = _mm256_blendv_ps((best), (v), m_); \
        (bidx) = _mm256_castps_si256( \
            _mm256_blendv_ps(_mm256_castsi256_ps(bidx), _mm256_castsi256_ps(idx), m_)); \
    } while (0)

static void maxpool_2x2s2(float *y, int32_t *argmax, const float *x, int w, int oh, int ow)
{
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), wv = _mm256_set1_epi32(w);
    for (int i = 0; i < oh; i++) {
        const float *r0 = x + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VL) {
            const int n = ow - j < VL ? ow - j : VL;
            const __m256i m0 = tail_mask(2 * n), m1 = tail_mask(2 * n - VL);
            const __m256 a0 = _mm256_maskload_ps(r0 + 2 * j, m0);
            const __m256 a1 = _mm256_maskload_ps(r0 + 2 * j + VL, m1);
            const __m256 b0 = _mm256_maskload_ps(r1 + 2 * j, m0);
            const __m256 b1 = _mm256_maskload_ps(r1 + 2 * j + VL, m1);
            const __m256i i00 = _mm256_add_epi32(_mm256_set1_epi32(2 * i * w + 2 * j), lane2);
            __m256 best = even16(a0, a1);
            __m256i bidx = i00;
            MAX_UPDATE(best, bidx, odd16(a0, a1), _mm256_add_epi32(i00, one));
            const __m256i i10 = _mm256_add_epi32(i00, wv);
            MAX_UPDATE(best, bidx, even16(b0, b1), i10);
            MAX_UPDATE(best, bidx, odd16(b0, b1), _mm256_add_epi32(i10, one));
            const __m256i mo = tail_mask(n);
            _mm256_maskstore_ps(y + (size_t)i * ow + j, mo, best);
            _mm256_maskstore_epi32((int *)(argmax + (size_t)i * ow + j), mo, bidx);
        }
    }
}

/* y(oh,ow) = max over the window of x; argmax = flat ih*W+iw of the winner */
void jg_f32_maxpool_fwd_plane_avx2(float *y, int32_t *argmax, const float *x,
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
    const __m256i lane_sw =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(sw));
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
        for (int j = lo; j < hi; j += VL) {
            const int n = hi - j < VL ? hi - j : VL;
            const int c0 = j * sw - s->pad_w; /* first input column of lane 0 */
            int base = ih0 * w + c0;
            __m256 best = load_strided(x + base, sw, n, lane_sw);
            __m256i bidx = _mm256_add_epi32(_mm256_set1_epi32(base), lane_sw);
            for (int ih = ih0; ih < ih1; ih++) {
                for (int q = ih == ih0 ? 1 : 0; q < s->kw; q++) {
                    base = ih * w + c0 + q;
                    const __m256 v = load_strided(x + base, sw, n, lane_sw);
                    MAX_UPDATE(best, bidx, v,
                               _mm256_add_epi32(_mm256_set1_epi32(base), lane_sw));
                }
            }
            const __m256i mo = tail_mask(n);
            _mm256_maskstore_ps(y + (size_t)i * ow + j, mo, best);
            _mm256_maskstore_epi32((int *)(argmax + (size_t)i * ow + j), mo, bidx);
        }
        for (int j = hi; j < ow; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
    }
}

/* y(oh,ow) = sum over the window of x / (kh*kw); padding counts as zeros */
void jg_f32_avgpool_fwd_plane_avx2(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                   int ow)
{
    int lo, hi;
    jg_pool_interior_cols(s, ow, &lo, &hi);
    const int sw = s->stride_w, w = s->w;
    const __m256 div = _mm256_set1_ps((float)(s->kh * s->kw));
    const __m256i lane_sw =
        _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(sw));
    const int k2s2 = s->kw == 2 && sw == 2;
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
        for (int j = lo; j < hi; j += VL) {
            const int n = hi - j < VL ? hi - j : VL;
            const int c0 = j * sw - s->pad_w;
            __m256 acc = _mm256_setzero_ps();
            for (int ih = ih0; ih < ih1; ih++) {
                const float *r = x + (size_t)ih * w + c0;
                if (k2s2) {
                    /* both window columns from one pair of loads */
                    const __m256 a0 = _mm256_maskload_ps(r, tail_mask(2 * n));
                    const __m256 a1 = _mm256_maskload_ps(r + VL, tail_mask(2 * n - VL));
                    acc = _mm256_add_ps(acc, even16(a0, a1));
                    acc = _mm256_add_ps(acc, odd16(a0, a1));
                } else {
                    for (int q = 0; q < s->kw; q++)
                        acc = _mm256_add_ps(acc, load_strided(r + q, sw, n, lane_sw));
                }
            }
            _mm256_maskstore_ps(y + (size_t)i * ow + j, tail_mask(n), _mm256_div_ps(acc, div));
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
    const __m256 div = _mm256_set1_ps((float)(s->kh * s->kw));
    for (int i = 0; i < oh; i++) {
        const int h0 = i * s->stride_h - s->pad_h;
        const int ih0 = h0 < 0 ? 0 : h0, ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
        for (int j = 0; j < lo; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
        for (int v = s->kw - 1; v >= 0; v--) {
            for (int j = lo; j < hi; j += VL) {
                const __m256i m = tail_mask(hi - j);
                const __m256 g =
                    _mm256_div_ps(_mm256_maskload_ps(dy + (size_t)i * ow + j, m), div);
                for (int ih = ih0; ih < ih1; ih++) {
                    float *p = dx + (size_t)ih * s->w + j - s->pad_w + v;
                    _mm256_maskstore_ps(p, m, _mm256_add_ps(_mm256_maskload_ps(p, m), g));
                }
            }
        }
        for (int j = hi; j < ow; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
    }
}

/* dx(ih,iw) += dy(oh,ow) / (kh*kw) for every window that covers (ih,iw) */
void jg_f32_avgpool_bwd_plane_avx2(float *dx, const float *dy, const jg_pool2d_shape_t *s,
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
    const __m256 div = _mm256_set1_ps(4.0f);
    for (int i = 0; i < oh; i++) {
        float *r0 = dx + (size_t)2 * i * w, *r1 = r0 + w;
        for (int j = 0; j < ow; j += VL) {
            const int n = ow - j < VL ? ow - j : VL;
            const __m256i m0 = tail_mask(2 * n), m1 = tail_mask(2 * n - VL);
            const __m256 g =
                _mm256_div_ps(_mm256_maskload_ps(dy + (size_t)i * ow + j, tail_mask(n)), div);
            /* (g0 g0 g1 g1 g2 g2 g3 g3), (g4 g4 ... g7 g7) */
            const __m256 ul = _mm256_unpacklo_ps(g, g), uh = _mm256_unpackhi_ps(g, g);
            const __m256 glo = _mm256_permute2f128_ps(ul, uh, 0x20);
            const __m256 ghi = _mm256_permute2f128_ps(ul, uh, 0x31);
            float *p0 = r0 + 2 * j, *p1 = r1 + 2 * j;
            _mm256_maskstore_ps(p0, m0, _mm256_add_ps(_mm256_maskload_ps(p0, m0), glo));
            _mm256_maskstore_ps(p0 + VL, m1,
                                _mm256_add_ps(_mm256_maskload_ps(p0 + VL, m1), ghi));
            _mm256_maskstore_ps(p1, m0, _mm256_add_ps(_mm256_maskload_ps(p1, m0), glo));
            _mm256_maskstore_ps(p1 + VL, m1,
                                _mm256_add_ps(_mm256_maskload_ps(p1 + VL, m1), ghi));
        }
    }
}
