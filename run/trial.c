/* SPDX-License-Identifier: MIT */
/*
 * trial.c - tuning a model: the evaluator that trains one trial (the
 * knobs a space may search, the optimizer config of a job, training with the
 * meter around it, validation and test accuracy, the state an ASHA
 * promotion continues from, divergence), and jg_run_tune, what `joulegrad
 * tune` does end to end: the data, the model, the meter and the study
 * (tuning/ runs the study loop).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run_internal.h"

#define MAX_BATCH 65536
/* lr bounds: finite and non-zero once rounded to float. */
#define LR_MIN 1e-30
#define LR_MAX 1e30
/* Failures after the checks are never -EINVAL, which means "usage". */
#define RUNTIME(rc) ((rc) == -EINVAL ? -EIO : (rc))

void jg_run_tune_config_default(jg_run_tune_config_t *cfg)
{
    const jg_run_tune_config_t d = {
        .strategies = "bayes", .model = "default", .objective = JG_TUNE_OBJ_ACCURACY,
        .optimizer = JG_OPT_ADAM, .epochs = 1, .batch = 64, .seed = 1, .val_fraction = 0.1,
        .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO,
    };
    *cfg = d;
}

/* The knobs a space may search; a dimension must be one of them, of the
 * right kind and within its bounds. mask: optimizers it applies to. */
enum { K_LR, K_BETA1, K_BETA2, K_MOMENTUM, K_WEIGHT_DECAY, K_BATCH, N_KNOBS };
#define SGD (1 << JG_OPT_SGD)
#define ADAMS ((1 << JG_OPT_ADAM) | (1 << JG_OPT_ADAMW))
static const struct {
    const char *name;
    int is_int, mask;
    double lo, hi, hi_excl; /* bounds: [lo, hi], or [lo, hi_excl) when hi_excl > 0 */
    const char *bounds;
} knobs[N_KNOBS] = {
    {"lr", 0, SGD | ADAMS, LR_MIN, LR_MAX, 0, "numeric with bounds in [1e-30, 1e30]"},
    {"beta1", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"beta2", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"momentum", 0, SGD, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"weight_decay", 0, SGD | ADAMS, 0, 1e6, 0, "numeric with bounds in [0, 1e6]"},
    {"batch", 1, SGD | ADAMS, 1, MAX_BATCH, 0, "int with bounds in [1, 65536]"},
};

/* Everything a trial needs besides its hyperparameters. */
typedef struct {
    const jg_run_tune_config_t *cfg;
    int dims[N_KNOBS];     /* the space's dimension of each knob; -1: fixed (the
                              optimizer's default, or cfg->batch) */
    const char *spec;      /* canonical model spec */
    jg_nn_data_t train, val, test;
    float mean[4], std[4]; /* input normalisation, kept in checkpoints */
    jg_meter_t *meter;     /* NULL with energy off */
    const char *source;
    double poll_s, last_poll_s;
} trial_env_t;

/* Maps the space's dimensions to the knobs of the optimizer; an unknown
 * dimension, one for another optimizer, or one of the wrong kind or bounds
 * is -EINVAL naming it. */
static int map_dims(const jg_tune_space_t *sp, jg_opt_kind_t opt, int *dims,
                    jg_run_error_t *err)
{
    for (int k = 0; k < N_KNOBS; k++) dims[k] = -1;
    for (int i = 0; i < sp->n_dims; i++) {
        const jg_tune_dim_t *x = &sp->dims[i];
        int k = 0;
        while (k < N_KNOBS && strcmp(x->name, knobs[k].name)) k++;
        if (k == N_KNOBS || !(knobs[k].mask & (1 << opt))) {
            return jg_run_fail(err, -EINVAL, "--space: %s dimension '%s' (tune searches lr, batch, "
                        "weight_decay, and beta1, beta2 with adam/adamw or momentum with sgd; "
                        "--optimizer is %s)", k == N_KNOBS ? "unknown" : "no", x->name,
                        jg_optim_kind_name(opt));
        }
        const int bad_kind = knobs[k].is_int ? x->kind != JG_TUNE_INT : x->kind == JG_TUNE_CAT;
        const int in_bounds = x->lo >= knobs[k].lo &&
                              (knobs[k].hi_excl > 0 ? x->hi < knobs[k].hi_excl
                                                    : x->hi <= knobs[k].hi);
        if (bad_kind || !in_bounds) {
            return jg_run_fail(err, -EINVAL, "--space: dimension '%s' must be %s", x->name,
                        knobs[k].bounds);
        }
        dims[k] = i;
    }
    return 0;
}

/* Keeps the meter's wrap counting alive during long trials. */
static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    (void)p;
    trial_env_t *e = ctx;
    const double now = jg_now_s();
    if (e->meter && e->poll_s > 0 && now - e->last_poll_s >= e->poll_s) {
        jg_meter_poll(e->meter);
        e->last_poll_s = now;
    }
    return 0;
}

/* The training config of a job: the optimizer's defaults with the searched
 * knobs of p, the batch size, the trial's seed and the meter's poll. */
static jg_train_config_t job_config(trial_env_t *e, const jg_tune_job_t *job)
{
    jg_train_config_t tc = {
        .epochs = job->epochs, .batch = e->cfg->batch,
        .seed = e->cfg->seed + (uint64_t)job->trial, .on_batch = on_batch, .ctx = e,
    };
    jg_optim_defaults(&tc.optim, e->cfg->optimizer);
    float *const knob_field[K_BATCH] = {
        &tc.optim.lr, &tc.optim.beta1, &tc.optim.beta2, &tc.optim.momentum,
        &tc.optim.weight_decay,
    };
    for (int k = 0; k < K_BATCH; k++)
        if (e->dims[k] >= 0) *knob_field[k] = (float)job->params->v[e->dims[k]];
    if (e->dims[K_BATCH] >= 0) tc.batch = (int)job->params->v[e->dims[K_BATCH]];
    return tc;
}

/* A promotion: the model, optimizer and run state saved at path after
 * from_epochs epochs. */
static int job_continue(jg_model_t *model, jg_trainer_t *tr, const char *path, int from_epochs,
                        jg_nn_error_t *nerr)
{
    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    int rc = jg_checkpoint_load(path, &ck, nerr);
    if (!rc) rc = jg_checkpoint_restore(&ck, model, jg_trainer_optim(tr), nerr);
    if (!rc && ck.meta.state.epochs_done != from_epochs) {
        snprintf(nerr->msg, sizeof nerr->msg, "%.200s holds %d epochs, the scheduler expects %d",
                 path, ck.meta.state.epochs_done, from_epochs);
        rc = -EINVAL;
    }
    if (!rc) rc = jg_trainer_set_state(tr, &ck.meta.state, ck.history);
    jg_checkpoint_free(&ck);
    return rc;
}

/* Saves the state a promotion continues from. */
static int job_save(const trial_env_t *e, jg_model_t *model, jg_trainer_t *tr,
                    const jg_train_config_t *tc, const char *path, jg_nn_error_t *nerr)
{
    jg_checkpoint_meta_t meta;
    memset(&meta, 0, sizeof meta);
    memcpy(meta.mean, e->mean, sizeof meta.mean);
    memcpy(meta.std, e->std, sizeof meta.std);
    jg_trainer_get_state(tr, &meta.state);
    meta.epochs = tc->epochs;
    meta.batch = tc->batch;
    meta.seed = tc->seed;
    snprintf(meta.dataset, sizeof meta.dataset, "%s", e->cfg->data.name);
    return jg_checkpoint_save(path, model, jg_trainer_optim(tr), &meta, jg_trainer_history(tr),
                              nerr);
}

/* Trains with the meter around jg_trainer_run: seconds, epochs, joules and
 * their source ("off" without a meter, "invalid" when a zone faulted) into t. */
static int job_train(const trial_env_t *e, jg_trainer_t *tr, jg_tune_trial_t *t)
{
    jg_energy_sample_t s0, s1;
    if (e->meter) jg_meter_read(e->meter, &s0);
    const double t0 = jg_now_s();
    const int rc = jg_trainer_run(tr);
    t->seconds = jg_now_s() - t0;
    if (e->meter) jg_meter_read(e->meter, &s1);
    t->epochs = jg_trainer_epochs_done(tr);
    snprintf(t->energy_source, sizeof t->energy_source, "off");
    t->energy_j = 0;
    if (e->meter) {
        jg_energy_figure_t fig;
        jg_meter_figure(e->meter, &s0, &s1, JG_ZONE_TOTAL, &fig);
        snprintf(t->energy_source, sizeof t->energy_source, "%s",
                 fig.valid ? e->source : "invalid");
        t->energy_j = fig.valid ? fig.j : 0;
    }
    return rc;
}

/* Validation and test accuracy of the trained model into t. */
static int job_accuracy(const trial_env_t *e, jg_model_t *model, jg_tune_trial_t *t)
{
    jg_eval_t ev;
    memset(&ev, 0, sizeof ev);
    int rc = jg_evaluate(model, &e->val, &ev);
    t->val_accuracy = ev.accuracy;
    jg_eval_free(&ev);
    if (!rc) rc = jg_evaluate(model, &e->test, &ev);
    t->test_accuracy = ev.accuracy;
    jg_eval_free(&ev);
    return rc;
}

/* The study's evaluator (jg_tune_evaluator_t): trains the job's trial (a
 * new model with seed + trial, or the state of its previous rung) and fills
 * t. A NaN loss is a finished trial ("diverged", accuracy 0). */
static int eval_trial(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *t, char *msg,
                      size_t msg_len)
{
    trial_env_t *e = ctx;
    const jg_train_config_t tc = job_config(e, job);
    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_nn_error_t nerr = {{0}};
    int rc = jg_model_create(&model, e->spec, e->train.c, e->train.h, e->train.w,
                             e->train.classes, tc.seed, &nerr);
    if (!rc) rc = jg_model_reserve(model, tc.batch);
    if (!rc) rc = jg_trainer_create(&tr, model, &tc, &e->train, &e->val, &nerr);
    if (!rc && job->resume_path)
        rc = job_continue(model, tr, job->resume_path, job->from_epochs, &nerr);
    if (rc) {
        snprintf(msg, msg_len, "%s", nerr.msg[0] ? nerr.msg : strerror(-rc));
    } else if ((rc = job_train(e, tr, t)) == -ERANGE) {
        t->val_accuracy = t->test_accuracy = 0;
        snprintf(t->status, sizeof t->status, "diverged");
        rc = 0;
    } else if (rc) {
        snprintf(msg, msg_len, "training failed: %s", strerror(-rc));
    } else if ((rc = job_accuracy(e, model, t))) {
        snprintf(msg, msg_len, "evaluation failed: %s", strerror(-rc));
    } else {
        snprintf(t->status, sizeof t->status, "ok");
        if (job->save_path && (rc = job_save(e, model, tr, &tc, job->save_path, &nerr)))
            snprintf(msg, msg_len, "%s", nerr.msg);
    }
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    return rc;
}

/* The settings a study's trials depend on, as its log header keeps them. */
static void format_settings(const jg_run_tune_config_t *c, const jg_tune_strat_t *s, char *buf,
                            size_t len)
{
    const char *acq = strcmp(s->kind, "bayes") ? "-" : jg_tune_acq_name(s->acq);
    char asha[64] = "none";
    if (c->asha)
        snprintf(asha, sizeof asha, "asha:%d:%d:%d", c->min_epochs ? c->min_epochs : 1,
                 c->epochs, c->eta ? c->eta : JG_TUNE_ASHA_ETA_DEFAULT);
    snprintf(buf, len, "data=%s data_dir=%s train_limit=%d val_fraction=%.17g test_limit=%d "
             "optimizer=%s epochs=%d batch=%d acquisition=%s objective=%s grid_points=%d "
             "assume_watts=%g early_stop=%s", c->data.name, jg_data_source_dir(&c->data),
             c->train_limit, c->val_fraction, c->test_limit, jg_optim_kind_name(c->optimizer),
             c->epochs, c->batch, acq,
             c->objective == JG_TUNE_OBJ_PARETO ? "pareto" : "accuracy",
             c->grid_points ? c->grid_points : JG_TUNE_GRID_POINTS_DEFAULT, c->assume_w, asha);
}

/* The canonical spec identifies the model in the logs; too long for a log
 * header, its FNV-1a 64. */
static void log_model_name(const char *spec, char *buf, size_t len)
{
    if (strlen(spec) < len) {
        snprintf(buf, len, "%s", spec);
        return;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = spec; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    snprintf(buf, len, "spec-fnv1a:%016llx", (unsigned long long)h);
}

/* What a run plans before any data: the strategies with their settings
 * texts, the study's configuration, the space and its knobs. */
typedef struct {
    jg_tune_strat_t strats[JG_TUNE_MAX_STRATEGIES];
    char settings[JG_TUNE_MAX_STRATEGIES][JG_TUNE_SETTINGS_MAX];
    const char *settings_p[JG_TUNE_MAX_STRATEGIES];
    jg_tune_study_config_t study;
    jg_tune_space_t space;
    int dims[N_KNOBS];
    char spec[4096], log_model[128]; /* filled once the model is built */
} plan_t;

/* err from a tuning error: its message, rc unchanged. */
static int tune_fail(jg_run_error_t *err, int rc, const jg_tune_error_t *terr)
{
    return jg_run_fail(err, rc, "%s", terr->msg[0] ? terr->msg : strerror(-rc));
}

/* The settings checks, in the order the program reports them: the
 * strategies, the study's settings, the energy source, the space and its
 * knobs (all -EINVAL). */
static int plan(const jg_run_tune_config_t *c, plan_t *p, jg_run_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    int n = 0;
    if (!c->strategies || !c->space || !c->model || !c->out || !c->data.name)
        return jg_run_fail(err, -EINVAL, "tune: strategies, space, model, out and data are "
                           "required");
    int rc = jg_tune_strategies_parse(c->strategies, c->acquisition, p->strats, &n, &terr);
    if (rc) return tune_fail(err, rc, &terr);
    for (int k = 0; k < n; k++) {
        format_settings(c, &p->strats[k], p->settings[k], sizeof p->settings[k]);
        p->settings_p[k] = p->settings[k];
    }
    const jg_tune_study_config_t s = {
        .dir = c->out, .strategies = p->strats, .n_strategies = n, .space = &p->space,
        .seed = c->seed, .trials = c->trials, .epochs = c->epochs,
        .grid_points = c->grid_points, .objective = c->objective,
        .energy_budget_j = c->energy_budget_j, .no_energy = c->energy == JG_ENERGY_MODE_OFF,
        .asha = c->asha, .min_epochs = c->min_epochs, .eta = c->eta, .resume = c->resume,
        .model = p->log_model, .model_spec = p->spec, .settings = p->settings_p,
        .prog = "joulegrad tune",
    };
    p->study = s;
    if ((rc = jg_tune_study_check(&p->study, &terr))) return tune_fail(err, rc, &terr);
    if (c->assume_w > 0 && (c->energy == JG_ENERGY_MODE_RAPL || c->energy == JG_ENERGY_MODE_OFF))
        return jg_run_fail(err, -EINVAL, "--assume-watts applies to the estimate source only");
    if (!(c->batch >= 1 && c->batch <= MAX_BATCH && c->val_fraction > 0 && c->val_fraction < 1))
        return jg_run_fail(err, -EINVAL, "tune: batch must be in [1, %d] and the validation "
                           "fraction in (0, 1)", MAX_BATCH);
    if (jg_tune_space_parse(&p->space, c->space, &terr))
        return jg_run_fail(err, -EINVAL, "--space: %s", terr.msg);
    return map_dims(&p->space, c->optimizer, p->dims, err);
}

int jg_run_tune_check(const jg_run_tune_config_t *cfg, jg_run_error_t *err)
{
    if (!cfg) return jg_run_fail(err, -EINVAL, "tune: NULL config");
    plan_t *p = calloc(1, sizeof *p);
    if (!p) return jg_run_fail(err, -ENOMEM, "out of memory");
    const int rc = plan(cfg, p, err);
    free(p);
    return rc;
}

/* One run's state, built step by step and torn down at the end. */
typedef struct {
    plan_t plan;
    trial_env_t env;
    jg_dataset_t train, val, test;
    jg_model_t *probe_model;
    jg_tune_study_t *study;
} tune_t;

/* The data (prepared as for `joulegrad train`) and the model's spec. */
static int tune_data(const jg_run_tune_config_t *c, tune_t *t, jg_run_error_t *err)
{
    const jg_data_prep_config_t dc = {
        .source = c->data, .train = 1, .train_limit = c->train_limit,
        .subset_seed = c->seed ^ JG_RUN_SEED_TRAIN_SUBSET, .val_fraction = c->val_fraction,
        .split_seed = c->seed ^ JG_RUN_SEED_VAL_SPLIT, .test = 1, .test_limit = c->test_limit,
    };
    jg_data_prepared_t dp;
    jg_data_error_t derr = {{0}};
    int rc = jg_data_prepare(&dc, &dp, &derr);
    if (rc) return jg_run_fail(err, rc == -EINVAL ? rc : RUNTIME(rc), "%s", derr.msg);
    t->train = dp.train;
    t->val = dp.val;
    t->test = dp.test;
    memcpy(t->env.mean, dp.mean, sizeof dp.mean);
    memcpy(t->env.std, dp.std, sizeof dp.std);
    jg_nn_error_t nerr = {{0}};
    rc = jg_model_create(&t->probe_model, c->model, t->train.c, t->train.h, t->train.w,
                         t->train.classes, c->seed, &nerr);
    if (rc) return jg_run_fail(err, rc == -EINVAL || rc == -ENOENT ? -EINVAL : RUNTIME(rc),
                               "--model: %s", nerr.msg);
    plan_t *p = &t->plan;
    if (jg_model_spec(t->probe_model, p->spec, sizeof p->spec))
        return jg_run_fail(err, -ENAMETOOLONG, "--model: the spec is longer than %zu bytes",
                           sizeof p->spec);
    log_model_name(p->spec, p->log_model, sizeof p->log_model);
    t->env.spec = p->spec;
    t->env.train = jg_run_data_view(&t->train);
    t->env.val = jg_run_data_view(&t->val);
    t->env.test = jg_run_data_view(&t->test);
    return 0;
}

/* The energy meter shared by every trial; its fallback line is a note. */
static int tune_meter(const jg_run_tune_config_t *c, tune_t *t, const jg_log_t *log,
                      jg_run_error_t *err)
{
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = c->energy;
    ecfg.assume_w_per_core = c->assume_w;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    const int rc = jg_meter_open(&t->env.meter, &ecfg, &est);
    if (rc || est.fallback) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        if (rc) return jg_run_fail(err, RUNTIME(rc), "--energy: %s", line);
        jg_energy_status_brief(&est, line, sizeof line);
        jg_logf(log, JG_LOG_NOTE, "%s", line);
    }
    t->env.source = t->env.meter ? jg_energy_source_name(jg_meter_source(t->env.meter)) : "off";
    if (t->env.meter) {
        const int64_t poll_ns = jg_meter_poll_interval_ns(t->env.meter);
        t->env.poll_s = poll_ns > 0 ? 0.5e-9 * (double)poll_ns : 0;
    }
    return 0;
}

/* The studies, opened (logs created or replayed), then run with the
 * training evaluator. */
static int tune_studies(const jg_run_tune_config_t *c, tune_t *t, const jg_log_t *log,
                        jg_run_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    int rc = jg_tune_study_open(&t->study, &t->plan.study, log, &terr);
    if (rc) return tune_fail(err, rc, &terr);
    if ((rc = tune_meter(c, t, log, err))) return rc;
    jg_logf(log, JG_LOG_OUT, "tune: %s over %s, %d trial%s of %d epoch%s%s, model %s, %d train / "
            "%d val / %d test images, energy %s, out %s", c->strategies, c->space, c->trials,
            c->trials == 1 ? "" : "s", c->epochs, c->epochs == 1 ? "" : "s",
            c->asha ? " at most (asha)" : "", c->model, t->train.n, t->val.n,
            t->test.n, t->env.source, c->out);
    const jg_tune_evaluator_t ev = {
        .fn = eval_trial, .ctx = &t->env, .energy_source = t->env.source,
    };
    rc = jg_tune_study_run(t->study, &ev, log, &terr);
    return rc ? tune_fail(err, rc, &terr) : 0;
}

int jg_run_tune(const jg_run_tune_config_t *cfg, const jg_log_t *log, jg_run_error_t *err)
{
    if (!cfg) return jg_run_fail(err, -EINVAL, "tune: NULL config");
    tune_t *t = calloc(1, sizeof *t);
    if (!t) return jg_run_fail(err, -ENOMEM, "out of memory");
    t->env.cfg = cfg;
    jg_tune_error_t terr = {{0}};
    int lock_fd = -1;
    int rc = plan(cfg, &t->plan, err);
    if (!rc && (rc = jg_tune_study_check_dir(&t->plan.study, &terr))) tune_fail(err, rc, &terr);
    const int created = !rc && access(cfg->out, F_OK) != 0;
    if (!rc) rc = jg_run_lock_dir(cfg->out, &lock_fd, err);
    // Checked again under the lock: another process may have started a study here.
    if (!rc && (rc = jg_tune_study_check_dir(&t->plan.study, &terr))) tune_fail(err, rc, &terr);
    memcpy(t->env.dims, t->plan.dims, sizeof t->env.dims);
    if (!rc) rc = tune_data(cfg, t, err);
    if (!rc) rc = tune_studies(cfg, t, log, err);
    jg_tune_study_close(t->study);
    jg_meter_close(t->env.meter);
    jg_model_destroy(t->probe_model);
    jg_dataset_free(&t->train);
    jg_dataset_free(&t->val);
    jg_dataset_free(&t->test);
    free(t);
    jg_run_unlock_dir(cfg->out, lock_fd, created && rc);
    return rc;
}
