/* SPDX-License-Identifier: MIT */
/*
 * tune.h - what `joulegrad tune` does, as one call (tune_run.c): the data,
 * the model, the meter, and a study (tuning/) whose evaluator trains each
 * trial.
 */
#ifndef JG_CLI_TUNE_H
#define JG_CLI_TUNE_H

#include <stdint.h>

#include "jg_common.h"
#include "jg_datasets.h"
#include "jg_energy.h"
#include "jg_nn.h"
#include "jg_tuning.h"

typedef struct {
    const char *strategies;  /* "grid,random,bayes-pi" (jg_tune_strategies_parse) */
    const char *acquisition; /* plain bayes': ei|pi|ucb|ei-per-joule; NULL: ei */
    const char *space;       /* over lr, beta1, beta2, momentum, weight_decay, batch */
    const char *model;       /* preset name or spec */
    const char *out;         /* the study directory */
    int trials;              /* per strategy */
    int epochs;              /* per trial; with asha the top rung's */
    int batch;               /* when the space has no batch */
    int threads;             /* 0: the OpenMP default */
    int train_limit, test_limit; /* 0: all */
    int grid_points;         /* grid only; 0: the default */
    jg_tune_objective_t objective;
    double energy_budget_j;  /* per strategy; 0: none */
    int asha, min_epochs, eta; /* early stopping; 0: 1 and 3 (only with asha) */
    jg_opt_kind_t optimizer;
    uint64_t seed;           /* strategies, data subsets; trial i trains with seed + i */
    double val_fraction;     /* in (0, 1), ranks the trials */
    jg_data_source_t data;
    jg_energy_mode_t energy;
    double assume_w;         /* estimate: watts per busy core; 0: the default */
    int resume;
} jg_run_tune_config_t;

/* `joulegrad tune`'s defaults: bayes, model default, adam, 1 epoch, batch
 * 64, seed 1, validation fraction 0.1, fashion-mnist, energy auto. */
void jg_run_tune_config_default(jg_run_tune_config_t *cfg);

/* Runs the studies of cfg (tuning/'s jg_tune_study_*) with an evaluator
 * that trains each trial; lines for people go to log. 0, -EINVAL when cfg
 * or a study on disk does not fit (usage), or another negative errno; err
 * gets one line. */
int jg_run_tune(const jg_run_tune_config_t *cfg, const jg_log_t *log, jg_tune_error_t *err);

#endif
