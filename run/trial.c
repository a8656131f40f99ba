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

#include "trial_internal.h"

/* lr bounds: finite and non-zero once rounded to float. */
#define LR_MIN 1e-30
#define LR_MAX 1e30
void jg_run_tune_config_default(jg_run_tune_config_t *cfg)
{
    const jg_run_tune_config_t d = {
        .strategies = "bayes", .model = "default", .objective = JG_TUNE_OBJ_ACCURACY,
        .optimizer = JG_OPT_ADAM, .epochs = 1, .batch = 64, .seed = 1, .val_fraction = 0.1,
        .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO,
    };
    *cfg = d;
}

/* The knobs a space may search (in trial_internal.h's order); a dimension
 * must be one of them, of the right kind and within its bounds. mask:
 * optimizers it applies to. */
#define SGD (1 << JG_OPT_SGD)
#define ADAMS ((1 << JG_OPT_ADAM) | (1 << JG_OPT_ADAMW))
static const struct {
    const char *name;
    int is_int, mask;
    double lo, hi, hi_excl; /* bounds: [lo, hi], or [lo, hi_excl) when hi_excl > 0 */
    const char *bounds;
} knobs[JG_N_KNOBS] = {
    {"lr", 0, SGD | ADAMS, LR_MIN, LR_MAX, 0, "numeric with bounds in [1e-30, 1e30]"},
    {"beta1", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"beta2", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"momentum", 0, SGD, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"weight_decay", 0, SGD | ADAMS, 0, 1e6, 0, "numeric with bounds in [0, 1e6]"},
    {"batch", 1, SGD | ADAMS, 1, JG_RUN_MAX_BATCH, 0, "int with bounds in [1, 65536]"},
};

int jg_run_trial_dims(const jg_tune_space_t *sp, jg_opt_kind_t opt, int *dims,
                      jg_run_error_t *err)
{
    for (int k = 0; k < JG_N_KNOBS; k++) dims[k] = -1;
    for (int i = 0; i < sp->n_dims; i++) {
        const jg_tune_dim_t *x = &sp->dims[i];
        int k = 0;
        while (k < JG_N_KNOBS && strcmp(x->name, knobs[k].name)) k++;
        if (k == JG_N_KNOBS || !(knobs[k].mask & (1 << opt))) {
            return jg_run_fail(err, -EINVAL, "--space: %s dimension '%s' (tune searches lr, batch, "
                        "weight_decay, and beta1, beta2 with adam/adamw or momentum with sgd; "
                        "--optimizer is %s)", k == JG_N_KNOBS ? "unknown" : "no", x->name,
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

/* Keeps the meter's wrap counting alive during long trials, and asks
 * whether to stop. */
static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    (void)p;
    trial_env_t *e = ctx;
    const double now = jg_now_s();
    jg_run_poll_meter(e->meter, now, &e->last_poll_s);
    if (e->stop && now - e->last_stop_s >= 0.1) {
        e->last_stop_s = now;
        return e->stop();
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
    float *const knob_field[JG_KNOB_BATCH] = {
        &tc.optim.lr, &tc.optim.beta1, &tc.optim.beta2, &tc.optim.momentum,
        &tc.optim.weight_decay,
    };
    for (int k = 0; k < JG_KNOB_BATCH; k++)
        if (e->dims[k] >= 0) *knob_field[k] = (float)job->params->v[e->dims[k]];
    if (e->dims[JG_KNOB_BATCH] >= 0) tc.batch = (int)job->params->v[e->dims[JG_KNOB_BATCH]];
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

/* Trains the job's trial (a new model with seed + trial, or the state of
 * its previous rung) and fills t. A NaN loss is a finished trial
 * ("diverged", accuracy 0). */
int jg_run_eval_trial(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *t, char *msg,
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


int jg_run_trial_meter(trial_env_t *e, jg_energy_mode_t mode, double assume_w, char *note,
                       size_t cap, jg_run_error_t *err)
{
    const int rc = jg_run_open_meter(&e->meter, mode, assume_w, 0, note, cap, NULL, 0, err);
    // Failures after the checks are never -EINVAL, which means "usage".
    if (rc) return rc == -EINVAL ? -EIO : rc;
    e->source = e->meter ? jg_energy_source_name(jg_meter_source(e->meter)) : "off";
    return 0;
}
