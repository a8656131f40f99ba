/* SPDX-License-Identifier: MIT */
/*
 * act_tmpl.h - the SIMD act variants, written once against the macro layer.
 * Included by act_avx2.c, act_avx512.c and act_neon.c right after their
 * vec_<isa>.h; JG_VFN gives each copy its ISA suffix.
 *
 * Generates (per ISA, <isa> = avx2 | avx512 | neon; twins in act_ref.c):
 *   jg_f32_relu_forward_<isa>          jg_f32_relu_backward_<isa>
 *   jg_f32_relu_backward_set_<isa>
 *   jg_f32_leaky_relu_forward_<isa>    jg_f32_leaky_relu_backward_<isa>
 *   jg_f32_sigmoid_forward_<isa>       jg_f32_sigmoid_backward_<isa>
 *   jg_f32_tanh_forward_<isa>          jg_f32_tanh_backward_<isa>
 *   jg_f32_bias_add_rows_<isa>         jg_f32_bias_grad_rows_<isa>
 *
 * Apart from sigmoid and tanh forward (polynomial exp, see vmath.h), every
 * function does exactly the float operations of its _ref twin in act_ref.c
 * (mul and add kept separate, no FMA), so results are bit-identical to the
 * oracle.
 */
#include "act/act.h"
#include "simd/vmath.h"

/* y = x > 0 ? x : 0 */
void JG_VFN(relu_forward)(float *y, const float *x, size_t n)
{
    const vf_t zero = VSET1(0.0f);
    VLOOP(n, {
        const vf_t v = VLD(x + i, 0.0f);
        VST(y + i, VSEL(VGT(v, zero), v, zero));
    });
}

/* dx += x > 0 ? dy : nothing (a masked add keeps dx bit-exact elsewhere) */
void JG_VFN(relu_backward)(float *dx, const float *dy, const float *x, size_t n)
{
    const vf_t zero = VSET1(0.0f);
    VLOOP(n, {
        const vf_t d = VLD(dx + i, 0.0f);
        VST(dx + i, VSEL(VGT(VLD(x + i, 0.0f), zero), VADD(d, VLD(dy + i, 0.0f)), d));
    });
}

/* dx = x > 0 ? dy : 0 (the overwriting backward: dx is not read) */
void JG_VFN(relu_backward_set)(float *dx, const float *dy, const float *x, size_t n)
{
    const vf_t zero = VSET1(0.0f);
    VLOOP(n, { VST(dx + i, VSEL(VGT(VLD(x + i, 0.0f), zero), VLD(dy + i, 0.0f), zero)); });
}

/* y = x > 0 ? x : slope*x */
void JG_VFN(leaky_relu_forward)(float *y, const float *x, float slope, size_t n)
{
    const vf_t zero = VSET1(0.0f), s = VSET1(slope);
    VLOOP(n, {
        const vf_t v = VLD(x + i, 0.0f);
        VST(y + i, VSEL(VGT(v, zero), v, VMUL(v, s)));
    });
}

/* dx += x > 0 ? dy : dy*slope */
void JG_VFN(leaky_relu_backward)(float *dx, const float *dy, const float *x,
                                 float slope, size_t n)
{
    const vf_t zero = VSET1(0.0f), s = VSET1(slope);
    VLOOP(n, {
        const vf_t g = VLD(dy + i, 0.0f);
        const vf_t t = VSEL(VGT(VLD(x + i, 0.0f), zero), g, VMUL(g, s));
        VST(dx + i, VADD(VLD(dx + i, 0.0f), t));
    });
}

/* y = 1 / (1 + e^-x) */
void JG_VFN(sigmoid_forward)(float *y, const float *x, size_t n)
{
    VLOOP(n, { VST(y + i, vsigmoid(VLD(x + i, 0.0f))); });
}

/* dx += dy * y * (1 - y) */
void JG_VFN(sigmoid_backward)(float *dx, const float *dy, const float *y, size_t n)
{
    const vf_t one = VSET1(1.0f);
    VLOOP(n, {
        const vf_t v = VLD(y + i, 0.0f);
        const vf_t t = VMUL(VMUL(VLD(dy + i, 0.0f), v), VSUB(one, v));
        VST(dx + i, VADD(VLD(dx + i, 0.0f), t));
    });
}

/* y = tanh x */
void JG_VFN(tanh_forward)(float *y, const float *x, size_t n)
{
    VLOOP(n, { VST(y + i, vtanh(VLD(x + i, 0.0f))); });
}

/* dx += dy * (1 - y^2) */
void JG_VFN(tanh_backward)(float *dx, const float *dy, const float *y, size_t n)
{
    const vf_t one = VSET1(1.0f);
    VLOOP(n, {
        const vf_t v = VLD(y + i, 0.0f);
        const vf_t t = VMUL(VLD(dy + i, 0.0f), VSUB(one, VMUL(v, v)));
        VST(dx + i, VADD(VLD(dx + i, 0.0f), t));
    });
}

/* y(r, c) += b(c); y: (rows, ld) */
void JG_VFN(bias_add_rows)(float *y, const float *b, int rows, int cols, int ld)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * ld;
        VLOOP(cols, { VST(yr + i, VADD(VLD(yr + i, 0.0f), VLD(b + i, 0.0f))); });
    }
}

/* db(c) += sum_r dy(r, c); dy: (rows, ld). Each lane owns one column and
 * sums rows 0, 1, ... in order from 0, like the _ref twin. Four registers
 * of columns per pass over the rows keep four add chains in flight. */
void JG_VFN(bias_grad_rows)(float *db, const float *dy, int rows, int cols, int ld)
{
    int c = 0;
    for (; c + 4 * VEPR <= cols; c += 4 * VEPR) {
        vf_t a0 = VSET1(0.0f), a1 = a0, a2 = a0, a3 = a0;
        for (int r = 0; r < rows; r++) {
            const float *p = dy + (size_t)r * ld + c;
            a0 = VADD(a0, VLOAD(p));
            a1 = VADD(a1, VLOAD(p + VEPR));
            a2 = VADD(a2, VLOAD(p + 2 * VEPR));
            a3 = VADD(a3, VLOAD(p + 3 * VEPR));
        }
        VSTORE(db + c, VADD(VLOAD(db + c), a0));
        VSTORE(db + c + VEPR, VADD(VLOAD(db + c + VEPR), a1));
        VSTORE(db + c + 2 * VEPR, VADD(VLOAD(db + c + 2 * VEPR), a2));
        VSTORE(db + c + 3 * VEPR, VADD(VLOAD(db + c + 3 * VEPR), a3));
    }
    const float *dyc = dy + c;
    float *dbc = db + c;
    VLOOP(cols - c, {
        vf_t a = VSET1(0.0f);
        for (int r = 0; r < rows; r++) a = VADD(a, VLD(dyc + (size_t)r * ld + i, 0.0f));
        VST(dbc + i, VADD(VLD(dbc + i, 0.0f), a));
    });
}
