/* SPDX-License-Identifier: MIT */
/* pool_ref.c - scalar plane kernels for max/avg pooling: the oracle twins. */
#include "pool.h"

/* y(oh,ow) = max over the window of x; argmax = flat ih*W+iw of the winner */
void jg_f32_maxpool_fwd_plane_ref(float *y, int32_t *argmax, const float *x,
                                  const jg_pool2d_shape_t *s, int oh, int ow)
{
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
            jg_pool_max_one(&y[i * ow + j], &argmax[i * ow + j], x, s, i, j);
}

/* dx[argmax[o]] += dy[o] */
int jg_f32_maxpool_bwd_plane_ref(float *dx, const float *dy, const int32_t *argmax, int hw,
                                 int ohw)
{
    int bad = 0;
    for (int o = 0; o < ohw; o++) {
        const int32_t a = argmax[o];
        if (a < 0 || a >= hw) {
            bad++;
            continue;
        }
        dx[a] += dy[o];
    }
    return bad;
}

/* y(oh,ow) = sum over the window of x / (kh*kw); padding counts as zeros */
void jg_f32_avgpool_fwd_plane_ref(float *y, const float *x, const jg_pool2d_shape_t *s, int oh,
                                  int ow)
{
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) y[i * ow + j] = jg_pool_avg_one(x, s, i, j);
}

/* dx(ih,iw) += dy(oh,ow) / (kh*kw) for every window that covers (ih,iw) */
void jg_f32_avgpool_bwd_plane_ref(float *dx, const float *dy, const jg_pool2d_shape_t *s,
                                  int oh, int ow)
{
    for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) jg_pool_avg_bwd_one(dx, dy[i * ow + j], s, i, j);
}
