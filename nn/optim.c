/* SPDX-License-Identifier: MIT */
/* Optimizers over the whole parameter arena (one kernel call per step) and
 * per-epoch learning-rate schedules, with PyTorch's semantics:
 *   SGD   torch.optim.SGD(lr, momentum, weight_decay, nesterov)
 *   Adam  torch.optim.Adam(lr, betas, eps, weight_decay)   (L2 in the gradient)
 *   AdamW torch.optim.AdamW(lr, betas, eps, weight_decay)  (decoupled decay)
 *   step  StepLR(step_size, gamma); cosine CosineAnnealingLR(T_max, eta_min),
 * both stepped once per epoch. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

struct jg_optim {
    jg_optim_config_t cfg;
    int64_t n_params;
    int64_t t;          /* steps taken */
    float *state;       /* SGD: v (n) or none; Adam: m (n) then v (n) */
    size_t n_state;
};

void jg_optim_defaults(jg_optim_config_t *cfg, jg_opt_kind_t kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->lr = kind == JG_OPT_SGD ? 0.01f : 1e-3f;
    cfg->beta1 = 0.9f;
    cfg->beta2 = 0.999f;
    cfg->eps = 1e-8f;
    cfg->weight_decay = kind == JG_OPT_ADAMW ? 0.01f : 0.0f;
    cfg->schedule = JG_SCHED_CONSTANT;
    cfg->step_size = 1;
    cfg->gamma = 0.1f;
}

static int bad(jg_nn_error_t *err, const char *what)
{
    jg_nn_errorf(err, "%s", what);
    return -EINVAL;
}

int jg_optim_check(const jg_optim_config_t *c, jg_nn_error_t *err)
{
    if (!c) return bad(err, "no optimizer configuration");
    if ((unsigned)c->kind > JG_OPT_ADAMW) return bad(err, "unknown optimizer");
    if (!(c->lr > 0.0f) || !isfinite(c->lr)) return bad(err, "lr must be a finite number > 0");
    if (!(c->weight_decay >= 0.0f) || !isfinite(c->weight_decay))
        return bad(err, "weight decay must be a finite number >= 0");
    if (c->kind == JG_OPT_SGD) {
        if (!(c->momentum >= 0.0f && c->momentum < 1.0f))
            return bad(err, "momentum must be in [0, 1)");
        if (c->nesterov && !(c->momentum > 0.0f))
            return bad(err, "nesterov needs momentum > 0");
    } else {
        if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) return bad(err, "beta1 must be in [0, 1)");
        if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) return bad(err, "beta2 must be in [0, 1)");
        if (!(c->eps > 0.0f) || !isfinite(c->eps)) return bad(err, "eps must be a finite number > 0");
    }
    switch (c->schedule) {
    case JG_SCHED_CONSTANT: break;
    case JG_SCHED_STEP:
        if (c->step_size < 1) return bad(err, "step schedule: step size must be >= 1 epoch");
        if (!(c->gamma > 0.0f) || !isfinite(c->gamma))
            return bad(err, "step schedule: gamma must be a finite number > 0");
        break;
    case JG_SCHED_COSINE:
        if (c->t_max < 0) return bad(err, "cosine schedule: t_max must be >= 0");
        if (!(c->min_lr >= 0.0f) || !(c->min_lr <= c->lr))
            return bad(err, "cosine schedule: min lr must be in [0, lr]");
        break;
    default: return bad(err, "unknown schedule");
    }
    return 0;
}

static const char *const opt_names[] = {"sgd", "adam", "adamw"};
static const char *const sched_names[] = {"constant", "step", "cosine"};

const char *jg_optim_kind_name(jg_opt_kind_t k)
{
    return (unsigned)k <= JG_OPT_ADAMW ? opt_names[k] : "?";
}

const char *jg_sched_kind_name(jg_sched_kind_t k)
{
    return (unsigned)k <= JG_SCHED_COSINE ? sched_names[k] : "?";
}

int jg_optim_kind_parse(const char *s, jg_opt_kind_t *k)
{
    for (int i = 0; s && i <= JG_OPT_ADAMW; i++)
        if (!strcmp(s, opt_names[i])) return *k = (jg_opt_kind_t)i, 0;
    return -EINVAL;
}

int jg_sched_kind_parse(const char *s, jg_sched_kind_t *k)
{
    for (int i = 0; s && i <= JG_SCHED_COSINE; i++)
        if (!strcmp(s, sched_names[i])) return *k = (jg_sched_kind_t)i, 0;
    return -EINVAL;
}

float jg_optim_lr_at(const jg_optim_config_t *c, int epoch, int epochs)
{
    if (epoch < 0) epoch = 0;
    switch (c->schedule) {
    case JG_SCHED_STEP:
        /* lr * gamma^floor(epoch / step_size) */
        return (float)((double)c->lr * pow((double)c->gamma, (double)(epoch / c->step_size)));
    case JG_SCHED_COSINE: {
        /* eta_min + (lr - eta_min) (1 + cos(pi e / T)) / 2 (closed form) */
        const int t_max = c->t_max > 0 ? c->t_max : (epochs > 0 ? epochs : 1);
        const double pi = 3.14159265358979323846;
        return (float)(c->min_lr + ((double)c->lr - c->min_lr) *
                                       (1.0 + cos(pi * (double)epoch / t_max)) / 2.0);
    }
    default: return c->lr;
    }
}

int jg_optim_create(jg_optim_t **out, const jg_optim_config_t *cfg, int64_t n_params)
{
    if (!out || n_params < 1 || jg_optim_check(cfg, NULL)) return -EINVAL;
    *out = NULL;
    jg_optim_t *o = calloc(1, sizeof *o);
    if (!o) return -ENOMEM;
    o->cfg = *cfg;
    o->n_params = n_params;
    if (cfg->kind != JG_OPT_SGD) o->n_state = 2 * (size_t)n_params;
    else if (cfg->momentum > 0.0f) o->n_state = (size_t)n_params;
    if (o->n_state) {
        o->state = calloc(o->n_state, sizeof(float));
        if (!o->state) {
            free(o);
            return -ENOMEM;
        }
    }
    *out = o;
    return 0;
}

void jg_optim_destroy(jg_optim_t *o)
{
    if (!o) return;
    free(o->state);
    free(o);
}

int jg_optim_step(jg_optim_t *o, float *w, const float *g, float lr)
{
    if (!o || !w || !g || !(lr > 0.0f)) return -EINVAL;
    const jg_optim_config_t *c = &o->cfg;
    const size_t n = (size_t)o->n_params;
    int rc;
    if (c->kind == JG_OPT_SGD)
        rc = jg_sgd_update(w, o->state, g, n, lr, c->momentum, c->weight_decay, c->nesterov);
    else
        rc = jg_adam_update(w, o->state, o->state + n, g, n, lr, c->beta1, c->beta2, c->eps,
                            c->weight_decay, c->kind == JG_OPT_ADAMW, o->t + 1);
    if (rc == 0) o->t++;
    return rc;
}

const jg_optim_config_t *jg_optim_config(const jg_optim_t *o) { return o ? &o->cfg : NULL; }
int64_t jg_optim_steps(const jg_optim_t *o) { return o ? o->t : 0; }
void jg_optim_set_steps(jg_optim_t *o, int64_t t)
{
    if (o && t >= 0) o->t = t;
}

float *jg_optim_state(const jg_optim_t *o, size_t *n)
{
    if (n) *n = o ? o->n_state : 0;
    return o ? o->state : NULL;
}
