/* SPDX-License-Identifier: MIT */
/*
 * vec_neon.h - aarch64 Advanced SIMD version of the macro layer; see
 * vec_avx512.h for the meaning of every name. NEON has no masked loads, so
 * a partial vector goes through a 4-float stack buffer (only the live
 * elements are copied, so nothing outside the array is touched).
 * Include only from a *_neon.c file.
 */
#ifndef JG_VEC_NEON_H
#define JG_VEC_NEON_H

#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JG_VFN(name) jg_f32_##name##_neon
#define VEPR 4

typedef float32x4_t vf_t;
typedef uint32x4_t vcmp_t;
typedef size_t vtail_t; /* number of live lanes */

#define VTAIL(rem) ((size_t)(rem))
#define VTAIL_NONE ((size_t)0)

static inline float32x4_t vloadt_neon(const float *p, size_t rem, float fill)
{
    float b[4] = {fill, fill, fill, fill};
    memcpy(b, p, rem * sizeof(float));
    return vld1q_f32(b);
}

static inline void vstoret_neon(float *p, size_t rem, float32x4_t v)
{
    float b[4];
    vst1q_f32(b, v);
    memcpy(p, b, rem * sizeof(float));
}

static inline float32x4_t vzerot_neon(size_t rem, float32x4_t v)
{
    static const uint32_t iota[4] = {0, 1, 2, 3};
    const uint32x4_t live = vcltq_u32(vld1q_u32(iota), vdupq_n_u32((uint32_t)rem));
    return vbslq_f32(live, v, vdupq_n_f32(0.0f));
}

#define VLOAD(p) vld1q_f32(p)
#define VSTORE(p, v) vst1q_f32((p), (v))
#define VLOADT(p, t, fill) vloadt_neon((p), (t), (fill))
#define VSTORET(p, t, v) vstoret_neon((p), (t), (v))
#define VZEROT(t, v) vzerot_neon((t), (v))

#define VSET1(x) vdupq_n_f32(x)
#define VADD(a, b) vaddq_f32((a), (b))
#define VSUB(a, b) vsubq_f32((a), (b))
#define VMUL(a, b) vmulq_f32((a), (b))
#define VDIV(a, b) vdivq_f32((a), (b))
#define VSQRT(a) vsqrtq_f32(a)
#define VFMA(a, b, c) vfmaq_f32((c), (a), (b))
#define VMAX(a, b) vmaxq_f32((a), (b))
#define VMIN(a, b) vminq_f32((a), (b))
#define VROUND(a) vrndnq_f32(a)
#define VGT(a, b) vcgtq_f32((a), (b))
#define VGE(a, b) vcgeq_f32((a), (b))
#define VLT(a, b) vcltq_f32((a), (b))
#define VSEL(m, a, b) vbslq_f32((m), (a), (b))
#define VREDUCE_MAX(v) vmaxvq_f32(v)

static inline vf_t vabs(vf_t a)
{
    return vabsq_f32(a);
}

static inline vf_t vcopysign(vf_t mag, vf_t sgn)
{
    return vbslq_f32(vdupq_n_u32(0x80000000u), sgn, mag);
}

static inline vf_t vldexp(vf_t p, vf_t n)
{
    const int32x4_t ni = vcvtq_s32_f32(n); /* n is integral: truncation is exact */
    const int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
    const int32x4_t bias = vdupq_n_s32(127);
    const vf_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
    const vf_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
    return vmulq_f32(vmulq_f32(p, s1), s2);
}

typedef struct {
    float64x2_t lo, hi;
} vdsum_t;

static inline vdsum_t vdsum_zero(void)
{
    const vdsum_t s = {vdupq_n_f64(0.0), vdupq_n_f64(0.0)};
    return s;
}

static inline vdsum_t vdsum_add(vdsum_t s, vf_t v)
{
    s.lo = vaddq_f64(s.lo, vcvt_f64_f32(vget_low_f32(v)));
    s.hi = vaddq_f64(s.hi, vcvt_high_f64_f32(v));
    return s;
}

static inline double vdsum_reduce(vdsum_t s)
{
    return vaddvq_f64(vaddq_f64(s.lo, s.hi));
}

/* ---- used by the pool and norm templates (see vec_avx512.h) ----------- */

#define VTAILN(n) ((size_t)((n) <= 0 ? 0 : (n) >= 4 ? 4 : (n)))

#define VNLE(a, b) vmvnq_u32(vcleq_f32((a), (b)))
#define VORD(a) vceqq_f32((a), (a))
#define VCMP_AND(m1, m2) vandq_u32((m1), (m2))

typedef int32x4_t vi_t;
#define VI_SET1(x) vdupq_n_s32(x)
#define VI_ADD(a, b) vaddq_s32((a), (b))
#define VI_SEL(m, a, b) vbslq_s32((m), (a), (b))

static inline void vi_storet_neon(int32_t *p, size_t rem, int32x4_t v)
{
    int32_t b[4];
    vst1q_s32(b, v);
    memcpy(p, b, rem * sizeof(int32_t));
}
#define VI_STORE(p, v) vst1q_s32((p), (v))
#define VI_STORET(p, t, v) vi_storet_neon((p), (t), (v))

static inline vi_t vi_iota(int step)
{
    const int32_t l[4] = {0, step, 2 * step, 3 * step};
    return vld1q_s32(l);
}

/* No masked loads: a full pair is one vld2q, a partial one goes through a
 * stack buffer so nothing at or past p[cnt] is read. */
static inline void vld_even_odd(const float *p, int cnt, vf_t *even, vf_t *odd)
{
    float32x4x2_t v;
    if (cnt >= 8) {
        v = vld2q_f32(p);
    } else {
        float b[8] = {0};
        if (cnt > 0) memcpy(b, p, (size_t)cnt * sizeof(float));
        v = vld2q_f32(b);
    }
    *even = v.val[0];
    if (odd) *odd = v.val[1];
}

static inline vf_t vld_strided(const float *p, int sw, int n, vi_t idx)
{
    (void)idx;
    if (sw == 1 && n >= 4) return vld1q_f32(p);
    float b[4] = {0};
    for (int l = 0; l < n && l < 4; l++) b[l] = p[(size_t)l * sw];
    return vld1q_f32(b);
}

static inline void vzip(vf_t a, vf_t b, vf_t *lo, vf_t *hi)
{
    *lo = vzip1q_f32(a, b);
    *hi = vzip2q_f32(a, b);
}

static inline vdsum_t vdsum_add_dev(vdsum_t s, vf_t v, double mu)
{
    const float64x2_t m = vdupq_n_f64(mu);
    s.lo = vaddq_f64(s.lo, vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), m));
    s.hi = vaddq_f64(s.hi, vsubq_f64(vcvt_high_f64_f32(v), m));
    return s;
}

static inline vdsum_t vdsum_add_sqdev(vdsum_t s, vf_t v, double mu)
{
    const float64x2_t m = vdupq_n_f64(mu);
    const float64x2_t d0 = vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), m);
    const float64x2_t d1 = vsubq_f64(vcvt_high_f64_f32(v), m);
    s.lo = vfmaq_f64(s.lo, d0, d0);
    s.hi = vfmaq_f64(s.hi, d1, d1);
    return s;
}

static inline vdsum_t vdsum_add_muldev(vdsum_t s, vf_t g, vf_t v, double mu)
{
    const float64x2_t m = vdupq_n_f64(mu);
    const float64x2_t d0 = vsubq_f64(vcvt_f64_f32(vget_low_f32(v)), m);
    const float64x2_t d1 = vsubq_f64(vcvt_high_f64_f32(v), m);
    s.lo = vfmaq_f64(s.lo, vcvt_f64_f32(vget_low_f32(g)), d0);
    s.hi = vfmaq_f64(s.hi, vcvt_high_f64_f32(g), d1);
    return s;
}

#define VREDUCE_ADD(v) vaddvq_f32(v)

#endif /* JG_VEC_NEON_H */
