/* SPDX-License-Identifier: MIT */
/*
 * repro.c - the reproduction of Yarally et al., "Uncovering Energy-Efficient
 * Practices in Deep Learning Training: Preliminary Steps Towards Green AI"
 * (CAIN 2023), in one call (jg_run_reproduce).
 *
 * RQ1 runs a tuning study (jg_run_tune) for every network x lr space x
 * strategy x seed; RQ2 a measured training run (jg_run_train) with the
 * per-layer energy breakdown for every network of the 2x2x2 design, the 1..4
 * conv sweep and the two dense networks, once per repetition. Each sub-run
 * has its own directory under out (rq1/<net>/<space>/<strategy>/seed-<s>,
 * rq2/<config>/rep-<r>) and its lines in log.txt there. The results come
 * from the calls themselves; the files stay for --resume and for people.
 * Then the CSV tables, gnuplot figures and out/report.md + report.html
 * (repro_report.c; docs/reproduction.md describes every output).
 *
 * Resume skips sub-runs that finished, continues an unfinished tuning study
 * and an unfinished training run (its energy then covers both invocations).
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jg_kernels.h"
#include "repro_internal.h"
#include "run_internal.h"

/* ---- the experiments' tables (repro_internal.h) ---------------------------- */

const scale_t SCALES[N_SCALES] = {
    {"tiny", 300, 200, 2, 1, 64, 300, 200, 1, 64, 2},
    {"quick", 6000, 2000, 16, 1, 512, 0, 0, 2, 512, 3},
    {"full", 0, 0, 64, 5, 512, 0, 0, 10, 512, 5},
};

const char *const NETS[N_NETS] = {"paper-densepoly", "paper-denselinear",
                                         "paper-simplecnn"};

const repro_space_t SPACES[N_SPACES] = {
    {"lr-uniform", "lr=1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999", "uniform lr (the study's)"},
    {"lr-log", "lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999", "log-uniform lr"},
};

const repro_strat_t STRATS[N_STRATS] = {
    {"grid", "grid", NULL},
    {"random", "random", NULL},
    {"bayes-pi", "bayes", "pi"},
    {"bayes-ei", "bayes", "ei"},
};

const repro_cfg_t CFGS[N_CFGS] = {
    {"conv1-lin3-norelu", "paper-simplecnn-norelu:conv=1,linear=3", 1, 3, 0},
    {"conv4-lin3-norelu", "paper-simplecnn-norelu:conv=4,linear=3", 4, 3, 0},
    {"conv1-lin7-norelu", "paper-simplecnn-norelu:conv=1,linear=7", 1, 7, 0},
    {"conv4-lin7-norelu", "paper-simplecnn-norelu:conv=4,linear=7", 4, 7, 0},
    {"conv1-lin3-relu", "paper-simplecnn:conv=1,linear=3", 1, 3, 1},
    {"conv4-lin3-relu", "paper-simplecnn:conv=4,linear=3", 4, 3, 1},
    {"conv1-lin7-relu", "paper-simplecnn:conv=1,linear=7", 1, 7, 1},
    {"conv4-lin7-relu", "paper-simplecnn:conv=4,linear=7", 4, 7, 1},
    {"conv2-lin3-relu", "paper-simplecnn:conv=2,linear=3", 2, 3, 1},
    {"conv3-lin3-relu", "paper-simplecnn:conv=3,linear=3", 3, 3, 1},
    {"densepoly", "paper-densepoly", 0, 3, 1},
    {"denselinear", "paper-denselinear", 0, 3, 1},
};

const int SWEEP[4] = {4, 8, 9, 5};

const char *const TYPES[N_TYPES] = {"conv", "linear", "relu", "pool", "batchnorm"};

/* ---- files ---------------------------------------------------------------- */

char *jg_repro_read_text(const char *path)
{
    return jg_read_file(path, MAX_FILE, NULL);
}

cJSON *jg_repro_read_json(const char *path)
{
    char *t = jg_repro_read_text(path);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

double jg_repro_jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *jg_repro_jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void sub_path(const ctx_t *c, const sub_t *s, const char *file, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s%s%s", c->o.out, s->dir, file ? "/" : "", file ? file : "");
}

void jg_repro_fmt_time(double s, char *buf, size_t cap)
{
    const long t = s < 0 ? 0 : lround(s);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

int jg_repro_rq1_index(int seed, int net, int space, int strat)
{
    return (((seed - 1) * N_NETS + net) * N_SPACES + space) * N_STRATS + strat;
}

/* ---- a sub-run's results ---------------------------------------------------- */

/* An RQ1 study's results from its trial log (the tuning library's reader):
 * per record the cumulative joules, the best validation accuracy so far and
 * the test accuracy of that best. 1 finished (every trial logged), 0 not
 * (or no log), -1 a bad log (why set). */
static int load_tune(const ctx_t *c, sub_t *s, char *why, size_t cap)
{
    char path[4400];
    sub_path(c, s, "trials.jsonl", path, sizeof path);
    if (access(path, F_OK)) return 0;
    jg_tune_space_t sp;
    jg_tune_error_t terr = {{0}};
    jg_tune_trial_t *rec = NULL;
    int64_t n = 0;
    char warning[512];
    int rc = jg_tune_space_parse(&sp, SPACES[s->space].space, &terr);
    if (!rc) rc = jg_tune_log_read(path, &sp, NULL, 0, NULL, &rec, &n, warning, sizeof warning,
                                   &terr);
    if (rc) {
        snprintf(why, cap, "%.2000s: %.1000s", path, terr.msg);
        return -1;
    }
    free(s->t.cum_j);
    free(s->t.best_val);
    free(s->t.test_best);
    s->t.n = (int)n;
    s->t.cum_j = malloc(sizeof(double) * (size_t)(n ? n : 1));
    s->t.best_val = malloc(sizeof(double) * (size_t)(n ? n : 1));
    s->t.test_best = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (!s->t.cum_j || !s->t.best_val || !s->t.test_best) {
        free(rec);
        snprintf(why, cap, "out of memory reading %s", path);
        return -1;
    }
    double cum = 0, best = -1, test = NAN;
    s->t.source[0] = '\0';
    s->t.train_s = 0;
    for (int64_t i = 0; i < n; i++) {
        cum += rec[i].energy_j;
        if (rec[i].val_accuracy > best) { // the first on ties, as the study ranks
            best = rec[i].val_accuracy;
            test = rec[i].test_accuracy;
        }
        s->t.cum_j[i] = cum;
        s->t.best_val[i] = best;
        s->t.test_best[i] = test;
        s->t.train_s += rec[i].seconds;
        if (!s->t.source[0] || !strcmp(s->t.source, "invalid"))
            snprintf(s->t.source, sizeof s->t.source, "%s", rec[i].energy_source);
    }
    s->t.total_j = cum;
    free(rec);
    return n >= c->o.scale->trials;
}

/* The RQ2 figures of a finished training run. */
static void train_figures(sub_t *s, const jg_run_train_result_t *r)
{
    train_res_t *t = &s->r;
    const jg_attrib_summary_t *sum = jg_breakdown_summary(r->breakdown);
    t->total_j = sum->step_j;
    t->test_acc = r->eval.accuracy;
    t->seconds = 0;
    snprintf(t->source, sizeof t->source, "%s", r->source);
    for (int k = 0; k < N_TYPES; k++) {
        jg_breakdown_row_t f, b;
        t->type_j[k] = 0;
        for (int ty = 0; ty < JG_RUN_NTYPES; ty++)
            if (!strcmp(jg_run_type_names[ty], TYPES[k]) && !jg_breakdown_type_row(r->breakdown, ty, 0, &f) &&
                !jg_breakdown_type_row(r->breakdown, ty, 1, &b))
                t->type_j[k] = f.j + b.j;
    }
}

/* RQ2: a finished run's summary.json (a run this invocation did not train).
 * 1 read, 0 not finished, -1 bad (why set). */
static int load_train(const ctx_t *c, sub_t *s, char *why, size_t cap)
{
    char path[4400];
    sub_path(c, s, "summary.json", path, sizeof path);
    cJSON *j = jg_repro_read_json(path);
    if (!j) return 0;
    int rc = 1;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "energy");
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(en, "by_type");
    train_res_t *r = &s->r;
    r->test_acc = jg_repro_jnum(j, "test_accuracy");
    r->seconds = jg_repro_jnum(j, "train_seconds");
    r->total_j = jg_repro_jnum(en, "total_j");
    r->w_per_core = jg_repro_jnum(en, "assumed_w_per_core");
    snprintf(r->source, sizeof r->source, "%s", jg_repro_jstr(en, "source"));
    double sum = 0;
    for (int t = 0; t < N_TYPES; t++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(bt, TYPES[t]);
        r->type_j[t] = o ? jg_repro_jnum(o, "forward_j") + jg_repro_jnum(o, "backward_j") : 0;
        sum += r->type_j[t];
    }
    if (jg_repro_jnum(j, "epochs") != jg_repro_jnum(j, "epochs_planned")) {
        rc = 0; // stopped before its last epoch: not a finished run
    } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(en, "valid")) ||
               !isfinite(r->total_j) || !isfinite(sum) || !(r->test_acc >= 0)) {
        if (snprintf(why, cap, "%s: no valid energy breakdown (energy.status '%.64s'); delete "
                               "that directory and run again with --resume", path,
                     jg_repro_jstr(en, "status")) < 0)
            why[0] = '\0';
        rc = -1;
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- running one sub-run ------------------------------------------------- */

/* Seconds the sub-runs after i will take, from this invocation's means per
 * group (then per experiment, then overall); -1 while nothing was timed. */
static double time_left(const ctx_t *c, int i)
{
    double all_s = 0, rq_s[2] = {0, 0};
    int all_n = 0, rq_n[2] = {0, 0};
    for (int g = 0; g < N_NETS + N_CFGS; g++) {
        all_s += c->grp_s[g];
        all_n += c->grp_n[g];
        rq_s[g >= N_NETS] += c->grp_s[g];
        rq_n[g >= N_NETS] += c->grp_n[g];
    }
    if (!all_n) return -1;
    double left = 0;
    for (int k = i + 1; k < c->n_subs; k++) {
        const int g = c->subs[k].group, q = g >= N_NETS;
        left += c->grp_n[g] ? c->grp_s[g] / c->grp_n[g]
                : rq_n[q]   ? rq_s[q] / rq_n[q]
                            : all_s / all_n;
    }
    const int workers = jg_run_cluster()->size - 1; // in a job, side by side
    return workers > 1 ? left / workers : left;
}

static void describe(const sub_t *s, char *buf, size_t cap)
{
    if (s->rq == 1)
        snprintf(buf, cap, "rq1 %s %s %s seed %d", NETS[s->net], SPACES[s->space].name,
                 STRATS[s->strat].name, s->seed);
    else
        snprintf(buf, cap, "rq2 %s rep %d", CFGS[s->cfg].name, s->rep);
}

static void progress(ctx_t *c, int i, const char *action, double secs)
{
    const sub_t *s = &c->subs[i];
    char what[128], res[160], el[32], left[32] = "?";
    describe(s, what, sizeof what);
    if (s->rq == 1)
        snprintf(res, sizeof res, "%d trials, best val %.4f, %.2f J (%s)", s->t.n,
                 s->t.n ? s->t.best_val[s->t.n - 1] : 0.0, s->t.total_j, s->t.source);
    else
        snprintf(res, sizeof res, "test acc %.4f, %.2f J (%s), conv %.0f%% of it", s->r.test_acc,
                 s->r.total_j, s->r.source,
                 s->r.total_j > 0 ? 100 * s->r.type_j[0] / s->r.total_j : 0.0);
    jg_repro_fmt_time(jg_now_s() - c->t0, el, sizeof el);
    const double l = time_left(c, i);
    if (l >= 0) jg_repro_fmt_time(l, left, sizeof left);
    jg_logf(c->log, JG_LOG_OUT, "[%*d/%d] %s: %s; %s%s%.1f s | elapsed %s, about %s left",
            c->n_subs >= 100 ? 3 : 2, i + 1, c->n_subs, what, res, action, *action ? ", " : "",
            secs, el, left);
}

/* The 1-minute load average, NaN when unknown. */
static double load1(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = NAN;
    if (f && fscanf(f, "%lf", &v) != 1) v = NAN;
    if (f) fclose(f);
    return v;
}

/* Appends "dir,action,seconds,load1,train_seconds,image_epochs" to
 * DIR/progress.csv (the run's time record: the sub-run's wall seconds, the
 * 1-minute load average when it ended, the seconds it spent training and
 * the training images x epochs it trained, for the full-scale estimate). */
static void record_time(const ctx_t *c, const sub_t *s, const char *action, double secs,
                        double train_s, double image_epochs)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/progress.csv", c->o.out);
    FILE *f = fopen(path, "a");
    if (!f) return;
    if (ftell(f) == 0) fprintf(f, "dir,action,seconds,load1,train_seconds,image_epochs\n");
    fprintf(f, "%s,%s,%.3f,%.2f,%.3f,%.0f\n", s->dir, action, secs, load1(), train_s,
            image_epochs);
    fclose(f);
}

/* A sub-run's lines go to its log.txt. */
static void to_file(void *ctx, int stream, const char *line)
{
    (void)stream;
    fprintf((FILE *)ctx, "%s\n", line);
}

/* The caller asked to stop (Ctrl-C): the training run stops after a batch. */
static int poll_stop(void *ctx, const jg_train_progress_t *p)
{
    (void)p;
    const ctx_t *c = ctx;
    return c->cfg->should_stop && c->cfg->should_stop(c->cfg->ctx);
}

/* Images a trial trains on: the scale's subset less the 10% held out. */
static double trial_images(const ctx_t *c, int limit)
{
    const double n = limit ? limit : jg_repro_split_images(c->o.data.name);
    return n - llround(0.1 * n);
}

static int run_tune(ctx_t *c, sub_t *s, const char *dir, int resume, const jg_log_t *log,
                    double *image_epochs, jg_run_error_t *err)
{
    const scale_t *sc = c->o.scale;
    jg_run_tune_config_t t;
    jg_run_tune_config_default(&t);
    t.strategies = STRATS[s->strat].strategy;
    t.acquisition = STRATS[s->strat].acq;
    t.space = SPACES[s->space].space;
    t.model = NETS[s->net];
    t.out = dir;
    t.trials = sc->trials;
    t.epochs = sc->epochs;
    t.batch = sc->batch;
    t.seed = (uint64_t)s->seed;
    t.data = c->o.data;
    t.train_limit = sc->train_limit;
    t.test_limit = sc->test_limit;
    t.energy = c->cfg->energy;
    t.resume = resume;
    *image_epochs = (double)sc->trials * sc->epochs * trial_images(c, sc->train_limit);
    return jg_run_tune(&t, log, err);
}

static int run_train(ctx_t *c, sub_t *s, const char *dir, int resume, const jg_log_t *log,
                     double *train_s, double *image_epochs, int *from, jg_run_error_t *err)
{
    const scale_t *sc = c->o.scale;
    jg_run_train_config_t t = {
        .model = CFGS[s->cfg].model, .epochs = sc->rq2_epochs, .batch = sc->rq2_batch,
        .seed = (uint64_t)s->rep, .data = c->o.data, .train_limit = sc->rq2_train_limit,
        .test_limit = sc->rq2_test_limit, .out = dir, .resume = resume, .ckpt_every = 1,
        .energy = c->cfg->energy, .quiet = 1, .on_batch = poll_stop, .ctx = c, .log = log,
    };
    jg_optim_defaults(&t.optim, JG_OPT_ADAM);
    jg_run_train_result_t r;
    const int rc = jg_run_train(&t, &r, err);
    if (!rc && r.nothing_to_do) {
        jg_run_train_result_free(&r);
        return 1; // finished before, but its summary could not be read: say so below
    }
    if (!rc) {
        train_figures(s, &r);
        // reproduce has no --assume-watts: an estimate uses the default.
        s->r.w_per_core = !strcmp(r.source, "estimate") ? JG_ESTIMATE_DEFAULT_W_PER_CORE : 0;
        *train_s = r.energy_s;
        *from = r.resumed_from;
        *image_epochs = (double)sc->rq2_epochs * r.n_train;
        s->r.seconds = r.energy_s;
    }
    jg_run_train_result_free(&r);
    return rc;
}

/* What running a sub-run gave (sub_exec). */
typedef struct {
    int rc;                 /* 0, 1 (a training run finished before), or -errno */
    int resume, from;       /* continued; a training run's epochs before */
    double secs, train_s, image_epochs;
    char msg[1400];         /* why, when rc < 0 */
} sub_exec_t;

/* Whether sub-run i finished before (1, its skip line printed), is to run
 * (0; *resume: continue what is there), or is unreadable (-EBADMSG). */
static int sub_state(ctx_t *c, int i, int *resume, jg_run_error_t *err)
{
    sub_t *s = &c->subs[i];
    char path[4400], why[4600] = "";
    const int state = s->rq == 1 ? load_tune(c, s, why, sizeof why) : load_train(c, s, why, sizeof why);
    if (state < 0) return jg_run_fail(err, -EBADMSG, "%s", why);
    sub_path(c, s, s->rq == 1 ? "trials.jsonl" : "checkpoint.jgc", path, sizeof path);
    *resume = !state && access(path, F_OK) == 0;
    if (state) progress(c, i, "done before: skipped", 0);
    return state;
}

/* Runs sub-run i (a study or a training run), its lines in its log.txt. */
static void sub_exec(ctx_t *c, int i, int resume, sub_exec_t *x)
{
    sub_t *s = &c->subs[i];
    char dir[4400], logp[4400], what[128];
    memset(x, 0, sizeof *x);
    x->resume = resume;
    sub_path(c, s, NULL, dir, sizeof dir);
    sub_path(c, s, "log.txt", logp, sizeof logp);
    describe(s, what, sizeof what);
    x->rc = jg_mkdir_p(dir);
    if (x->rc) {
        snprintf(x->msg, sizeof x->msg, "cannot create %.1000s: %s", dir, strerror(-x->rc));
        return;
    }
    FILE *lf = fopen(logp, "a");
    if (!lf) {
        x->rc = -errno;
        snprintf(x->msg, sizeof x->msg, "cannot write %.1000s: %s", logp, strerror(errno));
        return;
    }
    fprintf(lf, "# %s%s\n", what, resume ? " (continued)" : "");
    const jg_log_t log = {.fn = to_file, .ctx = lf};
    jg_run_error_t serr = {{0}};
    const double t0 = jg_now_s();
    x->rc = s->rq == 1 ? run_tune(c, s, dir, resume, &log, &x->image_epochs, &serr)
                       : run_train(c, s, dir, resume, &log, &x->train_s, &x->image_epochs,
                                   &x->from, &serr);
    x->secs = jg_now_s() - t0;
    if (x->rc < 0) fprintf(lf, "error: %s\n", serr.msg);
    fclose(lf);
    if (x->rc == -ECANCELED)
        snprintf(x->msg, sizeof x->msg, "%s: interrupted (%.900s); continue with the same "
                 "options plus --resume", what, serr.msg);
    else if (x->rc < 0)
        snprintf(x->msg, sizeof x->msg, "%s: %.800s; the whole output is in %.300s", what,
                 serr.msg, logp);
}

/* After sub-run i ran: its results (from the call, or read back when
 * another rank ran it: have_results 0), the time record and its line. */
static int sub_after(ctx_t *c, int i, const sub_exec_t *x, int have_results, jg_run_error_t *err)
{
    sub_t *s = &c->subs[i];
    char why[4600] = "";
    if (x->rc < 0) return jg_run_fail(err, x->rc, "%s", x->msg);
    c->grp_s[s->group] += x->secs;
    c->grp_n[s->group]++;
    double train_s = x->train_s;
    if (s->rq == 1 && load_tune(c, s, why, sizeof why) != 1)
        return jg_run_fail(err, -EBADMSG, "%s", why[0] ? why : "the study did not finish its trials");
    if (s->rq == 1) train_s = s->t.train_s;
    if (s->rq == 2 && (x->rc == 1 || !have_results) && load_train(c, s, why, sizeof why) != 1)
        return jg_run_fail(err, -EBADMSG, "%s/%s/summary.json says the run did not finish",
                           c->o.out, s->dir);
    // A study continues its log; a training run resumes from its checkpoint
    // (its energy then covers both invocations).
    char action[64] = "";
    if (x->resume && s->rq == 1) snprintf(action, sizeof action, "continued");
    else if (x->resume) snprintf(action, sizeof action, "resumed after epoch %d", x->from);
    record_time(c, s, x->resume ? "continued" : "ran", x->secs, train_s, x->image_epochs);
    progress(c, i, action, x->secs);
    return 0;
}

/* stop_after reached: says so and returns 1. */
static int stop_here(const ctx_t *c)
{
    jg_logf(c->log, JG_LOG_OUT, "reproduce: stopped after %d sub-runs as asked (--stop-after); "
            "continue with --resume", c->executed);
    return 1;
}

/* Runs, continues or skips sub-run i in this process: 0 done (or skipped),
 * 1 stopped by stop_after, or a negative errno with err set. */
static int run_sub(ctx_t *c, int i, jg_run_error_t *err)
{
    int resume = 0;
    const int state = sub_state(c, i, &resume, err);
    if (state) return state < 0 ? state : 0;
    if (c->o.stop_after && c->executed >= c->o.stop_after) return stop_here(c);
    sub_exec_t x;
    sub_exec(c, i, resume, &x);
    if (x.rc >= 0) c->executed++;
    return sub_after(c, i, &x, 1, err);
}

/* ---- settings and plan ---------------------------------------------------- */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* Locks out (one process per reproduction) and checks or writes
 * out/reproduce.json, which holds what every sub-run depends on; a resume
 * must match it. */
static int check_settings(const ctx_t *c, int *lock_fd, jg_run_error_t *err)
{
    const opts_t *o = &c->o;
    char path[4400];
    snprintf(path, sizeof path, "%s/reproduce.json", o->out);
    struct stat st;
    if (!o->resume && stat(o->out, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(o->out)))
        return jg_run_fail(err, -EINVAL, "%s already exists and is not empty: add --resume to continue "
                    "it, or choose another --out", o->out);
    int rc = o->resume ? 0 : jg_mkdir_p(o->out);
    if (rc) return jg_run_fail(err, rc, "cannot create --out %s: %s", o->out, strerror(-rc));
    rc = jg_dir_lock(o->out, lock_fd);
    if (rc == -EBUSY)
        return jg_run_fail(err, rc, "%s is in use by another joulegrad process (pid %ld): wait for it "
                    "to finish, or choose another --out", o->out, jg_dir_lock_holder(o->out));
    if (rc == -ENOENT && o->resume)
        return jg_run_fail(err, -EINVAL, "cannot resume: %s does not exist", o->out);
    if (rc) return jg_run_fail(err, rc, "cannot lock %s: %s", o->out, strerror(-rc));
    cJSON *want = cJSON_CreateObject();
    cJSON_AddStringToObject(want, "scale", o->scale->name);
    cJSON_AddNumberToObject(want, "seeds", o->seeds);
    cJSON_AddStringToObject(want, "data", o->data.name);
    cJSON_AddStringToObject(want, "data_dir", o->data.dir ? o->data.dir : "");
    cJSON_AddStringToObject(want, "energy", o->energy);
    if (o->resume) {
        cJSON *have = jg_repro_read_json(path);
        if (!have)
            rc = jg_run_fail(err, -EINVAL, "cannot resume: %s is missing or not JSON (was %s made by "
                      "'joulegrad reproduce'?)", path, o->out);
        static const char *const keys[] = {"scale", "data", "data_dir", "energy"};
        for (size_t k = 0; !rc && k < sizeof keys / sizeof *keys; k++)
            if (strcmp(jg_repro_jstr(have, keys[k]), jg_repro_jstr(want, keys[k])))
                rc = jg_run_fail(err, -EINVAL, "cannot resume: %s was made with %s '%s', not '%s'",
                          o->out, keys[k], jg_repro_jstr(have, keys[k]),
                          jg_repro_jstr(want, keys[k]));
        if (!rc && jg_repro_jnum(have, "seeds") != o->seeds)
            rc = jg_run_fail(err, -EINVAL, "cannot resume: %s was made with --seeds %g, not %d", o->out,
                      jg_repro_jnum(have, "seeds"), o->seeds);
        cJSON_Delete(have);
    } else {
        char *text = cJSON_Print(want);
        jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
        if (!text || jg_write_atomic(path, text, strlen(text)))
            rc = jg_run_fail(err, -EIO, "cannot write %s", path);
        free(text);
    }
    cJSON_Delete(want);
    return rc;
}

/* The sub-runs of the requested experiments, seed (repetition) outermost so
 * every network is reached early and the time estimate settles soon. */
static int plan(ctx_t *c)
{
    const int S = c->o.seeds;
    const int n1 = c->o.rq1 ? S * N_NETS * N_SPACES * N_STRATS : 0;
    const int n2 = c->o.rq2 ? S * N_CFGS : 0;
    c->subs = calloc((size_t)(n1 + n2), sizeof *c->subs);
    if (!c->subs) return -ENOMEM;
    c->n_rq1 = n1;
    c->n_subs = n1 + n2;
    for (int seed = 1; seed <= S && n1; seed++)
        for (int net = 0; net < N_NETS; net++)
            for (int sp = 0; sp < N_SPACES; sp++)
                for (int st = 0; st < N_STRATS; st++) {
                    sub_t *s = &c->subs[jg_repro_rq1_index(seed, net, sp, st)];
                    *s = (sub_t){.rq = 1, .net = net, .space = sp, .strat = st, .seed = seed,
                                 .group = net};
                    snprintf(s->dir, sizeof s->dir, "rq1/%s/%s/%s/seed-%d", NETS[net],
                             SPACES[sp].name, STRATS[st].name, seed);
                }
    for (int rep = 1; rep <= S && n2; rep++)
        for (int k = 0; k < N_CFGS; k++) {
            sub_t *s = &c->subs[n1 + (rep - 1) * N_CFGS + k];
            *s = (sub_t){.rq = 2, .cfg = k, .rep = rep, .group = N_NETS + k};
            snprintf(s->dir, sizeof s->dir, "rq2/%s/rep-%d", CFGS[k].name, rep);
        }
    return 0;
}

/* With the estimate source (CPU time x watts) OpenMP's spin-waiting counts
 * as work: on a 2-core VM, 2 threads gave repetitions of the same run +-15%
 * apart and flipped a verdict, 1 thread +-2%. So without a thread count, an
 * estimate study runs single-threaded (said in the log and the report);
 * RAPL measures the spinning the CPU really does and keeps the default.
 * Returns 1 when the meter would be estimate. */
static int meter_is_estimate(jg_energy_mode_t mode)
{
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.mode = mode;
    jg_meter_t *m = NULL;
    jg_energy_status_t st;
    memset(&st, 0, sizeof st);
    const int est = !jg_meter_open(&m, &cfg, &st) && m &&
                    jg_meter_source(m) == JG_ENERGY_SOURCE_ESTIMATE;
    jg_meter_close(m);
    return est;
}

/* cfg resolved into c->o. */
static int resolve(ctx_t *c, const jg_repro_config_t *cfg, jg_run_error_t *err)
{
    opts_t *o = &c->o;
    const char *what = cfg->what ? cfg->what : "all";
    if (strcmp(what, "rq1") && strcmp(what, "rq2") && strcmp(what, "all"))
        return jg_run_fail(err, -EINVAL, "say which experiment: rq1, rq2 or all");
    o->what = what;
    o->rq1 = strcmp(what, "rq2") != 0;
    o->rq2 = strcmp(what, "rq1") != 0;
    o->scale = NULL;
    for (int i = 0; i < N_SCALES; i++)
        if (!strcmp(cfg->scale ? cfg->scale : "quick", SCALES[i].name)) o->scale = &SCALES[i];
    if (!o->scale) return jg_run_fail(err, -EINVAL, "--scale must be tiny, quick or full, got '%s'", cfg->scale);
    if (!cfg->out) return jg_run_fail(err, -EINVAL, "--out is required");
    if (!cfg->data.name || !strcmp(cfg->data.name, "folder") ||
        !jg_data_source_known(cfg->data.name))
        return jg_run_fail(err, -EINVAL, "--data must be fashion-mnist, cifar10 or synthetic (the "
                    "study's networks need fixed-size images)");
    if (!strcmp(cfg->data.name, "cifar10") && !cfg->data.dir)
        return jg_run_fail(err, -EINVAL, "--data cifar10 needs --data-dir DIR (data_batch_*.bin and "
                    "test_batch.bin)");
    if (cfg->energy == JG_ENERGY_MODE_OFF)
        return jg_run_fail(err, -EINVAL, "--energy off leaves nothing to compare: use auto, rapl or "
                    "estimate");
    if (cfg->seeds < 0 || cfg->threads < 0 || cfg->stop_after < 0)
        return jg_run_fail(err, -EINVAL, "bad reproduction settings");
    o->seeds = cfg->seeds ? cfg->seeds : o->scale->seeds;
    o->threads = cfg->threads;
    o->resume = cfg->resume;
    o->stop_after = cfg->stop_after;
    o->data = cfg->data;
    o->energy = cfg->energy == JG_ENERGY_MODE_RAPL ? "rapl"
              : cfg->energy == JG_ENERGY_MODE_ESTIMATE ? "estimate" : "auto";
    o->out = cfg->out;
    return 0;
}

/* ---- over the ranks of an MPI job ----------------------------------------
 * Rank 0 coordinates: it decides what each sub-run needs (skip, run,
 * continue), hands the next one to whichever rank is free and, when that
 * rank reports, reads its results back and prints its line; the other ranks
 * run whole sub-runs, each alone with its own threads. */

enum { TAG_WORK = 11, TAG_DONE = 12 };
typedef struct {
    int32_t index, resume; /* index < 0: no more work */
} work_msg_t;
typedef struct {
    int32_t index;         /* < 0: ready for work */
    sub_exec_t x;
} done_msg_t;

/* The next sub-run to hand out (its index and resume flag in *w), or none
 * (w->index < 0, *stopped when stop_after ended it). */
static int next_work(ctx_t *c, int *next, int *stopped, work_msg_t *w, jg_run_error_t *err)
{
    w->index = -1;
    for (; *next < c->n_subs; ++*next) {
        int resume = 0;
        const int st = sub_state(c, *next, &resume, err);
        if (st < 0) return st;
        if (st > 0) continue;
        if (c->o.stop_after && c->executed >= c->o.stop_after) {
            *stopped = stop_here(c);
            return 0;
        }
        w->index = (*next)++;
        w->resume = resume;
        c->executed++;
        return 0;
    }
    return 0;
}

/* Rank 0: hands out sub-runs until none is left (or one failed) and every
 * other rank has been told to stop. */
static int coordinate(ctx_t *c, int *stopped, jg_run_error_t *err)
{
    const int workers = jg_run_cluster()->size - 1;
    int next = 0, retired = 0, rc = 0;
    while (retired < workers) {
        done_msg_t d;
        int from = 0;
        if (jg_cl_recv(&d, sizeof d, -1, &from, NULL))
            return jg_run_fail(err, -EIO, "MPI: lost contact with the ranks");
        if (d.index >= 0 && !rc) rc = sub_after(c, d.index, &d.x, 0, err);
        work_msg_t w = {-1, 0};
        if (!rc && !*stopped) rc = next_work(c, &next, stopped, &w, err);
        if (w.index < 0) retired++;
        if (jg_cl_send(&w, sizeof w, from, TAG_WORK))
            return jg_run_fail(err, -EIO, "MPI: lost contact with rank %d", from);
    }
    return rc;
}

/* The other ranks: run the sub-runs rank 0 hands out, alone. */
static int serve(ctx_t *c)
{
    done_msg_t d;
    memset(&d, 0, sizeof d);
    d.index = -1;
    for (;;) {
        work_msg_t w;
        if (jg_cl_send(&d, sizeof d, 0, TAG_DONE) || jg_cl_recv(&w, sizeof w, 0, NULL, NULL))
            return -EIO;
        if (w.index < 0 || w.index >= c->n_subs) return 0;
        jg_cl_set_solo(1);
        sub_exec(c, w.index, w.resume, &d.x);
        jg_cl_set_solo(0);
        d.index = w.index;
    }
}

/* Every sub-run, in this process or over the job's ranks; *stopped when
 * stop_after ended it. */
static int run_subs(ctx_t *c, int *stopped, jg_run_error_t *err)
{
    if (jg_run_cluster()->size > 1) return coordinate(c, stopped, err);
    int rc = 0;
    for (int i = 0; !rc && !*stopped && i < c->n_subs; i++) {
        rc = run_sub(c, i, err);
        *stopped = rc == 1;
        if (*stopped) rc = 0;
    }
    return rc;
}

int jg_run_reproduce(const jg_repro_config_t *cfg, jg_run_error_t *err)
{
    if (err) err->msg[0] = '\0';
    ctx_t c;
    memset(&c, 0, sizeof c);
    if (!cfg) return jg_run_fail(err, -EINVAL, "no settings");
    c.cfg = cfg;
    c.log = cfg->log;
    int rc = resolve(&c, cfg, err);
    if (rc) return rc;
    const jg_run_cluster_t *cl = jg_run_cluster();
    const int lead = cl->rank == 0;
    const int one_thread = !c.o.threads && meter_is_estimate(cfg->energy);
    if (one_thread) c.o.threads = 1;
    if (c.o.threads && (rc = jg_kernels_set_threads(c.o.threads)))
        return jg_run_fail(err, -EINVAL, "--threads %d: %s", c.o.threads,
                    rc == -ENOTSUP ? "not built with OpenMP (only 1 thread)" : strerror(-rc));
    int lock_fd = -1;
    if (lead) rc = check_settings(&c, &lock_fd, err);
    if ((rc = jg_cl_agree(rc)) && !lead)
        jg_run_fail(err, rc, "rank 0 could not start the reproduction (its message says why)");
    if (!rc && one_thread)
        jg_logf(c.log, JG_LOG_OUT, "reproduce: energy source estimate (CPU time), so 1 kernel "
                "thread: OpenMP's spin-waiting would count as work (--threads overrides)");
    if (!rc && plan(&c)) rc = jg_run_fail(err, -ENOMEM, "out of memory");
    c.t0 = jg_now_s();
    if (!rc)
        jg_logf(c.log, JG_LOG_OUT, "reproduce: %s at scale %s: %d sub-runs (%d tuning studies, "
                "%d training runs), %d seed(s), data %s, energy %s, out %s%s%s", c.o.what,
                c.o.scale->name, c.n_subs, c.n_rq1, c.n_subs - c.n_rq1, c.o.seeds, c.o.data.name,
                c.o.energy, c.o.out, c.o.resume ? " (resuming)" : "",
                cl->size > 1 ? ", sub-runs spread over the ranks but rank 0" : "");
    int stopped = 0;
    if (!rc && !lead) rc = serve(&c);
    else if (!rc) rc = run_subs(&c, &stopped, err);
    if (!rc && !stopped && lead) {
        rc = jg_repro_write_report(&c);
        char el[32];
        jg_repro_fmt_time(jg_now_s() - c.t0, el, sizeof el);
        if (rc) jg_run_fail(err, rc, "writing the report in %s: %s", c.o.out, strerror(-rc));
        else
            jg_logf(c.log, JG_LOG_OUT, "reproduce: wrote %s/report.md and %s/report.html (%s)",
                    c.o.out, c.o.out, el);
    }
    for (int i = 0; i < c.n_subs; i++) {
        free(c.subs[i].t.cum_j);
        free(c.subs[i].t.best_val);
        free(c.subs[i].t.test_best);
    }
    free(c.subs);
    jg_dir_unlock(lock_fd);
    return rc;
}
