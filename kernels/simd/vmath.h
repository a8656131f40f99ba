/* SPDX-License-Identifier: MIT */
/*
 * vmath.h - loop helper and vector exp/sigmoid/tanh written once against the
 * macro layer; include right after one of vec_avx512.h, vec_avx2.h,
 * vec_neon.h. Used by the act and loss families.
 *
 * Accuracy, measured by test_act.c against double-precision libm over
 * [-110, 110] in steps of 0.01 plus 0, tiny, denormal, +-88.7, +-100, +-inf:
 * max relative error 1.54 FLT_EPSILON for vsigmoid (which is e^x/(1+e^x)
 * for x < 0, so this bounds vexp too) and 0.94 FLT_EPSILON for vtanh, on
 * AVX2, AVX-512 and NEON alike; the tests allow 4 FLT_EPSILON. Large |x| saturates without inf or NaN:
 * sigmoid -> 0 or 1 (denormal results for x in [-103, -87] are kept),
 * tanh -> +-1. A NaN input gives NaN.
 */
#ifndef JG_VMATH_H
#define JG_VMATH_H

/* VLOOP(n, body): runs body for i = 0, VEPR, 2*VEPR, ... < n; the last,
 * partial vector runs the same body with VLD/VST masked. full_ is a
 * compile-time constant in each copy, so the masks cost nothing in the main
 * loop. */
#define VLOOP(n, ...)                                                       \
    do {                                                                    \
        const size_t vn_ = (size_t)(n);                                     \
        size_t i = 0;                                                       \
        {                                                                   \
            const int full_ = 1;                                            \
            const vtail_t tail_ = VTAIL_NONE;                               \
            (void)full_;                                                    \
            (void)tail_;                                                    \
            for (; i + VEPR <= vn_; i += VEPR) { __VA_ARGS__ }             \
        }                                                                   \
        if (i < vn_) {                                                      \
            const int full_ = 0;                                            \
            const vtail_t tail_ = VTAIL(vn_ - i);                           \
            (void)full_;                                                    \
            (void)tail_;                                                    \
            __VA_ARGS__                                                     \
        }                                                                   \
    } while (0)

/* Inside VLOOP: load/store the current (maybe partial) vector; dead lanes
 * read as fill. VLIVE zeroes the dead lanes of a computed vector. */
#define VLD(p, fill) (full_ ? VLOAD(p) : VLOADT((p), tail_, (fill)))
#define VST(p, v) (full_ ? VSTORE((p), (v)) : VSTORET((p), tail_, (v)))
#define VLIVE(v) (full_ ? (v) : VZEROT(tail_, (v)))

/* The first n lanes at p (n >= VEPR: a whole vector; dead lanes read as 0
 * and are never written), outside VLOOP. */
static inline vf_t vld_n(const float *p, int n)
{
    return n >= VEPR ? VLOAD(p) : VLOADT(p, VTAILN(n), 0.0f);
}

static inline void vst_n(float *p, int n, vf_t v)
{
    if (n >= VEPR)
        VSTORE(p, v);
    else
        VSTORET(p, VTAILN(n), v);
}

/* e^x. Cephes expf scheme: x = n ln2 + r with |r| <= ln2/2 (ln2 split in
 * two so n*C1 is exact), e^r by a degree-6 polynomial in r (max rel error
 * ~1.5 ulp), then scaled by 2^n in two steps (vldexp). x is clamped to
 * [-105, 88.72]: below about -103.97 e^x rounds to 0, and e^-105 does. */
static inline vf_t vexp(vf_t x)
{
    x = VMIN(VSET1(88.7228f), VMAX(VSET1(-105.0f), x)); /* data last: NaN stays */
    const vf_t n = VROUND(VMUL(x, VSET1(1.44269504088896341f)));
    vf_t r = VFMA(n, VSET1(-0.693359375f), x);
    r = VFMA(n, VSET1(2.12194440e-4f), r);
    vf_t p = VSET1(1.9875691500e-4f);
    p = VFMA(p, r, VSET1(1.3981999507e-3f));
    p = VFMA(p, r, VSET1(8.3334519073e-3f));
    p = VFMA(p, r, VSET1(4.1665795894e-2f));
    p = VFMA(p, r, VSET1(1.6666665459e-1f));
    p = VFMA(p, r, VSET1(5.0000001201e-1f));
    p = VFMA(p, VMUL(r, r), VADD(r, VSET1(1.0f)));
    return vldexp(p, n);
}

/* 1 / (1 + e^-x) from e = e^-|x| in (0, 1], which never overflows: x >= 0
 * gives 1/(1+e), x < 0 gives e/(1+e) (full relative accuracy near 0). */
static inline vf_t vsigmoid(vf_t x)
{
    const vf_t e = vexp(VSUB(VSET1(0.0f), vabs(x)));
    const vf_t one = VSET1(1.0f);
    return VDIV(VSEL(VGE(x, VSET1(0.0f)), one, e), VADD(one, e)); /* one division */
}

/* tanh x. Cephes tanhf: |x| < 0.625 uses x + x^3 P(x^2) (no cancellation
 * for small x); otherwise (1 - e)/(1 + e) with e = e^-2|x| <= 0.29, sign
 * restored from x. */
static inline vf_t vtanh(vf_t x)
{
    const vf_t ax = vabs(x), z = VMUL(x, x);
    vf_t p = VSET1(-5.70498872745e-3f);
    p = VFMA(p, z, VSET1(2.06390887954e-2f));
    p = VFMA(p, z, VSET1(-5.37397155531e-2f));
    p = VFMA(p, z, VSET1(1.33314422036e-1f));
    p = VFMA(p, z, VSET1(-3.33332819422e-1f));
    const vf_t small = VFMA(VMUL(p, z), x, x);
    const vf_t e = vexp(VMUL(VSET1(-2.0f), ax));
    const vf_t big = VDIV(VSUB(VSET1(1.0f), e), VADD(VSET1(1.0f), e));
    return VSEL(VLT(ax, VSET1(0.625f)), small, vcopysign(big, x));
}

#endif /* JG_VMATH_H */
