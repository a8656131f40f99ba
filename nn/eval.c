/* SPDX-License-Identifier: MIT */
/* Evaluation: an inference-mode pass (running batchnorm statistics, no
 * dropout) over a data view in batches of the model's reserved capacity,
 * giving the mean loss over examples, accuracy, per-class accuracy and the
 * confusion matrix. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

int jg_nn_argmax(const float *v, int k)
{
    int best = 0;
    for (int j = 1; j < k; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

int jg_nn_data_check(const jg_model_t *m, const jg_nn_data_t *d, const char *what,
                     jg_nn_error_t *err)
{
    if (!m || !d) {
        jg_nn_errorf(err, "%s: no model or no data", what);
        return -EINVAL;
    }
    if (d->n < 1 || !d->x || !d->y) {
        jg_nn_errorf(err, "%s: empty data view (n = %d)", what, d->n);
        return -EINVAL;
    }
    if (d->c != m->c || d->h != m->h || d->w != m->w || d->classes != m->classes) {
        jg_nn_errorf(err, "%s: data is %dx%dx%d with %d classes, the model expects "
                     "%dx%dx%d with %d",
                     what, d->c, d->h, d->w, d->classes, m->c, m->h, m->w, m->classes);
        return -EINVAL;
    }
    for (int i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= d->classes) {
            jg_nn_errorf(err, "%s: label %d of example %d is outside [0, %d)", what,
                         (int)d->y[i], i, d->classes);
            return -EINVAL;
        }
    return 0;
}

int jg_nn_eval_pass(jg_model_t *m, const jg_nn_data_t *d, double *loss, int64_t *correct,
                    int64_t *confusion)
{
    const int cap = m->capacity, k = m->classes;
    if (cap < 1) return -EINVAL;
    const size_t img = (size_t)d->c * d->h * d->w; /* floats per image */
    double sum = 0.0;                               /* sum of per-example losses */
    int64_t hits = 0;
    for (int i0 = 0; i0 < d->n; i0 += cap) {
        const int nb = d->n - i0 < cap ? d->n - i0 : cap;
        const float *logits; /* (nb, k) */
        float l;
        int rc = jg_model_forward(m, d->x + (size_t)i0 * img, nb, 0, &logits);
        if (!rc) rc = jg_model_loss(m, d->y + i0, &l);
        if (rc) return rc;
        sum += (double)l * nb; /* the kernel returns the batch mean */
        for (int i = 0; i < nb; i++) {
            const int p = jg_nn_argmax(logits + (size_t)i * k, k), t = d->y[i0 + i];
            hits += p == t;
            if (confusion) confusion[(size_t)t * k + p]++;
        }
    }
    *loss = sum / d->n;
    *correct = hits;
    return 0;
}

int jg_evaluate(jg_model_t *m, const jg_nn_data_t *d, jg_eval_t *ev)
{
    if (!ev) return -EINVAL;
    memset(ev, 0, sizeof *ev);
    if (!m || m->capacity < 1) return -EINVAL;
    int rc = jg_nn_data_check(m, d, "eval", NULL);
    if (rc) return rc;
    const int k = m->classes;
    ev->confusion = calloc((size_t)k * k, sizeof *ev->confusion);
    ev->class_accuracy = calloc((size_t)k, sizeof *ev->class_accuracy);
    if (!ev->confusion || !ev->class_accuracy) {
        jg_eval_free(ev);
        return -ENOMEM;
    }
    int64_t correct = 0;
    rc = jg_nn_eval_pass(m, d, &ev->loss, &correct, ev->confusion);
    if (rc) {
        jg_eval_free(ev);
        return rc;
    }
    ev->n = d->n;
    ev->classes = k;
    ev->accuracy = (double)correct / d->n;
    for (int t = 0; t < k; t++) {
        int64_t row = 0; /* examples of class t */
        for (int p = 0; p < k; p++) row += ev->confusion[(size_t)t * k + p];
        ev->class_accuracy[t] = row ? (double)ev->confusion[(size_t)t * k + t] / row : NAN;
    }
    return 0;
}

void jg_eval_free(jg_eval_t *ev)
{
    if (!ev) return;
    free(ev->class_accuracy);
    free(ev->confusion);
    memset(ev, 0, sizeof *ev);
}
