/* SPDX-License-Identifier: MIT */
/* repro_rq1.c - RQ1: grid, random and Bayesian optimisation compared by the
 * joules each needs to reach the best common accuracy (repro_internal.h). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jg_kernels.h"
#include "repro_internal.h"

#ifndef JG_VERSION
#define JG_VERSION JG_RUN_VERSION
#endif

typedef struct {
    double best, test, total_j, common, j_common, t_common, j98, t98, j99, t99;
} rq1_m_t;

/* The first trial whose best-so-far validation accuracy reaches target:
 * cumulative joules and trials (1-based); NaN when none does. */
static void reach(const tune_res_t *t, double target, double *j, double *trials)
{
    *j = *trials = NAN;
    for (int i = 0; i < t->n; i++)
        if (t->best_val[i] >= target) {
            *j = t->cum_j[i];
            *trials = i + 1;
            return;
        }
}

/* Best validation accuracy against cumulative joules, one panel per network,
 * median over seeds at each trial: NAME.dat (index net * N_STRATS + strat),
 * NAME.gp, NAME.png/svg. Returns what jg_gp_run returns, or -errno. */
static int rq1_figure(const ctx_t *c, int space, char *msg, size_t cap)
{
    const int S = c->o.seeds;
    char name[64], absdir[PATH_MAX];
    snprintf(name, sizeof name, "rq1_%s", SPACES[space].name);
    if (!realpath(c->o.out, absdir)) return -errno;
    double *x = malloc(sizeof *x * (size_t)S), *y = malloc(sizeof *y * (size_t)S);
    jg_sbuf_t d = {0}, g = {0}, body = {0};
    int rc = x && y ? 0 : -ENOMEM;
    jg_sb_printf(&d, "# joulegrad reproduce RQ1, %s: per network and strategy, median over %d "
                     "seeds at each trial [energy source: %s]\n# trial cumulative_j "
                     "best_val_accuracy\n", SPACES[space].what, S, c->source);
    for (int net = 0; !rc && net < N_NETS; net++)
        for (int st = 0; st < N_STRATS; st++) {
            int n = c->o.scale->trials;
            for (int seed = 1; seed <= S; seed++) {
                const int k = c->subs[jg_repro_rq1_index(seed, net, space, st)].t.n;
                if (k < n) n = k;
            }
            jg_sb_printf(&d, "# %s %s\n", NETS[net], STRATS[st].name);
            for (int k = 0; k < n; k++) {
                for (int seed = 1; seed <= S; seed++) {
                    const tune_res_t *t = &c->subs[jg_repro_rq1_index(seed, net, space, st)].t;
                    x[seed - 1] = t->cum_j[k];
                    y[seed - 1] = t->best_val[k];
                }
                jg_sb_printf(&d, "%d %.9g %.9g\n", k + 1, jg_repro_median(x, S), jg_repro_median(y, S));
            }
            jg_sb_printf(&d, "\n\n");
        }
    free(x);
    free(y);
    char file[96];
    snprintf(file, sizeof file, "%s.dat", name);
    if (!rc) rc = jg_sb_write(c->o.out, file, &d);
    else free(d.p);

    jg_sb_printf(&body, "set multiplot layout 1,%d title \"RQ1, %s: best validation accuracy "
                        "against cumulative training energy [source: %s]; median over %d "
                        "seed(s)\"\n"
                        "set xlabel 'cumulative energy (J, %s)'\n"
                        "set ylabel 'best validation accuracy so far'\n"
                        "set grid\nset key bottom right\nset yrange [0:1]\n",
                 N_NETS, SPACES[space].what, c->source, S, c->source);
    for (int net = 0; net < N_NETS; net++)
        jg_sb_printf(&body, "set title '%s'\n"
                            "plot for [s=0:%d] dir.'/%s.dat' index (%d + s) using 2:3 with steps "
                            "lw 2 title word('grid random bayes-pi bayes-ei', s + 1)\n",
                     NETS[net], N_STRATS - 1, name, net * N_STRATS);
    jg_sb_printf(&body, "unset multiplot\n");
    char what[160];
    snprintf(what, sizeof what, "RQ1 %s, best accuracy vs joules per strategy", SPACES[space].what);
    jg_gp_head(&g, absdir, what, name);
    // Three panels: wider than the helper's 960x540, in PNG and in SVG.
    jg_sb_printf(&g, "set terminal @GPVAL_TERM size 1500,540 noenhanced\n%s"
                     "set terminal svg size 1500,540 noenhanced\nset output dir.'/%s.svg'\n%s"
                     "unset output\n", body.p ? body.p : "", name, body.p ? body.p : "");
    if (body.err) g.err = body.err;
    free(body.p);
    snprintf(file, sizeof file, "%s.gp", name);
    if (!rc) rc = jg_sb_write(c->o.out, file, &g);
    else free(g.p);
    if (rc) return rc;
    const char *names[1] = {name};
    return jg_gp_run(absdir, names, 1, msg, cap);
}

int jg_repro_rq1_report(const ctx_t *c, jg_report_t *r, claims_t *cl)
{
    const opts_t *o = &c->o;
    const int S = o->seeds, T = o->scale->trials;
    const char *src = c->source;
    rq1_m_t *m = calloc((size_t)c->n_rq1, sizeof *m);
    if (!m) return -ENOMEM;
    // Per block (seed, net, space): the best common accuracy and 98/99% of the top.
    for (int seed = 1; seed <= S; seed++)
        for (int net = 0; net < N_NETS; net++)
            for (int sp = 0; sp < N_SPACES; sp++) {
                double top = -1, common = 2;
                for (int st = 0; st < N_STRATS; st++) {
                    const tune_res_t *t = &c->subs[jg_repro_rq1_index(seed, net, sp, st)].t;
                    const double b = t->best_val[t->n - 1];
                    top = b > top ? b : top;
                    common = b < common ? b : common;
                }
                for (int st = 0; st < N_STRATS; st++) {
                    const int i = jg_repro_rq1_index(seed, net, sp, st);
                    const tune_res_t *t = &c->subs[i].t;
                    rq1_m_t *x = &m[i];
                    x->best = t->best_val[t->n - 1];
                    x->test = t->test_best[t->n - 1];
                    x->total_j = t->total_j;
                    x->common = common;
                    reach(t, common, &x->j_common, &x->t_common);
                    reach(t, 0.98 * top, &x->j98, &x->t98);
                    reach(t, 0.99 * top, &x->j99, &x->t99);
                }
            }

    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "network,space,strategy,seed,trials,best_val_accuracy,test_accuracy_of_best,"
                     "total_j,common_accuracy,j_to_common,trials_to_common,j_to_98pct,"
                     "trials_to_98pct,j_to_99pct,trials_to_99pct,energy_source,dir\n");
    for (int i = 0; i < c->n_rq1; i++) {
        const sub_t *s = &c->subs[i];
        const rq1_m_t *x = &m[i];
        jg_sb_printf(&b, "%s,%s,%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%g,%.6f,%g,%.6f,%g,%s,%s\n",
                     NETS[s->net], SPACES[s->space].name, STRATS[s->strat].name, s->seed, s->t.n,
                     x->best, x->test, x->total_j, x->common, x->j_common, x->t_common, x->j98,
                     x->t98, x->j99, x->t99, s->t.source, s->dir);
    }
    int rc = jg_sb_write(o->out, "rq1_runs.csv", &b);

    jg_report_h(r, 2, "RQ1: tuning strategies");
    jg_report_p(r, "Each strategy searched Adam's lr, beta1 and beta2 for %d trial(s) per network, "
                   "lr space and seed (%d seed(s)); every trial trained a fresh model for %d "
                   "epoch(s) and was ranked by its validation accuracy. A trial's energy is the "
                   "meter's joules around its training (`%s`); the curves add them up in trial "
                   "order.", T, S, o->scale->epochs, src);
    char msg[4600];
    for (int sp = 0; sp < N_SPACES; sp++) {
        const int frc = rq1_figure(c, sp, msg, sizeof msg);
        if (frc < 0 && !rc) rc = frc;
        if (frc > 0) // report.html embeds the PNGs: a resume redraws them
            jg_logf(c->log, JG_LOG_OUT, "reproduce: %s; once gnuplot is installed, run the same "
                    "command with --resume to put them in report.html", msg);
        char name[64], cap[512];
        snprintf(name, sizeof name, "rq1_%s", SPACES[sp].name);
        snprintf(cap, sizeof cap, "RQ1 with %s: best validation accuracy so far against the "
                 "cumulative training energy (J, `%s`), one panel per network, one line per "
                 "strategy; median over %d seed(s) at each trial.", SPACES[sp].what, src, S);
        jg_report_figure(r, name, cap);
    }

    // Medians over seeds per (network, space, strategy).
    jg_report_p(r, "Medians over seeds. The best common accuracy of a network, lr space and seed "
                   "is the highest validation accuracy that every strategy reached; \"98%%\" and "
                   "\"99%%\" are of the best accuracy any strategy found there. Joules and trials "
                   "count until a strategy's best-so-far first reached the level (medians over "
                   "the seeds that reached it; runs = how many did).");
    jg_report_table_begin(r);
    jg_report_row(r, "network\tlr\tstrategy\tbest val acc\ttest acc of best\ttotal J (%s)\tJ to "
                     "common acc\treached 98%%\ttrials to 98%%\tJ to 98%%\treached 99%%\tJ to "
                     "99%%", src);
    jg_sbuf_t sm = {0};
    jg_sb_printf(&sm, "network,space,strategy,seeds,median_best_val_accuracy,"
                      "median_test_accuracy_of_best,median_total_j,median_j_to_common,"
                      "reached_98pct,median_trials_to_98pct,median_j_to_98pct,reached_99pct,"
                      "median_trials_to_99pct,median_j_to_99pct,energy_source\n");
    double *v = malloc(sizeof *v * 9 * (size_t)S);
    if (!v) rc = -ENOMEM;
    for (int net = 0; v && net < N_NETS; net++)
        for (int sp = 0; sp < N_SPACES; sp++)
            for (int st = 0; st < N_STRATS; st++) {
                jg_stats_summary_t q[9];
                for (int seed = 1; seed <= S; seed++) {
                    const rq1_m_t *x = &m[jg_repro_rq1_index(seed, net, sp, st)];
                    const double f[9] = {x->best, x->test, x->total_j, x->j_common, x->t98,
                                         x->j98, x->t99, x->j99, 0};
                    for (int k = 0; k < 9; k++) v[k * S + seed - 1] = f[k];
                }
                for (int k = 0; k < 9; k++) jg_stats_summary(v + k * S, S, &q[k]);
                char a[9][32];
                jg_report_row(r, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%d/%d\t%s",
                              NETS[net], SPACES[sp].name, STRATS[st].name,
                              jg_repro_num(a[0], 32, "%.4f", q[0].median), jg_repro_num(a[1], 32, "%.4f", q[1].median),
                              jg_repro_num(a[2], 32, "%.2f", q[2].median), jg_repro_num(a[3], 32, "%.2f", q[3].median),
                              q[4].n, S, jg_repro_num(a[4], 32, "%.1f", q[4].median),
                              jg_repro_num(a[5], 32, "%.2f", q[5].median), q[6].n, S,
                              jg_repro_num(a[7], 32, "%.2f", q[7].median));
                jg_sb_printf(&sm, "%s,%s,%s,%d,%.6f,%.6f,%.6f,%.6f,%d,%g,%.6f,%d,%g,%.6f,%s\n",
                             NETS[net], SPACES[sp].name, STRATS[st].name, S, q[0].median,
                             q[1].median, q[2].median, q[3].median, q[4].n, q[4].median,
                             q[5].median, q[6].n, q[6].median, q[7].median, src);
            }
    jg_report_table_end(r);
    free(v);
    const int rc2 = jg_sb_write(o->out, "rq1_summary.csv", &sm);
    if (!rc) rc = rc2;

    // Paired tests over (seed, network, space): joules to the best common accuracy.
    const int n = S * N_NETS * N_SPACES;
    double *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)n);
    test_t t[4];
    int nt = 0;
    for (int a = 2; x && y && a < N_STRATS; a++)
        for (int bb = 0; bb < 2; bb++) {
            int k = 0;
            for (int seed = 1; seed <= S; seed++)
                for (int net = 0; net < N_NETS; net++)
                    for (int sp = 0; sp < N_SPACES; sp++) {
                        x[k] = m[jg_repro_rq1_index(seed, net, sp, a)].j_common;
                        y[k++] = m[jg_repro_rq1_index(seed, net, sp, bb)].j_common;
                    }
            char name[64];
            snprintf(name, sizeof name, "%s / %s", STRATS[a].name, STRATS[bb].name);
            if (jg_repro_paired(&t[nt++], name, x, y, n, 1) && !rc) rc = -ENOMEM;
        }
    free(x);
    free(y);
    if (nt == 4) {
        jg_repro_holm(t, 4);
        const int r2 = jg_repro_tests_csv(o->out, "rq1_tests.csv", t, 4);
        if (!rc) rc = r2;
        jg_report_p(r, "Joules to the best common accuracy, paired by network, lr space and seed "
                       "(%d pairs per comparison): the effect is the median ratio of the two "
                       "strategies' joules (below 1: the first needed fewer); Wilcoxon "
                       "signed-rank on the log ratios, zero differences ranked (Pratt), "
                       "two-sided, Holm-corrected over the four comparisons.", n);
        jg_repro_tests_table(r, t, 4, "");
        for (int a = 0; a < 2; a++) {
            const test_t *g = &t[2 * a], *rd = &t[2 * a + 1];
            const char *vg = jg_repro_verdict(g, 1), *vr = jg_repro_verdict(rd, 1);
            const char *v2 = !strcmp(vg, "refuted") || !strcmp(vr, "refuted") ? "refuted"
                           : !strcmp(vg, "confirmed") && !strcmp(vr, "confirmed") ? "confirmed"
                           : g->n < MIN_PAIRS ? "not testable here" : "inconclusive";
            char eg[48], er[48], tg[256], tr[256], id[48];
            jg_repro_effect_text(g, "", eg, sizeof eg);
            jg_repro_effect_text(rd, "", er, sizeof er);
            jg_repro_test_text(g, tg, sizeof tg);
            jg_repro_test_text(rd, tr, sizeof tr);
            snprintf(id, sizeof id, "RQ1 %s", a ? "BO-EI" : "BO-PI");
            jg_repro_claim(cl, id, v2,
                  "Bayesian optimisation with %s reached the best common accuracy with fewer "
                  "joules than grid and random (the study: BO \"significantly dominates\"). "
                  "Median joules ratio %s/grid %s (%s), %s/random %s (%s); joules are `%s`.%s",
                  a ? "EI (not in the study)" : "PI (the study's)", STRATS[2 + a].name, eg, tg,
                  STRATS[2 + a].name, er, tr, src,
                  g->n < MIN_PAIRS ? " Fewer than 6 pairs: no two-sided test can reach p <= "
                                     "0.05; use more seeds."
                  : T <= 5 ? " With 5 trials or fewer every Bayesian proposal is one of its "
                             "random initial points: this scale tests the pipeline, not BO."
                           : "");
        }
    }
    free(m);
    return rc;
}

