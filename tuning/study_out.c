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
    cJSON_Delete(j);
    if (!text) return -ENOMEM;
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "%s\n", text);
    free(text);
    return jg_sb_write(dir, name, &b);
}

int jg_tune_write_study(const jg_tune_result_t *r, const jg_tune_space_t *sp,
                        const char *spec, const char *settings, const char *source)
{
    char space_text[JG_TUNE_SPACE_TEXT_MAX];
    if (jg_tune_space_format(sp, space_text, sizeof space_text)) return -ENOSPC;

    // best_vs_energy.csv: one row per record (the study's main figure).
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
        jg_sb_printf(&b, "%lld,%lld,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f\n", (long long)i,
                     (long long)t->trial, t->rung, t->epochs, t->energy_j, cum_j,
                     t->val_accuracy, r->rec[best].val_accuracy, r->rec[best].test_accuracy);
    }
    int rc = jg_sb_write(r->dir, "best_vs_energy.csv", &b);
    if (rc) return rc;

    // pareto.csv: the trials no other trial beats on both accuracy and joules.
    per_trial_t pt;
    int *idx = NULL, nf = 0;
    rc = per_trial(r->rec, r->n, &pt);
    if (!rc) rc = (idx = malloc(((size_t)pt.n + 1) * sizeof *idx)) ? 0 : -ENOMEM;
    if (!rc) rc = front(&pt, idx, &nf);
    jg_sb_printf(&b, "# joulegrad tune, strategy %s: Pareto front of validation accuracy "
                     "(higher) against the trial's joules (lower); energy source: %s\n"
                     "trial,energy_j,val_accuracy,test_accuracy\n", r->strat.label, source);
    for (int k = 0; !rc && k < nf; k++) {
        const jg_tune_trial_t *t = &r->rec[pt.last[idx[k]]];
        jg_sb_printf(&b, "%lld,%.6f,%.6f,%.6f\n", (long long)t->trial, pt.j[idx[k]],
                     t->val_accuracy, t->test_accuracy);
    }
    if (!rc) rc = jg_sb_write(r->dir, "pareto.csv", &b);
    else free(b.p);

    // summary.json
    cJSON *j = cJSON_CreateObject();
    if (!rc && j) {
        cJSON_AddStringToObject(j, "strategy", r->strat.label);
        if (!strcmp(r->strat.kind, "bayes"))
            cJSON_AddStringToObject(j, "acquisition", jg_tune_acq_name(r->strat.acq));
        cJSON_AddStringToObject(j, "space", space_text);
        cJSON_AddStringToObject(j, "model", spec);
        cJSON_AddStringToObject(j, "settings", settings);
        cJSON_AddNumberToObject(j, "trials", (double)pt.n);
        cJSON_AddNumberToObject(j, "records", (double)r->n);
        cJSON_AddNumberToObject(j, "trials_requested", (double)r->trials_requested);
        cJSON_AddStringToObject(j, "stopped_by", r->stopped_by);
        if (best >= 0) {
            const jg_tune_trial_t *t = &r->rec[best];
            cJSON_AddNumberToObject(j, "best_trial", (double)t->trial);
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
        if (r->proposals) { // this invocation's proposals (a resume replays the rest)
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
        cJSON *pf = cJSON_AddArrayToObject(j, "pareto_front");
        for (int k = 0; pf && k < nf; k++) {
            const jg_tune_trial_t *t = &r->rec[pt.last[idx[k]]];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "trial", (double)t->trial);
            cJSON_AddNumberToObject(e, "energy_j", pt.j[idx[k]]);
            cJSON_AddNumberToObject(e, "val_accuracy", t->val_accuracy);
            cJSON_AddItemToObject(e, "params", params_json(sp, &t->params));
            cJSON_AddItemToArray(pf, e);
        }
        rc = write_json(r->dir, "summary.json", j);
    } else if (!rc) {
        rc = -ENOMEM;
    }
    free(idx);
    per_trial_free(&pt);
    return rc;
}

/* Per study: the comparison's figures against a target accuracy. */
typedef struct {
    int64_t best;         /* record index of the best */
    double total_j;
    int64_t trials98, trials99, trials_common; /* records to reach, -1 never */
    double j98, j99, j_common;
} cmp_t;

int jg_tune_write_comparison(const char *dir, const jg_tune_result_t *r, int n,
                             const char *source, jg_sbuf_t *table)
{
    cmp_t c[JG_TUNE_MAX_STRATEGIES];
    double top = -INFINITY, common = INFINITY; // best of any study, best that all reach
    for (int k = 0; k < n; k++) {
        c[k].total_j = jg_tune_best(r[k].rec, r[k].n, &c[k].best);
        const double b = c[k].best >= 0 ? r[k].rec[c[k].best].val_accuracy : -INFINITY;
        if (b > top) top = b;
        if (b < common) common = b;
    }
    for (int k = 0; k < n; k++) {
        c[k].trials98 = jg_tune_reach(r[k].rec, r[k].n, 0.98 * top, &c[k].j98);
        c[k].trials99 = jg_tune_reach(r[k].rec, r[k].n, 0.99 * top, &c[k].j99);
        c[k].trials_common = jg_tune_reach(r[k].rec, r[k].n, common, &c[k].j_common);
    }
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
        const double bv = x->best >= 0 ? r[k].rec[x->best].val_accuracy : NAN;
        const double bt = x->best >= 0 ? r[k].rec[x->best].test_accuracy : NAN;
        jg_sb_printf(&b, "%s,%lld,%.6f,%.6f,%.6f,%.6f,%lld,%.6f,%lld,%.6f,%lld\n",
                     r[k].strat.label, (long long)r[k].n, bv, bt, x->total_j, x->j98,
                     (long long)(x->trials98 < 0 ? -1 : x->trials98 + 1), x->j99,
                     (long long)(x->trials99 < 0 ? -1 : x->trials99 + 1), x->j_common,
                     (long long)(x->trials_common < 0 ? -1 : x->trials_common + 1));
        char s98[40] = "never", s99[40] = "never", sc[40] = "never";
        if (x->trials98 >= 0)
            snprintf(s98, sizeof s98, "%.1f (%lld)", x->j98, (long long)x->trials98 + 1);
        if (x->trials99 >= 0)
            snprintf(s99, sizeof s99, "%.1f (%lld)", x->j99, (long long)x->trials99 + 1);
        if (x->trials_common >= 0)
            snprintf(sc, sizeof sc, "%.1f (%lld)", x->j_common, (long long)x->trials_common + 1);
        jg_sb_printf(&t, "%-18s %7lld %9.4f %9.4f %12.1f %16s %16s %16s\n", r[k].strat.label,
                     (long long)r[k].n, bv, bt, x->total_j, s98, s99, sc);
        cJSON *e = cJSON_CreateObject();
        if (!e || !arr) continue;
        cJSON_AddStringToObject(e, "strategy", r[k].strat.label);
        cJSON_AddStringToObject(e, "dir", r[k].dir);
        cJSON_AddNumberToObject(e, "records", (double)r[k].n);
        cJSON_AddStringToObject(e, "stopped_by", r[k].stopped_by);
        if (x->best >= 0) {
            cJSON_AddNumberToObject(e, "best_val_accuracy", bv);
            cJSON_AddNumberToObject(e, "best_test_accuracy", bt);
        }
        cJSON_AddNumberToObject(e, "total_energy_j", x->total_j);
        const struct { const char *j, *n; double jv; int64_t nv; } reach[3] = {
            {"energy_to_98pct_j", "records_to_98pct", x->j98, x->trials98},
            {"energy_to_99pct_j", "records_to_99pct", x->j99, x->trials99},
            {"energy_to_common_best_j", "records_to_common_best", x->j_common,
             x->trials_common},
        };
        for (int q = 0; q < 3; q++) {
            if (reach[q].nv < 0) continue; // absent: never reached
            cJSON_AddNumberToObject(e, reach[q].j, reach[q].jv);
            cJSON_AddNumberToObject(e, reach[q].n, (double)reach[q].nv + 1);
        }
        cJSON_AddItemToArray(arr, e);
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

int jg_tune_write_figures(const char *dir, const jg_tune_result_t *r, int n,
                          const char *source, char *msg, size_t cap)
{
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) return -errno;
    // Data: one gnuplot index block per study (two blank lines between).
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
        per_trial_t pt;
        int *idx = NULL, nf = 0;
        rc = per_trial(r[k].rec, r[k].n, &pt);
        if (!rc) rc = (idx = malloc(((size_t)pt.n + 1) * sizeof *idx)) ? 0 : -ENOMEM;
        if (!rc) rc = front(&pt, idx, &nf);
        jg_sb_printf(&p, "# %s: trials\n", r[k].strat.label);
        for (int64_t t = 0; !rc && t < pt.n; t++)
            if (!isnan(pt.acc[t])) jg_sb_printf(&p, "%.9g %.9g\n", pt.j[t], pt.acc[t]);
        jg_sb_printf(&p, "\n\n# %s: Pareto front\n", r[k].strat.label);
        for (int q = 0; !rc && q < nf; q++)
            jg_sb_printf(&p, "%.9g %.9g\n", pt.j[idx[q]], pt.acc[idx[q]]);
        jg_sb_printf(&p, "\n\n");
        free(idx);
        per_trial_free(&pt);
    }
    if (!rc) rc = jg_sb_write(dir, "best_vs_energy.dat", &d);
    else free(d.p);
    if (!rc) rc = jg_sb_write(dir, "pareto.dat", &p);
    else free(p.p);

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
    if (!rc) rc = jg_sb_write(dir, "best_vs_energy.gp", &g);
    else free(g.p);
    if (!rc) rc = jg_sb_write(dir, "pareto.gp", &h);
    else free(h.p);
    if (rc) return rc;
    static const char *const names[2] = {"best_vs_energy", "pareto"};
    return jg_gp_run(absdir, names, 2, msg, cap);
}
