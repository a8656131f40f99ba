/* SPDX-License-Identifier: MIT */
/*
 * pool.h - internal to the pool family: per-(n,c)-plane kernels, one set per
 * ISA. pool.c validates, splits the N*C planes over threads (each plane is
 * owned by one thread, so results do not depend on the thread count) and calls
 * the plane kernels through the table that jg_pool_select fills.
 *
 * Max-pool NaN policy (every ISA): a NaN propagates; the first NaN in a window
 * (in row-major window order) wins, like a maximum that no later value beats.
 * A candidate replaces the running best when !(v <= best) and best is not NaN.
 */
#ifndef JG_POOL_INTERNAL_H
#define JG_POOL_INTERNAL_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One (n,c) plane. y, argmax: (OH, OW); x: (H, W). */
typedef void (*jg_maxpool_fwd_plane_fn)(float *y, int32_t *argmax, const float *x,
                                        const jg_pool2d_shape_t *s, int oh, int ow);
/* dx[argmax[o]] += dy[o] for o < ohw; dx: (H, W) with hw = H*W. Entries
 * outside [0, hw) are skipped; returns how many were skipped. */
typedef int (*jg_maxpool_bwd_plane_fn)(float *dx, const float *dy, const int32_t *argmax,
                                       int hw, int ohw);
/* y: (OH, OW) = window sums / (kh*kw); x: (H, W). */
typedef void (*jg_avgpool_fwd_plane_fn)(float *y, const float *x, const jg_pool2d_shape_t *s,
                                        int oh, int ow);
/* dx: (H, W) += dy / (kh*kw) spread over each window; dy: (OH, OW). */
typedef void (*jg_avgpool_bwd_plane_fn)(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                        int oh, int ow);

typedef struct {
    jg_maxpool_fwd_plane_fn max_fwd;
    jg_maxpool_bwd_plane_fn max_bwd;
    jg_avgpool_fwd_plane_fn avg_fwd;
    jg_avgpool_bwd_plane_fn avg_bwd;
} jg_pool_kernels_t;

/* Scalar twins: the oracle and the fallback for shapes a SIMD file skips. */
void jg_f32_maxpool_fwd_plane_ref(float *y, int32_t *argmax, const float *x,
                                  const jg_pool2d_shape_t *s, int oh, int ow);
int jg_f32_maxpool_bwd_plane_ref(float *dx, const float *dy, const int32_t *argmax, int hw,
                                 int ohw);
void jg_f32_avgpool_fwd_plane_ref(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                  int ow);
void jg_f32_avgpool_bwd_plane_ref(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                  int oh, int ow);

/* SIMD: vectorised across output columns (2x2/s2/p0 has its own loop; any
 * other window/stride/pad runs the interior columns in SIMD and the padded
 * border columns in scalar). Bit-identical to the _ref twins. avg backward:
 * 2x2/s2/p0 and stride_w == 1 in SIMD, others scalar. */
void jg_f32_maxpool_fwd_plane_avx2(float *y, int32_t *argmax, const float *x,
                                   const jg_pool2d_shape_t *s, int oh, int ow);
void jg_f32_avgpool_fwd_plane_avx2(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                   int ow);
void jg_f32_avgpool_bwd_plane_avx2(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                   int oh, int ow);
void jg_f32_maxpool_fwd_plane_avx512(float *y, int32_t *argmax, const float *x,
                                     const jg_pool2d_shape_t *s, int oh, int ow);
void jg_f32_avgpool_fwd_plane_avx512(float *y, const float *x, const jg_pool2d_shape_t *s,
                                     int oh, int ow);
void jg_f32_avgpool_bwd_plane_avx512(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                     int oh, int ow);
void jg_f32_maxpool_fwd_plane_neon(float *y, int32_t *argmax, const float *x,
                                   const jg_pool2d_shape_t *s, int oh, int ow);
void jg_f32_avgpool_fwd_plane_neon(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                   int ow);
void jg_f32_avgpool_bwd_plane_neon(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                   int oh, int ow);

/* Output columns [*ow_lo, *ow_hi) whose window lies inside the row (no
 * padding read): the SIMD files vectorise these and do the rest in scalar. */
static inline void jg_pool_interior_cols(const jg_pool2d_shape_t *s, int ow, int *ow_lo,
                                         int *ow_hi)
{
    int lo = (s->pad_w + s->stride_w - 1) / s->stride_w;
    int hi = s->w + s->pad_w - s->kw >= 0 ? (s->w + s->pad_w - s->kw) / s->stride_w + 1 : 0;
    if (hi > ow) hi = ow;
    if (lo > hi) lo = hi;
    *ow_lo = lo;
    *ow_hi = hi;
}

/* Scalar max-pool / avg-pool of one output element (shared by the border
 * columns of the SIMD files so they stay bit-identical to _ref). */
static inline void jg_pool_max_one(float *y, int32_t *argmax, const float *x,
                                   const jg_pool2d_shape_t *s, int o_h, int o_w)
{
    const int h0 = o_h * s->stride_h - s->pad_h, w0 = o_w * s->stride_w - s->pad_w;
    const int ih0 = h0 < 0 ? 0 : h0, iw0 = w0 < 0 ? 0 : w0;
    const int ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
    const int iw1 = w0 + s->kw < s->w ? w0 + s->kw : s->w;
    float best = x[ih0 * s->w + iw0];
    int32_t bi = ih0 * s->w + iw0;
    for (int ih = ih0; ih < ih1; ih++) {
        for (int iw = ih == ih0 ? iw0 + 1 : iw0; iw < iw1; iw++) {
            const float v = x[ih * s->w + iw];
            /* !(v <= best): larger or NaN; best == best: a NaN best is final */
            if (!(v <= best) && best == best) {
                best = v;
                bi = ih * s->w + iw;
            }
        }
    }
    *y = best;
    *argmax = bi;
}

static inline float jg_pool_avg_one(const float *x, const jg_pool2d_shape_t *s, int o_h,
                                    int o_w)
{
    const int h0 = o_h * s->stride_h - s->pad_h, w0 = o_w * s->stride_w - s->pad_w;
    const int ih0 = h0 < 0 ? 0 : h0, iw0 = w0 < 0 ? 0 : w0;
    const int ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
    const int iw1 = w0 + s->kw < s->w ? w0 + s->kw : s->w;
    float acc = 0.0f;
    for (int ih = ih0; ih < ih1; ih++)
        for (int iw = iw0; iw < iw1; iw++) acc += x[ih * s->w + iw];
    return acc / (float)(s->kh * s->kw);
}

/* dx += dy(o_h,o_w) / (kh*kw) over one window (shared as above). */
static inline void jg_pool_avg_bwd_one(float *dx, float dy, const jg_pool2d_shape_t *s, int o_h,
                                       int o_w)
{
    const int h0 = o_h * s->stride_h - s->pad_h, w0 = o_w * s->stride_w - s->pad_w;
    const int ih0 = h0 < 0 ? 0 : h0, iw0 = w0 < 0 ? 0 : w0;
    const int ih1 = h0 + s->kh < s->h ? h0 + s->kh : s->h;
    const int iw1 = w0 + s->kw < s->w ? w0 + s->kw : s->w;
    const float g = dy / (float)(s->kh * s->kw);
    for (int ih = ih0; ih < ih1; ih++)
        for (int iw = iw0; iw < iw1; iw++) dx[ih * s->w + iw] += g;
}

#ifdef __cplusplus
}
#endif

#endif /* JG_POOL_INTERNAL_H */
