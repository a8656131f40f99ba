/* SPDX-License-Identifier: MIT */
/*
 * norm_tmpl.h - the SIMD per-channel batch-norm kernels, written once against
 * the macro layer. Included by norm_avx2.c, norm_avx512.c and norm_neon.c
 * right after their vec_<isa>.h; JG_VFN gives each copy its ISA suffix.
 *
 * Generates (per ISA, <isa> = avx2 | avx512 | neon):
 *   jg_f32_bn_moments_<isa>    twin jg_f32_bn_moments_ref
 *   jg_f32_bn_apply_<isa>      twin jg_f32_bn_apply_ref
 *   jg_f32_bn_bwd_sums_<isa>   twin jg_f32_bn_bwd_sums_ref
 *   jg_f32_bn_bwd_apply_<isa>  twin jg_f32_bn_bwd_apply_ref
 *
 * Sums widen each float vector to doubles (vdsum_t) and reduce the lanes in a
 * fixed order; the scalar remainder of every row goes into a separate double
 * that is added last, so the order is fixed. The statistics take one pass
 * over x (shifted sums), the normalisation a second: two reads of x where
 * the two-pass variance took three. The element-wise passes use FMA
 * on full vectors and the _ref expression on the remainder (the tests allow
 * the few ulp between the two).
 */
#include "norm/norm.h"

/* mean = sum x / M; var = sum (x - mean)^2 / M in one pass over x: sums of
 * d = x - x0 and d^2 in double, x0 the channel's first value (the shift
 * keeps the cancellation in var = E[d^2] - E[d]^2 to double rounding of the
 * spread, not of the mean). */
void JG_VFN(bn_moments)(double *mean, double *var, const float *x, int n, int hw, size_t cs)
{
    const double m = (double)n * hw, x0 = x[0];
    vdsum_t s = vdsum_zero(), q = vdsum_zero();
    double st = 0.0, qt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        int j = 0;
        for (; j + VEPR <= hw; j += VEPR) {
            const vf_t v = VLOAD(r + j);
            s = vdsum_add_dev(s, v, x0);
            q = vdsum_add_sqdev(q, v, x0);
        }
        for (; j < hw; j++) {
            const double d = (double)r[j] - x0;
            st += d;
            qt += d * d;
        }
    }
    const double ds = (vdsum_reduce(s) + st) / m, v = (vdsum_reduce(q) + qt) / m - ds * ds;
    *mean = x0 + ds;
    *var = v > 0.0 ? v : 0.0;
}

/* y = (x - mean) * scale + shift */
void JG_VFN(bn_apply)(float *y, const float *x, int n, int hw, size_t cs, float mean,
                      float scale, float shift)
{
    const vf_t mv = VSET1(mean), sv = VSET1(scale), bv = VSET1(shift);
    for (int i = 0; i < n; i++) {
        const float *r = x + i * cs;
        float *o = y + i * cs;
        int j = 0;
        for (; j + VEPR <= hw; j += VEPR) VSTORE(o + j, VFMA(VSUB(VLOAD(r + j), mv), sv, bv));
        for (; j < hw; j++) o[j] = (r[j] - mean) * scale + shift;
    }
}

/* sdy = sum dy; sdyxc = sum dy * (x - mean), in double */
void JG_VFN(bn_bwd_sums)(double *sdy, double *sdyxc, const float *dy, const float *x, int n,
                         int hw, size_t cs, float mean)
{
    vdsum_t s = vdsum_zero(), t = vdsum_zero();
    double st = 0.0, tt = 0.0;
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        int j = 0;
        for (; j + VEPR <= hw; j += VEPR) {
            const vf_t gv = VLOAD(g + j);
            s = vdsum_add(s, gv);
            t = vdsum_add_muldev(t, gv, VLOAD(r + j), mean);
        }
        for (; j < hw; j++) {
            st += g[j];
            tt += (double)g[j] * ((double)r[j] - mean);
        }
    }
    *sdy = vdsum_reduce(s) + st;
    *sdyxc = vdsum_reduce(t) + tt;
}

/* dx (+)= a*dy + k*(x - mean) + b: added, or written when set */
void JG_VFN(bn_bwd_apply)(float *dx, const float *dy, const float *x, int n, int hw, size_t cs,
                          float mean, float a, float k, float b, int set)
{
    const vf_t mv = VSET1(mean), av = VSET1(a), kv = VSET1(k), bv = VSET1(b);
    for (int i = 0; i < n; i++) {
        const float *g = dy + i * cs, *r = x + i * cs;
        float *o = dx + i * cs;
        int j = 0;
        for (; j + VEPR <= hw; j += VEPR) {
            const vf_t d = VSUB(VLOAD(r + j), mv);
            const vf_t t = VFMA(av, VLOAD(g + j), VFMA(kv, d, bv));
            VSTORE(o + j, set ? t : VADD(VLOAD(o + j), t));
        }
        for (; j < hw; j++) {
            const float t = a * g[j] + k * (r[j] - mean) + b;
            o[j] = set ? t : o[j] + t;
        }
    }
}
