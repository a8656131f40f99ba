/* SPDX-License-Identifier: MIT */
/* ASHA scheduler: rung epochs, an exact scripted job sequence, the end-of-
 * study sweep, the promotion rule against a naive oracle over many configs
 * with one worker and with several, replay of reports (and of next/report
 * sequences), stats by hand, bad input, and a simulated study. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

static jg_tune_asha_t *make(int r, int R, int eta, int64_t max_trials)
{
    const jg_tune_asha_config_t cfg = { .min_epochs = r, .max_epochs = R, .eta = eta,
                                        .max_trials = max_trials };
    jg_tune_asha_t *a = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_asha_create(&a, &cfg, &err);
    if (rc) fail_msg("create r %d R %d eta %d: %d %s", r, R, eta, rc, err.msg);
    return a;
}

static void check_rungs(int r, int R, int eta, const int *want, int n)
{
    jg_tune_asha_t *a = make(r, R, eta, 1);
    if (jg_tune_asha_n_rungs(a) != n)
        fail_msg("r %d R %d eta %d: %d rungs, want %d", r, R, eta, jg_tune_asha_n_rungs(a), n);
    for (int k = 0; k < n; k++)
        if (jg_tune_asha_rung_epochs(a, k) != want[k])
            fail_msg("r %d R %d eta %d: rung %d has %d epochs, want %d", r, R, eta, k,
                     jg_tune_asha_rung_epochs(a, k), want[k]);
    assert_int_equal(jg_tune_asha_rung_epochs(a, -1), -EINVAL);
    assert_int_equal(jg_tune_asha_rung_epochs(a, n), -EINVAL);
    jg_tune_asha_destroy(a);
}

static void test_rung_epochs(void **state)
{
    (void)state;
    check_rungs(1, 9, 3, (const int[]){ 1, 3, 9 }, 3);
    check_rungs(1, 10, 3, (const int[]){ 1, 3, 9, 10 }, 4); /* top capped at R */
    check_rungs(1, 10, 0, (const int[]){ 1, 3, 9, 10 }, 4); /* eta 0: default 3 */
    check_rungs(1, 27, 3, (const int[]){ 1, 3, 9, 27 }, 4);
    check_rungs(2, 50, 2, (const int[]){ 2, 4, 8, 16, 32, 50 }, 6);
    check_rungs(5, 5, 3, (const int[]){ 5 }, 1);
    check_rungs(1, INT_MAX, INT_MAX, (const int[]){ 1, INT_MAX }, 2);
    int pow2[32];
    for (int k = 0; k < 31; k++) pow2[k] = 1 << k;
    pow2[31] = INT_MAX; /* 2^31 would overflow: capped */
    check_rungs(1, INT_MAX, 2, pow2, 32);
}

/* ---- driver with a naive oracle of the promotion rule --------------------- */

typedef struct {
    double (*score)(int64_t trial, int rung, int epochs, void *ctx);
    double (*rate)(int64_t trial, void *ctx); /* joules per new epoch */
    void *ctx;
} sim_t;

typedef struct {
    jg_tune_asha_job_t job;
    double score, joules;
} rec_t;

typedef struct {
    int64_t trial, arrival;
    double score;
    int promoted;
} oentry_t;

typedef struct {
    int n_rungs, eta;
    oentry_t *e[32]; /* (n[k]) per rung, arrival order */
    int64_t n[32];
} oracle_t;

/* Rank of entry i at rung k: results strictly better, or equal and earlier. */
static int64_t orank(const oracle_t *o, int k, int64_t i)
{
    int64_t rank = 0;
    for (int64_t j = 0; j < o->n[k]; j++)
        if (o->e[k][j].score > o->e[k][i].score ||
            (o->e[k][j].score == o->e[k][i].score && o->e[k][j].arrival < o->e[k][i].arrival))
            rank++;
    return rank;
}

static int opromotable(const oracle_t *o, int k, int64_t i)
{
    return k < o->n_rungs - 1 && !o->e[k][i].promoted && o->e[k][i].score != -INFINITY &&
           orank(o, k, i) < o->n[k] / o->eta;
}

/* Index of the best-ranked promotable entry at rung k, or -1. */
static int64_t obest(const oracle_t *o, int k)
{
    int64_t best = -1;
    for (int64_t i = 0; i < o->n[k]; i++)
        if (opromotable(o, k, i) && (best < 0 || orank(o, k, i) < orank(o, k, best))) best = i;
    return best;
}

/* Runs a whole study, checking every job against the rule; returns the jobs
 * and reports in *recs (malloc'd) and their count. */
static int64_t run_checked(jg_tune_asha_t *a, const jg_tune_asha_config_t *cfg,
                           const sim_t *sim, rec_t **recs)
{
    oracle_t o = { .n_rungs = jg_tune_asha_n_rungs(a), .eta = cfg->eta ? cfg->eta : 3 };
    const int64_t max_jobs = cfg->max_trials * o.n_rungs;
    for (int k = 0; k < o.n_rungs; k++) o.e[k] = jg_test_alloc_bytes(
        (size_t)cfg->max_trials * sizeof(oentry_t));
    int *rung0_jobs = calloc((size_t)cfg->max_trials, sizeof *rung0_jobs);
    *recs = jg_test_alloc_bytes((size_t)max_jobs * sizeof **recs);
    int64_t started = 0, n = 0;
    jg_tune_error_t err;
    for (;;) {
        jg_tune_asha_job_t job;
        const int rc = jg_tune_asha_next(a, &job, &err);
        int hi = -1; /* highest rung with a promotable trial */
        int64_t n_promotable = 0;
        for (int k = o.n_rungs - 2; k >= 0; k--)
            for (int64_t i = 0; i < o.n[k]; i++)
                if (opromotable(&o, k, i)) {
                    n_promotable++;
                    if (hi < 0) hi = k;
                }
        /* one report adds one result to one rung, so with one worker at most
         * one trial is ever promotable (docs/tuning.md) */
        if (n_promotable > 1) fail_msg("job %lld: %lld promotable trials", (long long)n,
                                       (long long)n_promotable);
        if (rc == -ENOENT) {
            if (started != cfg->max_trials || hi >= 0)
                fail_msg("ENOENT with %lld/%lld started, rung %d promotable",
                         (long long)started, (long long)cfg->max_trials, hi);
            break;
        }
        assert_int_equal(rc, 0);
        assert_true(n < max_jobs);
        if (job.is_new) {
            if (hi >= 0) fail_msg("job %lld: new trial while rung %d has a promotable one",
                                  (long long)n, hi);
            if (job.trial != started || job.rung != 0 || job.from_epochs != 0 ||
                job.epochs != cfg->min_epochs)
                fail_msg("job %lld: bad new job trial %lld rung %d", (long long)n,
                         (long long)job.trial, job.rung);
            rung0_jobs[started++]++;
        } else {
            const int k = job.rung - 1;
            if (k != hi) fail_msg("job %lld: promotion from rung %d, highest promotable %d",
                                  (long long)n, k, hi);
            const int64_t b = obest(&o, k);
            if (o.e[k][b].trial != job.trial)
                fail_msg("job %lld: promoted trial %lld, best promotable is %lld",
                         (long long)n, (long long)job.trial, (long long)o.e[k][b].trial);
            assert_int_equal(job.from_epochs, jg_tune_asha_rung_epochs(a, k));
            assert_int_equal(job.epochs, jg_tune_asha_rung_epochs(a, job.rung));
            o.e[k][b].promoted = 1;
        }
        rec_t *rec = &(*recs)[n];
        rec->job = job;
        rec->score = sim->score(job.trial, job.rung, job.epochs, sim->ctx);
        rec->joules = sim->rate(job.trial, sim->ctx) * (job.epochs - job.from_epochs);
        if (jg_tune_asha_report(a, job.trial, job.rung, rec->score, rec->joules, &err))
            fail_msg("report: %s", err.msg);
        o.e[job.rung][o.n[job.rung]] = (oentry_t){ job.trial, o.n[job.rung], rec->score, 0 };
        o.n[job.rung]++;
        n++;
    }
    for (int64_t t = 0; t < cfg->max_trials; t++)
        if (rung0_jobs[t] != 1) fail_msg("trial %lld: %d rung-0 jobs", (long long)t, rung0_jobs[t]);
    for (int k = 0; k < o.n_rungs; k++) free(o.e[k]);
    free(rung0_jobs);
    return n;
}

/* Deterministic hash of (seed, a, b) to [0,1). */
static double u01(uint64_t seed, int64_t a, int64_t b)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(a + 1)) ^
                             (0xc2b2ae3d27d4eb4full * (uint64_t)(b + 7)));
    return (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
}

static double rate_const(int64_t trial, void *ctx)
{
    (void)trial;
    (void)ctx;
    return 10.0;
}

/* Scores on a coarse grid (many ties), 1 in 10 diverged. */
static double score_coarse(int64_t trial, int rung, int epochs, void *ctx)
{
    (void)epochs;
    const uint64_t seed = *(const uint64_t *)ctx;
    if (u01(seed, trial, -1) < 0.1) return -INFINITY;
    return floor(u01(seed, trial, rung) * 5.0) / 5.0;
}

static void test_rule_vs_oracle(void **state)
{
    (void)state;
    const int cfgs[][4] = { /* r, R, eta, max_trials */
        { 1, 9, 3, 1 }, { 1, 9, 3, 2 }, { 1, 9, 3, 9 }, { 1, 9, 3, 10 }, { 1, 10, 3, 40 },
        { 1, 16, 2, 37 }, { 2, 50, 4, 64 }, { 3, 3, 3, 5 }, { 1, 27, 3, 100 },
    };
    int64_t total = 0;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            const jg_tune_asha_config_t cfg = { cfgs[c][0], cfgs[c][1], cfgs[c][2], cfgs[c][3], 0 };
            jg_tune_asha_t *a = make(cfg.min_epochs, cfg.max_epochs, cfg.eta, cfg.max_trials);
            const sim_t sim = { .score = score_coarse, .rate = rate_const, .ctx = &seed };
            rec_t *recs;
            total += run_checked(a, &cfg, &sim, &recs);
            jg_tune_asha_job_t job;
            assert_int_equal(jg_tune_asha_next(a, &job, NULL), -ENOENT); /* stays finished */
            free(recs);
            jg_tune_asha_destroy(a);
        }
    printf("rule vs oracle: %lld jobs checked over 36 studies\n", (long long)total);
}

/* ---- scripted runs --------------------------------------------------------- */

static const double scripted[] = { 0.5, 0.7, 0.6, 0.9, 0.1, 0.8, 0.3, 0.95, 0.2 };

static double score_scripted(int64_t trial, int rung, int epochs, void *ctx)
{
    (void)rung;
    (void)epochs;
    (void)ctx;
    return scripted[trial];
}

static double score_increasing(int64_t trial, int rung, int epochs, void *ctx)
{
    (void)rung;
    (void)epochs;
    (void)ctx;
    return (double)trial;
}

static void expect_jobs(const rec_t *recs, int64_t n, const int (*want)[2], int64_t n_want)
{
    if (n != n_want) fail_msg("%lld jobs, want %lld", (long long)n, (long long)n_want);
    for (int64_t i = 0; i < n; i++)
        if (recs[i].job.trial != want[i][0] || recs[i].job.rung != want[i][1])
            fail_msg("job %lld: trial %lld rung %d, want trial %d rung %d", (long long)i,
                     (long long)recs[i].job.trial, recs[i].job.rung, want[i][0], want[i][1]);
}

/* r=1, R=9, eta=3, 9 trials with the scores above (same at every rung),
 * traced by hand: trial 1 (0.7) is promoted at 3 arrivals, before better
 * trials exist - the sequential-ASHA caveat. */
static void test_scripted_sequence(void **state)
{
    (void)state;
    const jg_tune_asha_config_t cfg = { 1, 9, 3, 9, 0 };
    jg_tune_asha_t *a = make(1, 9, 3, 9);
    const sim_t sim = { .score = score_scripted, .rate = rate_const };
    rec_t *recs;
    const int64_t n = run_checked(a, &cfg, &sim, &recs);
    const int want[][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 1, 1 }, { 3, 0 }, { 3, 1 },
                            { 4, 0 }, { 5, 0 }, { 5, 1 }, { 3, 2 }, { 6, 0 }, { 7, 0 },
                            { 7, 1 }, { 7, 2 }, { 8, 0 } };
    expect_jobs(recs, n, want, sizeof want / sizeof want[0]);
    assert_int_equal(recs[3].job.from_epochs, 1);
    assert_int_equal(recs[3].job.epochs, 3);
    assert_int_equal(recs[9].job.from_epochs, 3);
    assert_int_equal(recs[9].job.epochs, 9);
    assert_int_equal(recs[9].job.is_new, 0);
    assert_int_equal(recs[10].job.is_new, 1);
    jg_tune_asha_stats_t st;
    jg_tune_asha_stats(a, &st);
    assert_int_equal(st.jobs, 15);
    assert_int_equal(st.trials_started, 9);
    assert_int_equal(st.epochs_trained, 9 * 1 + 4 * 2 + 2 * 6);
    assert_int_equal(st.epochs_full, 81);
    assert_int_equal(st.best_trial, 7);
    assert_int_equal(st.best_rung, 2);
    assert_true(st.best_score == 0.95);
    free(recs);
    jg_tune_asha_destroy(a);
}

/* Scores rising with the trial id: every trial is promoted as soon as it
 * arrives, and after the last start the study ends with a sweep of
 * promotions (trial 8 to rungs 1 and 2), then -ENOENT for good. */
static void test_end_sweep(void **state)
{
    (void)state;
    const jg_tune_asha_config_t cfg = { 1, 9, 3, 9, 0 };
    jg_tune_asha_t *a = make(1, 9, 3, 9);
    const sim_t sim = { .score = score_increasing, .rate = rate_const };
    rec_t *recs;
    const int64_t n = run_checked(a, &cfg, &sim, &recs);
    const int want[][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 2, 1 }, { 3, 0 }, { 3, 1 },
                            { 4, 0 }, { 4, 1 }, { 4, 2 }, { 5, 0 }, { 5, 1 }, { 5, 2 },
                            { 6, 0 }, { 6, 1 }, { 6, 2 }, { 7, 0 }, { 7, 1 }, { 7, 2 },
                            { 8, 0 }, { 8, 1 }, { 8, 2 } };
    expect_jobs(recs, n, want, sizeof want / sizeof want[0]);
    jg_tune_asha_job_t job;
    jg_tune_error_t err;
    assert_int_equal(jg_tune_asha_next(a, &job, &err), -ENOENT);
    assert_int_equal(jg_tune_asha_next(a, &job, &err), -ENOENT);
    assert_int_equal(jg_tune_asha_report(a, 8, 2, 1.0, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "finished"));
    free(recs);
    jg_tune_asha_destroy(a);

    /* fewer trials than eta^(top rung): nobody reaches R */
    const jg_tune_asha_config_t few = { 1, 9, 3, 3, 0 };
    a = make(1, 9, 3, 3);
    const int want_few[][2] = { { 0, 0 }, { 1, 0 }, { 2, 0 }, { 2, 1 } };
    const int64_t n_few = run_checked(a, &few, &sim, &recs);
    expect_jobs(recs, n_few, want_few, 4);
    jg_tune_asha_stats_t st;
    jg_tune_asha_stats(a, &st);
    assert_int_equal(st.best_rung, 1);
    free(recs);
    jg_tune_asha_destroy(a);
}

/* ---- replay ------------------------------------------------------------- */

static void expect_same_stats(const jg_tune_asha_stats_t *x, const jg_tune_asha_stats_t *y)
{
    assert_int_equal(x->jobs, y->jobs);
    assert_int_equal(x->trials_started, y->trials_started);
    assert_int_equal(x->epochs_trained, y->epochs_trained);
    assert_int_equal(x->epochs_full, y->epochs_full);
    assert_true(x->joules_spent == y->joules_spent);
    assert_true(x->joules_saved_est == y->joules_saved_est);
    assert_int_equal(x->best_trial, y->best_trial);
    assert_int_equal(x->best_rung, y->best_rung);
    assert_true(x->best_score == y->best_score);
}

static double rate_var(int64_t trial, void *ctx)
{
    return 40.0 + 80.0 * u01(*(const uint64_t *)ctx, trial, -2);
}

static void test_replay(void **state)
{
    (void)state;
    uint64_t seed = 11;
    const jg_tune_asha_config_t cfg = { 1, 27, 3, 60, 0 };
    jg_tune_asha_t *a = make(1, 27, 3, 60);
    const sim_t sim = { .score = score_coarse, .rate = rate_var, .ctx = &seed };
    rec_t *recs;
    const int64_t n = run_checked(a, &cfg, &sim, &recs);
    jg_tune_asha_stats_t sa, sb;
    jg_tune_asha_stats(a, &sa);
    jg_tune_error_t err;

    /* for every cut: replay the first `cut` reports without next(), check
     * the stats, then next()/report() must give the same remaining jobs */
    for (int64_t cut = 0; cut <= n; cut += (cut < 10 ? 1 : 7)) {
        jg_tune_asha_t *b = make(1, 27, 3, 60);
        for (int64_t i = 0; i < cut; i++)
            if (jg_tune_asha_report(b, recs[i].job.trial, recs[i].job.rung, recs[i].score,
                                    recs[i].joules, &err))
                fail_msg("replay %lld: %s", (long long)i, err.msg);
        if (cut > 0 && cut < n) { /* a stray replay is refused and changes nothing */
            const rec_t *r = &recs[cut - 1];
            assert_int_equal(jg_tune_asha_report(b, r->job.trial, r->job.rung, r->score,
                                                 r->joules, &err), -EINVAL);
            assert_non_null(strstr(err.msg, "next job"));
        }
        for (int64_t i = cut; i < n; i++) {
            jg_tune_asha_job_t job;
            assert_int_equal(jg_tune_asha_next(b, &job, &err), 0);
            if (memcmp(&job, &recs[i].job, sizeof job))
                fail_msg("cut %lld, job %lld: trial %lld rung %d, want trial %lld rung %d",
                         (long long)cut, (long long)i, (long long)job.trial, job.rung,
                         (long long)recs[i].job.trial, recs[i].job.rung);
            assert_int_equal(jg_tune_asha_report(b, job.trial, job.rung, recs[i].score,
                                                 recs[i].joules, &err), 0);
        }
        jg_tune_asha_job_t job;
        assert_int_equal(jg_tune_asha_next(b, &job, &err), -ENOENT);
        jg_tune_asha_stats(b, &sb);
        expect_same_stats(&sa, &sb);
        jg_tune_asha_destroy(b);
    }
    printf("replay: %lld jobs, every cut gives the same jobs and stats\n", (long long)n);
    free(recs);
    jg_tune_asha_destroy(a);
}

/* ---- several workers -------------------------------------------------------- */

/* One event of a parallel run: a job handed out (next) or reported. */
typedef struct {
    int is_report;
    rec_t rec;
} pev_t;

/* The highest rung with a promotable trial and its best entry (-1, -1). */
static int ohighest(const oracle_t *o, int64_t *best)
{
    for (int k = o->n_rungs - 2; k >= 0; k--)
        if ((*best = obest(o, k)) >= 0) return k;
    *best = -1;
    return -1;
}

/* W simulated workers: jobs take a seeded time u01(trial, rung) + 0.5, the
 * earliest to finish is reported next. Every next() is checked against the
 * oracle (and peek), a trial in flight is never handed out, -EAGAIN comes
 * only with jobs out, -EBUSY at W, -ENOENT only when all is done. Returns
 * the events (malloc'd) and their count. */
static int64_t run_parallel(jg_tune_asha_t *a, const jg_tune_asha_config_t *cfg, int W,
                            const sim_t *sim, uint64_t seed, pev_t **evs)
{
    oracle_t o = { .n_rungs = jg_tune_asha_n_rungs(a), .eta = cfg->eta ? cfg->eta : 3 };
    const int64_t max_jobs = cfg->max_trials * o.n_rungs;
    for (int k = 0; k < o.n_rungs; k++)
        o.e[k] = jg_test_alloc_bytes((size_t)cfg->max_trials * sizeof(oentry_t));
    int *rung0 = calloc((size_t)cfg->max_trials, sizeof *rung0);
    *evs = jg_test_alloc_bytes(2 * (size_t)max_jobs * sizeof **evs);
    rec_t fly[16];
    double done_at[16], now = 0;
    int n_fly = 0;
    int64_t started = 0, n = 0;
    jg_tune_error_t err;
    for (;;) {
        jg_tune_asha_job_t job, peeked;
        const int pk = jg_tune_asha_peek(a, &peeked, &err);
        const int rc = jg_tune_asha_next(a, &job, &err);
        assert_int_equal(pk, rc);
        if (n_fly == W) {
            assert_int_equal(rc, -EBUSY);
        } else if (rc == 0) {
            assert_memory_equal(&job, &peeked, sizeof job);
            int64_t b;
            const int hi = ohighest(&o, &b);
            for (int i = 0; i < n_fly; i++)
                if (fly[i].job.trial == job.trial)
                    fail_msg("trial %lld handed out while in flight", (long long)job.trial);
            if (job.is_new) {
                if (hi >= 0 || job.trial != started) fail_msg("bad new trial %lld", (long long)job.trial);
                rung0[started++]++;
            } else {
                if (job.rung - 1 != hi || o.e[hi][b].trial != job.trial)
                    fail_msg("promoted trial %lld to rung %d, oracle: trial %lld from rung %d",
                             (long long)job.trial, job.rung, hi >= 0 ? (long long)o.e[hi][b].trial
                             : -1LL, hi);
                o.e[hi][b].promoted = 1;
            }
            rec_t *r = &fly[n_fly];
            r->job = job;
            r->score = sim->score(job.trial, job.rung, job.epochs, sim->ctx);
            r->joules = sim->rate(job.trial, sim->ctx) * (job.epochs - job.from_epochs);
            done_at[n_fly++] = now + 0.5 + u01(seed, job.trial, 300 + job.rung);
            (*evs)[n++] = (pev_t){ 0, *r };
            continue;
        } else if (rc == -EAGAIN) {
            assert_true(n_fly > 0);
        } else {
            assert_int_equal(rc, -ENOENT);
            assert_int_equal(n_fly, 0);
            int64_t b;
            if (started != cfg->max_trials || ohighest(&o, &b) >= 0)
                fail_msg("ENOENT with %lld/%lld started", (long long)started,
                         (long long)cfg->max_trials);
            break;
        }
        int f = 0; // the earliest to finish (ties: the earlier handed out)
        for (int i = 1; i < n_fly; i++)
            if (done_at[i] < done_at[f]) f = i;
        now = done_at[f];
        const rec_t r = fly[f];
        memmove(fly + f, fly + f + 1, (size_t)(n_fly - f - 1) * sizeof *fly);
        memmove(done_at + f, done_at + f + 1, (size_t)(n_fly - f - 1) * sizeof *done_at);
        n_fly--;
        if (jg_tune_asha_report(a, r.job.trial, r.job.rung, r.score, r.joules, &err))
            fail_msg("report: %s", err.msg);
        o.e[r.job.rung][o.n[r.job.rung]] = (oentry_t){ r.job.trial, o.n[r.job.rung], r.score, 0 };
        o.n[r.job.rung]++;
        (*evs)[n++] = (pev_t){ 1, r };
    }
    for (int64_t t = 0; t < cfg->max_trials; t++)
        if (rung0[t] != 1) fail_msg("trial %lld: %d rung-0 jobs", (long long)t, rung0[t]);
    for (int k = 0; k < o.n_rungs; k++) free(o.e[k]);
    free(rung0);
    return n;
}

/* 2, 3 and 8 workers over several configs and seeds: the rule holds at
 * every next(); replaying the same next/report sequence on a fresh
 * scheduler gives the same jobs and stats (a resumed parallel study). */
static void test_parallel_workers(void **state)
{
    (void)state;
    const int cfgs[][4] = { { 1, 9, 3, 9 }, { 1, 10, 3, 40 }, { 1, 16, 2, 37 }, { 1, 27, 3, 100 } };
    const int workers[] = { 2, 3, 8 };
    int64_t total = 0;
    for (size_t c = 0; c < sizeof cfgs / sizeof cfgs[0]; c++)
        for (size_t w = 0; w < 3; w++)
            for (uint64_t seed = 1; seed <= 3; seed++) {
                const jg_tune_asha_config_t cfg = { cfgs[c][0], cfgs[c][1], cfgs[c][2], cfgs[c][3],
                                                    workers[w] };
                jg_tune_asha_t *a = NULL, *b = NULL;
                jg_tune_error_t err;
                assert_int_equal(jg_tune_asha_create(&a, &cfg, &err), 0);
                assert_int_equal(jg_tune_asha_create(&b, &cfg, &err), 0);
                const sim_t sim = { .score = score_coarse, .rate = rate_var, .ctx = &seed };
                pev_t *ev;
                const int64_t n = run_parallel(a, &cfg, workers[w], &sim, seed, &ev);
                total += n;
                for (int64_t i = 0; i < n; i++) {
                    const rec_t *r = &ev[i].rec;
                    jg_tune_asha_job_t job;
                    if (ev[i].is_report)
                        assert_int_equal(jg_tune_asha_report(b, r->job.trial, r->job.rung,
                                                             r->score, r->joules, &err), 0);
                    else if (jg_tune_asha_next(b, &job, &err) || memcmp(&job, &r->job, sizeof job))
                        fail_msg("replay event %lld: %s", (long long)i, err.msg);
                }
                jg_tune_asha_stats_t sa, sb;
                jg_tune_asha_stats(a, &sa);
                jg_tune_asha_stats(b, &sb);
                expect_same_stats(&sa, &sb);
                free(ev);
                jg_tune_asha_destroy(a);
                jg_tune_asha_destroy(b);
            }
    printf("parallel workers: %lld events checked over 36 studies\n", (long long)total);

    // reports that are not outstanding are refused when several are out
    const jg_tune_asha_config_t cfg = { 1, 9, 3, 9, 3 };
    jg_tune_asha_t *a = NULL;
    jg_tune_error_t err;
    jg_tune_asha_job_t job;
    assert_int_equal(jg_tune_asha_create(&a, &cfg, &err), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(jg_tune_asha_next(a, &job, &err), 0);
    assert_int_equal(jg_tune_asha_next(a, &job, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "3 jobs are outstanding"));
    assert_int_equal(jg_tune_asha_report(a, 3, 0, 0.5, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not one of the 3 outstanding jobs"));
    assert_int_equal(jg_tune_asha_report(a, 1, 0, 0.5, 1.0, &err), 0);
    assert_int_equal(jg_tune_asha_next(a, &job, &err), 0);
    assert_int_equal(job.trial, 3);
    jg_tune_asha_destroy(a);
}

/* ---- stats by hand -------------------------------------------------------- */

/* r=1, R=4, eta=2 (rungs 1 2 4), 4 trials:
 *   t0 r0 0.5 10 J | t1 r0 0.8 30 J | t1 r1 (1->2) 0.8 30 J | t2 r0 0.6 20 J
 *   t3 r0 0.9 5 J  | t3 r1 0.9 5 J  | t3 r2 (2->4) 0.9 10 J | end
 * stopped: t0 at 1 epoch (4-1)*10/1 = 30, t1 at 2 (4-2)*60/2 = 60,
 * t2 at 1 (4-1)*20/1 = 60; t3 reached R. Saved 150 J, spent 110 J. */
static void test_stats_by_hand(void **state)
{
    (void)state;
    jg_tune_asha_t *a = make(1, 4, 2, 4);
    const struct { int trial, rung, epochs, from; double score, joules; } js[] = {
        { 0, 0, 1, 0, 0.5, 10 }, { 1, 0, 1, 0, 0.8, 30 }, { 1, 1, 2, 1, 0.8, 30 },
        { 2, 0, 1, 0, 0.6, 20 }, { 3, 0, 1, 0, 0.9, 5 },  { 3, 1, 2, 1, 0.9, 5 },
        { 3, 2, 4, 2, 0.9, 10 },
    };
    jg_tune_asha_stats_t st;
    jg_tune_error_t err;
    jg_tune_asha_stats(a, &st);
    assert_int_equal(st.jobs, 0);
    assert_int_equal(st.best_trial, -1);
    assert_true(st.best_score == -INFINITY);
    for (int i = 0; i < 7; i++) {
        jg_tune_asha_job_t job;
        assert_int_equal(jg_tune_asha_next(a, &job, &err), 0);
        assert_int_equal(job.trial, js[i].trial);
        assert_int_equal(job.rung, js[i].rung);
        assert_int_equal(job.epochs, js[i].epochs);
        assert_int_equal(job.from_epochs, js[i].from);
        if (i == 3) { /* outstanding job not counted: 3 jobs, 70 J, saved 30 + 60 */
            jg_tune_asha_stats(a, &st);
            assert_int_equal(st.jobs, 3);
            assert_int_equal(st.trials_started, 2);
            assert_true(fabs(st.joules_spent - 70.0) < 1e-12);
            assert_true(fabs(st.joules_saved_est - 90.0) < 1e-12);
            assert_int_equal(st.best_trial, 1);
            assert_int_equal(st.best_rung, 1);
        }
        assert_int_equal(jg_tune_asha_report(a, job.trial, job.rung, js[i].score,
                                             js[i].joules, &err), 0);
    }
    jg_tune_asha_job_t job;
    assert_int_equal(jg_tune_asha_next(a, &job, &err), -ENOENT);
    jg_tune_asha_stats(a, &st);
    assert_int_equal(st.jobs, 7);
    assert_int_equal(st.trials_started, 4);
    assert_int_equal(st.epochs_trained, 8);
    assert_int_equal(st.epochs_full, 16);
    assert_true(st.epochs_trained < st.epochs_full);
    assert_true(fabs(st.joules_spent - 110.0) < 1e-12);
    assert_true(fabs(st.joules_saved_est - 150.0) < 1e-12);
    assert_int_equal(st.best_trial, 3);
    assert_int_equal(st.best_rung, 2);
    assert_true(st.best_score == 0.9);
    jg_tune_asha_destroy(a);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void **state)
{
    (void)state;
    const jg_tune_asha_config_t bad[] = {
        { 0, 9, 3, 9, 0 }, { 3, 2, 3, 9, 0 }, { 1, 9, 1, 9, 0 }, { 1, 9, -2, 9, 0 },
        { 1, 9, 3, 0, 0 }, { 1, 9, 3, 9, -1 },
    };
    jg_tune_asha_t *a = NULL;
    jg_tune_error_t err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        assert_int_equal(jg_tune_asha_create(&a, &bad[i], &err), -EINVAL);
        assert_non_null(strstr(err.msg, "invalid config"));
        assert_null(a);
    }
    assert_int_equal(jg_tune_asha_create(&a, NULL, &err), -EINVAL);

    a = make(1, 9, 3, 4);
    jg_tune_asha_job_t job;
    /* replay of a job that is not next */
    assert_int_equal(jg_tune_asha_report(a, 1, 0, 0.5, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "next job is trial 0 rung 0"));
    assert_int_equal(jg_tune_asha_next(a, &job, &err), 0); /* t0 r0 */
    assert_int_equal(jg_tune_asha_next(a, &job, &err), -EBUSY);
    assert_non_null(strstr(err.msg, "outstanding"));
    assert_int_equal(jg_tune_asha_report(a, 0, 1, 0.5, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "outstanding job is trial 0 rung 0"));
    assert_int_equal(jg_tune_asha_report(a, 1, 0, 0.5, 1.0, &err), -EINVAL);
    assert_int_equal(jg_tune_asha_report(a, 0, 0, NAN, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "score"));
    assert_int_equal(jg_tune_asha_report(a, 0, 0, INFINITY, 1.0, &err), -EINVAL);
    assert_int_equal(jg_tune_asha_report(a, 0, 0, 0.5, -1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "joules"));
    assert_int_equal(jg_tune_asha_report(a, 0, 0, 0.5, NAN, &err), -EINVAL);
    /* none of that changed anything */
    jg_tune_asha_stats_t st;
    jg_tune_asha_stats(a, &st);
    assert_int_equal(st.jobs, 0);
    /* diverged (-inf) is accepted, ranked last and never promoted */
    assert_int_equal(jg_tune_asha_report(a, 0, 0, -INFINITY, 1.0, &err), 0);
    for (int t = 1; t < 3; t++) {
        assert_int_equal(jg_tune_asha_next(a, &job, &err), 0);
        assert_int_equal(job.is_new, 1);
        assert_int_equal(jg_tune_asha_report(a, job.trial, 0, -INFINITY, 1.0, &err), 0);
    }
    assert_int_equal(jg_tune_asha_next(a, &job, &err), 0); /* 3 results, all diverged */
    assert_int_equal(job.trial, 3);
    assert_int_equal(job.is_new, 1);
    assert_int_equal(jg_tune_asha_report(a, 3, 0, 0.1, 1.0, &err), 0);
    assert_int_equal(jg_tune_asha_next(a, &job, &err), 0); /* 0.1 is now top-1 of 4 */
    assert_int_equal(job.trial, 3);
    assert_int_equal(job.rung, 1);
    assert_int_equal(jg_tune_asha_next(NULL, &job, &err), -EINVAL);
    assert_int_equal(jg_tune_asha_report(NULL, 3, 1, 0.1, 1.0, &err), -EINVAL);
    jg_tune_asha_destroy(a);
    jg_tune_asha_destroy(NULL);
}

/* ---- simulated study -------------------------------------------------------- */

/* Trial i has a hidden quality q in [0,1) and a learning speed s in [2,6)
 * epochs: accuracy(e) = 0.5 + 0.45 q (1 - exp(-e/s)) + N(0, 0.02/sqrt(e)),
 * so fast learners lead early; 5% diverge (-inf at every rung). Its final
 * quality is the noiseless accuracy at R. Joules per epoch in [40,120). */
typedef struct {
    uint64_t seed;
    int R;
} study_t;

static int diverges(const study_t *s, int64_t t) { return u01(s->seed, t, -1) < 0.05; }

static double clean_acc(const study_t *s, int64_t t, int epochs)
{
    const double q = u01(s->seed, t, -3), sp = 2.0 + 4.0 * u01(s->seed, t, -4);
    return 0.5 + 0.45 * q * (1.0 - exp(-epochs / sp));
}

static double score_study(int64_t t, int rung, int epochs, void *ctx)
{
    const study_t *s = ctx;
    if (diverges(s, t)) return -INFINITY;
    const double u1 = 1.0 - u01(s->seed, t, 100 + rung), u2 = u01(s->seed, t, 200 + rung);
    const double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    return clean_acc(s, t, epochs) + 0.02 / sqrt((double)epochs) * z;
}

static double rate_study(int64_t t, void *ctx)
{
    return 40.0 + 80.0 * u01(((const study_t *)ctx)->seed, t, -2);
}

static void test_simulated_study(void **state)
{
    (void)state;
    const jg_tune_asha_config_t cfg = { 1, 27, 3, 81, 0 }; /* 81 = 3^3: one trial reaches R */
    printf("simulated study: r 1, R 27, eta 3, 81 trials (rungs 1 3 9 27 epochs)\n");
    printf("seed  jobs  epochs trained/full      joules spent  saved est  full  best (true rank)\n");
    for (uint64_t seed = 1; seed <= 10; seed++) {
        study_t s = { seed, cfg.max_epochs };
        jg_tune_asha_t *a = make(cfg.min_epochs, cfg.max_epochs, cfg.eta, cfg.max_trials);
        const sim_t sim = { .score = score_study, .rate = rate_study, .ctx = &s };
        rec_t *recs;
        run_checked(a, &cfg, &sim, &recs);
        jg_tune_asha_stats_t st;
        jg_tune_asha_stats(a, &st);
        double full_j = 0.0;
        int rank = 0; /* 0-based rank of the best trial by final quality */
        for (int64_t t = 0; t < cfg.max_trials; t++) {
            full_j += rate_study(t, &s) * cfg.max_epochs;
            if (!diverges(&s, t) && clean_acc(&s, t, s.R) > clean_acc(&s, st.best_trial, s.R))
                rank++;
        }
        const double frac = (double)st.epochs_trained / (double)st.epochs_full;
        printf("%4llu  %4lld  %4lld/%lld = %4.1f%%  %9.0f J  %9.0f J  %6.0f J  trial %lld rung %d"
               " acc %.4f (#%d)\n", (unsigned long long)seed, (long long)st.jobs,
               (long long)st.epochs_trained, (long long)st.epochs_full, 100.0 * frac,
               st.joules_spent, st.joules_saved_est, full_j, (long long)st.best_trial,
               st.best_rung, st.best_score, rank + 1);
        assert_int_equal(st.best_rung, 3);
        assert_false(diverges(&s, st.best_trial));
        if (rank >= 3) fail_msg("seed %llu: best trial ranks #%d", (unsigned long long)seed, rank + 1);
        assert_true(frac <= 0.40);
        /* joules proportional to epochs: the estimate is exact */
        assert_true(fabs(st.joules_spent + st.joules_saved_est - full_j) < 1e-9 * full_j);
        free(recs);
        jg_tune_asha_destroy(a);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rung_epochs),
        cmocka_unit_test(test_rule_vs_oracle),
        cmocka_unit_test(test_scripted_sequence),
        cmocka_unit_test(test_end_sweep),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_parallel_workers),
        cmocka_unit_test(test_stats_by_hand),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_simulated_study),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
