/* SPDX-License-Identifier: MIT */
/*
 * loss_tmpl.h - SIMD softmax cross-entropy, written once against the macro
 * layer; included by loss_<isa>.c after vec_<isa>.h.
 *
 * Generates (per ISA, <isa> = avx2 | avx512 | neon; twins in loss_ref.c):
 *   jg_f32_softmax_xent_rows_<isa>    jg_f32_softmax_xent_backward_rows_<isa>
 *
 * Forward per row: max, then e = vexp(x - max) stored into probs while
 * summed in double (so the error does not grow with k; lanes reduced in a
 * fixed order), then probs /= sum. The row loss log(sum) - (x_label - max)
 * is formed in double. The backward does exactly the float operations of
 * its _ref twin.
 */
#include <math.h>

#include "simd/vmath.h"
#include "loss/loss.h"

double JG_VFN(softmax_xent_rows)(float *probs, const float *logits,
                                 const int32_t *labels, int n, int k)
{
    double total = 0.0;
    for (int r = 0; r < n; r++) {
        const float *x = logits + (size_t)r * k; /* (k) */
        float *p = probs + (size_t)r * k;        /* (k) */
        vf_t vmx = VSET1(-INFINITY);
        VLOOP(k, { vmx = VMAX(vmx, VLD(x + i, -INFINITY)); });
        const float mx = VREDUCE_MAX(vmx);
        const float xl = x[labels[r]]; /* read before probs is written */
        const vf_t m = VSET1(mx);
        vdsum_t acc = vdsum_zero();
        VLOOP(k, {
            const vf_t e = vexp(VSUB(VLD(x + i, 0.0f), m));
            acc = vdsum_add(acc, VLIVE(e));
            VST(p + i, e);
        });
        const double sum = vdsum_reduce(acc);
        const vf_t vs = VSET1((float)sum);
        VLOOP(k, { VST(p + i, VDIV(VLD(p + i, 1.0f), vs)); });
        total += log(sum) - ((double)xl - (double)mx);
    }
    return total;
}

/* d += s * (p - onehot): the vector pass uses onehot = 0 everywhere and the
 * label element, computed beforehand from the old d, is written last. */
void JG_VFN(softmax_xent_backward_rows)(float *dlogits, const float *probs,
                                        const int32_t *labels, int n, int k, float s)
{
    const vf_t vs = VSET1(s);
    for (int r = 0; r < n; r++) {
        const float *p = probs + (size_t)r * k; /* (k) */
        float *d = dlogits + (size_t)r * k;     /* (k) */
        const int l = labels[r];
        const float dl = d[l] + s * (p[l] - 1.0f);
        VLOOP(k, { VST(d + i, VADD(VLD(d + i, 0.0f), VMUL(vs, VLD(p + i, 0.0f)))); });
        d[l] = dl;
    }
}
