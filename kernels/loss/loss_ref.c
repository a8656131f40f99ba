/* SPDX-License-Identifier: MIT */
/*
 * loss_ref.c - scalar softmax cross-entropy: the oracle. The forward works
 * in double (max-shifted exp, sum and log), so probs are correctly rounded
 * to about 1 ulp and the loss has no float error; the backward does
 * exactly the float operations of the SIMD variants.
 */
#include <math.h>

#include "loss/loss.h"

int jg_softmax_xent_check(const void *out, const void *in, const int32_t *labels,
                          int n, int k)
{
    JG_CHECK(out && in && labels);
    JG_CHECK(n >= 1 && k >= 1);
    for (int i = 0; i < n; i++) JG_CHECK(labels[i] >= 0 && labels[i] < k);
    return 0;
}

/* loss_i = log sum_j e^(x_j - max) - (x_label - max): the log-sum-exp form
 * stays finite even when probs(i, label) underflows to 0. */
double jg_f32_softmax_xent_rows_ref(float *probs, const float *logits,
                                    const int32_t *labels, int n, int k)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *x = logits + (size_t)i * k; /* (k) */
        float *p = probs + (size_t)i * k;        /* (k) */
        double mx = x[0];
        for (int j = 1; j < k; j++) mx = x[j] > mx ? x[j] : mx;
        double sum = 0.0;
        for (int j = 0; j < k; j++) sum += exp((double)x[j] - mx);
        const double xl = x[labels[i]];
        for (int j = 0; j < k; j++) p[j] = (float)(exp((double)x[j] - mx) / sum);
        total += log(sum) - (xl - mx);
    }
    return total;
}

void jg_f32_softmax_xent_backward_rows_ref(float *dlogits, const float *probs,
                                           const int32_t *labels, int n, int k, float s)
{
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k; /* (k) */
        float *d = dlogits + (size_t)i * k;     /* (k) */
        for (int j = 0; j < k; j++) d[j] += s * (p[j] - (j == labels[i] ? 1.0f : 0.0f));
    }
}

int jg_softmax_xent_forward_ref(float *loss, float *probs, const float *logits,
                                const int32_t *labels, int n, int k)
{
    const int err = jg_softmax_xent_check(probs, logits, labels, n, k);
    if (err) return err;
    JG_CHECK(loss);
    *loss = (float)(jg_f32_softmax_xent_rows_ref(probs, logits, labels, n, k) / n);
    return 0;
}

int jg_softmax_xent_backward_ref(float *dlogits, const float *probs,
                                 const int32_t *labels, int n, int k, float scale)
{
    const int err = jg_softmax_xent_check(dlogits, probs, labels, n, k);
    if (err) return err;
    jg_f32_softmax_xent_backward_rows_ref(dlogits, probs, labels, n, k, scale / (float)n);
    return 0;
}
