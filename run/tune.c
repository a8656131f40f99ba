/* SPDX-License-Identifier: MIT */
/*
 * tune.c - jg_run_tune, what `joulegrad tune` does end to end: the checks,
 * the study directories and their lock, the data, the model, the meter and
 * the studies (tuning/ runs the study loop; trial.c trains each trial). In
 * an MPI job rank 0 runs the studies and the other ranks train the trials
 * (tune_pool.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trial_internal.h"

/* Failures after the checks are never -EINVAL, which means "usage". */
#define RUNTIME(rc) ((rc) == -EINVAL ? -EIO : (rc))

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
    int dims[JG_N_KNOBS];
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
    if (!(c->batch >= 1 && c->batch <= JG_RUN_MAX_BATCH && c->val_fraction > 0 && c->val_fraction < 1))
        return jg_run_fail(err, -EINVAL, "tune: batch must be in [1, %d] and the validation "
                           "fraction in (0, 1)", JG_RUN_MAX_BATCH);
    if (jg_tune_space_parse(&p->space, c->space, &terr))
        return jg_run_fail(err, -EINVAL, "--space: %s", terr.msg);
    return jg_run_trial_dims(&p->space, c->optimizer, p->dims, err);
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

/* The data, prepared as for `joulegrad train`. */
static int tune_data(const jg_run_tune_config_t *c, tune_t *t, jg_run_error_t *err)
{
    const jg_data_prep_config_t dc = {
        .source = c->data, .train = 1, .train_limit = c->train_limit,
        .subset_seed = c->seed ^ JG_RUN_SEED_TRAIN_SUBSET, .val_fraction = c->val_fraction,
        .split_seed = c->seed ^ JG_RUN_SEED_VAL_SPLIT, .test = 1, .test_limit = c->test_limit,
    };
    jg_data_prepared_t dp;
    jg_data_error_t derr = {{0}};
    const int rc = jg_data_prepare(&dc, &dp, &derr);
    if (rc) return jg_run_fail(err, rc == -EINVAL ? rc : RUNTIME(rc), "%s", derr.msg);
    t->train = dp.train;
    t->val = dp.val;
    t->test = dp.test;
    memcpy(t->env.mean, dp.mean, sizeof dp.mean);
    memcpy(t->env.std, dp.std, sizeof dp.std);
    t->env.train = jg_run_data_view(&t->train);
    t->env.val = jg_run_data_view(&t->val);
    t->env.test = jg_run_data_view(&t->test);
    return 0;
}

/* The data's sizes and shape, all rank 0 of a job needs of it: rank 1's,
 * broadcast (rank 0 loads no images). Every rank calls it. */
static int tune_shape(tune_t *t, int rc, jg_run_error_t *err)
{
    int v[8] = {!rc, t->train.n, t->val.n, t->test.n, t->train.c, t->train.h, t->train.w,
                t->train.classes};
    if (jg_cl_bcast(v, sizeof v, 1)) return jg_run_fail(err, -EIO, "MPI: broadcast failed");
    if (jg_run_cluster()->rank == 0 && !v[0])
        return jg_run_fail(err, -EIO, "rank 1 could not prepare the data (its message says why)");
    if (jg_run_cluster()->rank == 0) {
        t->train.n = v[1];
        t->val.n = v[2];
        t->test.n = v[3];
        t->train.c = v[4];
        t->train.h = v[5];
        t->train.w = v[6];
        t->train.classes = v[7];
    }
    return rc;
}

/* The model built once for its canonical spec, which names it in the logs. */
static int tune_model(const jg_run_tune_config_t *c, tune_t *t, jg_run_error_t *err)
{
    jg_nn_error_t nerr = {{0}};
    const int rc = jg_model_create(&t->probe_model, c->model, t->train.c, t->train.h,
                                   t->train.w, t->train.classes, c->seed, &nerr);
    if (rc) return jg_run_fail(err, rc == -EINVAL || rc == -ENOENT ? -EINVAL : RUNTIME(rc),
                               "--model: %s", nerr.msg);
    plan_t *p = &t->plan;
    if (jg_model_spec(t->probe_model, p->spec, sizeof p->spec))
        return jg_run_fail(err, -ENAMETOOLONG, "--model: the spec is longer than %zu bytes",
                           sizeof p->spec);
    log_model_name(p->spec, p->log_model, sizeof p->log_model);
    t->env.spec = p->spec;
    return 0;
}

/* Rank 0 (or the only rank): opens the studies (logs created or replayed).
 * Every rank: the meters (this process's, or each worker's in a job), and
 * the line that says what runs. */
static int tune_open(const jg_run_tune_config_t *c, tune_t *t, const jg_log_t *log,
                     jg_run_error_t *err)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    jg_tune_error_t terr = {{0}};
    char note[JG_ENERGY_TEXT_MAX * 2];
    int rc = 0;
    if (cl->rank == 0 && (rc = jg_tune_study_open(&t->study, &t->plan.study, log, &terr)))
        tune_fail(err, rc, &terr);
    if (cl->size > 1) {
        if ((rc = jg_run_agreed(rc, err))) return rc;
        rc = jg_run_pool_meters(&t->env, c->energy, c->assume_w, &t->env.source, note,
                                sizeof note, err);
    } else if (!rc) {
        rc = jg_run_trial_meter(&t->env, c->energy, c->assume_w, note, sizeof note, err);
    }
    if (rc) return rc;
    if (note[0]) jg_logf(log, JG_LOG_NOTE, "%s", note);
    char workers[64] = "";
    if (cl->size > 1)
        snprintf(workers, sizeof workers, ", %d workers (ranks 1-%d)", cl->size - 1,
                 cl->size - 1);
    jg_logf(log, JG_LOG_OUT, "tune: %s over %s, %d trial%s of %d epoch%s%s, model %s, %d train / "
            "%d val / %d test images, energy %s%s, out %s", c->strategies, c->space, c->trials,
            c->trials == 1 ? "" : "s", c->epochs, c->epochs == 1 ? "" : "s",
            c->asha ? " at most (asha)" : "", c->model, t->train.n, t->val.n, t->test.n,
            t->env.source, workers, c->out);
    return 0;
}

/* The studies: here with the training evaluator, or in a job over the
 * worker pool (rank 0) while the other ranks serve it. */
static int tune_run(tune_t *t, const jg_log_t *log, jg_run_error_t *err)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    jg_tune_error_t terr = {{0}};
    int rc;
    if (cl->size > 1 && cl->rank > 0) {
        rc = jg_run_pool_serve(&t->env);
        return rc ? jg_run_fail(err, rc, "MPI: lost contact with rank 0") : 0;
    }
    if (cl->size > 1) {
        rc = jg_run_pool_study(t->study, t->env.source, log, &terr);
    } else {
        const jg_tune_evaluator_t ev = {
            .fn = jg_run_eval_trial, .ctx = &t->env, .energy_source = t->env.source,
        };
        rc = jg_tune_study_run(t->study, &ev, log, &terr);
    }
    return rc ? tune_fail(err, rc, &terr) : 0;
}

/* Rank 0 (or the only rank): the study directories checked, then locked
 * and checked again (another process may have started a study there). */
static int tune_lock(const jg_run_tune_config_t *cfg, tune_t *t, int *lock_fd, int *created,
                     jg_run_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    int rc = jg_tune_study_check_dir(&t->plan.study, &terr);
    if (rc) return tune_fail(err, rc, &terr);
    *created = access(cfg->out, F_OK) != 0;
    if ((rc = jg_run_lock_dir(cfg->out, lock_fd, err))) return rc;
    if ((rc = jg_tune_study_check_dir(&t->plan.study, &terr))) return tune_fail(err, rc, &terr);
    return 0;
}

int jg_run_tune(const jg_run_tune_config_t *cfg, const jg_log_t *log, jg_run_error_t *err)
{
    if (!cfg) return jg_run_fail(err, -EINVAL, "tune: NULL config");
    tune_t *t = calloc(1, sizeof *t);
    if (!t) return jg_run_fail(err, -ENOMEM, "out of memory");
    t->env.cfg = cfg;
    const int lead = jg_run_cluster()->rank == 0;
    int lock_fd = -1, created = 0;
    int rc = plan(cfg, &t->plan, err);
    if (!rc && lead) rc = tune_lock(cfg, t, &lock_fd, &created, err);
    rc = jg_run_agreed(rc, err);
    memcpy(t->env.dims, t->plan.dims, sizeof t->env.dims);
    const jg_run_cluster_t *cl = jg_run_cluster();
    if (!rc && cl->size > 1) {
        rc = tune_shape(t, lead ? 0 : tune_data(cfg, t, err), err);
        if (!rc) rc = tune_model(cfg, t, err);
        rc = jg_run_agreed(rc, err);
    } else if (!rc) {
        rc = tune_data(cfg, t, err);
        if (!rc) rc = tune_model(cfg, t, err);
    }
    if (!rc) rc = tune_open(cfg, t, log, err);
    if (!rc) rc = tune_run(t, log, err);
    jg_tune_study_close(t->study);
    jg_meter_close(t->env.meter);
    jg_model_destroy(t->probe_model);
    jg_dataset_free(&t->train);
    jg_dataset_free(&t->val);
    jg_dataset_free(&t->test);
    free(t);
    if (lead) jg_run_unlock_dir(cfg->out, lock_fd, created && rc);
    return rc;
}
