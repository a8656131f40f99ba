/* SPDX-License-Identifier: MIT */
/*
 * study_out.c - a study's files: best_vs_energy.csv, pareto.csv and
 * summary.json per strategy; with several strategies the comparison
 * (comparison.csv, summary.json and the table for people); the gnuplot
 * figures. Everything is recomputed from the records, so a resumed study
 * writes the same files as one never stopped.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "study_internal.h"

double jg_tune_best(const jg_tune_trial_t *rec, int64_t n, int64_t *best)
{
    double cum_j = 0;
    *best = -1;
    for (int64_t i = 0; i < n; i++) {
        cum_j += rec[i].energy_j;
        if (*best < 0 || rec[i].val_accuracy > rec[*best].val_accuracy) *best = i;
    }
    return cum_j;
}

int64_t jg_tune_reach(const jg_tune_trial_t *rec, int64_t n, double target, double *joules)
{
    double cum_j = 0;
    for (int64_t i = 0; i < n; i++) {
        cum_j += rec[i].energy_j;
        if (rec[i].val_accuracy >= target) {
            *joules = cum_j;
            return i;
        }
    }
    *joules = NAN;
    return -1;
}

/* Per trial (not per record): the joules of all its records and the
 * validation accuracy of its last one. Trial ids index the arrays. */
typedef struct {
    int64_t n;          /* trial ids 0..n-1 */
    double *j, *acc;    /* (n); acc NAN for ids without a record */
    int64_t *last;      /* (n) record index of the trial's last record */
} per_trial_t;

static int per_trial(const jg_tune_trial_t *rec, int64_t n, per_trial_t *pt)
{
    memset(pt, 0, sizeof *pt);
    for (int64_t i = 0; i < n; i++)
        if (rec[i].trial + 1 > pt->n) pt->n = rec[i].trial + 1;
    const size_t m = pt->n ? (size_t)pt->n : 1;
    pt->j = calloc(m, sizeof *pt->j);
    pt->acc = malloc(m * sizeof *pt->acc);
    pt->last = malloc(m * sizeof *pt->last);
    if (!pt->j || !pt->acc || !pt->last) return -ENOMEM;
    for (int64_t t = 0; t < pt->n; t++) pt->acc[t] = NAN, pt->last[t] = -1;
    for (int64_t i = 0; i < n; i++) {
        const int64_t t = rec[i].trial;
        pt->j[t] += rec[i].energy_j;
        pt->acc[t] = rec[i].val_accuracy;
        pt->last[t] = i;
    }
    return 0;
}

static void per_trial_free(per_trial_t *pt)
{
    free(pt->j);
    free(pt->acc);
    free(pt->last);
}

/* Indices (into pt) of the non-dominated trials, by joules ascending. */
static int front(const per_trial_t *pt, int *idx, int *n_front)
{
    // jg_tune_pareto_front takes int counts: studies are capped far below.
    if (pt->n > INT_MAX) return -EOVERFLOW;
    double *acc = malloc(((size_t)pt->n + 1) * sizeof *acc);
    double *j = malloc(((size_t)pt->n + 1) * sizeof *j);
    int *map = malloc(((size_t)pt->n + 1) * sizeof *map);
    int m = 0, rc = acc && j && map ? 0 : -ENOMEM;
    for (int64_t t = 0; !rc && t < pt->n; t++)
        if (!isnan(pt->acc[t])) acc[m] = pt->acc[t], j[m] = pt->j[t], map[m++] = (int)t;
    *n_front = 0;
    if (!rc && m) rc = jg_tune_pareto_front(acc, j, m, idx, n_front);
    for (int k = 0; !rc && k < *n_front; k++) idx[k] = map[idx[k]];
    free(acc);
    free(j);
    free(map);
    return rc;
}

/* A study's Pareto front: its per-trial figures and the indices (into
 * them) of the non-dominated trials, by joules ascending. */
typedef struct {
    per_trial_t pt;
    int *idx; /* (nf) */
    int nf;
} front_t;

static int front_build(const jg_tune_trial_t *rec, int64_t n, front_t *f)
{
    memset(f, 0, sizeof *f);
    int rc = per_trial(rec, n, &f->pt);
    if (!rc) rc = (f->idx = malloc(((size_t)f->pt.n + 1) * sizeof *f->idx)) ? 0 : -ENOMEM;
    if (!rc) rc = front(&f->pt, f->idx, &f->nf);
    return rc;
}

static void front_free(front_t *f)
{
    free(f->idx);
    per_trial_free(&f->pt);
}

static cJSON *params_json(const jg_tune_space_t *sp, const jg_tune_point_t *p)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < sp->n_dims; i++) {
        const jg_tune_dim_t *d = &sp->dims[i];
        if (d->kind == JG_TUNE_CAT) cJSON_AddStringToObject(o, d->name, d->cats[(int)p->v[i]]);
        else cJSON_AddNumberToObject(o, d->name, p->v[i]);
    }
    return o;
}

static int write_json(const char *dir, const char *name, cJSON *j)
{
    char *text = j ? cJSON_Print(j) : NULL;
    jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
    cJSON_Delete(j);
    if (!text) return -ENOMEM;
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "%s\n", text);
    free(text);
    return jg_sb_write(dir, name, &b);
}

/* best_vs_energy.csv: one row per record (the study's main figure). */
static int write_best_csv(const jg_tune_result_t *r, const char *source)
{
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "# joulegrad tune, strategy %s; energy source: %s\n"
                     "record,trial,rung,epochs,energy_j,cumulative_j,val_accuracy,"
                     "best_val_accuracy,test_accuracy_of_best\n", r->strat.label, source);
    double cum_j = 0;
    int64_t best = -1;
    for (int64_t i = 0; i < r->n; i++) {
        const jg_tune_trial_t *t = &r->rec[i];
        cum_j += t->energy_j;
        if (best < 0 || t->val_accuracy > r->rec[best].val_accuracy) best = i;
        // Records and trials count from 1 here as on screen and in the log.
        jg_sb_printf(&b, "%lld,%lld,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f\n", (long long)i + 1,
                     (long long)t->trial + 1, t->rung, t->epochs, t->energy_j, cum_j,
                     t->val_accuracy, r->rec[best].val_accuracy, r->rec[best].test_accuracy);
    }
    return jg_sb_write(r->dir, "best_vs_energy.csv", &b);
}

/* pareto.csv: the trials no other trial beats on both accuracy and joules. */
static int write_pareto_csv(const jg_tune_result_t *r, const front_t *f, const char *source)
{
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "# joulegrad tune, strategy %s: Pareto front of validation accuracy "
                     "(higher) against the trial's joules (lower); energy source: %s\n"
                     "trial,energy_j,val_accuracy,test_accuracy\n", r->strat.label, source);
    for (int k = 0; k < f->nf; k++) {
        const jg_tune_trial_t *t = &r->rec[f->pt.last[f->idx[k]]];
        jg_sb_printf(&b, "%lld,%.6f,%.6f,%.6f\n", (long long)t->trial + 1, f->pt.j[f->idx[k]],
                     t->val_accuracy, t->test_accuracy);
    }
    return jg_sb_write(r->dir, "pareto.csv", &b);
}

/* The summary's proposals (this invocation's: a resume replays the rest),
 * budget and early stopping. */
static void add_run_state(cJSON *j, const jg_tune_result_t *r)
{
    if (r->proposals) {
        cJSON *p = cJSON_AddObjectToObject(j, "proposals");
        cJSON_AddNumberToObject(p, "count", (double)r->proposals);
        cJSON_AddNumberToObject(p, "seconds", r->propose_s);
        cJSON_AddNumberToObject(p, "last_seconds", r->propose_last_s);
    }
    if (r->budget_j > 0) {
        cJSON_AddNumberToObject(j, "energy_budget_j", r->budget_j);
        if (isfinite(r->next_predicted_j))
            cJSON_AddNumberToObject(j, "next_trial_predicted_j", r->next_predicted_j);
    }
    if (r->have_asha) {
        cJSON *a = cJSON_AddObjectToObject(j, "early_stopping");
        cJSON_AddStringToObject(a, "method", "asha");
        cJSON_AddNumberToObject(a, "epochs_trained", (double)r->asha.epochs_trained);
        cJSON_AddNumberToObject(a, "epochs_without_stopping", (double)r->asha.epochs_full);
        cJSON_AddNumberToObject(a, "energy_saved_estimate_j", r->asha.joules_saved_est);
        // false: stopped before the scheduler finished (budget, interruption),
        // so the estimate counts trials that may still be promoted
        cJSON_AddBoolToObject(a, "finished", !strcmp(r->stopped_by, "asha"));
    }
}

static void add_front(cJSON *j, const jg_tune_result_t *r, const jg_tune_space_t *sp,
                      const front_t *f)
{
    cJSON *pf = cJSON_AddArrayToObject(j, "pareto_front");
    for (int k = 0; pf && k < f->nf; k++) {
        const jg_tune_trial_t *t = &r->rec[f->pt.last[f->idx[k]]];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "trial", (double)t->trial + 1);
        cJSON_AddNumberToObject(e, "energy_j", f->pt.j[f->idx[k]]);
        cJSON_AddNumberToObject(e, "val_accuracy", t->val_accuracy);
        cJSON_AddItemToObject(e, "params", params_json(sp, &t->params));
        cJSON_AddItemToArray(pf, e);
    }
}

/* The study's summary.json, NULL when out of memory. */
static cJSON *summary_json(const jg_tune_result_t *r, const jg_tune_space_t *sp,
                           const char *space_text, const char *spec, const char *settings,
                           const char *source, const front_t *f)
{
    cJSON *j = cJSON_CreateObject();
    if (!j) return NULL;
    int64_t best;
    const double cum_j = jg_tune_best(r->rec, r->n, &best);
    cJSON_AddStringToObject(j, "strategy", r->strat.label);
    if (!strcmp(r->strat.kind, "bayes"))
        cJSON_AddStringToObject(j, "acquisition", jg_tune_acq_name(r->strat.acq));
    cJSON_AddStringToObject(j, "space", space_text);
    cJSON_AddStringToObject(j, "model", spec);
    cJSON_AddStringToObject(j, "settings", settings);
    cJSON_AddNumberToObject(j, "trials", (double)f->pt.n);
    cJSON_AddNumberToObject(j, "records", (double)r->n);
    cJSON_AddNumberToObject(j, "trials_requested", (double)r->trials_requested);
    cJSON_AddStringToObject(j, "stopped_by", r->stopped_by);
    if (best >= 0) {
        const jg_tune_trial_t *t = &r->rec[best];
        cJSON_AddNumberToObject(j, "best_trial", (double)t->trial + 1);
        cJSON_AddNumberToObject(j, "best_epochs", t->epochs);
        cJSON_AddItemToObject(j, "best_params", params_json(sp, &t->params));
        cJSON_AddNumberToObject(j, "best_val_accuracy", t->val_accuracy);
        cJSON_AddNumberToObject(j, "best_test_accuracy", t->test_accuracy);
    }
    cJSON_AddNumberToObject(j, "total_energy_j", cum_j);
    cJSON_AddStringToObject(j, "energy_source", source);
    double train_s = 0;
    for (int64_t i = 0; i < r->n; i++) train_s += r->rec[i].seconds;
    cJSON_AddNumberToObject(j, "training_seconds", train_s);
    add_run_state(j, r);
    add_front(j, r, sp, f);
    return j;
}

int jg_tune_write_study(const jg_tune_result_t *r, const jg_tune_space_t *sp,
                        const char *spec, const char *settings, const char *source)
{
    char space_text[JG_TUNE_SPACE_TEXT_MAX];
    if (jg_tune_space_format(sp, space_text, sizeof space_text)) return -ENOSPC;
    int rc = write_best_csv(r, source);
    if (rc) return rc;
    front_t f;
    rc = front_build(r->rec, r->n, &f);
    if (!rc) rc = write_pareto_csv(r, &f, source);
    if (!rc)
        rc = write_json(r->dir, "summary.json",
                        summary_json(r, sp, space_text, spec, settings, source, &f));
    front_free(&f);
    return rc;
}

/* Per study: the comparison's figures against a target accuracy. */
typedef struct {
    int64_t best;         /* record index of the best */
    double best_val, best_test; /* its accuracies, NAN without records */
    double total_j;
    int64_t trials98, trials99, trials_common; /* records to reach, -1 never */
    double j98, j99, j_common;
} cmp_t;

/* c[k] for every study, and the best accuracy of any study (top) and the
 * best every study reached (common). */
static void cmp_compute(const jg_tune_result_t *r, int n, cmp_t *c, double *top, double *common)
{
    *top = -INFINITY;
    *common = INFINITY;
    for (int k = 0; k < n; k++) {
        c[k].total_j = jg_tune_best(r[k].rec, r[k].n, &c[k].best);
        const double b = c[k].best >= 0 ? r[k].rec[c[k].best].val_accuracy : -INFINITY;
        if (b > *top) *top = b;
        if (b < *common) *common = b;
        c[k].best_val = c[k].best >= 0 ? r[k].rec[c[k].best].val_accuracy : NAN;
        c[k].best_test = c[k].best >= 0 ? r[k].rec[c[k].best].test_accuracy : NAN;
    }
    for (int k = 0; k < n; k++) {
        c[k].trials98 = jg_tune_reach(r[k].rec, r[k].n, 0.98 * *top, &c[k].j98);
        c[k].trials99 = jg_tune_reach(r[k].rec, r[k].n, 0.99 * *top, &c[k].j99);
        c[k].trials_common = jg_tune_reach(r[k].rec, r[k].n, *common, &c[k].j_common);
    }
}

/* One row of the table for people. */
static void cmp_text_row(jg_sbuf_t *t, const jg_tune_result_t *r, const cmp_t *x)
{
    char s98[40] = "never", s99[40] = "never", sc[40] = "never";
    if (x->trials98 >= 0)
        snprintf(s98, sizeof s98, "%.1f (%lld)", x->j98, (long long)x->trials98 + 1);
    if (x->trials99 >= 0)
        snprintf(s99, sizeof s99, "%.1f (%lld)", x->j99, (long long)x->trials99 + 1);
    if (x->trials_common >= 0)
        snprintf(sc, sizeof sc, "%.1f (%lld)", x->j_common, (long long)x->trials_common + 1);
    jg_sb_printf(t, "%-18s %7lld %9.4f %9.4f %12.1f %16s %16s %16s\n", r->strat.label,
                 (long long)r->n, x->best_val, x->best_test, x->total_j, s98, s99, sc);
}

/* One study's entry of the comparison's summary.json. */
static cJSON *cmp_json(const jg_tune_result_t *r, const cmp_t *x)
{
    cJSON *e = cJSON_CreateObject();
    if (!e) return NULL;
    cJSON_AddStringToObject(e, "strategy", r->strat.label);
    cJSON_AddStringToObject(e, "dir", r->dir);
    cJSON_AddNumberToObject(e, "records", (double)r->n);
    cJSON_AddStringToObject(e, "stopped_by", r->stopped_by);
    if (x->best >= 0) {
        cJSON_AddNumberToObject(e, "best_val_accuracy", x->best_val);
        cJSON_AddNumberToObject(e, "best_test_accuracy", x->best_test);
    }
    cJSON_AddNumberToObject(e, "total_energy_j", x->total_j);
    const struct { const char *j, *n; double jv; int64_t nv; } reach[3] = {
        {"energy_to_98pct_j", "records_to_98pct", x->j98, x->trials98},
        {"energy_to_99pct_j", "records_to_99pct", x->j99, x->trials99},
        {"energy_to_common_best_j", "records_to_common_best", x->j_common, x->trials_common},
    };
    for (int q = 0; q < 3; q++) {
        if (reach[q].nv < 0) continue; // absent: never reached
        cJSON_AddNumberToObject(e, reach[q].j, reach[q].jv);
        cJSON_AddNumberToObject(e, reach[q].n, (double)reach[q].nv + 1);
    }
    return e;
}

int jg_tune_write_comparison(const char *dir, const jg_tune_result_t *r, int n,
                             const char *source, jg_sbuf_t *table)
{
    cmp_t c[JG_TUNE_MAX_STRATEGIES];
    double top, common; // best of any study, best that all reach
    cmp_compute(r, n, c, &top, &common);
    jg_sbuf_t b = {0}, t = {0};
    jg_sb_printf(&b, "# joulegrad tune comparison; best validation accuracy of any strategy "
                     "%.6f, reached by all %.6f; energy source: %s\n"
                     "strategy,records,best_val_accuracy,test_accuracy_of_best,total_j,"
                     "j_to_98pct,records_to_98pct,j_to_99pct,records_to_99pct,"
                     "j_to_common_best,records_to_common_best\n", top, common, source);
    jg_sb_printf(&t, "\ncomparison (best validation accuracy of any strategy %.4f; energy "
                     "source: %s):\n%-18s %7s %9s %9s %12s %16s %16s %16s\n", top, source,
                 "strategy", "records", "best val", "test", "total J", "J (records) to 98%",
                 "J (records) 99%", "J to common best");
    cJSON *j = cJSON_CreateObject();
    cJSON *arr = j ? cJSON_AddArrayToObject(j, "strategies") : NULL;
    for (int k = 0; k < n; k++) {
        const cmp_t *x = &c[k];
        jg_sb_printf(&b, "%s,%lld,%.6f,%.6f,%.6f,%.6f,%lld,%.6f,%lld,%.6f,%lld\n",
                     r[k].strat.label, (long long)r[k].n, x->best_val, x->best_test,
                     x->total_j, x->j98, (long long)(x->trials98 < 0 ? -1 : x->trials98 + 1),
                     x->j99, (long long)(x->trials99 < 0 ? -1 : x->trials99 + 1), x->j_common,
                     (long long)(x->trials_common < 0 ? -1 : x->trials_common + 1));
        cmp_text_row(&t, &r[k], x);
        cJSON *e = arr ? cmp_json(&r[k], x) : NULL;
        if (e) cJSON_AddItemToArray(arr, e);
    }
    jg_sb_printf(&t, "(98%%/99%% of %.4f; the common best %.4f is the best accuracy every "
                     "strategy reached; 'records' counts trials, or rungs with early "
                     "stopping)\n", top, common);
    if (j) {
        cJSON_AddNumberToObject(j, "best_val_accuracy", top);
        cJSON_AddNumberToObject(j, "common_best_val_accuracy", common);
        cJSON_AddStringToObject(j, "energy_source", source);
    }
    int rc = jg_sb_write(dir, "comparison.csv", &b);
    if (!rc) rc = write_json(dir, "summary.json", j);
    else cJSON_Delete(j);
    if (!rc) rc = t.err;
    if (rc) {
        free(t.p);
        return rc;
    }
    *table = t;
    return 0;
}

/* best_vs_energy.dat and pareto.dat: one gnuplot index block per study
 * (two blank lines between). */
static int figures_data(const char *dir, const jg_tune_result_t *r, int n, const char *source)
{
    jg_sbuf_t d = {0}, p = {0};
    jg_sb_printf(&d, "# joulegrad tune: best validation accuracy against cumulative joules "
                     "[source: %s]\n# cumulative_j best_val_accuracy\n", source);
    jg_sb_printf(&p, "# joulegrad tune: each trial's validation accuracy and joules [source: "
                     "%s]; per study: all trials, then its Pareto front\n# energy_j "
                     "val_accuracy\n", source);
    int rc = 0;
    for (int k = 0; k < n && !rc; k++) {
        double cum_j = 0, best = -INFINITY;
        jg_sb_printf(&d, "# %s\n0 NaN\n", r[k].strat.label);
        for (int64_t i = 0; i < r[k].n; i++) {
            cum_j += r[k].rec[i].energy_j;
            if (r[k].rec[i].val_accuracy > best) best = r[k].rec[i].val_accuracy;
            jg_sb_printf(&d, "%.9g %.9g\n", cum_j, best);
        }
        jg_sb_printf(&d, "\n\n");
        front_t f;
        rc = front_build(r[k].rec, r[k].n, &f);
        jg_sb_printf(&p, "# %s: trials\n", r[k].strat.label);
        for (int64_t t = 0; !rc && t < f.pt.n; t++)
            if (!isnan(f.pt.acc[t])) jg_sb_printf(&p, "%.9g %.9g\n", f.pt.j[t], f.pt.acc[t]);
        jg_sb_printf(&p, "\n\n# %s: Pareto front\n", r[k].strat.label);
        for (int q = 0; !rc && q < f.nf; q++)
            jg_sb_printf(&p, "%.9g %.9g\n", f.pt.j[f.idx[q]], f.pt.acc[f.idx[q]]);
        jg_sb_printf(&p, "\n\n");
        front_free(&f);
    }
    if (!rc) rc = jg_sb_write(dir, "best_vs_energy.dat", &d);
    else free(d.p);
    if (!rc) rc = jg_sb_write(dir, "pareto.dat", &p);
    else free(p.p);
    return rc;
}

/* best_vs_energy.gp and pareto.gp, reading the data from absdir. */
static int figures_scripts(const char *dir, const char *absdir, const jg_tune_result_t *r,
                           int n, const char *source)
{
    jg_sbuf_t g = {0}, h = {0};
    jg_gp_head(&g, absdir, "best validation accuracy against cumulative joules", "best_vs_energy");
    jg_sb_printf(&g, "set title \"best validation accuracy so far against cumulative energy "
                     "[source: %s]\"\nset xlabel 'cumulative energy (J)'\n"
                     "set ylabel 'best validation accuracy'\nset grid\nset key bottom right\n"
                     "plot ", source);
    for (int k = 0; k < n; k++)
        jg_sb_printf(&g, "%sdir.'/best_vs_energy.dat' index %d using 1:2 with steps lw 2 "
                         "title '%s'", k ? ", \\\n     " : "", k, r[k].strat.label);
    jg_sb_printf(&g, "\n");
    jg_gp_tail(&g, "best_vs_energy");
    jg_gp_head(&h, absdir, "accuracy against joules per trial, with the Pareto front", "pareto");
    jg_sb_printf(&h, "set title \"validation accuracy against the trial's energy, Pareto "
                     "fronts as lines [source: %s]\"\nset xlabel 'energy of the trial (J)'\n"
                     "set ylabel 'validation accuracy'\nset grid\nset key bottom right\n"
                     "plot ", source);
    for (int k = 0; k < n; k++)
        jg_sb_printf(&h, "%sdir.'/pareto.dat' index %d using 1:2 with points pt 7 ps 0.6 "
                         "lc %d title '%s', dir.'/pareto.dat' index %d using 1:2 with steps "
                         "lw 2 lc %d notitle", k ? ", \\\n     " : "", 2 * k, k + 1,
                     r[k].strat.label, 2 * k + 1, k + 1);
    jg_sb_printf(&h, "\n");
    jg_gp_tail(&h, "pareto");
    int rc = jg_sb_write(dir, "best_vs_energy.gp", &g);
    if (!rc) rc = jg_sb_write(dir, "pareto.gp", &h);
    else free(h.p);
    return rc;
}

int jg_tune_write_figures(const char *dir, const jg_tune_result_t *r, int n,
                          const char *source, char *msg, size_t cap)
{
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) return -errno;
    int rc = figures_data(dir, r, n, source);
    if (!rc) rc = figures_scripts(dir, absdir, r, n, source);
    if (rc) return rc;
    static const char *const names[2] = {"best_vs_energy", "pareto"};
    return jg_gp_run(absdir, names, 2, msg, cap);
}
