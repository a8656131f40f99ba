/* SPDX-License-Identifier: MIT */
/*
 * study.c - setting a study up: the strategy list, the checks of the
 * configuration and the directories, and per strategy its optimiser (a
 * strategy or Bayesian optimisation), its ASHA scheduler and its trial log,
 * created or read back and replayed on resume. The loop is study_run.c, the
 * files study_out.c.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "study_internal.h"

const char *jg_tune_acq_name(jg_tune_acq_t acq)
{
    switch (acq) {
    case JG_TUNE_ACQ_EI: return "ei";
    case JG_TUNE_ACQ_PI: return "pi";
    case JG_TUNE_ACQ_UCB: return "ucb";
    case JG_TUNE_ACQ_EI_PER_J: return "ei-per-joule";
    }
    return "?";
}

static int parse_acq(const char *a, jg_tune_acq_t *acq)
{
    for (int k = JG_TUNE_ACQ_EI; k <= JG_TUNE_ACQ_EI_PER_J; k++)
        if (!strcmp(a, jg_tune_acq_name((jg_tune_acq_t)k))) {
            *acq = (jg_tune_acq_t)k;
            return 0;
        }
    return -1;
}

/* One entry of the list into s (label already set); *plain_bayes set for
 * "bayes". 0 or -EINVAL. */
static int parse_entry(jg_tune_strat_t *s, const char *acquisition, int *plain_bayes,
                       jg_tune_error_t *err)
{
    static const char *const plain[] = {"grid", "random", "sobol"};
    for (int k = 0; k < 3; k++)
        if (!strcmp(s->label, plain[k])) {
            snprintf(s->kind, sizeof s->kind, "%s", plain[k]);
            return 0;
        }
    if (!strcmp(s->label, "bayes")) {
        snprintf(s->kind, sizeof s->kind, "bayes");
        *plain_bayes = 1;
        if (parse_acq(acquisition ? acquisition : "ei", &s->acq))
            return jg_tune_fail(err, -EINVAL, "--acquisition must be ei, pi, ucb or "
                                "ei-per-joule, got '%s'", acquisition);
        return 0;
    }
    if (!strncmp(s->label, "bayes-", 6) && !parse_acq(s->label + 6, &s->acq)) {
        snprintf(s->kind, sizeof s->kind, "bayes");
        return 0;
    }
    return jg_tune_fail(err, -EINVAL, "--strategy: unknown strategy '%s' (grid, random, "
                        "sobol, bayes, bayes-ei, bayes-pi, bayes-ucb, bayes-ei-per-joule)",
                        s->label);
}

int jg_tune_strategies_parse(const char *text, const char *acquisition,
                             jg_tune_strat_t *out, int *n, jg_tune_error_t *err)
{
    if (!text || !out || !n) return jg_tune_fail(err, -EINVAL, "strategies: NULL argument");
    const char *p = text;
    const size_t len = strlen(p);
    *n = 0;
    if (len && (p[0] == ',' || p[len - 1] == ',' || strstr(p, ",,")))
        return jg_tune_fail(err, -EINVAL, "--strategy: empty entry in '%s'", p);
    int plain_bayes = 0;
    while (*p) {
        const size_t m = strcspn(p, ",");
        if (*n == JG_TUNE_MAX_STRATEGIES || m == 0 || m >= sizeof out->label)
            return jg_tune_fail(err, -EINVAL, "--strategy: %s", m == 0 ? "empty entry"
                                : m >= sizeof out->label ? "entry too long"
                                : "at most 8 strategies");
        jg_tune_strat_t *s = &out[*n];
        memset(s, 0, sizeof *s);
        memcpy(s->label, p, m);
        p += m + (p[m] == ',');
        const int rc = parse_entry(s, acquisition, &plain_bayes, err);
        if (rc) return rc;
        for (int k = 0; k < *n; k++)
            if (!strcmp(out[k].label, s->label))
                return jg_tune_fail(err, -EINVAL, "--strategy: '%s' given twice", s->label);
        ++*n;
    }
    if (!*n) return jg_tune_fail(err, -EINVAL, "--strategy: empty");
    if (acquisition && !plain_bayes)
        return jg_tune_fail(err, -EINVAL, "--acquisition applies to --strategy bayes only");
    return 0;
}

int jg_tune_study_check(const jg_tune_study_config_t *c, jg_tune_error_t *err)
{
    if (!c || !c->dir || !c->strategies || !c->settings || c->n_strategies < 1 ||
        c->n_strategies > JG_TUNE_MAX_STRATEGIES)
        return jg_tune_fail(err, -EINVAL, "study: NULL argument, or not 1..%d strategies",
                            JG_TUNE_MAX_STRATEGIES);
    if (c->trials < 1 || c->epochs < 1 || c->grid_points < 0 || c->min_epochs < 0 ||
        c->eta < 0 || !(c->energy_budget_j >= 0))
        return jg_tune_fail(err, -EINVAL, "study: trials and epochs must be >= 1, the "
                            "grid points, ASHA's and the budget >= 0");
    int grid = 0, bayes_other = 0, cost_aware = 0;
    for (int k = 0; k < c->n_strategies; k++) {
        grid |= !strcmp(c->strategies[k].kind, "grid");
        const int b = !strcmp(c->strategies[k].kind, "bayes");
        bayes_other |= b && c->strategies[k].acq != JG_TUNE_ACQ_EI;
        cost_aware |= b && c->strategies[k].acq == JG_TUNE_ACQ_EI_PER_J;
    }
    const int pareto = c->objective == JG_TUNE_OBJ_PARETO;
    if (c->grid_points && !grid)
        return jg_tune_fail(err, -EINVAL, "--grid-points applies to --strategy grid only");
    if (pareto && bayes_other)
        return jg_tune_fail(err, -EINVAL, "--objective pareto uses ParEGO's expected "
                            "improvement: give bayes (or bayes-ei), not another acquisition");
    if (c->no_energy && (pareto || cost_aware || c->energy_budget_j > 0))
        return jg_tune_fail(err, -EINVAL, "--energy off leaves no joules for %s",
                            pareto ? "--objective pareto" : cost_aware ? "ei-per-joule"
                                                                       : "--energy-budget");
    if ((c->min_epochs || c->eta) && !c->asha)
        return jg_tune_fail(err, -EINVAL, "--min-epochs and --eta apply to --early-stop "
                            "asha only");
    const int r = c->min_epochs ? c->min_epochs : 1;
    if (c->asha && r > c->epochs)
        return jg_tune_fail(err, -EINVAL, "--min-epochs %d is more than --epochs %d", r,
                            c->epochs);
    return 0;
}

/* Strategy k's directory and log. -EINVAL when too long. */
static int study_paths(const jg_tune_study_config_t *c, int k, char *dir, size_t dir_len,
                       char *log, size_t log_len, jg_tune_error_t *err)
{
    if (snprintf(dir, dir_len, c->n_strategies > 1 ? "%s/%s" : "%s", c->dir,
                 c->strategies[k].label) >= (int)dir_len)
        return jg_tune_fail(err, -EINVAL, "--out is too long");
    snprintf(log, log_len, "%s/trials.jsonl", dir);
    return 0;
}

/* 1 and its name in buf when dir holds a study's file: its own files
 * (trials.jsonl, summary.json, comparison.csv, ...) or a sub-directory with a
 * trial log (a study of several strategies). Other files (a log of the
 * caller's, a README) do not count. */
static int holds_study(const char *dir, char *buf, size_t cap)
{
    static const char *const files[] = {"trials.jsonl", "summary.json", "comparison.csv",
                                        "best_vs_energy.csv", "pareto.csv"};
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        char path[4400];
        for (size_t k = 0; k < sizeof files / sizeof *files; k++)
            found |= !strcmp(e->d_name, files[k]);
        if (!found && e->d_name[0] != '.' &&
            snprintf(path, sizeof path, "%s/%s/trials.jsonl", dir, e->d_name) < (int)sizeof path)
            found = access(path, F_OK) == 0;
        if (found) jg_text_escape(e->d_name, strlen(e->d_name), buf, cap);
    }
    closedir(d);
    return found;
}

int jg_tune_study_check_dir(const jg_tune_study_config_t *c, jg_tune_error_t *err)
{
    int rc = jg_tune_study_check(c, err);
    int logs_found = 0;
    char dir[4096], log[4200];
    for (int k = 0; !rc && k < c->n_strategies; k++) {
        rc = study_paths(c, k, dir, sizeof dir, log, sizeof log, err);
        if (!rc && access(log, F_OK) == 0) logs_found++;
    }
    if (rc) return rc;
    const int several = c->n_strategies > 1;
    // A new study never starts where another is: its files (say of other
    // strategies) would be mixed with the new ones, or overwritten.
    char other[256] = "";
    if (!c->resume && (logs_found || holds_study(c->dir, other, sizeof other)))
        return jg_tune_fail(err, -EINVAL, "%s already holds a study%s%s%s: add --resume to "
                            "continue it, or choose another --out", c->dir,
                            other[0] ? " ('" : "", other, other[0] ? "' is there)" : "");
    if (c->resume && (several ? !logs_found : access(log, F_OK)))
        return jg_tune_fail(err, -EINVAL, "cannot resume: no trials.jsonl in %s%s", c->dir,
                            several ? " or its strategy directories" : "");
    return 0;
}

void jg_tune_note(const jg_tune_study_t *s, const jg_log_t *log, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    jg_logf(log, JG_LOG_NOTE, "%s%s%s", s->prog ? s->prog : "", s->prog ? ": " : "", text);
}

void jg_tune_ckpt_path(const jg_tune_one_t *st, int64_t trial, int rung, char *buf, size_t len)
{
    snprintf(buf, len, "%s/checkpoints/trial-%06lld-rung-%d.jgc", st->r->dir,
             (long long)trial + st->first, rung);
}

int jg_tune_one_peek(jg_tune_one_t *st, jg_tune_asha_job_t *job, jg_tune_error_t *err)
{
    if (st->asha) {
        const int rc = jg_tune_asha_peek(st->asha, job, err);
        if (rc == -ENOENT) st->r->stopped_by = "asha";
        return rc;
    }
    if (st->issued == st->max_trials && st->n_fly)
        return jg_tune_fail(err, -EAGAIN, "every trial is handed out");
    if (st->issued == st->max_trials) {
        st->r->stopped_by = st->max_trials < st->r->trials_requested ? "grid" : "trials";
        return -ENOENT;
    }
    const jg_tune_asha_job_t j = {
        .trial = st->issued, .rung = -1, .epochs = st->epochs, .from_epochs = 0, .is_new = 1,
    };
    *job = j;
    return 0;
}

int jg_tune_one_propose(const jg_tune_space_t *sp, jg_tune_one_t *st,
                        const jg_tune_asha_job_t *job, jg_tune_point_t *p, double *u,
                        jg_tune_error_t *err)
{
    int rc = 0;
    if (!job->is_new) {
        *p = st->pts[job->trial];
    } else if (st->bo) {
        // the new trials in flight are pending (a promoted one is observed already)
        const int d = sp->n_dims;
        double *pending = malloc(((size_t)st->n_fly + 1) * (size_t)d * sizeof *pending);
        int m = 0;
        if (!pending) return jg_tune_fail(err, -ENOMEM, "out of memory");
        for (int64_t i = 0; i < st->n_fly; i++)
            if (st->fly[i].job.is_new)
                memcpy(pending + (size_t)m++ * d, st->fly[i].u, (size_t)d * sizeof *pending);
        rc = jg_tune_bayes_propose_pending(st->bo, pending, m, u, err);
        free(pending);
        if (!rc) rc = jg_tune_space_from_unit(sp, u, p, err);
    } else {
        rc = jg_tune_strategy_propose(st->strat, job->trial, p, err);
    }
    if (!rc && st->bo) rc = jg_tune_space_to_unit(sp, p, u, err);
    return rc;
}

int jg_tune_one_commit(jg_tune_one_t *st, const jg_tune_space_t *sp,
                       const jg_tune_asha_job_t *job, const jg_tune_point_t *p,
                       jg_tune_error_t *err)
{
    if (st->n_fly == st->cap_fly) {
        const int64_t cap = st->cap_fly ? 2 * st->cap_fly : 16;
        jg_tune_fly_t *f = realloc(st->fly, (size_t)cap * sizeof *f);
        if (!f) return jg_tune_fail(err, -ENOMEM, "out of memory");
        st->fly = f;
        st->cap_fly = cap;
    }
    jg_tune_fly_t *f = &st->fly[st->n_fly];
    memset(f, 0, sizeof *f);
    f->job = *job;
    f->params = *p;
    int rc = st->bo ? jg_tune_space_to_unit(sp, p, f->u, err) : 0;
    if (!rc && st->asha) {
        jg_tune_asha_job_t out;
        rc = jg_tune_asha_next(st->asha, &out, err);
        if (!rc && (out.trial != job->trial || out.rung != job->rung))
            rc = jg_tune_fail(err, -EIO, "asha handed out trial %lld rung %d, not the job it "
                              "showed", (long long)out.trial, out.rung);
    }
    if (rc) return rc;
    if (job->is_new) {
        st->pts[job->trial] = *p;
        st->issued++;
    }
    st->n_fly++;
    return 0;
}

int64_t jg_tune_one_find(const jg_tune_one_t *st, int64_t trial, int rung)
{
    for (int64_t k = 0; k < st->n_fly; k++)
        if (st->fly[k].job.trial == trial && st->fly[k].job.rung == rung) return k;
    return -1;
}

int jg_tune_one_finish(jg_tune_one_t *st, const jg_tune_space_t *sp, int64_t k,
                       const jg_tune_trial_t *t, jg_tune_error_t *err)
{
    const jg_tune_asha_job_t job = st->fly[k].job;
    int rc = 0;
    // bayes sees each trial once, at its first result (rung 0 with asha).
    if (st->bo && job.is_new) {
        double u[JG_TUNE_MAX_DIMS];
        rc = jg_tune_space_to_unit(sp, &t->params, u, err);
        if (!rc)
            rc = t->energy_j > 0
                     ? jg_tune_bayes_observe_cost(st->bo, u, t->val_accuracy, t->energy_j, err)
                     : jg_tune_bayes_observe(st->bo, u, t->val_accuracy, err);
    }
    if (!rc && st->asha)
        rc = jg_tune_asha_report(st->asha, job.trial, job.rung,
                                 strcmp(t->status, "ok") ? -INFINITY : t->val_accuracy,
                                 t->energy_j, err); // a diverged trial is never promoted
    if (rc) return rc;
    memmove(st->fly + k, st->fly + k + 1, (size_t)(st->n_fly - k - 1) * sizeof *st->fly);
    st->n_fly--;
    return 0;
}

int jg_tune_one_grow(jg_tune_one_t *st)
{
    if (st->r->n < st->cap) return 0;
    const int64_t cap = st->cap ? 2 * st->cap : 64;
    jg_tune_trial_t *r = realloc(st->rec, (size_t)cap * sizeof *r);
    if (!r) return -ENOMEM;
    st->rec = r;
    st->r->rec = r;
    st->cap = cap;
    return 0;
}

/* Strategy k's optimiser and scheduler. */
static int one_create(const jg_tune_study_t *s, jg_tune_one_t *st, int k, jg_tune_error_t *err)
{
    const jg_tune_study_config_t *c = &s->cfg;
    const jg_tune_strat_t *strat = &s->strats[k];
    int rc;
    if (!strcmp(strat->kind, "bayes")) {
        jg_tune_bayes_config_t bc;
        jg_tune_bayes_config_from_space(&bc, &s->space, c->seed);
        bc.acq = strat->acq;
        if (bc.acq == JG_TUNE_ACQ_PI) bc.xi = 0.01; // PI needs a margin (docs/tuning.md)
        bc.objective = c->objective;
        rc = jg_tune_bayes_create(&st->bo, &bc, err);
    } else {
        rc = jg_tune_strategy_create(&st->strat, strat->kind, &s->space, c->seed,
                                     c->grid_points, err);
    }
    st->max_trials = c->trials;
    st->epochs = c->epochs;
    if (!rc && st->strat && jg_tune_strategy_size(st->strat) >= 0 &&
        jg_tune_strategy_size(st->strat) < st->max_trials)
        st->max_trials = jg_tune_strategy_size(st->strat);
    if (!rc && c->asha) {
        const jg_tune_asha_config_t ac = {
            .min_epochs = c->min_epochs ? c->min_epochs : 1, .max_epochs = c->epochs,
            .eta = c->eta ? c->eta : JG_TUNE_ASHA_ETA_DEFAULT, .max_trials = st->max_trials,
            .max_outstanding = JG_TUNE_MAX_SLOTS, // the evaluator's slots limit the jobs out
        };
        rc = jg_tune_asha_create(&st->asha, &ac, err);
    }
    if (!rc && !(st->pts = calloc((size_t)st->max_trials, sizeof *st->pts)))
        rc = jg_tune_fail(err, -ENOMEM, "out of memory");
    return rc;
}

/* The first key=value token that differs between two settings texts. */
static void settings_diff(const char *a, const char *b, char *buf, size_t len)
{
    while (*a || *b) {
        const size_t na = strcspn(a, " "), nb = strcspn(b, " ");
        if (na != nb || strncmp(a, b, na)) {
            snprintf(buf, len, "'%.*s' in the log, '%.*s' now", (int)na, a, (int)nb, b);
            return;
        }
        a += na + (a[na] == ' ');
        b += nb + (b[nb] == ' ');
    }
    snprintf(buf, len, "(identical)");
}

/* Replays line `line` of the log, the job e: peeks at the job the study
 * would hand out next, which must be e's, checks e's point (a promotion's
 * against its trial's; with a proposal line a new trial's against the
 * proposal made again, a note for bayes, whose numerics a build may change)
 * and hands it out. */
static int replay_job(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_tune_log_event_t *e,
                      int64_t line, const jg_log_t *log, jg_tune_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    const jg_tune_trial_t *t = &e->t;
    jg_tune_asha_job_t job;
    int rc = jg_tune_one_peek(st, &job, &terr);
    if (rc == -ENOENT)
        return jg_tune_fail(err, -EINVAL, "%s:%lld: more records than the study makes (%lld "
                            "trials); give the --trials it was run with", st->log,
                            (long long)line, (long long)st->max_trials);
    if (rc == -EAGAIN)
        return jg_tune_fail(err, -EBADMSG, "cannot resume: %s line %lld holds a job the study "
                            "makes only after a running one finishes", st->log, (long long)line);
    if (rc) return jg_tune_fail(err, RUNTIME_RC(rc), "cannot resume %s: %s", st->log, terr.msg);
    if (t->trial != job.trial || t->rung != job.rung)
        return jg_tune_fail(err, -EBADMSG, "cannot resume: %s line %lld holds trial %lld "
                            "rung %d, the study expects trial %lld rung %d", st->log,
                            (long long)line, (long long)t->trial + st->first, t->rung,
                            (long long)job.trial + st->first, job.rung);
    jg_tune_point_t p = t->params;
    double u[JG_TUNE_MAX_DIMS];
    if (!job.is_new || e->kind == JG_TUNE_EVENT_PROPOSAL)
        rc = jg_tune_one_propose(&s->space, st, &job, &p, u, &terr);
    int same = 1;
    for (int i = 0; i < s->space.n_dims; i++) same &= p.v[i] == t->params.v[i];
    if (!rc && !same && (!job.is_new || !st->bo))
        return jg_tune_fail(err, -EBADMSG, "cannot resume: %s line %lld: trial %lld %s", st->log,
                            (long long)line, (long long)t->trial + st->first, job.is_new
                            ? "is not the study's proposal" : "changed its parameters");
    if (!rc && !same) {
        char now[256], logged[256];
        jg_tune_point_format(&s->space, &p, now, sizeof now);
        jg_tune_point_format(&s->space, &t->params, logged, sizeof logged);
        jg_tune_note(s, log, "%s:%lld: bayes proposes %s for trial %lld now, the log holds %s "
                     "(another build?); going on with the log's", st->log, (long long)line, now,
                     (long long)t->trial + st->first, logged);
    }
    if (!rc) rc = jg_tune_one_commit(st, &s->space, &job, &t->params, &terr);
    if (rc) return jg_tune_fail(err, RUNTIME_RC(rc), "cannot resume %s: trial %lld: %s", st->log,
                                (long long)t->trial + st->first, terr.msg);
    return 0;
}

/* Feeds the log's lines through the optimiser and the scheduler in order:
 * a proposal hands its job out, a result finishes it (a result without a
 * proposal line, as a serial study writes them, hands its job out first). */
static int replay(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_tune_log_event_t *ev,
                  int64_t n, const jg_log_t *log, jg_tune_error_t *err)
{
    jg_tune_error_t terr = {{0}};
    for (int64_t i = 0; i < n; i++) {
        const jg_tune_trial_t *t = &ev[i].t;
        const int64_t line = i + 2;
        int64_t k = jg_tune_one_find(st, t->trial, t->rung);
        int rc = 0;
        if (ev[i].kind == JG_TUNE_EVENT_PROPOSAL && k >= 0)
            return jg_tune_fail(err, -EBADMSG, "cannot resume: %s line %lld proposes trial %lld "
                                "rung %d again before it finished", st->log, (long long)line,
                                (long long)t->trial + st->first, t->rung);
        if (k < 0 && (rc = replay_job(s, st, &ev[i], line, log, err))) return rc;
        if (ev[i].kind == JG_TUNE_EVENT_PROPOSAL) continue;
        if (k < 0) k = st->n_fly - 1;
        if ((rc = jg_tune_one_grow(st)) || (rc = jg_tune_one_finish(st, &s->space, k, t, &terr)))
            return jg_tune_fail(err, RUNTIME_RC(rc), "cannot resume %s: trial %lld: %s",
                                st->log, (long long)t->trial + st->first,
                                rc == -ENOMEM ? "out of memory" : terr.msg);
        st->rec[st->r->n++] = *t;
    }
    return 0;
}

/* Reads the study's log back and replays it: the optimiser and scheduler
 * end where the interrupted run left them. */
static int one_resume(const jg_tune_study_t *s, jg_tune_one_t *st, const jg_log_t *log,
                      jg_tune_error_t *err)
{
    jg_tune_log_meta_t lm;
    jg_tune_error_t terr = {{0}};
    char warning[512] = "", diff[700];
    int64_t n = 0;
    jg_tune_log_event_t *ev = NULL;
    int rc = jg_tune_log_read_events(st->log, &s->space, s->model, 1, &lm, &ev, &n, warning,
                                     sizeof warning, &terr);
    if (rc)
        return jg_tune_fail(err, rc == -EINVAL || rc == -ENOENT ? -EINVAL : rc,
                            "cannot resume: %s", rc == -ENOENT && !terr.msg[0]
                                                     ? strerror(-rc) : terr.msg);
    if (warning[0]) jg_tune_note(s, log, "%s", warning);
    st->first = lm.version >= 2; // a study started by an older joulegrad keeps its numbering
    if (strcmp(lm.strategy, st->r->strat.label) || lm.seed != s->cfg.seed) {
        rc = jg_tune_fail(err, -EINVAL, "cannot resume %s: it was written with --strategy "
                          "%s --seed %llu", st->log, lm.strategy, (unsigned long long)lm.seed);
    } else if (lm.run[0] && strcmp(lm.run, st->settings)) {
        settings_diff(lm.run, st->settings, diff, sizeof diff);
        rc = jg_tune_fail(err, -EINVAL, "cannot resume %s: different settings: %s", st->log,
                          diff);
    } else {
        if (!lm.run[0])
            jg_tune_note(s, log, "%s predates stored settings: make sure the flags match",
                         st->log);
        rc = replay(s, st, ev, n, log, err);
    }
    free(ev);
    if (!rc && st->n_fly)
        jg_logf(log, JG_LOG_OUT, "tune: resuming %s after %lld records; %lld jobs that were "
                "running start again first", st->log, (long long)st->r->n, (long long)st->n_fly);
    else if (!rc)
        jg_logf(log, JG_LOG_OUT, "tune: resuming %s after %lld records", st->log,
                (long long)st->r->n);
    return rc;
}

/* A new study's directory and log with its header. */
static int one_create_log(const jg_tune_study_t *s, const jg_tune_one_t *st,
                          jg_tune_error_t *err)
{
    jg_tune_log_meta_t meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.model, sizeof meta.model, "%s", s->model);
    snprintf(meta.strategy, sizeof meta.strategy, "%s", st->r->strat.label);
    snprintf(meta.run, sizeof meta.run, "%s", st->settings);
    meta.seed = s->cfg.seed;
    meta.created_s = (int64_t)time(NULL);
    int rc = jg_mkdir_p(st->r->dir);
    if (rc) return jg_tune_fail(err, RUNTIME_RC(rc), "cannot create %s: %s", st->r->dir,
                                strerror(-rc));
    rc = jg_tune_log_create(st->log, &s->space, &meta, err);
    return RUNTIME_RC(rc);
}

/* Copies cfg's strings and arrays into s; s->cfg points at the copies. */
static int study_copy(jg_tune_study_t *s, const jg_tune_study_config_t *c, jg_tune_error_t *err)
{
    if (!c->space || !c->model || !c->model_spec)
        return jg_tune_fail(err, -EINVAL, "study: NULL space or model");
    if (strlen(c->model) >= sizeof ((jg_tune_log_meta_t *)0)->model)
        return jg_tune_fail(err, -EINVAL, "study: the model's name is longer than 127 bytes");
    s->cfg = *c;
    s->space = *c->space;
    s->n = c->n_strategies;
    for (int k = 0; k < s->n; k++) {
        if (!c->settings[k] || strlen(c->settings[k]) >= JG_TUNE_SETTINGS_MAX)
            return jg_tune_fail(err, -EINVAL, "study: settings text missing or longer than "
                                "%d bytes", JG_TUNE_SETTINGS_MAX - 1);
        s->strats[k] = c->strategies[k];
        snprintf(s->settings[k], sizeof s->settings[k], "%s", c->settings[k]);
        s->settings_p[k] = s->settings[k];
    }
    s->dir = strdup(c->dir);
    s->model = strdup(c->model);
    s->spec = strdup(c->model_spec);
    s->prog = c->prog ? strdup(c->prog) : NULL;
    if (!s->dir || !s->model || !s->spec || (c->prog && !s->prog))
        return jg_tune_fail(err, -ENOMEM, "out of memory");
    s->cfg.dir = s->dir;
    s->cfg.strategies = s->strats;
    s->cfg.space = &s->space;
    s->cfg.model = s->model;
    s->cfg.model_spec = s->spec;
    s->cfg.settings = s->settings_p;
    s->cfg.prog = s->prog;
    return 0;
}

/* Strategy k's result before its first job. */
static void one_init(jg_tune_study_t *s, int k)
{
    jg_tune_one_t *st = &s->one[k];
    jg_tune_result_t *r = &s->res[k];
    st->r = r;
    st->settings = s->settings[k];
    st->first = 1;
    r->strat = s->strats[k];
    r->stopped_by = "interrupted";
    r->next_predicted_j = NAN;
    r->budget_j = s->cfg.energy_budget_j;
    r->trials_requested = s->cfg.trials;
    r->have_asha = s->cfg.asha;
    study_paths(&s->cfg, k, r->dir, sizeof r->dir, st->log, sizeof st->log, NULL);
}

int jg_tune_study_open(jg_tune_study_t **study, const jg_tune_study_config_t *cfg,
                       const jg_log_t *log, jg_tune_error_t *err)
{
    if (!study) return jg_tune_fail(err, -EINVAL, "study: NULL argument");
    *study = NULL;
    int rc = jg_tune_study_check_dir(cfg, err);
    if (rc) return rc;
    jg_tune_study_t *s = calloc(1, sizeof *s);
    if (!s) return jg_tune_fail(err, -ENOMEM, "out of memory");
    rc = study_copy(s, cfg, err);
    for (int k = 0; !rc && k < s->n; k++) one_init(s, k);
    // Strategies, schedulers and logs (created, or read back and replayed).
    for (int k = 0; !rc && k < s->n; k++) {
        jg_tune_one_t *st = &s->one[k];
        jg_tune_error_t terr = {{0}};
        rc = one_create(s, st, k, &terr);
        if (rc) {
            jg_tune_fail(err, rc, "[%s] %s", st->r->strat.label, terr.msg);
            break;
        }
        rc = s->cfg.resume && access(st->log, F_OK) == 0 ? one_resume(s, st, log, err)
                                                         : one_create_log(s, st, err);
    }
    if (rc) {
        jg_tune_study_close(s);
        return rc;
    }
    *study = s;
    return 0;
}

const jg_tune_result_t *jg_tune_study_result(const jg_tune_study_t *s, int k)
{
    return s && k >= 0 && k < s->n ? &s->res[k] : NULL;
}

void jg_tune_study_close(jg_tune_study_t *s)
{
    if (!s) return;
    for (int k = 0; k < s->n; k++) {
        jg_tune_bayes_destroy(s->one[k].bo);
        jg_tune_strategy_destroy(s->one[k].strat);
        jg_tune_asha_destroy(s->one[k].asha);
        free(s->one[k].rec);
        free(s->one[k].pts);
        free(s->one[k].fly);
    }
    free(s->dir);
    free(s->model);
    free(s->spec);
    free(s->prog);
    free(s);
}
