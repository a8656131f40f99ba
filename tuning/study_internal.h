/* SPDX-License-Identifier: MIT */
/* Internal to jg_tuning: the study object shared by study.c (set-up and
 * resume), study_run.c (the loop) and study_out.c (the files). */
#ifndef JG_TUNE_STUDY_INTERNAL_H
#define JG_TUNE_STUDY_INTERNAL_H

#include "tune_internal.h"

/* Failures while running are never -EINVAL, which means "usage" here. */
#define RUNTIME_RC(rc) ((rc) == -EINVAL ? -EIO : (rc))

/* A job handed out and not finished: running, or (read back from a log by a
 * resume) to be run again. */
typedef struct {
    jg_tune_asha_job_t job;     /* epochs: what it trains to, with or without asha */
    jg_tune_point_t params;
    double u[JG_TUNE_MAX_DIMS]; /* bayes: to_unit(params), pending while it runs */
    int submitted;              /* 1 once this run gave it to the evaluator */
} jg_tune_fly_t;

/* One strategy's study. */
typedef struct {
    jg_tune_result_t *r;   /* its result, in the study's res[] */
    char log[4200];        /* r->dir/trials.jsonl */
    const char *settings;
    jg_tune_strategy_t *strat; /* grid, random, sobol */
    jg_tune_bayes_t *bo;       /* bayes */
    jg_tune_asha_t *asha;      /* with early stopping */
    int64_t max_trials;    /* cfg.trials, or the grid's size when smaller */
    int epochs;            /* cfg.epochs: a trial's without asha, the top rung's with */
    int64_t issued;        /* trials handed out (proposed), finished or not */
    jg_tune_fly_t *fly;    /* (n_fly) jobs handed out and not finished, in order */
    int64_t n_fly, cap_fly;
    jg_tune_trial_t *rec;  /* (cap) records, r->rec */
    int64_t cap;
    jg_tune_point_t *pts;  /* (max_trials) each started trial's point */
    int first;             /* the log's first trial number: 1, or 0 in a version 1 log */
} jg_tune_one_t;

struct jg_tune_study {
    jg_tune_study_config_t cfg; /* its pointers point at the copies below */
    jg_tune_space_t space;
    jg_tune_strat_t strats[JG_TUNE_MAX_STRATEGIES];
    char settings[JG_TUNE_MAX_STRATEGIES][JG_TUNE_SETTINGS_MAX];
    const char *settings_p[JG_TUNE_MAX_STRATEGIES];
    char *dir, *model, *spec, *prog;
    jg_tune_result_t res[JG_TUNE_MAX_STRATEGIES]; /* contiguous for the comparison */
    jg_tune_one_t one[JG_TUNE_MAX_STRATEGIES];
    int n;
};

/* The study's next job, not handed out yet: a new trial (is_new) or, with
 * asha, a promotion. 0, -EAGAIN when there is none until a job in flight
 * finishes, or -ENOENT when the study is complete (r->stopped_by says why). */
int jg_tune_one_peek(jg_tune_one_t *st, jg_tune_asha_job_t *job, jg_tune_error_t *err);
/* The point of job (from peek) into p: a new trial's proposal (bayes: with
 * the new trials in flight pending) or a promoted trial's point; for bayes
 * also its unit-cube image to_unit(p) into u. */
int jg_tune_one_propose(const jg_tune_space_t *sp, jg_tune_one_t *st,
                        const jg_tune_asha_job_t *job, jg_tune_point_t *p, double *u,
                        jg_tune_error_t *err);
/* Hands job (from peek) out with its point: now in flight (last in fly,
 * not submitted). */
int jg_tune_one_commit(jg_tune_one_t *st, const jg_tune_space_t *sp,
                       const jg_tune_asha_job_t *job, const jg_tune_point_t *p,
                       jg_tune_error_t *err);
/* Index in fly of the job (trial, rung), or -1. */
int64_t jg_tune_one_find(const jg_tune_one_t *st, int64_t trial, int rung);
/* Feeds job fly[k]'s finished record t to the optimiser and the scheduler
 * and removes it from fly. */
int jg_tune_one_finish(jg_tune_one_t *st, const jg_tune_space_t *sp, int64_t k,
                       const jg_tune_trial_t *t, jg_tune_error_t *err);
/* Room for one more record. 0 or -ENOMEM. */
int jg_tune_one_grow(jg_tune_one_t *st);
/* DIR/checkpoints/trial-%06lld-rung-%d.jgc: the state of trial after rung. */
void jg_tune_ckpt_path(const jg_tune_one_t *st, int64_t trial, int rung, char *buf,
                       size_t len);
/* A note for people: "prog: " and the text, as JG_LOG_NOTE. */
void jg_tune_note(const jg_tune_study_t *s, const jg_log_t *log, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* study_out.c */
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
/* With several studies: writes dir/comparison.csv and dir/summary.json, and
 * the comparison table for people into *table (lines ending in newlines; the
 * caller frees table->p). 0 or a negative errno (nothing in *table). */
int jg_tune_write_comparison(const char *dir, const jg_tune_result_t *r, int n,
                             const char *source, jg_sbuf_t *table);
/* gnuplot figures in dir: best_vs_energy (best validation accuracy against
 * cumulative joules, one line per study) and pareto (every trial's
 * accuracy against its joules, with each study's front). msg receives one
 * line for people. 0 images made, 1 data and scripts only, or -errno. */
int jg_tune_write_figures(const char *dir, const jg_tune_result_t *r, int n,
                          const char *source, char *msg, size_t cap);

#endif
