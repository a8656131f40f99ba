/* SPDX-License-Identifier: MIT */
/*
 * study_run.c - the study loop: up to `slots` jobs running on the caller's
 * asynchronous evaluator; per job a proposal (or an ASHA promotion), the
 * energy budget's prediction (counting the running jobs), with several
 * slots a proposal line in the log, then when it finishes the record
 * appended to the log before the optimiser and scheduler see it, the
 * checkpoints promotions continue from, a progress line and the files.
 * The synchronous evaluator is the one-slot case.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "study_internal.h"

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* What the records say a job costs: the median joules per epoch trained
 * (finished "ok" records first, all records with a trained epoch next), or
 * when every trial diverged in its first epoch the median joules of a
 * record. */
typedef struct {
    double j;      /* NAN when nothing is known yet */
    int per_epoch; /* 1: j per epoch, 0: per record */
} rate_t;

static rate_t job_rate(const jg_tune_one_t *st)
{
    const int64_t n = st->r->n;
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    int *reached = malloc(((size_t)st->max_trials + 1) * sizeof *reached);
    rate_t r = {NAN, 1};
    int64_t m = 0;
    for (int pass = 0; v && reached && pass < 3 && m == 0; pass++) {
        memset(reached, 0, ((size_t)st->max_trials + 1) * sizeof *reached);
        for (int64_t i = 0; i < n; i++) {
            const jg_tune_trial_t *t = &st->rec[i];
            const int from = reached[t->trial]; // epochs before this record
            reached[t->trial] = t->epochs;
            if (pass == 2) v[m++] = t->energy_j; // per record
            else if (t->epochs > from && (pass == 1 || !strcmp(t->status, "ok")))
                v[m++] = t->energy_j / (t->epochs - from);
        }
        if (m) {
            qsort(v, (size_t)m, sizeof *v, cmp_double);
            r.j = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
            r.per_epoch = pass < 2;
        }
    }
    free(v);
    free(reached);
    return r;
}

/* Joules predicted for the job: bayes' cost model at its point u for a
 * whole new trial, else the rate times its epochs. NAN when nothing is
 * known yet. */
static double predict_j(const jg_tune_one_t *st, const rate_t *rate,
                        const jg_tune_asha_job_t *job, const double *u)
{
    if (st->bo && !st->asha) {
        double c, hi;
        jg_tune_error_t err;
        if (!jg_tune_bayes_predict_cost(st->bo, u, &c, &hi, &err)) return c;
    }
    return rate->per_epoch ? rate->j * (job->epochs - job->from_epochs) : rate->j;
}

enum { GO, WAIT, STOP };

/* Whether the energy budget lets the job (at point u) start now: GO, WAIT
 * for a running job to finish (the spent joules plus the predictions for
 * the running jobs and this one would exceed it, or something running has
 * no prediction yet), or STOP the study when nothing is running (said in
 * the log). So the first job always starts, alone. */
static int budget_check(const jg_tune_study_t *s, jg_tune_one_t *st,
                        const jg_tune_asha_job_t *job, const double *u, int64_t running,
                        const jg_log_t *log)
{
    const double budget = s->cfg.energy_budget_j;
    if (!(budget > 0)) return GO;
    int64_t best;
    const double spent = jg_tune_best(st->rec, st->r->n, &best);
    const rate_t rate = job_rate(st);
    const double pred = predict_j(st, &rate, job, u);
    double fly_j = 0;
    for (int64_t k = 0; k < st->n_fly; k++)
        fly_j += st->fly[k].submitted ? predict_j(st, &rate, &st->fly[k].job, st->fly[k].u) : 0;
    if (!isfinite(pred) || !isfinite(fly_j)) return running ? WAIT : GO;
    if (!(spent + fly_j + pred > budget)) return GO;
    if (running) return WAIT;
    jg_logf(log, JG_LOG_OUT, "[%s] energy budget: stopping before trial %lld: its predicted "
            "%.2f J would take the total from %.2f J past %.6g J", st->r->strat.label,
            (long long)job->trial + 1, pred, spent, budget);
    st->r->stopped_by = "energy-budget";
    st->r->next_predicted_j = pred;
    return STOP;
}

/* Gives job fly[k] to the evaluator: its point, and with asha the state
 * file it continues from and the one to save. */
static int submit(const jg_tune_study_t *s, jg_tune_one_t *st,
                  const jg_tune_async_evaluator_t *ev, int64_t k, jg_tune_error_t *err)
{
    jg_tune_fly_t *f = &st->fly[k];
    char resume[4400], save[4400], msg[512] = "";
    const jg_tune_job_t j = {
        .trial = f->job.trial, .rung = f->job.rung, .epochs = f->job.epochs,
        .from_epochs = f->job.from_epochs, .strategy = st->r->strat.label, .params = &f->params,
        // a promotion continues from the previous rung; a job that may be promoted keeps its state
        .resume_path = f->job.from_epochs > 0 ? resume : NULL,
        .save_path = st->asha && f->job.epochs < s->cfg.epochs ? save : NULL,
    };
    jg_tune_ckpt_path(st, f->job.trial, f->job.rung - 1, resume, sizeof resume);
    jg_tune_ckpt_path(st, f->job.trial, f->job.rung, save, sizeof save);
    const int rc = ev->submit(ev->ctx, &j, msg, sizeof msg);
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", st->r->strat.label,
                            (long long)f->job.trial + 1, msg[0] ? msg : strerror(-rc));
    f->submitted = 1;
    return 0;
}

/* Hands the next job out and submits it: a job a resume read back from the
 * log first, else the next proposal or promotion if the budget lets it
 * start (with several slots its proposal line is logged before it
 * starts). GO when a job started, WAIT when none can start until a running
 * one finishes, STOP when the study starts no more (the budget, or the
 * study is complete), or a negative errno. */
static int start_job(const jg_tune_study_t *s, jg_tune_one_t *st,
                     const jg_tune_async_evaluator_t *ev, int64_t running, const jg_log_t *log,
                     jg_tune_error_t *err)
{
    const char *label = st->r->strat.label;
    for (int64_t k = 0; k < st->n_fly; k++)
        if (!st->fly[k].submitted) {
            const int rc = submit(s, st, ev, k, err);
            return rc ? rc : GO;
        }
    jg_tune_asha_job_t job;
    jg_tune_error_t terr = {{0}};
    int rc = jg_tune_one_peek(st, &job, &terr);
    if (rc == -EAGAIN) return WAIT;
    if (rc == -ENOENT) return STOP;
    if (rc) return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] %s", label, terr.msg);
    jg_tune_point_t p;
    double u[JG_TUNE_MAX_DIMS];
    const double t0 = jg_now_s();
    rc = jg_tune_one_propose(&s->space, st, &job, &p, u, &terr);
    if (job.is_new) {
        st->r->propose_last_s = jg_now_s() - t0;
        st->r->propose_s += st->r->propose_last_s;
        st->r->proposals++;
    }
    const int verdict = rc ? GO : budget_check(s, st, &job, u, running, log);
    if (verdict != GO) return verdict;
    if (!rc) rc = jg_tune_one_commit(st, &s->space, &job, &p, &terr);
    if (!rc && ev->slots > 1) {
        jg_tune_trial_t t;
        memset(&t, 0, sizeof t);
        t.trial = job.trial;
        t.rung = job.rung;
        t.epochs = job.epochs;
        t.params = p;
        snprintf(t.strategy, sizeof t.strategy, "%s", label);
        rc = jg_tune_log_append_proposal(st->log, &s->space, &t, &terr);
    }
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", label,
                            (long long)job.trial + 1, terr.msg);
    rc = submit(s, st, ev, st->n_fly - 1, err);
    return rc ? rc : GO;
}

static void progress_line(const jg_tune_study_t *s, const jg_tune_one_t *st, int slots,
                          const jg_log_t *log)
{
    int64_t best;
    const double cum_j = jg_tune_best(st->rec, st->r->n, &best);
    const jg_tune_trial_t *x = &st->rec[st->r->n - 1];
    char params[256], rung[48] = "", budget[64] = "", running[160] = "";
    jg_tune_point_format(&s->space, &x->params, params, sizeof params);
    if (x->rung >= 0) snprintf(rung, sizeof rung, " rung %d (%d epochs)", x->rung, x->epochs);
    if (s->cfg.energy_budget_j > 0)
        snprintf(budget, sizeof budget, " of %.6g J", s->cfg.energy_budget_j);
    int64_t n_running = 0;
    for (int64_t k = 0; k < st->n_fly; k++) n_running += st->fly[k].submitted;
    if (slots > 1 && (n_running == 0 || n_running > 8)) {
        snprintf(running, sizeof running, n_running ? "; running: %lld jobs" : "; running: none",
                 (long long)n_running);
    } else if (slots > 1) { // which trials, 1-based; ".K": a promotion to rung K
        size_t len = (size_t)snprintf(running, sizeof running, "; running: trial%s",
                                      n_running > 1 ? "s" : "");
        for (int64_t k = 0; k < st->n_fly; k++)
            if (st->fly[k].submitted)
                len += (size_t)snprintf(running + len, sizeof running - len,
                                        st->fly[k].job.rung > 0 ? " %lld.%d" : " %lld",
                                        (long long)st->fly[k].job.trial + 1, st->fly[k].job.rung);
    }
    jg_logf(log, JG_LOG_OUT, "[%s] trial %lld/%lld%s %s: val %.4f test %.4f%s, %.2f J (%s), "
            "%.1f s; best val %.4f (trial %lld), cumulative %.2f J%s%s", st->r->strat.label,
            (long long)x->trial + 1, (long long)st->max_trials, rung, params, x->val_accuracy,
            x->test_accuracy, strcmp(x->status, "ok") ? " (diverged)" : "", x->energy_j,
            x->energy_source, x->seconds, st->rec[best].val_accuracy,
            (long long)st->rec[best].trial + 1, cum_j, budget, running);
}

/* Waits for a running job and logs its record t, feeds it to the optimiser
 * and the scheduler, drops the checkpoint it continued from, says so and
 * rewrites the study's files. */
static int collect(const jg_tune_study_t *s, jg_tune_one_t *st,
                   const jg_tune_async_evaluator_t *ev, const char *source, const jg_log_t *log,
                   jg_tune_error_t *err)
{
    const char *label = st->r->strat.label;
    char msg[512] = "";
    jg_tune_trial_t t;
    memset(&t, 0, sizeof t);
    t.trial = -1;
    int rc = ev->wait(ev->ctx, &t, msg, sizeof msg);
    if (rc && t.trial >= 0)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", label,
                            (long long)t.trial + 1, msg[0] ? msg : strerror(-rc));
    if (rc) return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] %s", label, msg[0] ? msg : strerror(-rc));
    const int64_t k = jg_tune_one_find(st, t.trial, t.rung);
    if (k < 0 || !st->fly[k].submitted)
        return jg_tune_fail(err, -EIO, "[%s] the evaluator returned trial %lld rung %d, which "
                            "is not running", label, (long long)t.trial + 1, t.rung);
    const jg_tune_asha_job_t job = st->fly[k].job;
    t.params = st->fly[k].params;
    snprintf(t.strategy, sizeof t.strategy, "%s", label);
    jg_tune_error_t terr = {{0}};
    // Feed the record as the log stores it, so a resume feeds the same.
    if (!(rc = jg_tune_one_grow(st)) && !(rc = jg_tune_log_append(st->log, &s->space, &t, &terr)))
        rc = jg_tune_one_finish(st, &s->space, k, &t, &terr);
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", label,
                            (long long)job.trial + 1, rc == -ENOMEM ? "out of memory" : terr.msg);
    st->rec[st->r->n++] = t;
    if (!job.is_new) { // its previous rung's state is no longer needed
        char path[4400];
        jg_tune_ckpt_path(st, job.trial, job.rung - 1, path, sizeof path);
        unlink(path);
    }
    progress_line(s, st, ev->slots, log);
    if (st->asha) jg_tune_asha_stats(st->asha, &st->r->asha);
    rc = jg_tune_write_study(st->r, &s->space, s->spec, st->settings, source);
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "writing %s: %s", st->r->dir, strerror(-rc));
    return 0;
}

/* Removes the early-stopping checkpoints once nothing can be promoted. */
static void remove_checkpoints(const jg_tune_one_t *st)
{
    char path[4400];
    for (int64_t i = 0; i < st->r->n; i++) {
        jg_tune_ckpt_path(st, st->rec[i].trial, st->rec[i].rung, path, sizeof path);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/checkpoints", st->r->dir);
    rmdir(path);
}

/* The end of a study: the ASHA summary, the files and figures. */
static int finish(const jg_tune_study_t *s, jg_tune_one_t *st, const char *source,
                  const jg_log_t *log, jg_tune_error_t *err)
{
    jg_tune_result_t *r = st->r;
    if (st->asha) {
        jg_tune_asha_stats(st->asha, &r->asha);
        const int finished = !strcmp(r->stopped_by, "asha");
        if (finished) remove_checkpoints(st);
        jg_logf(log, JG_LOG_OUT, "[%s] early stopping (asha): %lld of %lld epochs trained, "
                "estimated %.2f J saved (%s)%s", r->strat.label,
                (long long)r->asha.epochs_trained, (long long)r->asha.epochs_full,
                r->asha.joules_saved_est, source, finished ? "" : "; the study is not "
                "finished, so this counts trials that may still be promoted");
    }
    int rc = jg_tune_write_study(r, &s->space, s->spec, st->settings, source);
    char msg[600] = "";
    if (!rc) rc = jg_tune_write_figures(r->dir, r, 1, source, msg, sizeof msg);
    if (rc < 0)
        return jg_tune_fail(err, RUNTIME_RC(rc), "writing %s: %s", r->dir, strerror(-rc));
    // An ASHA study that ran its schedule to the end was not stopped: every
    // trial ran, the weaker ones to an earlier rung.
    const char *how = !strcmp(r->stopped_by, "asha")
                          ? "finished: every trial ran, asha stopped the weaker ones early"
                          : NULL;
    jg_logf(log, JG_LOG_OUT, "[%s] %lld records, %s%s; wrote %s, best_vs_energy.csv, "
            "pareto.csv, summary.json", r->strat.label, (long long)r->n, how ? "" : "stopped by ",
            how ? how : r->stopped_by, st->log);
    jg_logf(log, JG_LOG_OUT, "%s", msg);
    return 0;
}

/* Runs one strategy's study to its end (trials, grid, scheduler or energy
 * budget): keeps up to ev->slots jobs running, and waits for one when no
 * more can start. */
static int one_run(const jg_tune_study_t *s, jg_tune_one_t *st,
                   const jg_tune_async_evaluator_t *ev, const char *source, const jg_log_t *log,
                   jg_tune_error_t *err)
{
    if (st->asha) {
        char path[4400];
        snprintf(path, sizeof path, "%s/checkpoints", st->r->dir);
        const int rc = jg_mkdir_p(path);
        if (rc)
            return jg_tune_fail(err, RUNTIME_RC(rc), "cannot create %s: %s", path,
                                strerror(-rc));
    }
    int stop = 0;
    for (;;) {
        int64_t running = 0;
        for (int64_t k = 0; k < st->n_fly; k++) running += st->fly[k].submitted;
        while (!stop && running < ev->slots) {
            const int rc = start_job(s, st, ev, running, log, err);
            if (rc < 0) return rc;
            if (rc != GO) {
                stop = rc == STOP;
                break;
            }
            running++;
        }
        if (!running) break;
        const int rc = collect(s, st, ev, source, log, err);
        if (rc) return rc;
    }
    return finish(s, st, source, log, err);
}

/* Hands text to log one line at a time (without the newlines). */
static void log_lines(const jg_log_t *log, const char *text)
{
    for (const char *p = text; *p;) {
        const size_t n = strcspn(p, "\n");
        jg_logf(log, JG_LOG_OUT, "%.*s", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

int jg_tune_study_run_async(jg_tune_study_t *s, const jg_tune_async_evaluator_t *ev,
                            const jg_log_t *log, jg_tune_error_t *err)
{
    if (!s || !ev || !ev->submit || !ev->wait)
        return jg_tune_fail(err, -EINVAL, "study: NULL argument");
    if (ev->slots < 1 || ev->slots > JG_TUNE_MAX_SLOTS)
        return jg_tune_fail(err, -EINVAL, "study: %d slots: want 1..%d", ev->slots,
                            JG_TUNE_MAX_SLOTS);
    const char *source = ev->energy_source ? ev->energy_source : "off";
    for (int k = 0; k < s->n; k++) {
        const int rc = one_run(s, &s->one[k], ev, source, log, err);
        if (rc) return rc;
    }
    if (s->n == 1) return 0;
    char msg[600] = "";
    jg_sbuf_t table = {0};
    int rc = jg_tune_write_comparison(s->dir, s->res, s->n, source, &table);
    if (!rc) log_lines(log, table.p);
    free(table.p);
    if (!rc) rc = jg_tune_write_figures(s->dir, s->res, s->n, source, msg, sizeof msg);
    if (rc < 0)
        return jg_tune_fail(err, RUNTIME_RC(rc), "writing %s: %s", s->dir, strerror(-rc));
    jg_logf(log, JG_LOG_OUT, "wrote %s/comparison.csv and %s/summary.json", s->dir, s->dir);
    jg_logf(log, JG_LOG_OUT, "%s", msg);
    return 0;
}

/* The synchronous evaluator as an asynchronous one with one slot: submit
 * keeps a copy of the job, wait runs it. */
typedef struct {
    const jg_tune_evaluator_t *ev;
    int busy;
    jg_tune_job_t job;
    jg_tune_point_t params;
    char strategy[32], resume[4400], save[4400];
} sync_ev_t;

static int sync_submit(void *ctx, const jg_tune_job_t *job, char *msg, size_t cap)
{
    sync_ev_t *e = ctx;
    if (e->busy) return snprintf(msg, cap, "a job is running already"), -EBUSY;
    e->job = *job;
    e->params = *job->params;
    e->job.params = &e->params;
    snprintf(e->strategy, sizeof e->strategy, "%s", job->strategy ? job->strategy : "");
    e->job.strategy = e->strategy;
    if (job->resume_path) snprintf(e->resume, sizeof e->resume, "%s", job->resume_path);
    if (job->save_path) snprintf(e->save, sizeof e->save, "%s", job->save_path);
    e->job.resume_path = job->resume_path ? e->resume : NULL;
    e->job.save_path = job->save_path ? e->save : NULL;
    e->busy = 1;
    return 0;
}

static int sync_wait(void *ctx, jg_tune_trial_t *out, char *msg, size_t cap)
{
    sync_ev_t *e = ctx;
    if (!e->busy) return snprintf(msg, cap, "no job is running"), -EINVAL;
    e->busy = 0;
    out->trial = e->job.trial;
    out->rung = e->job.rung;
    out->params = e->params;
    snprintf(out->strategy, sizeof out->strategy, "%s", e->strategy);
    const int rc = e->ev->fn(e->ev->ctx, &e->job, out, msg, cap);
    out->trial = e->job.trial; // the job's identity is the study's
    out->rung = e->job.rung;
    return rc;
}

int jg_tune_study_run(jg_tune_study_t *s, const jg_tune_evaluator_t *ev, const jg_log_t *log,
                      jg_tune_error_t *err)
{
    if (!s || !ev || !ev->fn) return jg_tune_fail(err, -EINVAL, "study: NULL argument");
    sync_ev_t *e = calloc(1, sizeof *e);
    if (!e) return jg_tune_fail(err, -ENOMEM, "out of memory");
    e->ev = ev;
    const jg_tune_async_evaluator_t aev = {
        .slots = 1, .submit = sync_submit, .wait = sync_wait, .ctx = e,
        .energy_source = ev->energy_source,
    };
    const int rc = jg_tune_study_run_async(s, &aev, log, err);
    free(e);
    return rc;
}
