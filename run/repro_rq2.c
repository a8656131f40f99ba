/* SPDX-License-Identifier: MIT */
/* repro_rq2.c - RQ2: the 2x2x2 design, the 1..4 conv sweep and the per-type
 * energy measured directly (repro_internal.h). */
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

static const sub_t *rq2_sub(const ctx_t *c, int cfg, int rep)
{
    return &c->subs[c->n_rq1 + (rep - 1) * N_CFGS + cfg];
}

/* Stacked bars of mean joules per layer type per configuration, and the
 * conv sweep (energy and accuracy against conv layers). */
static int rq2_figures(const ctx_t *c, const double (*mean_type)[N_TYPES + 1],
                       const double *mean_e, const double *min_e, const double *max_e,
                       const double *mean_acc, char *msg, size_t cap)
{
    char absdir[PATH_MAX];
    if (!realpath(c->o.out, absdir)) return -errno;
    const char *src = c->source;
    jg_sbuf_t d = {0}, g = {0}, d2 = {0}, g2 = {0};
    jg_sb_printf(&d, "# joulegrad reproduce RQ2: mean J per training run by layer type over %d "
                     "repetition(s) [energy source: %s]\n# config conv linear relu pool "
                     "batchnorm rest\n", c->o.seeds, src);
    for (int k = 0; k < N_CFGS; k++) {
        jg_sb_printf(&d, "%s", CFGS[k].name);
        for (int t = 0; t <= N_TYPES; t++) jg_sb_printf(&d, " %.9g", mean_type[k][t]);
        jg_sb_printf(&d, "\n");
    }
    int rc = jg_sb_write(c->o.out, "rq2_energy_by_type.dat", &d);
    jg_gp_head(&g, absdir, "RQ2 joules per training run by layer type", "rq2_energy_by_type");
    jg_sb_printf(&g, "set title \"RQ2: energy of one training run by layer type [source: %s]; "
                     "mean over %d repetition(s)\"\n"
                     "set style data histograms\nset style histogram rowstacked\n"
                     "set style fill solid 0.85 border -1\nset boxwidth 0.7\n"
                     "set ylabel 'energy (J, %s)'\nset yrange [0:*]\nset grid ytics\n"
                     "set xtics rotate by -35\nset bmargin 7\nset key outside right top\n"
                     "plot for [t=2:7] dir.'/rq2_energy_by_type.dat' using t:xtic(1) "
                     "title word('conv linear relu pool batchnorm rest', t - 1)\n",
                 src, c->o.seeds, src);
    jg_gp_tail(&g, "rq2_energy_by_type");
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_energy_by_type.gp", &g);
    else free(g.p);

    jg_sb_printf(&d2, "# joulegrad reproduce RQ2 conv sweep (linear 3, ReLU) over %d "
                      "repetition(s) [energy source: %s]\n# conv mean_j min_j max_j "
                      "mean_test_accuracy_pct\n", c->o.seeds, src);
    for (int k = 0; k < 4; k++) {
        const int i = SWEEP[k];
        jg_sb_printf(&d2, "%d %.9g %.9g %.9g %.9g\n", k + 1, mean_e[i], min_e[i], max_e[i],
                     100 * mean_acc[i]);
    }
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_conv_sweep.dat", &d2);
    else free(d2.p);
    jg_gp_head(&g2, absdir, "RQ2 conv sweep: energy and accuracy", "rq2_conv_sweep");
    jg_sb_printf(&g2, "set title \"RQ2: 1 to 4 conv layers (linear 3, ReLU): energy [source: %s] "
                      "and test accuracy; mean over %d repetition(s)\"\n"
                      "set xlabel 'conv layers'\nset xtics 1\nset xrange [0.5:4.5]\n"
                      "set ylabel 'energy per training run (J, %s)'\nset yrange [0:*]\n"
                      "set y2label 'test accuracy (%%)'\nset y2tics\nset ytics nomirror\n"
                      "set grid\nset key below\n"
                      "plot dir.'/rq2_conv_sweep.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                      "title 'energy (min-max)', %.9g with lines dt 2 title 'half of 4 conv', "
                      "dir.'/rq2_conv_sweep.dat' using 1:5 axes x1y2 with linespoints lw 2 pt 5 "
                      "title 'test accuracy'\n",
                 src, c->o.seeds, src, 0.5 * mean_e[SWEEP[3]]);
    jg_gp_tail(&g2, "rq2_conv_sweep");
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_conv_sweep.gp", &g2);
    else free(g2.p);
    if (rc) return rc;
    static const char *const names[2] = {"rq2_energy_by_type", "rq2_conv_sweep"};
    return jg_gp_run(absdir, names, 2, msg, cap);
}

/* Claim thresholds: the study's "about" made explicit (docs/reproduction.md). */
#define CONV_VAR_MIN 0.90   /* conv share of variance, the study 99% (98% CIFAR-10) */
#define LINEAR_VAR_MAX 0.05 /* linear share, the study about 1% */
#define RELU_VAR_MAX 0.01   /* ReLU share, the study about 0.2% */
#define CUT_TOL 0.10        /* energy cut 4 -> 1 conv: within 10 points of the study's */
#define ACC_TOL 2.0         /* accuracy change 4 -> 1 conv: within 2 points */

/* Share of layer type t in the joules of the design cells c with
 * (c & mask) == want (mean joules per cell summed). */
static double design_share(const double (*mean_type)[N_TYPES + 1], const double *mean_e, int t,
                           int mask, int want)
{
    double part = 0, all = 0;
    for (int c = 0; c < N_DESIGN; c++)
        if ((c & mask) == want) {
            part += mean_type[c][t];
            all += mean_e[c];
        }
    return all > 0 ? part / all : NAN;
}

/* What RQ2's tables, tests and claims are computed from. */
typedef struct {
    int R;           /* repetitions */
    const char *src; /* energy source */
    double mean_type[N_CFGS][N_TYPES + 1]; /* mean joules per type, then the rest */
    double mean_e[N_CFGS], min_e[N_CFGS], max_e[N_CFGS], sd_e[N_CFGS];
    double mean_acc[N_CFGS], sd_acc[N_CFGS];
    double *y;           /* (N_DESIGN x R) joules of the design's runs */
    double ss[N_DESIGN]; /* the design's sums of squares (jg_stats_factorial) */
    test_t t[4];         /* paired: energy of conv, linear, relu; accuracy of conv */
} rq2_t;

/* Every run's row in rq2_runs.csv; per configuration the means. */
static int rq2_runs(const ctx_t *c, rq2_t *q)
{
    const opts_t *o = &c->o;
    const int R = q->R;
    double *e = malloc(sizeof *e * (size_t)R), *acc = malloc(sizeof *acc * (size_t)R);
    int rc = e && acc ? 0 : -ENOMEM;
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "config,conv,linear,relu,rep,seed,total_j,conv_j,linear_j,relu_j,"
                     "pool_j,batchnorm_j,rest_j,conv_share,test_accuracy,train_seconds,"
                     "energy_source,dir\n");
    for (int k = 0; !rc && k < N_CFGS; k++) {
        memset(q->mean_type[k], 0, sizeof q->mean_type[k]);
        for (int rep = 1; rep <= R; rep++) {
            const sub_t *s = rq2_sub(c, k, rep);
            const train_res_t *x = &s->r;
            double rest = x->total_j;
            for (int t = 0; t < N_TYPES; t++) {
                q->mean_type[k][t] += x->type_j[t] / R;
                rest -= x->type_j[t];
            }
            q->mean_type[k][N_TYPES] += rest / R;
            e[rep - 1] = x->total_j;
            acc[rep - 1] = x->test_acc;
            if (k < N_DESIGN) q->y[k * R + rep - 1] = x->total_j;
            jg_sb_printf(&b, "%s,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                             "%.3f,%s,%s\n", CFGS[k].name, CFGS[k].conv,
                         CFGS[k].linear, CFGS[k].relu, rep, rep, x->total_j, x->type_j[0],
                         x->type_j[1], x->type_j[2], x->type_j[3], x->type_j[4], rest,
                         x->total_j > 0 ? x->type_j[0] / x->total_j : NAN, x->test_acc,
                         x->seconds, x->source, s->dir);
        }
        jg_stats_summary_t se, sa;
        jg_stats_summary(e, R, &se);
        jg_stats_summary(acc, R, &sa);
        q->mean_e[k] = se.mean;
        q->sd_e[k] = se.sd;
        q->min_e[k] = se.min;
        q->max_e[k] = se.max;
        q->mean_acc[k] = sa.mean;
        q->sd_acc[k] = sa.sd;
    }
    const int rcw = jg_sb_write(o->out, "rq2_runs.csv", &b);
    free(e);
    free(acc);
    return rc ? rc : rcw;
}

/* The per-configuration table, rq2_configs.csv, a warning when repetitions
 * disagree, and the figures. */
static int rq2_configs(const ctx_t *c, jg_report_t *r, const rq2_t *q)
{
    const opts_t *o = &c->o;
    const int R = q->R;
    const char *src = q->src;
    int rc;
    jg_report_h(r, 2, "RQ2: layer types");
    jg_report_p(r, "Every network trained %d epoch(s) with Adam (lr 0.001) at batch %d, %d "
                   "repetition(s) with seeds 1..%d; `joulegrad train --energy %s` bracketed "
                   "every layer's forward and backward pass, so each run's joules are split by "
                   "layer type directly (the study inferred the split from an ANOVA over whole "
                   "runs). Energy is the joules inside the training steps (`%s`); rest = loss, "
                   "optimizer, data gathering and unattributed time. A network convC-linL-relu "
                   "is the preset `paper-simplecnn:conv=C,linear=L` (`-norelu`: "
                   "`paper-simplecnn-norelu`, no ReLU at all); densepoly and denselinear are "
                   "`paper-densepoly` and `paper-denselinear`.",
                o->scale->rq2_epochs, o->scale->rq2_batch, R, R, o->energy, src);
    jg_report_table_begin(r);
    jg_report_row(r, "network\tconv\tlinear\tReLU\tenergy J (%s), mean +- sd\tconv\tlinear\trelu"
                     "\tbatchnorm\tpool\trest\ttest acc, mean +- sd", src);
    jg_sbuf_t cs = {0};
    jg_sb_printf(&cs, "config,conv,linear,relu,repetitions,mean_total_j,sd_total_j,"
                      "conv_share,linear_share,relu_share,batchnorm_share,pool_share,rest_share,"
                      "mean_test_accuracy,sd_test_accuracy,energy_source\n");
    for (int k = 0; k < N_CFGS; k++) {
        double sh[N_TYPES + 1];
        for (int t = 0; t <= N_TYPES; t++)
            sh[t] = q->mean_e[k] > 0 ? q->mean_type[k][t] / q->mean_e[k] : NAN;
        jg_report_row(r, "%s%s\t%d\t%d\t%s\t%.2f +- %.2f\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t"
                         "%.1f%%\t%.4f +- %.4f", CFGS[k].name,
                      k == 8 ? " (RQ1 paper-simplecnn)" : k >= 10 ? " (RQ1 network)" : "",
                      CFGS[k].conv, CFGS[k].linear, CFGS[k].relu ? "on" : "off", q->mean_e[k],
                      q->sd_e[k], 100 * sh[0], 100 * sh[1], 100 * sh[2], 100 * sh[4], 100 * sh[3],
                      100 * sh[5], q->mean_acc[k], q->sd_acc[k]);
        jg_sb_printf(&cs,
                     "%s,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                     "%s\n",
                     CFGS[k].name, CFGS[k].conv, CFGS[k].linear, CFGS[k].relu, R, q->mean_e[k],
                     q->sd_e[k], sh[0], sh[1], sh[2], sh[4], sh[3], sh[5], q->mean_acc[k],
                     q->sd_acc[k], src);
    }
    jg_report_table_end(r);
    char spread[512] = "";
    for (int k = 0; k < N_CFGS; k++) // the repetitions of one network should agree
        if (q->max_e[k] - q->min_e[k] > 0.5 * q->mean_e[k] && strlen(spread) + 40 < sizeof spread)
            snprintf(spread + strlen(spread), sizeof spread - strlen(spread), "%s%s (%.0f to "
                     "%.0f J)", spread[0] ? ", " : "", CFGS[k].name, q->min_e[k], q->max_e[k]);
    if (spread[0])
        jg_report_p(r, "**Warning:** the repetitions of %s differ by more than half their mean "
                       "energy. The same network on the same data should not: the machine was "
                       "probably busy during some of them (see the warning above), and their "
                       "joules are not comparable.", spread);
    rc = jg_sb_write(o->out, "rq2_configs.csv", &cs);
    char msg[4600];
    const int frc = rq2_figures(c, q->mean_type, q->mean_e, q->min_e, q->max_e, q->mean_acc, msg,
                                sizeof msg);
    if (frc < 0 && !rc) rc = frc;
    if (frc > 0) // report.html embeds the PNGs: a resume redraws them
            jg_logf(c->log, JG_LOG_OUT, "reproduce: %s; once gnuplot is installed, run the same "
                    "command with --resume to put them in report.html", msg);
    char cap[512];
    snprintf(cap, sizeof cap, "Energy of one training run by layer type (J, `%s`), mean over "
             "%d repetition(s): the 2x2x2 design, the rest of the conv sweep and RQ1's dense "
             "networks.", src, R);
    jg_report_figure(r, "rq2_energy_by_type", cap);
    return rc;
}

/* The share of the energy's variance each factor of the design explains. */
static int rq2_factors(const ctx_t *c, jg_report_t *r, rq2_t *q)
{
    const opts_t *o = &c->o;
    const int R = q->R;
    const int cifar = !strcmp(o->data.name, "cifar10");
    const double study_var = cifar ? 0.98 : 0.99;
    const int rc = jg_stats_factorial(q->y, 3, R, q->ss);
    if (rc) return rc;
    const double tot = q->ss[0] > 0 ? q->ss[0] : NAN;
    const double inter = q->ss[3] + q->ss[5] + q->ss[6] + q->ss[7];
    const double resid = q->ss[0] - q->ss[1] - q->ss[2] - q->ss[4] - inter;
    jg_report_p(r, "Share of the energy variance explained by each factor of the 2x2x2 design "
                   "(sum of squares of its main effect over the total sum of squares of the "
                   "%d runs' joules; the study's ANOVA figures beside them):", N_DESIGN * R);
    jg_report_table_begin(r);
    jg_report_row(r, "factor\tsum of squares (J^2)\tshare of variance\tthe study (%s)",
                  cifar ? "CIFAR-10" : "Fashion-MNIST");
    jg_report_row(r, "conv layers (1 vs 4)\t%.4g\t%.2f%%\t%.0f%%", q->ss[1], 100 * q->ss[1] / tot,
                  100 * study_var);
    jg_report_row(r, "linear layers (3 vs 7)\t%.4g\t%.2f%%\tabout 1%%", q->ss[2],
                  100 * q->ss[2] / tot);
    jg_report_row(r, "ReLU (off vs on)\t%.4g\t%.2f%%\tabout 0.2%%", q->ss[4], 100 * q->ss[4] / tot);
    jg_report_row(r, "interactions\t%.4g\t%.2f%%\t-", inter, 100 * inter / tot);
    jg_report_row(r, "between repetitions\t%.4g\t%.2f%%\t-", resid, 100 * resid / tot);
    jg_report_table_end(r);
    jg_sbuf_t ef = {0};
    jg_sb_printf(&ef,
                 "effect,sum_of_squares_j2,share\nconv,%.9g,%.9g\nlinear,%.9g,%.9g\n"
                 "relu,%.9g,%.9g\nconv:linear,%.9g,%.9g\nconv:relu,%.9g,%.9g\n"
                 "linear:relu,%.9g,%.9g\nconv:linear:relu,%.9g,%.9g\nresidual,%.9g,%.9g\n"
                 "total,%.9g,1\n",
                 q->ss[1], q->ss[1] / tot, q->ss[2], q->ss[2] / tot, q->ss[4], q->ss[4] / tot,
                 q->ss[3], q->ss[3] / tot, q->ss[5], q->ss[5] / tot, q->ss[6], q->ss[6] / tot,
                 q->ss[7], q->ss[7] / tot, resid, resid / tot, q->ss[0]);
    return jg_sb_write(o->out, "rq2_effects.csv", &ef);
}

/* Paired tests: each factor's effect on energy, conv's on accuracy. */
static int rq2_tests(const ctx_t *c, jg_report_t *r, rq2_t *q)
{
    const opts_t *o = &c->o;
    const int R = q->R;
    static const char *const fname[3] = {"energy conv4 / conv1", "energy lin7 / lin3",
                                         "energy relu on / off"};
    double *px = malloc(sizeof *px * (size_t)(4 * R)), *py = malloc(sizeof *py * (size_t)(4 * R));
    int rc = px && py ? 0 : -ENOMEM;
    for (int f = 0; !rc && f < 4; f++) {
        const int bit = f < 3 ? 1 << f : 1;
        int k = 0;
        for (int cell = 0; cell < N_DESIGN; cell++) {
            if (!(cell & bit)) continue;
            for (int rep = 1; rep <= R; rep++) {
                const train_res_t *hi = &rq2_sub(c, cell, rep)->r,
                                  *lo = &rq2_sub(c, cell ^ bit, rep)->r;
                px[k] = f < 3 ? hi->total_j : 100 * lo->test_acc; // accuracy: conv1 - conv4
                py[k++] = f < 3 ? lo->total_j : 100 * hi->test_acc;
            }
        }
        rc = jg_repro_paired(&q->t[f], f < 3 ? fname[f] : "test accuracy conv1 - conv4", px, py, k,
                             f < 3);
    }
    free(px);
    free(py);
    if (rc) return rc;
    jg_repro_holm(q->t, 4);
    rc = jg_repro_tests_csv(o->out, "rq2_tests.csv", q->t, 4);
    jg_report_p(r, "Paired tests over the other two factors and the repetitions (%d pairs "
                   "each): energy effects as the median ratio of the two levels' joules, "
                   "accuracy as the median difference in points; Wilcoxon signed-rank (Pratt "
                   "zeros), two-sided, Holm-corrected over the four tests.", 4 * R);
    jg_repro_tests_table(r, q->t, 4, " points");
    return rc;
}

/* The conv sweep: where is the energy of 4 conv layers halved? */
static int rq2_sweep(const ctx_t *c, jg_report_t *r, const rq2_t *q)
{
    const opts_t *o = &c->o;
    const char *src = q->src;
    jg_report_figure(r, "rq2_conv_sweep", "Energy per training run (mean, bars min to max) and "
                     "test accuracy against the number of conv layers (linear 3, ReLU on); the "
                     "dashed line is half the energy of 4 conv layers.");
    jg_report_table_begin(r);
    jg_report_row(r, "conv layers\tenergy J (%s)\tof 4 conv\ttest acc\tvs 4 conv (points)", src);
    jg_sbuf_t sw = {0};
    jg_sb_printf(&sw, "conv,mean_total_j,j_vs_conv4,mean_test_accuracy,points_vs_conv4,"
                      "energy_source\n");
    int halved = 0;
    const double e4 = q->mean_e[SWEEP[3]], a4 = q->mean_acc[SWEEP[3]];
    for (int k = 0; k < 4; k++) {
        const int i = SWEEP[k];
        jg_report_row(r, "%d\t%.2f\t%.0f%%\t%.4f\t%+.2f", k + 1, q->mean_e[i],
                      100 * q->mean_e[i] / e4, q->mean_acc[i], 100 * (q->mean_acc[i] - a4));
        jg_sb_printf(&sw, "%d,%.6f,%.6f,%.6f,%.4f,%s\n", k + 1, q->mean_e[i], q->mean_e[i] / e4,
                     q->mean_acc[i], 100 * (q->mean_acc[i] - a4), src);
        if (k < 3 && q->mean_e[i] <= 0.5 * e4) halved = k + 1;
    }
    jg_report_table_end(r);
    const int rc = jg_sb_write(o->out, "rq2_sweep.csv", &sw);
    if (halved)
        jg_report_p(r, "The energy of 4 conv layers is halved (or better) with %d conv layer(s): "
                       "%.0f%% of the joules for %+.2f points of test accuracy.", halved,
                    100 * q->mean_e[SWEEP[halved - 1]] / e4,
                    100 * (q->mean_acc[SWEEP[halved - 1]] - a4));
    else
        jg_report_p(r, "No conv count below 4 halves the energy here: 1 conv uses %.0f%% of the "
                       "joules of 4.", 100 * q->mean_e[SWEEP[0]] / e4);
    return rc;
}

/* The four RQ2 claims and their verdicts. */
static void rq2_claims(const ctx_t *c, claims_t *cl, const rq2_t *q)
{
    const opts_t *o = &c->o;
    const char *src = q->src;
    const int cifar = !strcmp(o->data.name, "cifar10"),
              synthetic = !strcmp(o->data.name, "synthetic");
    // The study's figures for this dataset (CIFAR-10, else Fashion-MNIST).
    const double study_var = cifar ? 0.98 : 0.99, study_cut = cifar ? 0.40 : 0.49,
                 study_acc = cifar ? -6.7 : -0.7;
    char tx[256], eff[48];
    const double tot = q->ss[0] > 0 ? q->ss[0] : NAN;
    const double conv_var = q->ss[1] / tot, lin_var = q->ss[2] / tot, relu_var = q->ss[4] / tot;
    double m1 = 0, m4 = 0, a1 = 0, a4d = 0; // means over the design's conv1 / conv4 cells
    for (int cell = 0; cell < N_DESIGN; cell++) {
        *(cell & 1 ? &m4 : &m1) += q->mean_e[cell] / 4;
        *(cell & 1 ? &a4d : &a1) += q->mean_acc[cell] / 4;
    }
    const double cut = 1 - m1 / m4, dacc = 100 * (a1 - a4d);
    jg_repro_test_text(&q->t[0], tx, sizeof tx);
    jg_repro_effect_text(&q->t[0], "", eff, sizeof eff);
    const char *v = q->t[0].n < MIN_PAIRS          ? "not testable here"
                  : conv_var >= CONV_VAR_MIN && !strcmp(jg_repro_verdict(&q->t[0], 0), "confirmed")
                      ? "confirmed"
                      : "refuted";
    jg_repro_claim(cl, "RQ2 conv dominates", v,
          "Conv layers explain most of the training energy's variance (the study: about %.0f%%): "
          "here %.1f%% (linear %.2f%%, ReLU %.2f%%; confirmed means at least %.0f%% and a "
          "significant effect). Energy conv4 / conv1 %s (%s). Measured directly, conv layers "
          "take %.0f%% of the joules of the 4-conv networks and %.0f%% of the 1-conv ones "
          "(`%s`).", 100 * study_var, 100 * conv_var, 100 * lin_var, 100 * relu_var,
          100 * CONV_VAR_MIN, eff, tx, 100 * design_share(q->mean_type, q->mean_e, 0, 1, 1),
          100 * design_share(q->mean_type, q->mean_e, 0, 1, 0), src);
    char ta[256];
    jg_repro_test_text(&q->t[3], ta, sizeof ta);
    const int cut_ok = fabs(cut - study_cut) <= CUT_TOL, acc_ok = fabs(dacc - study_acc) <= ACC_TOL;
    const int cut_sig = !strcmp(jg_repro_verdict(&q->t[0], 0), "confirmed");
    v = q->t[0].n < MIN_PAIRS                          ? "not testable here"
      : cut_sig && cut_ok && (synthetic || acc_ok) ? "confirmed"
                                                    : "refuted";
    char why[160] = "";
    if (!strcmp(v, "refuted"))
        snprintf(why, sizeof why, " Refuted because %s%s%s.",
                 !cut_sig ? "the cut is not significant" : !cut_ok ? "the cut is outside the "
                                                                      "tolerance" : "",
                 (!cut_sig || !cut_ok) && !synthetic && !acc_ok ? " and " : "",
                 !synthetic && !acc_ok ? "the accuracy change is outside the tolerance" : "");
    jg_repro_claim(cl, "RQ2 4 -> 1 conv", v,
          "Going from 4 conv layers to 1 cuts the training energy by about %.0f%% for %+.1f "
          "points of accuracy (the study, %s): here %.1f%% less energy (`%s`, means over the "
          "design's cells; %s) and %+.2f points of test accuracy (%s)%s. Confirmed means a "
          "significant cut within %.0f points of %.0f%% and an accuracy change within %.0f "
          "points of %+.1f.%s", 100 * study_cut, study_acc, cifar ? "CIFAR-10" : "Fashion-MNIST",
          100 * cut, src, tx, dacc, ta,
          synthetic ? "; synthetic data: the accuracy part is not testable here" : "",
          100 * CUT_TOL, 100 * study_cut, ACC_TOL, study_acc, why);
    jg_repro_test_text(&q->t[1], tx, sizeof tx);
    jg_repro_effect_text(&q->t[1], "", eff, sizeof eff);
    v = q->t[1].n < MIN_PAIRS       ? "not testable here"
        : lin_var <= LINEAR_VAR_MAX ? "confirmed"
                                    : "refuted";
    jg_repro_claim(cl, "RQ2 linear small", v,
          "Linear layers explain about 1%% of the energy variance (the study): here %.2f%% "
          "(confirmed means at most %.0f%%); energy lin7 / lin3 %s (%s). Measured directly, "
          "linear layers take %.1f%% of the joules of the design's networks (`%s`).",
          100 * lin_var, 100 * LINEAR_VAR_MAX, eff, tx,
          100 * design_share(q->mean_type, q->mean_e, 1, 0, 0), src);
    jg_repro_test_text(&q->t[2], tx, sizeof tx);
    jg_repro_effect_text(&q->t[2], "", eff, sizeof eff);
    v = q->t[2].n < MIN_PAIRS      ? "not testable here"
        : relu_var <= RELU_VAR_MAX ? "confirmed"
                                   : "refuted";
    jg_repro_claim(cl, "RQ2 ReLU negligible", v,
          "ReLU explains about 0.2%% of the energy variance (the study): here %.2f%% (confirmed "
          "means at most %.0f%%); energy ReLU on / off %s (%s). Measured directly, ReLU layers "
          "take %.2f%% of the joules of the design's networks with ReLU (`%s`).",
          100 * relu_var, 100 * RELU_VAR_MAX, eff, tx,
          100 * design_share(q->mean_type, q->mean_e, 2, 4, 4), src);
    // A tiny run exercises the pipeline: its verdicts rest on a few hundred
    // images and one epoch, so say so beside each (as RQ1 does for BO).
    for (int k = 0; o->scale == &SCALES[0] && k < cl->n; k++)
        if (!strncmp(cl->c[k].id, "RQ2", 3)) {
            const size_t len = strlen(cl->c[k].text);
            snprintf(cl->c[k].text + len, sizeof cl->c[k].text - len,
                     " Scale tiny (%d training images, %d epoch per run): this tests the "
                     "pipeline, not the claim; use --scale quick or full.",
                     o->scale->rq2_train_limit, o->scale->rq2_epochs);
        }
}

int jg_repro_rq2_report(const ctx_t *c, jg_report_t *r, claims_t *cl)
{
    rq2_t *q = calloc(1, sizeof *q);
    if (!q) return -ENOMEM;
    q->R = c->o.seeds;
    q->src = c->source;
    q->y = malloc(sizeof *q->y * (size_t)(N_DESIGN * q->R));
    int rc = q->y ? rq2_runs(c, q) : -ENOMEM;
    if (!rc) rc = rq2_configs(c, r, q);
    if (!rc) rc = rq2_factors(c, r, q);
    if (!rc) rc = rq2_tests(c, r, q);
    if (!rc) rc = rq2_sweep(c, r, q);
    if (!rc) rq2_claims(c, cl, q);
    free(q->y);
    free(q);
    return rc;
}
