/* SPDX-License-Identifier: MIT */
/*
 * study_run.c - the study loop: per job a proposal (or an ASHA promotion),
 * the energy budget's prediction, the caller's evaluator, the record
 * appended to the log before the optimiser and scheduler see it, the
 * checkpoints promotions continue from, a progress line and the files.
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

/* Joules predicted for the job: bayes' cost model at the proposed point for
 * a whole new trial, else the median joules per epoch of the records so far
 * times the job's epochs: finished ("ok") records first, all records with a
 * trained epoch next, and when every trial diverged in its first epoch the
 * median joules of a record. NAN when nothing is known yet. */
static double predict_j(const jg_tune_one_t *st, const jg_tune_asha_job_t *job, const double *u,
                        int epochs)
{
    if (st->bo && !st->asha) {
        double c, hi;
        jg_tune_error_t err;
        if (!jg_tune_bayes_predict_cost(st->bo, u, &c, &hi, &err)) return c;
    }
    const int64_t n = st->r->n;
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    int *reached = malloc(((size_t)st->max_trials + 1) * sizeof *reached);
    double pred = NAN;
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
            const double med = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
            pred = pass == 2 ? med : med * (epochs - job->from_epochs);
        }
    }
    free(v);
    free(reached);
    return pred;
}

/* The point of the job into t->params (a new trial's proposal, timed, or a
 * promoted trial's point) and, for bayes, its unit-cube image into u. */
static int propose(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_tune_asha_job_t *job,
                   jg_tune_trial_t *t, double *u, jg_tune_error_t *err)
{
    int rc = 0;
    const double p0 = jg_now_s();
    if (!job->is_new) {
        t->params = st->pts[job->trial];
    } else if (st->bo) {
        rc = jg_tune_bayes_propose(st->bo, u, err);
        if (!rc) rc = jg_tune_space_from_unit(&s->space, u, &t->params, err);
    } else {
        rc = jg_tune_strategy_propose(st->strat, job->trial, &t->params, err);
    }
    if (job->is_new) {
        st->r->propose_last_s = jg_now_s() - p0;
        st->r->propose_s += st->r->propose_last_s;
        st->r->proposals++;
    }
    if (!rc && st->bo) rc = jg_tune_space_to_unit(&s->space, &t->params, u, err);
    return rc;
}

/* 1 when the budget stops the study before this job (said in the log). */
static int over_budget(const jg_tune_study_t *s, jg_tune_one_t *st,
                       const jg_tune_asha_job_t *job, const double *u, int epochs,
                       const jg_log_t *log)
{
    const double budget = s->cfg.energy_budget_j;
    if (!(budget > 0)) return 0;
    int64_t best;
    const double spent = jg_tune_best(st->rec, st->r->n, &best);
    const double pred = predict_j(st, job, u, epochs);
    if (!(isfinite(pred) && spent + pred > budget)) return 0;
    jg_logf(log, JG_LOG_OUT, "[%s] energy budget: stopping before trial %lld: its predicted "
            "%.2f J would take the total from %.2f J past %.6g J", st->r->strat.label,
            (long long)job->trial + 1, pred, spent, budget);
    st->r->stopped_by = "energy-budget";
    st->r->next_predicted_j = pred;
    return 1;
}

/* Asks the evaluator for the job's result in t (its identity fields are
 * the study's). */
static int evaluate(const jg_tune_study_t *s, const jg_tune_one_t *st,
                    const jg_tune_evaluator_t *ev, const jg_tune_asha_job_t *job, int epochs,
                    jg_tune_trial_t *t, jg_tune_error_t *err)
{
    char resume[4400], save[4400], msg[512] = "";
    const jg_tune_trial_t id = *t;
    jg_tune_job_t j = {
        .trial = job->trial, .rung = job->rung, .epochs = epochs,
        .from_epochs = job->from_epochs, .strategy = st->r->strat.label, .params = &id.params,
    };
    if (job->from_epochs > 0) { // a promotion: continue from the previous rung
        jg_tune_ckpt_path(st, job->trial, job->rung - 1, resume, sizeof resume);
        j.resume_path = resume;
    }
    if (st->asha && epochs < s->cfg.epochs) { // may be promoted: keep its state
        jg_tune_ckpt_path(st, job->trial, job->rung, save, sizeof save);
        j.save_path = save;
    }
    const int rc = ev->fn(ev->ctx, &j, t, msg, sizeof msg);
    t->trial = id.trial;
    t->rung = id.rung;
    t->params = id.params;
    memcpy(t->strategy, id.strategy, sizeof t->strategy);
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", st->r->strat.label,
                            (long long)job->trial + 1, msg[0] ? msg : strerror(-rc));
    return 0;
}

static void progress_line(const jg_tune_study_t *s, const jg_tune_one_t *st, const jg_log_t *log)
{
    int64_t best;
    const double cum_j = jg_tune_best(st->rec, st->r->n, &best);
    const jg_tune_trial_t *x = &st->rec[st->r->n - 1];
    char params[256], rung[48] = "", budget[64] = "";
    jg_tune_point_format(&s->space, &x->params, params, sizeof params);
    if (x->rung >= 0) snprintf(rung, sizeof rung, " rung %d (%d epochs)", x->rung, x->epochs);
    if (s->cfg.energy_budget_j > 0)
        snprintf(budget, sizeof budget, " of %.6g J", s->cfg.energy_budget_j);
    jg_logf(log, JG_LOG_OUT, "[%s] trial %lld/%lld%s %s: val %.4f test %.4f%s, %.2f J (%s), "
            "%.1f s; best val %.4f (trial %lld), cumulative %.2f J%s", st->r->strat.label,
            (long long)x->trial + 1, (long long)st->max_trials, rung, params, x->val_accuracy,
            x->test_accuracy, strcmp(x->status, "ok") ? " (diverged)" : "", x->energy_j,
            x->energy_source, x->seconds, st->rec[best].val_accuracy,
            (long long)st->rec[best].trial + 1, cum_j, budget);
}

/* Logs the finished job's record, feeds it to the optimiser and the
 * scheduler, drops the checkpoint it continued from, says so and rewrites
 * the study's files. */
static int record(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_tune_asha_job_t *job,
                  const jg_tune_trial_t *t, const char *source, const jg_log_t *log,
                  jg_tune_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    // Feed the record as the log stores it, so a resume feeds the same.
    int rc = jg_tune_log_append(st->log, &s->space, t, &terr);
    if (!rc) rc = jg_tune_one_apply(st, &s->space, job, t, &terr);
    if (rc)
        return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", st->r->strat.label,
                            (long long)job->trial + 1, terr.msg);
    st->r->n++;
    if (!job->is_new) { // its previous rung's state is no longer needed
        char path[4400];
        jg_tune_ckpt_path(st, job->trial, job->rung - 1, path, sizeof path);
        unlink(path);
    }
    progress_line(s, st, log);
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
 * budget). */
static int one_run(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_tune_evaluator_t *ev,
                   const char *source, const jg_log_t *log, jg_tune_error_t *err)
{
    const char *label = st->r->strat.label;
    if (st->asha) {
        char path[4400];
        snprintf(path, sizeof path, "%s/checkpoints", st->r->dir);
        const int rc = jg_mkdir_p(path);
        if (rc)
            return jg_tune_fail(err, RUNTIME_RC(rc), "cannot create %s: %s", path,
                                strerror(-rc));
    }
    for (;;) {
        jg_tune_asha_job_t job;
        jg_tune_error_t terr = {{0}};
        int rc = jg_tune_one_next(st, &job, &terr);
        if (rc == -ENOENT) break;
        if (rc || (rc = jg_tune_one_grow(st)))
            return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] %s", label,
                                rc == -ENOMEM ? "out of memory" : terr.msg);
        jg_tune_trial_t *t = &st->rec[st->r->n];
        memset(t, 0, sizeof *t);
        t->trial = job.trial;
        t->rung = job.rung;
        snprintf(t->strategy, sizeof t->strategy, "%s", label);
        const int epochs = st->asha ? job.epochs : s->cfg.epochs;
        double u[JG_TUNE_MAX_DIMS];
        rc = propose(s, st, &job, t, u, &terr);
        if (rc)
            return jg_tune_fail(err, RUNTIME_RC(rc), "[%s] trial %lld: %s", label,
                                (long long)job.trial + 1, terr.msg);
        if (over_budget(s, st, &job, u, epochs, log)) break;
        rc = evaluate(s, st, ev, &job, epochs, t, err);
        if (!rc) rc = record(s, st, &job, t, source, log, err);
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

int jg_tune_study_run(jg_tune_study_t *s, const jg_tune_evaluator_t *ev, const jg_log_t *log,
                      jg_tune_error_t *err)
{
    if (!s || !ev || !ev->fn) return jg_tune_fail(err, -EINVAL, "study: NULL argument");
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
