/* SPDX-License-Identifier: MIT */
/*
 * asha.c - asynchronous successive halving (Li et al. 2020): next() hands
 * out a job (start a trial, or promote one to the next rung), the caller
 * trains and report()s its score and joules; up to max_outstanding jobs may
 * be out at once (parallel workers). Pure bookkeeping: no training, no
 * randomness, no clock.
 *
 * Each rung keeps its results sorted by score (descending), ties in arrival
 * order, so "the top floor(n/eta)" is a prefix of the list.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

#define MAX_RUNGS 32 /* r >= 1, eta >= 2, R <= INT_MAX: at most 32 rungs */

typedef struct {
    int64_t trial;
    double score;
    int promoted; /* 1 once next() handed out its promotion */
} entry_t;

typedef struct {
    entry_t *e; /* (n) sorted: score descending, ties by arrival */
    int64_t n, cap;
} rung_t;

typedef struct {
    int rung;      /* highest reported rung, -1 until its first report */
    double joules; /* sum over its reported jobs */
} trial_t;

struct jg_tune_asha {
    jg_tune_asha_config_t cfg;
    int n_rungs;
    int epochs[MAX_RUNGS]; /* (n_rungs) total epochs per rung */
    rung_t rungs[MAX_RUNGS];
    trial_t *trials; /* (n_trials) every trial handed out, in trial order */
    int64_t n_trials, cap_trials;
    jg_tune_asha_job_t *out; /* (n_out) handed out, not reported yet, in order */
    int64_t n_out, cap_out;
    int64_t jobs, epochs_trained; /* over reported jobs */
    double joules_spent;
};

int jg_tune_asha_create(jg_tune_asha_t **out, const jg_tune_asha_config_t *cfg,
                        jg_tune_error_t *err)
{
    if (!out || !cfg) return jg_tune_fail(err, -EINVAL, "asha: NULL argument");
    const int eta = cfg->eta ? cfg->eta : JG_TUNE_ASHA_ETA_DEFAULT;
    if (cfg->min_epochs < 1 || cfg->max_epochs < cfg->min_epochs || eta < 2 ||
        cfg->max_trials < 1 || cfg->max_outstanding < 0)
        return jg_tune_fail(err, -EINVAL,
                            "asha: invalid config (min_epochs %d >= 1, max_epochs %d >= "
                            "min_epochs, eta %d >= 2 or 0 for %d, max_trials %lld >= 1, "
                            "max_outstanding %d >= 0)", cfg->min_epochs, cfg->max_epochs,
                            cfg->eta, JG_TUNE_ASHA_ETA_DEFAULT, (long long)cfg->max_trials,
                            cfg->max_outstanding);
    jg_tune_asha_t *a = calloc(1, sizeof *a);
    if (!a) return jg_tune_fail(err, -ENOMEM, "asha: out of memory");
    a->cfg = *cfg;
    a->cfg.eta = eta;
    a->cfg.max_outstanding = cfg->max_outstanding ? cfg->max_outstanding : 1;
    /* rung k: min(r eta^k, R); the first rung to reach R is the top one */
    int64_t e = cfg->min_epochs;
    for (;;) {
        a->epochs[a->n_rungs++] = (int)(e < cfg->max_epochs ? e : cfg->max_epochs);
        if (e >= cfg->max_epochs) break;
        e *= eta; /* e < R <= INT_MAX and eta <= INT_MAX: fits int64 */
    }
    *out = a;
    return 0;
}

void jg_tune_asha_destroy(jg_tune_asha_t *a)
{
    if (!a) return;
    for (int k = 0; k < a->n_rungs; k++) free(a->rungs[k].e);
    free(a->trials);
    free(a->out);
    free(a);
}

int jg_tune_asha_n_rungs(const jg_tune_asha_t *a)
{
    return a ? a->n_rungs : -EINVAL;
}

int jg_tune_asha_rung_epochs(const jg_tune_asha_t *a, int rung)
{
    if (!a || rung < 0 || rung >= a->n_rungs) return -EINVAL;
    return a->epochs[rung];
}

/* Grows *p (elements of size) to hold at least n + 1; 0 or -ENOMEM. */
static int reserve(void **p, int64_t *cap, int64_t n, size_t size)
{
    if (n < *cap) return 0;
    const int64_t c = *cap ? 2 * *cap : 64;
    if ((uint64_t)c > SIZE_MAX / size) return -ENOMEM;
    void *q = realloc(*p, (size_t)c * size);
    if (!q) return -ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

/* The job the ASHA rule gives now, without changing anything; *entry is
 * the rung entry a promotion comes from (NULL for a new trial). A trial
 * being trained is never promotable: a new one has no result yet, a
 * promoted one is marked promoted at the rung below. */
static int pick(const jg_tune_asha_t *a, jg_tune_asha_job_t *job, entry_t **entry)
{
    memset(job, 0, sizeof *job);
    *entry = NULL;
    for (int k = a->n_rungs - 2; k >= 0; k--) {
        const rung_t *r = &a->rungs[k];
        const int64_t top = r->n / a->cfg.eta;
        for (int64_t i = 0; i < top; i++) {
            if (r->e[i].score == -INFINITY) break; /* diverged: never promoted */
            if (r->e[i].promoted) continue;
            job->trial = r->e[i].trial;
            job->rung = k + 1;
            job->epochs = a->epochs[k + 1];
            job->from_epochs = a->epochs[k];
            *entry = &r->e[i];
            return 0;
        }
    }
    if (a->n_trials >= a->cfg.max_trials) return -ENOENT;
    job->trial = a->n_trials;
    job->epochs = a->epochs[0];
    job->is_new = 1;
    return 0;
}

/* Adds job (from pick) to the outstanding ones. */
static int commit(jg_tune_asha_t *a, const jg_tune_asha_job_t *job, entry_t *entry,
                  jg_tune_error_t *err)
{
    if (reserve((void **)&a->out, &a->cap_out, a->n_out, sizeof *a->out) ||
        (job->is_new &&
         reserve((void **)&a->trials, &a->cap_trials, a->n_trials, sizeof *a->trials)))
        return jg_tune_fail(err, -ENOMEM, "asha: out of memory");
    if (job->is_new) a->trials[a->n_trials++] = (trial_t){ .rung = -1, .joules = 0.0 };
    else entry->promoted = 1;
    a->out[a->n_out++] = *job;
    return 0;
}

/* next() without handing the job out: the job, or why there is none. */
static int peek(const jg_tune_asha_t *a, jg_tune_asha_job_t *job, entry_t **entry,
                jg_tune_error_t *err)
{
    if (!a || !job) return jg_tune_fail(err, -EINVAL, "asha: NULL argument");
    if (a->n_out >= a->cfg.max_outstanding)
        return a->n_out == 1
                   ? jg_tune_fail(err, -EBUSY, "asha: trial %lld rung %d is outstanding: "
                                  "report it before asking for the next job",
                                  (long long)a->out[0].trial, a->out[0].rung)
                   : jg_tune_fail(err, -EBUSY, "asha: %lld jobs are outstanding: report "
                                  "one before asking for the next job", (long long)a->n_out);
    const int rc = pick(a, job, entry);
    if (rc == -ENOENT && a->n_out)
        return jg_tune_fail(err, -EAGAIN, "asha: nothing to hand out until one of the %lld "
                            "outstanding jobs is reported", (long long)a->n_out);
    if (rc == -ENOENT) return jg_tune_fail(err, rc, "asha: study finished");
    return 0;
}

int jg_tune_asha_peek(const jg_tune_asha_t *a, jg_tune_asha_job_t *job, jg_tune_error_t *err)
{
    entry_t *entry;
    return peek(a, job, &entry, err);
}

int jg_tune_asha_next(jg_tune_asha_t *a, jg_tune_asha_job_t *job, jg_tune_error_t *err)
{
    entry_t *entry;
    const int rc = peek(a, job, &entry, err);
    return rc ? rc : commit(a, job, entry, err);
}

int jg_tune_asha_report(jg_tune_asha_t *a, int64_t trial, int rung, double score,
                        double joules, jg_tune_error_t *err)
{
    if (!a) return jg_tune_fail(err, -EINVAL, "asha: NULL argument");
    if (isnan(score) || score == INFINITY)
        return jg_tune_fail(err, -EINVAL, "asha: trial %lld rung %d: score %g: want a "
                            "finite score or -inf (diverged)", (long long)trial, rung, score);
    if (!isfinite(joules) || joules < 0.0)
        return jg_tune_fail(err, -EINVAL, "asha: trial %lld rung %d: joules %g: want "
                            "finite and >= 0", (long long)trial, rung, joules);
    /* Replay: without an outstanding job, the report must be the job next()
     * would hand out now. */
    int64_t k = 0;
    while (k < a->n_out && (a->out[k].trial != trial || a->out[k].rung != rung)) k++;
    jg_tune_asha_job_t job = k < a->n_out ? a->out[k] : (jg_tune_asha_job_t){ .trial = -1 };
    entry_t *entry = NULL;
    if (!a->n_out && pick(a, &job, &entry) == -ENOENT)
        return jg_tune_fail(err, -EINVAL, "asha: report for trial %lld rung %d after "
                            "the study finished", (long long)trial, rung);
    if (a->n_out > 1 && k == a->n_out)
        return jg_tune_fail(err, -EINVAL, "asha: report for trial %lld rung %d, which is "
                            "not one of the %lld outstanding jobs", (long long)trial, rung,
                            (long long)a->n_out);
    if (a->n_out == 1) job = a->out[0];
    if (job.trial != trial || job.rung != rung)
        return jg_tune_fail(err, -EINVAL, "asha: report for trial %lld rung %d, but the "
                            "%s job is trial %lld rung %d", (long long)trial, rung,
                            a->n_out ? "outstanding" : "next", (long long)job.trial,
                            job.rung);
    rung_t *r = &a->rungs[rung];
    if (reserve((void **)&r->e, &r->cap, r->n, sizeof *r->e))
        return jg_tune_fail(err, -ENOMEM, "asha: out of memory");
    if (!a->n_out) {
        const int rc = commit(a, &job, entry, err);
        if (rc) return rc;
    }
    /* job is out[k] now (a replayed job was appended: k == 0) */
    memmove(a->out + k, a->out + k + 1, (size_t)(a->n_out - k - 1) * sizeof *a->out);
    a->n_out--;
    /* insert after every entry with a score >= this one (ties: arrival) */
    int64_t pos = r->n;
    while (pos > 0 && r->e[pos - 1].score < score) pos--;
    memmove(r->e + pos + 1, r->e + pos, (size_t)(r->n - pos) * sizeof *r->e);
    r->e[pos] = (entry_t){ .trial = trial, .score = score, .promoted = 0 };
    r->n++;
    a->trials[trial].rung = rung;
    a->trials[trial].joules += joules;
    a->jobs++;
    a->epochs_trained += job.epochs - job.from_epochs;
    a->joules_spent += joules;
    return 0;
}

void jg_tune_asha_stats(const jg_tune_asha_t *a, jg_tune_asha_stats_t *st)
{
    memset(st, 0, sizeof *st);
    const int top = a->n_rungs - 1;
    const int R = a->epochs[top];
    st->jobs = a->jobs;
    st->epochs_trained = a->epochs_trained;
    st->joules_spent = a->joules_spent;
    for (int64_t t = 0; t < a->n_trials; t++) {
        const trial_t *tr = &a->trials[t];
        if (tr->rung < 0) continue; /* outstanding new trial: not counted yet */
        st->trials_started++;
        if (tr->rung < top) {
            const int e = a->epochs[tr->rung]; /* (epochs) >= 1 */
            st->joules_saved_est += (double)(R - e) * (tr->joules / e);
        }
    }
    st->epochs_full = st->trials_started * R;
    st->best_trial = -1;
    st->best_rung = -1;
    st->best_score = -INFINITY;
    for (int k = top; k >= 0; k--) {
        if (a->rungs[k].n == 0) continue;
        st->best_trial = a->rungs[k].e[0].trial; /* sorted; ties: first arrival */
        st->best_rung = k;
        st->best_score = a->rungs[k].e[0].score;
        break;
    }
}
