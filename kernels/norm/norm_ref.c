/* SPDX-License-Identifier: MIT */
/* norm_ref.c - scalar per-channel batch-norm kernels: the oracle twins. */
#include "norm.h"

/* mean = sum x / M; var = sum (x - mean)^2 / M in one pass: sums of
 * d = x - x0 and d^2 in double, x0 = x[0] (as norm_tmpl.h) */
void jg_f32_bn_moments_ref(double *mean, double *var, const float *x, int n, int hw, size_t cs)
{
    const double m = (double)n * hw, x0 = x[0];
    double s = 0.0, q = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < hw; j++) {
            const double d = (double)x[i * cs + j] - x0;
            s += d;
            q += d * d;
        }
    }
    const double ds = s / m, v = q / m - ds * ds;
    *mean = x0 + ds;
    *var = v > 0.0 ? v : 0.0;
}

/* y = (x - mean) * scale + shift */
void jg_f32_bn_apply_ref(float *y, const float *x, int n, int hw, size_t cs, float mean,
                         float scale, float shift)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < hw; j++) y[i * cs + j] = (x[i * cs + j] - mean) * scale + shift;
}

/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
void jg_f32_bn_bwd_sums_ref(double *sdy, double *sdyxc, const float *dy, const float *x, int n,
                            int hw, size_t cs, float mean)
{
    double s = 0.0, t = 0.0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < hw; j++) {
            const double g = dy[i * cs + j];
            s += g;
            t += g * ((double)x[i * cs + j] - mean);
        }
    }
    *sdy = s;
    *sdyxc = t;
}

/* dx (+)= a*dy + k*(x - mean) + b */
void jg_f32_bn_bwd_apply_ref(float *dx, const float *dy, const float *x, int n, int hw,
                             size_t cs, float mean, float a, float k, float b, int set)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < hw; j++) {
            const size_t o = i * cs + j;
            const float t = a * dy[o] + k * (x[o] - mean) + b;
            dx[o] = set ? t : dx[o] + t;
        }
    }
}
