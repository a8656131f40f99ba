/* SPDX-License-Identifier: MIT */
/* The training loop. Epoch e: lr from the schedule, a permutation of the
 * training set drawn from (seed, e) alone (so a run resumed at epoch e
 * shuffles like an uninterrupted one), then per batch: gather -> forward ->
 * loss -> backward -> optimizer step, then validation and early stopping.
 * Everything is allocated in jg_trainer_create; the epoch loop allocates
 * nothing. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn_internal.h"

struct jg_trainer {
    jg_model_t *model;
    jg_optim_t *opt;
    jg_train_config_t cfg;
    jg_nn_data_t train, val;
    int have_val;
    float *x;                  /* (batch, C, H, W) gathered batch */
    int32_t *y;                /* (batch) its labels */
    int *perm;                 /* (train.n) this epoch's order */
    jg_epoch_stats_t *history; /* (epochs) */
    int epochs_done;
    double best_val_loss;      /* INFINITY before the first validation */
    int bad_epochs;            /* epochs since best_val_loss last fell */
    int stopped_early;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void probe_begin(const jg_model_t *m, int phase)
{
    if (m->have_probe && m->probe.begin) m->probe.begin(m->probe.ctx, -1, phase);
}

static void probe_end(const jg_model_t *m, int phase)
{
    if (m->have_probe && m->probe.end) m->probe.end(m->probe.ctx, -1, phase);
}

/* Uniform integer in [0, bound) without modulo bias (rejection). */
static uint64_t rng_below(jg_nn_rng_t *r, uint64_t bound)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % bound; /* multiple of bound */
    uint64_t u;
    do u = jg_nn_rng_u64(r);
    while (u >= limit);
    return u % bound;
}

/* perm = Fisher-Yates shuffle of 0..n-1 from a stream keyed by (seed, epoch)
 * only. */
static void shuffle(int *perm, int n, uint64_t seed, int epoch)
{
    uint64_t key = (uint64_t)epoch;
    jg_nn_rng_t r;
    jg_nn_rng_seed(&r, seed ^ jg_splitmix64(&key));
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        const int j = (int)rng_below(&r, (uint64_t)i + 1);
        const int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

int jg_trainer_create(jg_trainer_t **out, jg_model_t *m, const jg_train_config_t *cfg,
                      const jg_nn_data_t *train, const jg_nn_data_t *val, jg_nn_error_t *err)
{
    if (!out || !m || !cfg) {
        jg_nn_errorf(err, "trainer: no output, model or configuration");
        return -EINVAL;
    }
    *out = NULL;
    if (cfg->epochs < 1 || cfg->batch < 1 || cfg->patience < 0) {
        jg_nn_errorf(err, "trainer: epochs (%d) and batch (%d) must be >= 1, patience (%d) >= 0",
                     cfg->epochs, cfg->batch, cfg->patience);
        return -EINVAL;
    }
    int rc = jg_optim_check(&cfg->optim, err);
    if (rc) return rc;
    /* jg_optim_step needs lr > 0: refuse a schedule that reaches 0 here
     * rather than failing mid-run. */
    for (int e = 0; e < cfg->epochs; e++) {
        const float lr = jg_optim_lr_at(&cfg->optim, e, cfg->epochs);
        if (!(lr > 0.0f) || !isfinite(lr)) {
            jg_nn_errorf(err, "trainer: the %s schedule gives lr %g at epoch %d (raise "
                         "min_lr or t_max)", jg_sched_kind_name(cfg->optim.schedule),
                         (double)lr, e);
            return -EINVAL;
        }
    }
    if (m->capacity < cfg->batch) {
        jg_nn_errorf(err, "trainer: the model is reserved for %d images, batch is %d "
                     "(call jg_model_reserve first)", m->capacity, cfg->batch);
        return -EINVAL;
    }
    const int sharded = cfg->shards > 1;
    if (cfg->shards < 0 || (sharded && (cfg->shard < 0 || cfg->shard >= cfg->shards ||
                                        !cfg->reduce_f || !cfg->reduce_d))) {
        jg_nn_errorf(err, "trainer: shard %d of %d needs 0 <= shard < shards and both "
                     "reductions", cfg->shard, cfg->shards);
        return -EINVAL;
    }
    if ((rc = jg_nn_data_check(m, train, "train", err))) return rc;
    if (val && (rc = jg_nn_data_check(m, val, "val", err))) return rc;

    jg_trainer_t *t = calloc(1, sizeof *t);
    if (!t) return -ENOMEM;
    t->model = m;
    t->cfg = *cfg;
    t->train = *train;
    t->have_val = val != NULL;
    if (val) t->val = *val;
    t->best_val_loss = INFINITY;
    const size_t img = (size_t)m->c * m->h * m->w; /* floats per image */
    t->x = malloc((size_t)cfg->batch * img * sizeof *t->x);
    t->y = malloc((size_t)cfg->batch * sizeof *t->y);
    t->perm = malloc((size_t)train->n * sizeof *t->perm);
    t->history = calloc((size_t)cfg->epochs, sizeof *t->history);
    if (!t->x || !t->y || !t->perm || !t->history) {
        jg_trainer_destroy(t);
        return -ENOMEM;
    }
    if ((rc = jg_optim_create(&t->opt, &cfg->optim, m->n_params))) {
        jg_nn_errorf(err, "trainer: cannot create the optimizer (%s)",
                     rc == -ENOMEM ? "out of memory" : "the model has no parameters");
        jg_trainer_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}

void jg_trainer_destroy(jg_trainer_t *t)
{
    if (!t) return;
    jg_optim_destroy(t->opt);
    free(t->x);
    free(t->y);
    free(t->perm);
    free(t->history);
    free(t);
}

static int early_stop_due(const jg_trainer_t *t)
{
    return t->cfg.patience > 0 && t->have_val && t->bad_epochs >= t->cfg.patience;
}

/* This shard's slice [*lo, *hi) of n images (all of them without shards). */
static void shard_slice(const jg_train_config_t *c, int n, int *lo, int *hi)
{
    const int k = c->shards > 1 ? c->shards : 1, s = c->shards > 1 ? c->shard : 0;
    *lo = (int)((int64_t)n * s / k);
    *hi = (int)((int64_t)n * (s + 1) / k);
}

/* Data parallelism: this shard's gradients scaled by its share of the batch
 * (its loss is the mean over its own images), then summed over the shards. */
static int reduce_grads(jg_trainer_t *t, int nl, int nb, int diverged)
{
    const jg_train_config_t *c = &t->cfg;
    jg_model_t *m = t->model;
    if (!nl) memset(m->grads, 0, (size_t)m->n_params * sizeof *m->grads);
    if (diverged) m->grads[0] = NAN; /* the sum is NaN on every shard */
    const float share = (float)nl / (float)nb;
    for (int64_t i = 0; nl && nl != nb && i < m->n_params; i++) m->grads[i] *= share;
    probe_begin(m, JG_NN_PHASE_COMM);
    const int rc = c->reduce_f(c->ctx, m->grads, m->n_params);
    probe_end(m, JG_NN_PHASE_COMM);
    return rc;
}

/* One pass over the shuffled training set (this shard's slice of every
 * batch); fills the training fields of st. */
static int train_epoch(jg_trainer_t *t, int e, double t0, jg_epoch_stats_t *st)
{
    const jg_train_config_t *c = &t->cfg;
    jg_model_t *m = t->model;
    const int n = t->train.n, B = c->batch, k = m->classes, sharded = c->shards > 1;
    const int batches = (n + B - 1) / B;
    const size_t img = (size_t)m->c * m->h * m->w;
    const float lr = jg_optim_lr_at(&c->optim, e, c->epochs);
    shuffle(t->perm, n, c->seed, e);
    double sums[3] = {0, 0, 0}; /* per-example loss sum, correct, seen: this shard's */
    for (int b = 0; b < batches; b++) {
        const int i0 = b * B, nb = n - i0 < B ? n - i0 : B;
        int lo, hi;
        shard_slice(c, nb, &lo, &hi);
        const int nl = hi - lo;
        m->batch_offset = lo;
        probe_begin(m, JG_NN_PHASE_DATA);
        for (int i = 0; i < nl; i++) {
            const int src = t->perm[i0 + lo + i];
            memcpy(t->x + (size_t)i * img, t->train.x + (size_t)src * img, img * sizeof(float));
            t->y[i] = t->train.y[src];
        }
        probe_end(m, JG_NN_PHASE_DATA);
        int rc = 0, diverged = 0;
        if (nl) {
            const float *logits; /* (nl, k) */
            float loss;
            rc = jg_model_forward(m, t->x, nl, 1, &logits);
            if (!rc) rc = jg_model_loss(m, t->y, &loss);
            if (rc) return rc;
            /* before the step: weights stay finite; a shard still joins the
             * sum, carrying a NaN so that every shard stops together */
            diverged = !isfinite(loss);
            if (diverged && !sharded) return -ERANGE;
            for (int i = 0; !diverged && i < nl; i++)
                sums[1] += jg_nn_argmax(logits + (size_t)i * k, k) == t->y[i];
            if (!diverged && (rc = jg_model_backward(m))) return rc;
            if (!diverged) sums[0] += (double)loss * nl; /* the kernel returns the batch mean */
            sums[2] += nl;
        }
        if (sharded && (rc = reduce_grads(t, diverged ? 0 : nl, nb, diverged))) return rc;
        if (sharded && !isfinite(m->grads[0])) return -ERANGE; /* a shard diverged */
        probe_begin(m, JG_NN_PHASE_OPTIMIZER);
        rc = jg_optim_step(t->opt, m->params, m->grads, lr);
        probe_end(m, JG_NN_PHASE_OPTIMIZER);
        if (rc) return rc;
        if (c->on_batch) {
            const double el = now_s() - t0;
            const jg_train_progress_t p = {
                .epoch = e, .epochs = c->epochs, .batch = b + 1, .batches = batches,
                .running_loss = sums[2] > 0 ? sums[0] / sums[2] : 0.0,
                .images_per_s = el > 0.0 ? sums[2] * (sharded ? c->shards : 1) / el : 0.0,
                .elapsed_s = el,
            };
            if (c->on_batch(c->ctx, &p)) return -ECANCELED;
        }
    }
    m->batch_offset = 0;
    int rc = sharded ? c->reduce_d(c->ctx, sums, 3) : 0;
    if (rc) return rc;
    st->epoch = e;
    st->lr = lr;
    st->train_loss = sums[0] / sums[2];
    st->train_accuracy = sums[1] / sums[2];
    st->images = (int64_t)sums[2];
    return 0;
}

/* Validation: this shard's slice, summed over the shards. */
static int validate(jg_trainer_t *t, double *loss, double *accuracy)
{
    const jg_train_config_t *c = &t->cfg;
    int lo, hi;
    shard_slice(c, t->val.n, &lo, &hi);
    const size_t img = (size_t)t->model->c * t->model->h * t->model->w;
    jg_nn_data_t part = t->val;
    part.n = hi - lo;
    part.x = t->val.x + (size_t)lo * img;
    part.y = t->val.y + lo;
    double sums[3] = {0, 0, 0}, mean = 0;
    int64_t correct = 0;
    int rc = part.n ? jg_nn_eval_pass(t->model, &part, &mean, &correct, NULL) : 0;
    if (rc) return rc;
    sums[0] = mean * part.n;
    sums[1] = (double)correct;
    sums[2] = part.n;
    if (c->shards > 1 && (rc = c->reduce_d(c->ctx, sums, 3))) return rc;
    *loss = c->shards > 1 ? sums[0] / sums[2] : mean;
    *accuracy = sums[1] / sums[2];
    return 0;
}

int jg_trainer_run(jg_trainer_t *t)
{
    if (!t) return -EINVAL;
    while (t->epochs_done < t->cfg.epochs) {
        if (early_stop_due(t)) {
            t->stopped_early = 1;
            return 0;
        }
        const int e = t->epochs_done;
        const double t0 = now_s();
        jg_epoch_stats_t st = { .val_loss = NAN, .val_accuracy = NAN };
        int rc = train_epoch(t, e, t0, &st);
        if (rc) return rc;
        if (t->have_val) {
            if ((rc = validate(t, &st.val_loss, &st.val_accuracy))) return rc;
            /* strict improvement only; a NaN val loss counts as no gain */
            if (st.val_loss < t->best_val_loss) {
                t->best_val_loss = st.val_loss;
                t->bad_epochs = 0;
            } else {
                t->bad_epochs++;
            }
        }
        st.seconds = now_s() - t0;
        t->history[e] = st;
        t->epochs_done = e + 1;
        if (t->cfg.on_epoch && (rc = t->cfg.on_epoch(t->cfg.ctx, &t->history[e], t)))
            return rc;
    }
    return 0;
}

int jg_trainer_stopped_early(const jg_trainer_t *t) { return t ? t->stopped_early : 0; }
int jg_trainer_epochs_done(const jg_trainer_t *t) { return t ? t->epochs_done : 0; }
const jg_epoch_stats_t *jg_trainer_history(const jg_trainer_t *t)
{
    return t ? t->history : NULL;
}
jg_optim_t *jg_trainer_optim(jg_trainer_t *t) { return t ? t->opt : NULL; }
jg_model_t *jg_trainer_model(jg_trainer_t *t) { return t ? t->model : NULL; }

void jg_trainer_get_state(const jg_trainer_t *t, jg_train_state_t *st)
{
    if (!t || !st) return;
    st->epochs_done = t->epochs_done;
    st->optim_steps = jg_optim_steps(t->opt);
    st->model_step = jg_model_step(t->model);
    st->best_val_loss = t->best_val_loss;
    st->bad_epochs = t->bad_epochs;
}

int jg_trainer_set_state(jg_trainer_t *t, const jg_train_state_t *st,
                         const jg_epoch_stats_t *history)
{
    if (!t || !st || st->epochs_done < 0 || st->epochs_done > t->cfg.epochs ||
        st->optim_steps < 0 || st->bad_epochs < 0 || isnan(st->best_val_loss) ||
        (st->epochs_done > 0 && !history))
        return -EINVAL;
    for (int i = 0; i < st->epochs_done; i++)
        if (history[i].epoch != i) return -EINVAL;
    if (st->epochs_done > 0)
        memcpy(t->history, history, (size_t)st->epochs_done * sizeof *history);
    t->epochs_done = st->epochs_done;
    jg_optim_set_steps(t->opt, st->optim_steps);
    jg_model_set_step(t->model, st->model_step);
    t->best_val_loss = st->best_val_loss;
    t->bad_epochs = st->bad_epochs;
    t->stopped_early = 0;
    return 0;
}
