/* SPDX-License-Identifier: MIT */
/*
 * optim_tmpl.h - SIMD SGD and Adam/AdamW, written once against the macro
 * layer; included by optim_<isa>.c after simd/vec_<isa>.h.
 *
 * Generates (per ISA, <isa> = avx2 | avx512 | neon; twins in optim_ref.c):
 *   jg_f32_sgd_update_<isa>    jg_f32_adam_update_<isa>
 *
 * Same float operations in the same order as optim_ref.c (no FMA), so the
 * variants are bit-identical to the oracle. The branches on hyper-parameters
 * are uniform over the loop and predicted perfectly.
 */
#include "simd/vmath.h"
#include "optim/optim.h"

void JG_VFN(sgd_update)(float *w, float *v, const float *g, size_t n, float lr,
                        float momentum, float weight_decay, int nesterov)
{
    const vf_t vlr = VSET1(lr), vmom = VSET1(momentum), vwd = VSET1(weight_decay);
    VLOOP(n, {
        const vf_t wi = VLD(w + i, 0.0f);
        vf_t gi = VLD(g + i, 0.0f);
        if (weight_decay != 0.0f) gi = VADD(gi, VMUL(vwd, wi));
        vf_t step = gi;
        if (momentum != 0.0f) {
            const vf_t vi = VADD(VMUL(vmom, VLD(v + i, 0.0f)), gi);
            VST(v + i, vi);
            step = nesterov ? VADD(gi, VMUL(vmom, vi)) : vi;
        }
        VST(w + i, VSUB(wi, VMUL(vlr, step)));
    });
}

void JG_VFN(adam_update)(float *w, float *m, float *v, const float *g, size_t n,
                         const jg_adam_consts_t *c)
{
    const vf_t b1 = VSET1(c->beta1), b2 = VSET1(c->beta2);
    const vf_t omb1 = VSET1(c->one_minus_beta1), omb2 = VSET1(c->one_minus_beta2);
    const vf_t step = VSET1(c->step_size), bc2s = VSET1(c->bc2_sqrt);
    const vf_t eps = VSET1(c->eps), l2 = VSET1(c->l2), decay = VSET1(c->decay);
    const int use_l2 = c->l2 != 0.0f, decoupled = c->decoupled;
    VLOOP(n, {
        vf_t wi = VLD(w + i, 0.0f), gi = VLD(g + i, 0.0f);
        if (use_l2) gi = VADD(gi, VMUL(l2, wi));
        if (decoupled) wi = VMUL(wi, decay);
        const vf_t mi = VADD(VMUL(b1, VLD(m + i, 0.0f)), VMUL(omb1, gi));
        const vf_t vi = VADD(VMUL(b2, VLD(v + i, 0.0f)), VMUL(VMUL(omb2, gi), gi));
        VST(m + i, mi);
        VST(v + i, vi);
        /* dead tail lanes see v = 0: 0/bc2s + eps, and eps may be 0, but
         * those lanes are never stored */
        const vf_t denom = VADD(VDIV(VSQRT(vi), bc2s), eps);
        VST(w + i, VSUB(wi, VDIV(VMUL(step, mi), denom)));
    });
}
