/* SPDX-License-Identifier: MIT */
/*
 * study_fixture.h - what test_study and test_study_async share: a fake
 * evaluator whose accuracy is an analytic function of the point and the
 * epochs and whose joules are known exactly, an asynchronous version that
 * finishes jobs in a seeded order, a fixture with a study config in a fresh
 * directory, and readers of the study's files.
 */
#ifndef JG_TEST_STUDY_FIXTURE_H
#define JG_TEST_STUDY_FIXTURE_H

#include <cjson/cJSON.h>

#include "harness.h"
#include "jg_tuning.h"

#define SPACE "lr=log:1e-4:1e-1,beta1=0.5:0.99"
#define J_PER_EPOCH 10.0 /* the fake evaluator's joules per epoch */

/* The fake evaluator: accuracy rises with the epochs towards a quality
 * that peaks at lr = 1e-2, beta1 = 0.9; joules = J_PER_EPOCH (1 + beta1 -
 * 0.5) per epoch trained. With asha it checks and writes the state files. */
typedef struct {
    int calls, fail_at, fail_rc; /* fail_at: the call (1-based) that fails */
    int promotions, saves;
    int cheap;                   /* 1: joules J_PER_EPOCH per epoch, flat */
} fake_t;

/* Every line the study logs, kept in one buffer. */
typedef struct {
    char text[1 << 16];
    size_t len;
    int notes;
} lines_t;

/* The fake asynchronous evaluator: fake_eval's results, in the order of
 * seeded finish times. A job takes 0.5 + u(seed, trial, rung) s from its
 * first submission, so a job submitted again after a "kill" keeps its time
 * (the finish order of an uninterrupted run); the earliest finishes first
 * (ties: the earlier submitted). The wait numbered fail_wait_at fails like a
 * lost worker pool: every running job is dropped. It checks that no trial
 * runs twice at once and keeps what was submitted and the joules running. */
#define AFAKE_MAX 64
#define AFAKE_LOG 1024

typedef struct {
    jg_tune_job_t job;
    jg_tune_point_t params;
    char resume[4400], save[4400];
    double done_s;
    int64_t seq;
} afake_job_t;

typedef struct {
    int64_t trial;
    int rung;
    jg_tune_point_t params;
    int finished_before; /* results returned before this submission */
} afake_sub_t;

typedef struct {
    fake_t *f;              /* computes the results */
    uint64_t seed;
    afake_job_t run[AFAKE_MAX];
    int n_run, max_running;
    struct { int64_t trial; int rung; double done_s; } known[AFAKE_LOG];
    int n_known;
    afake_sub_t subs[AFAKE_LOG]; /* (n_subs) submissions in order */
    int n_subs;
    double now_s;
    int64_t seq;
    int waits, fail_wait_at, finished;
    int sleep_us;           /* each wait sleeps this long first (a kill lands mid-study) */
    double spent_j, peak_j; /* joules finished; max of finished + running */
} afake_t;

typedef struct {
    char root[64], dir[128];
    jg_tune_space_t space;
    jg_tune_strat_t strats[JG_TUNE_MAX_STRATEGIES];
    const char *settings[JG_TUNE_MAX_STRATEGIES];
    jg_tune_study_config_t cfg;
    fake_t f;
    afake_t *a;         /* the asynchronous evaluator (run_async) */
    lines_t l;          /* the last run's lines */
    jg_tune_error_t err;
} fixture_t;

/* fake_eval's evaluator (jg_tune_evaluator_t.fn), ctx a fake_t. */
int fake_eval(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *t, char *msg, size_t len);
/* The joules fake_eval charges for job. */
double fake_joules(const fake_t *f, const jg_tune_job_t *job);
/* jg_log_t.fn keeping every line in a lines_t. */
void keep_line(void *ctx, int stream, const char *line);
/* Occurrences of what in text. */
int count(const char *text, const char *what);
/* A fresh directory and a study config: strategies, 6 trials of 1 epoch. */
fixture_t *setup(const char *strategies);
void teardown(fixture_t *fx);
/* Opens and runs the study of fx->cfg with fx->f; returns run's (or
 * open's) code. */
int run(fixture_t *fx);
void run_ok(fixture_t *fx);
/* The same with the asynchronous fake fx->a (created on first use, seed
 * 99) and `slots` slots. */
int run_async(fixture_t *fx, int slots);
void run_async_ok(fixture_t *fx, int slots);
/* The records of dir/trials.jsonl (caller frees). */
jg_tune_trial_t *read_log(const char *dir, const jg_tune_space_t *sp, int64_t *n);
/* Every line after the header of dir/trials.jsonl (caller frees). */
jg_tune_log_event_t *read_events(const char *dir, const jg_tune_space_t *sp, int64_t *n);
void assert_same_records(const jg_tune_trial_t *a, int64_t na, const jg_tune_trial_t *b,
                         int64_t nb);
cJSON *read_json(const char *dir, const char *name);
double num(const cJSON *j, const char *key);
const char *str(const cJSON *j, const char *key);
/* Lines in dir/name. */
int count_lines(const char *dir, const char *name);
/* Text of dir/name (caller frees). */
char *read_text(const char *dir, const char *name);

#endif
