/* SPDX-License-Identifier: MIT */
/*
 * tune.h - internal to `joulegrad tune`: one study per strategy (cmd_tune.c
 * runs them) and the files written from their records (tune_out.c).
 */
#ifndef JG_CLI_TUNE_H
#define JG_CLI_TUNE_H

#include <stdint.h>

#include "jg_tuning.h"

#define JG_TUNE_MAX_STRATEGIES 8

/* One entry of --strategy: label as given (also the sub-directory name with
 * several), kind grid|random|sobol|bayes, and bayes' acquisition. */
typedef struct {
    char label[32];
    char kind[16];
    jg_tune_acq_t acq;
} jg_tune_strat_t;

/* What one study did, for its summary, the comparison and the figures. */
typedef struct {
    const jg_tune_strat_t *s;
    char dir[4096];             /* its output directory */
    const jg_tune_trial_t *rec; /* records in log order (one per trial, or
                                   one per finished rung with early stopping) */
    int64_t n;
    int64_t trials_requested;
    const char *stopped_by;     /* "trials", "grid", "energy-budget", "asha" */
    double budget_j;            /* 0: none */
    double next_predicted_j;    /* the prediction that stopped it (budget), or NAN */
    int have_asha;
    jg_tune_asha_stats_t asha;
    /* Proposal cost in this invocation (not replayed records): seconds of
     * every propose call, and of the last one. */
    double propose_s, propose_last_s;
    int64_t proposals;
} jg_tune_result_t;

/* Cumulative joules and the index of the best record (highest validation
 * accuracy, first on ties; -1 when n == 0) over rec[0..n-1]. */
double jg_tune_best(const jg_tune_trial_t *rec, int64_t n, int64_t *best);

/* The first record index at which the best validation accuracy so far
 * reaches target, and the joules spent up to and including it; -1 and NAN
 * when it never does. */
int64_t jg_tune_reach(const jg_tune_trial_t *rec, int64_t n, double target, double *joules);

/* Writes best_vs_energy.csv, pareto.csv and summary.json into r->dir
 * (atomically). space, model spec and settings text go into the summary.
 * 0 or a negative errno. */
int jg_tune_write_study(const jg_tune_result_t *r, const jg_tune_space_t *sp,
                        const char *spec, const char *settings, const char *source);

/* With several studies: prints the comparison table and writes
 * dir/comparison.csv and dir/summary.json. 0 or a negative errno. */
int jg_tune_write_comparison(const char *dir, const jg_tune_result_t *r, int n,
                             const char *source);

/* gnuplot figures in dir: best_vs_energy (best validation accuracy against
 * cumulative joules, one line per study) and pareto (every trial's
 * accuracy against its joules, with each study's front). msg receives one
 * line for people. 0 images made, 1 data and scripts only, or -errno. */
int jg_tune_write_figures(const char *dir, const jg_tune_result_t *r, int n,
                          const char *source, char *msg, size_t cap);

#endif
