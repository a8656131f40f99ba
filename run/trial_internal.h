/* SPDX-License-Identifier: MIT */
/*
 * Internal to jg_run: tuning a model. trial.c trains one trial (the study's
 * evaluator), tune.c runs the studies (jg_run_tune), tune_pool.c spreads the
 * trials over the ranks of an MPI job.
 */
#ifndef JG_RUN_TRIAL_INTERNAL_H
#define JG_RUN_TRIAL_INTERNAL_H

#include "run_internal.h"

#define JG_RUN_MAX_BATCH 65536

/* The knobs a space may search (trial.c's table says which optimizer and
 * bounds each takes). */
enum { JG_KNOB_LR, JG_KNOB_BETA1, JG_KNOB_BETA2, JG_KNOB_MOMENTUM, JG_KNOB_WEIGHT_DECAY,
       JG_KNOB_BATCH, JG_N_KNOBS };

/* Everything a trial needs besides its hyperparameters. */
typedef struct {
    const jg_run_tune_config_t *cfg;
    int dims[JG_N_KNOBS];  /* the space's dimension of each knob; -1: fixed (the
                              optimizer's default, or cfg->batch) */
    const char *spec;      /* canonical model spec */
    jg_nn_data_t train, val, test;
    float mean[4], std[4]; /* input normalisation, kept in checkpoints */
    jg_meter_t *meter;     /* NULL with energy off */
    const char *source;
    double last_poll_s;    /* jg_run_poll_meter */
    /* Asked between batches (at most every 0.1 s); non-zero cancels the
     * trial (-ECANCELED). NULL: never. */
    int (*stop)(void);
    double last_stop_s;
} trial_env_t;

/* Maps the space's dimensions to the knobs of the optimizer into dims; an
 * unknown dimension, one for another optimizer, or one of the wrong kind or
 * bounds is -EINVAL naming it. */
int jg_run_trial_dims(const jg_tune_space_t *sp, jg_opt_kind_t opt, int *dims,
                      jg_run_error_t *err);
/* The study's evaluator (jg_tune_evaluator_t's fn, ctx a trial_env_t). */
int jg_run_eval_trial(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *t, char *msg,
                      size_t msg_len);
/* Opens e's meter in mode (e->source names it); a fallback's short line
 * into note (else ""). 0, or a failure with err set. */
int jg_run_trial_meter(trial_env_t *e, jg_energy_mode_t mode, double assume_w, char *note,
                       size_t cap, jg_run_error_t *err);

/* ---- the worker pool of an MPI job (tune_pool.c) ---- */

/* The other ranks' meters, agreed: every worker reads RAPL only when every
 * worker can and none shares its node with another worker; else each
 * estimates its own CPU time. Every rank calls it (rank 0 opens nothing);
 * *source is the workers' source on every rank; rank 0 gets the reason for
 * a fallback in note. */
int jg_run_pool_meters(trial_env_t *e, jg_energy_mode_t mode, double assume_w,
                       const char **source, char *note, size_t cap, jg_run_error_t *err);
/* Rank 0: runs the study with one slot per other rank, then stops every
 * worker (cancelling the trials still running after an error). */
int jg_run_pool_study(jg_tune_study_t *study, const char *source, const jg_log_t *log,
                      jg_tune_error_t *err);
/* The other ranks: train the trials rank 0 sends until it says stop. */
int jg_run_pool_serve(trial_env_t *e);

#endif
