/* SPDX-License-Identifier: MIT */
/*
 * repro_internal.h - internal to jg_run: the reproduction of Yarally et al.
 * (CAIN 2023), split over repro.c (the plan, the sub-runs, resume),
 * repro_claims.c (paired tests and verdicts), repro_rq1.c, repro_rq2.c and
 * repro_report.c (the report). The experiments' tables are here.
 */
#ifndef JG_RUN_REPRO_INTERNAL_H
#define JG_RUN_REPRO_INTERNAL_H

#include <cjson/cJSON.h>

#include "jg_run.h"
#include "report.h"

#define MAX_FILE (64 << 20) /* largest summary or CSV read back */
#define ALPHA 0.05          /* family-wise error after Holm */
#define MIN_PAIRS 6         /* below it no two-sided p can reach ALPHA */

typedef struct {
    const char *name;
    /* RQ1: each tune trial. 0 = all images. */
    int train_limit, test_limit, trials, epochs, batch;
    /* RQ2: each train run. */
    int rq2_train_limit, rq2_test_limit, rq2_epochs, rq2_batch;
    int seeds; /* default --seeds: RQ1 seeds and RQ2 repetitions */
} scale_t;

extern const scale_t SCALES[]; /* tiny, quick, full: one definition, in repro.c */
#define N_SCALES 3

#define N_NETS 3
extern const char *const NETS[N_NETS];

#define N_SPACES 2
typedef struct {
    const char *name, *space, *what;
} repro_space_t;
extern const repro_space_t SPACES[N_SPACES];

#define N_STRATS 4
typedef struct {
    const char *name, *strategy, *acq;
} repro_strat_t;
extern const repro_strat_t STRATS[N_STRATS];

/* RQ2 networks. The first 8 are the 2x2x2 design, index = (conv == 4) |
 * (linear == 7) << 1 | relu << 2 (factor bits 0, 1, 2); then the rest of the
 * 1..4 conv sweep (linear 3, ReLU) and RQ1's two dense networks. */
#define N_CFGS 12
#define N_DESIGN 8
typedef struct {
    const char *name, *model;
    int conv, linear, relu;
} repro_cfg_t;
extern const repro_cfg_t CFGS[N_CFGS];
/* The sweep's configurations for 1, 2, 3, 4 conv layers. */
extern const int SWEEP[4];

/* Layer types of the breakdown; everything else (loss, optimizer, data,
 * other, unattributed) is "rest". */
#define N_TYPES 5
extern const char *const TYPES[N_TYPES];


/* The settings of one reproduction, resolved from jg_repro_config_t. */
typedef struct {
    int rq1, rq2;
    const char *what; /* rq1, rq2 or all */
    const scale_t *scale;
    int seeds, threads, resume, stop_after;
    jg_data_source_t data;
    const char *energy; /* auto, rapl or estimate */
    const char *out;
} opts_t;

typedef struct {
    int n;                                /* trials */
    double *cum_j, *best_val, *test_best; /* (n) per trial, from the trial log */
    double total_j;
    double train_s;                       /* sum of the trials' training seconds */
    char source[32];
} tune_res_t;

typedef struct {
    double total_j;          /* inside the training steps */
    double type_j[N_TYPES];  /* forward + backward */
    double test_acc, seconds, w_per_core;
    char source[32];
} train_res_t;

typedef struct {
    int rq;                      /* 1 or 2 */
    int net, space, strat, seed; /* RQ1 */
    int cfg, rep;                /* RQ2 (rep is the seed) */
    char dir[160];               /* under --out */
    int group;                   /* for the time estimate: net, or N_NETS + cfg */
    tune_res_t t;
    train_res_t r;
} sub_t;

typedef struct {
    opts_t o;
    sub_t *subs;
    int n_subs, n_rq1;      /* RQ1 sub-runs come first */
    double t0;              /* start of this invocation (s) */
    double grp_s[N_NETS + N_CFGS];
    int grp_n[N_NETS + N_CFGS];
    int executed;           /* sub-runs run (or continued) in this invocation */
    char source[64];        /* energy source of every figure, or "mixed: a, b" */
    double w_per_core;      /* estimate's assumption, 0 unknown */
    const jg_repro_config_t *cfg;
    const jg_log_t *log;    /* the reproduction's own lines */
} ctx_t;


/* ---- files (repro.c) ---- */

/* The whole file (NUL-terminated, at most MAX_FILE bytes) or NULL. */
char *jg_repro_read_text(const char *path);
cJSON *jg_repro_read_json(const char *path);
/* Number member or NaN; string member or "". */
double jg_repro_jnum(const cJSON *o, const char *key);
const char *jg_repro_jstr(const cJSON *o, const char *key);
/* "1h02m" or "3m05s". */
void jg_repro_fmt_time(double s, char *buf, size_t cap);
/* Index of an RQ1 sub-run in ctx_t.subs. */
int jg_repro_rq1_index(int seed, int net, int space, int strat);

/* ---- tests and claims (repro_claims.c) ---- */

typedef struct {
    char name[64];
    int n;         /* pairs used */
    int ratio;     /* effect is the median of ln x - ln y: shown as exp(effect) */
    double effect; /* median paired difference */
    jg_stats_wilcoxon_t w;
    double p_holm;
} test_t;

#define MAX_CLAIMS 8
typedef struct {
    char id[48];
    const char *verdict;
    char text[2048];
} claim_t;

typedef struct {
    claim_t c[MAX_CLAIMS];
    int n;
} claims_t;

/* Paired Wilcoxon (Pratt zeros) of x against y over n pairs; with ratio, of
 * ln x - ln y (pairs with a value <= 0 are left out). */
int jg_repro_paired(test_t *t, const char *name, const double *x, const double *y, int n,
                    int ratio);
/* Holm over one family of tests (a test without pairs counts as p = 1). */
void jg_repro_holm(test_t *t, int m);
/* A directional claim: confirmed when the effect has the claimed sign and
 * Holm p <= ALPHA, refuted when it has the other sign with Holm p <= ALPHA,
 * else inconclusive; not testable with fewer than MIN_PAIRS pairs. */
const char *jg_repro_verdict(const test_t *t, int want_negative);
void jg_repro_effect_text(const test_t *t, const char *unit, char *buf, size_t cap);
void jg_repro_test_text(const test_t *t, char *buf, size_t cap);
void jg_repro_tests_table(jg_report_t *r, const test_t *t, int m, const char *unit);
int jg_repro_tests_csv(const char *dir, const char *name, const test_t *t, int m);
void jg_repro_claim(claims_t *cl, const char *id, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
double jg_repro_median(const double *v, int n);
/* A number or "-" for NaN. */
const char *jg_repro_num(char *buf, size_t cap, const char *fmt, double v);

/* ---- the experiments' sections and the report ---- */

/* RQ1's and RQ2's sections, CSV tables and figures; their claims into cl. */
int jg_repro_rq1_report(const ctx_t *c, jg_report_t *r, claims_t *cl);
int jg_repro_rq2_report(const ctx_t *c, jg_report_t *r, claims_t *cl);
/* Training images of the whole split, for the time estimate. */
double jg_repro_split_images(const char *data);
/* DIR/report.md and report.html, the verdicts to the log. 0 or -errno. */
int jg_repro_write_report(ctx_t *c);

#endif
