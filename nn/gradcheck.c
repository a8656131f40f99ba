/* SPDX-License-Identifier: MIT */
/* Finite-difference gradient checker (kann style): backward's gradients vs
 * (L(v + eps) - L(v - eps)) / (2 eps) for a deterministic sample of
 * parameters and inputs. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

/* Relative error floor: gradients below it are compared absolutely, since
 * the float logits carry ~1e-7 relative noise that eps turns into ~1e-4
 * absolute noise in the difference quotient. */
#define GC_FLOOR 1e-2

/* Mean softmax cross-entropy in double from the float logits (B, K). */
static double loss_double(const float *logits, const int32_t *labels, int b, int k)
{
    double sum = 0.0;
    for (int i = 0; i < b; i++) {
        const float *z = logits + (size_t)i * k;
        double mx = z[0];
        for (int j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
        double s = 0.0;
        for (int j = 0; j < k; j++) s += exp((double)z[j] - mx);
        sum += log(s) + mx - (double)z[labels[i]];
    }
    return sum / b;
}

/* Replacement draws for a sample whose +-eps evaluations cross a kink. */
#define GC_KINK_TRIES 16
/* Window shrinks (eps, eps/4, eps/16) tried on one value before redrawing. */
#define GC_SHRINKS 3

/* Hash of the piecewise-linear pattern of the last forward: relu/leaky_relu
 * input signs and maxpool winners. Where it changes between v - eps and
 * v + eps the loss has a kink inside the window and the central difference
 * is not the derivative. */
static uint64_t pattern_hash(const jg_model_t *m)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const size_t B = (size_t)m->batch;
    for (int i = 0; i < m->n_layers; i++) {
        const jg_layer_t *l = &m->layers[i];
        if (l->spec.kind == JG_LAYER_RELU || l->spec.kind == JG_LAYER_LEAKY_RELU) {
            for (size_t j = 0; j < B * l->in_n; j++)
                h = (h ^ (uint64_t)(l->in[j] > 0.0f)) * 0x100000001b3ULL;
        } else if (l->spec.kind == JG_LAYER_MAXPOOL2D) {
            for (size_t j = 0; j < B * l->out_n; j++)
                h = (h ^ (uint64_t)(uint32_t)l->argmax[j]) * 0x100000001b3ULL;
        }
    }
    return h;
}

typedef struct {
    float *v;          /* live values (params arena or the input copy) */
    const float *g;    /* analytic gradient copy */
    size_t n;
} tensor_t;

static int eval_loss(jg_model_t *m, const float *x, const int32_t *labels, int batch,
                     uint64_t step, double *loss, uint64_t *pattern)
{
    const float *logits;
    m->step = step;
    const int rc = jg_model_forward(m, x, batch, 1, &logits);
    if (rc) return rc;
    *loss = loss_double(logits, labels, batch, m->classes);
    *pattern = pattern_hash(m);
    return 0;
}

int jg_model_gradcheck(jg_model_t *m, const float *x, const int32_t *labels, int batch,
                       float eps, int n_samples, double *max_rel_err)
{
    if (!m || !x || !labels || !max_rel_err || batch < 1 || batch > m->capacity ||
        !(eps > 0.0f) || n_samples < 1)
        return -EINVAL;
    for (int i = 0; i < batch; i++)
        if (labels[i] < 0 || labels[i] >= m->classes) return -EINVAL;
    const size_t nx = (size_t)batch * m->layers[0].in_n;
    const size_t np = m->n_params_alloc;
    float *xc = malloc(nx * sizeof(float));
    float *gx = malloc(nx * sizeof(float));
    float *gp = malloc((np ? np : 1) * sizeof(float));
    float *pp = malloc((np ? np : 1) * sizeof(float));
    float *bb = malloc((m->n_buffers ? m->n_buffers : 1) * sizeof(float));
    tensor_t *ts = malloc((2 * (size_t)m->n_layers + 1) * sizeof *ts);
    int rc = -ENOMEM;
    const int old_in = m->input_grad, old_probe = m->have_probe;
    const uint64_t step0 = m->step;
    if (!xc || !gx || !gp || !pp || !bb || !ts) goto out;
    memcpy(xc, x, nx * sizeof(float));
    memcpy(pp, m->params, np * sizeof(float));
    memcpy(bb, m->buffers, m->n_buffers * sizeof(float));
    m->input_grad = 1;
    m->have_probe = 0;

    float loss;
    m->step = step0;
    rc = jg_model_forward(m, xc, batch, 1, NULL);
    if (rc == 0) rc = jg_model_loss(m, labels, &loss);
    if (rc == 0) rc = jg_model_backward(m);
    if (rc) goto out;
    const uint64_t pat0 = pattern_hash(m);
    memcpy(gp, m->grads, np * sizeof(float));
    memcpy(gx, m->dinput, nx * sizeof(float));

    int nt = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const jg_layer_t *l = &m->layers[i];
        if (l->n_w) ts[nt++] = (tensor_t){ m->params + l->w_off, gp + l->w_off, l->n_w };
        if (l->n_b) ts[nt++] = (tensor_t){ m->params + l->b_off, gp + l->b_off, l->n_b };
    }
    ts[nt++] = (tensor_t){ xc, gx, nx };

    jg_nn_rng_t rng;
    jg_nn_rng_seed(&rng, m->seed ^ 0x5bd1e995ULL);
    double worst = 0.0;
    for (int s = 0; s < n_samples; s++) {
        const tensor_t *t = &ts[s % nt];
        double fd = 0.0, g = 0.0;
        /* draw elements of this tensor until the window holds no kink; after
         * GC_KINK_TRIES the last draw counts anyway */
        int smooth = 0;
        for (int tries = 0; tries < GC_KINK_TRIES && !smooth; tries++) {
            const size_t idx = (size_t)(jg_nn_rng_u64(&rng) % t->n);
            const float v = t->v[idx];
            /* a kink inside the window: shrink it before drawing anew */
            float h = eps;
            for (int shrink = 0; shrink < GC_SHRINKS && !smooth; shrink++, h *= 0.25f) {
                const float hi = v + h, lo = v - h;
                double lp, lm;
                uint64_t pp_hash = 0, pm_hash = 0;
                t->v[idx] = hi;
                rc = eval_loss(m, xc, labels, batch, step0, &lp, &pp_hash);
                t->v[idx] = lo;
                if (rc == 0) rc = eval_loss(m, xc, labels, batch, step0, &lm, &pm_hash);
                t->v[idx] = v;
                if (rc) goto out;
                /* divide by the step actually taken in float */
                fd = (lp - lm) / ((double)hi - (double)lo);
                g = t->g[idx];
                smooth = pp_hash == pat0 && pm_hash == pat0;
            }
        }
        double den = fabs(g) > fabs(fd) ? fabs(g) : fabs(fd);
        if (den < GC_FLOOR) den = GC_FLOOR;
        const double e = fabs(g - fd) / den;
        if (e > worst) worst = e;
    }
    *max_rel_err = worst;
    rc = 0;
out:
    if (pp) memcpy(m->params, pp, np * sizeof(float));
    m->input_grad = old_in;
    /* leave the activations of the unperturbed x, not of the freed copy */
    if (rc == 0) {
        m->step = step0;
        rc = jg_model_forward(m, x, batch, 1, NULL);
    }
    if (bb) memcpy(m->buffers, bb, m->n_buffers * sizeof(float));
    m->step = step0;
    m->have_loss = 0;
    m->have_probe = old_probe;
    free(xc);
    free(gx);
    free(gp);
    free(pp);
    free(bb);
    free(ts);
    return rc;
}
