/* SPDX-License-Identifier: MIT */
/*
 * optim_ref.c - scalar SGD and Adam/AdamW, the oracles, following
 * torch.optim.SGD / Adam / AdamW (single-tensor path) formula by formula.
 * Hyper-parameters are rejected where PyTorch raises ValueError (negative
 * lr, eps, weight decay or momentum; betas outside [0, 1); Nesterov without
 * momentum). n == 0 is a valid empty update: 0, nothing touched.
 */
#include <math.h>

#include "optim/optim.h"

int jg_sgd_check(const float *w, const float *v, const float *g, float lr,
                 float momentum, float weight_decay, int nesterov)
{
    JG_CHECK(w && g);
    JG_CHECK(lr >= 0.0f && momentum >= 0.0f && weight_decay >= 0.0f); /* NaN fails */
    JG_CHECK(momentum == 0.0f || v);
    JG_CHECK(!nesterov || momentum > 0.0f);
    return 0;
}

int jg_adam_check(const float *w, const float *m, const float *v, const float *g,
                  float lr, float beta1, float beta2, float eps, float weight_decay,
                  int64_t t)
{
    JG_CHECK(w && m && v && g);
    JG_CHECK(t >= 1);
    JG_CHECK(lr >= 0.0f && eps >= 0.0f && weight_decay >= 0.0f);
    JG_CHECK(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f);
    return 0;
}

void jg_adam_consts(jg_adam_consts_t *c, float lr, float beta1, float beta2, float eps,
                    float weight_decay, int decoupled, int64_t t)
{
    const double bc1 = 1.0 - pow(beta1, (double)t), bc2 = 1.0 - pow(beta2, (double)t);
    c->beta1 = beta1;
    c->beta2 = beta2;
    c->one_minus_beta1 = (float)(1.0 - beta1);
    c->one_minus_beta2 = (float)(1.0 - beta2);
    c->step_size = (float)(lr / bc1);
    c->bc2_sqrt = (float)sqrt(bc2);
    c->eps = eps;
    c->decoupled = decoupled && weight_decay != 0.0f;
    c->l2 = !decoupled ? weight_decay : 0.0f;
    c->decay = c->decoupled ? (float)(1.0 - (double)lr * weight_decay) : 1.0f;
}

/* g' = g + wd*w; v = momentum*v + g'; w -= lr * (nesterov ? g' + momentum*v : v) */
void jg_f32_sgd_update_ref(float *w, float *v, const float *g, size_t n, float lr,
                           float momentum, float weight_decay, int nesterov)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        if (weight_decay != 0.0f) gi = gi + weight_decay * w[i];
        float step = gi;
        if (momentum != 0.0f) {
            const float vi = momentum * v[i] + gi;
            v[i] = vi;
            step = nesterov ? gi + momentum * vi : vi;
        }
        w[i] = w[i] - lr * step;
    }
}

/* m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'*g';
 * w -= step_size * m / (sqrt(v)/bc2_sqrt + eps), left to right */
void jg_f32_adam_update_ref(float *w, float *m, float *v, const float *g, size_t n,
                            const jg_adam_consts_t *c)
{
    const jg_adam_consts_t k = *c; /* a local copy: stores to w, m, v cannot alias it */
    for (size_t i = 0; i < n; i++) {
        float wi = w[i], gi = g[i];
        if (k.l2 != 0.0f) gi = gi + k.l2 * wi;
        if (k.decoupled) wi = wi * k.decay;
        const float mi = k.beta1 * m[i] + k.one_minus_beta1 * gi;
        const float vi = k.beta2 * v[i] + k.one_minus_beta2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        const float denom = sqrtf(vi) / k.bc2_sqrt + k.eps;
        w[i] = wi - k.step_size * mi / denom; /* as addcdiv: (value*m)/denom */
    }
}

int jg_sgd_update_ref(float *w, float *v, const float *g, size_t n, float lr,
                      float momentum, float weight_decay, int nesterov)
{
    const int err = jg_sgd_check(w, v, g, lr, momentum, weight_decay, nesterov);
    if (err) return err;
    jg_f32_sgd_update_ref(w, v, g, n, lr, momentum, weight_decay, nesterov);
    return 0;
}

int jg_adam_update_ref(float *w, float *m, float *v, const float *g, size_t n,
                       float lr, float beta1, float beta2, float eps,
                       float weight_decay, int decoupled, int64_t t)
{
    const int err = jg_adam_check(w, m, v, g, lr, beta1, beta2, eps, weight_decay, t);
    if (err) return err;
    jg_adam_consts_t c;
    jg_adam_consts(&c, lr, beta1, beta2, eps, weight_decay, decoupled, t);
    jg_f32_adam_update_ref(w, m, v, g, n, &c);
    return 0;
}
