/* SPDX-License-Identifier: MIT */
/* repro_claims.c - paired Wilcoxon tests with Holm, effects and verdicts, and the
 * claims of the reproduction (repro_internal.h). */
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

/* Paired Wilcoxon (Pratt zeros) of x against y over n pairs; with ratio, of
 * ln x - ln y (pairs with a value <= 0 are left out). */
int jg_repro_paired(test_t *t, const char *name, const double *x, const double *y, int n,
                  int ratio)
{
    double *d = malloc(sizeof *d * (size_t)(n ? n : 1));
    if (!d) return -ENOMEM;
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double v = !ratio ? x[i] - y[i] : x[i] > 0 && y[i] > 0 ? log(x[i] / y[i]) : NAN;
        if (isfinite(v)) d[m++] = v;
    }
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n = m;
    t->ratio = ratio;
    t->w.p = t->p_holm = t->effect = NAN;
    jg_stats_summary_t s;
    int rc = jg_stats_summary(d, m, &s);
    if (!rc) t->effect = s.median;
    if (!rc && m) rc = jg_stats_wilcoxon(d, NULL, m, JG_STATS_ZERO_PRATT, &t->w);
    free(d);
    return rc;
}

/* Holm over one family of tests (a test without pairs counts as p = 1). */
void jg_repro_holm(test_t *t, int m)
{
    double p[8] = {0}, adj[8];
    if (m < 1 || m > 8) return;
    for (int i = 0; i < m; i++) p[i] = isnan(t[i].w.p) ? 1 : t[i].w.p;
    if (!jg_stats_holm(p, m, adj))
        for (int i = 0; i < m; i++) t[i].p_holm = adj[i];
}

/* A directional claim: confirmed when the effect has the claimed sign and
 * Holm p <= ALPHA, refuted when it has the other sign with Holm p <= ALPHA,
 * else inconclusive; not testable with fewer than MIN_PAIRS pairs. */
const char *jg_repro_verdict(const test_t *t, int want_negative)
{
    if (t->n < MIN_PAIRS) return "not testable here";
    if (!(t->p_holm <= ALPHA)) return "inconclusive";
    return (t->effect < 0) == want_negative ? "confirmed" : "refuted";
}

void jg_repro_effect_text(const test_t *t, const char *unit, char *buf, size_t cap)
{
    if (isnan(t->effect)) snprintf(buf, cap, "-");
    else if (t->ratio) snprintf(buf, cap, "x%.3f", exp(t->effect));
    else snprintf(buf, cap, "%+.3g%s", t->effect, unit);
}

void jg_repro_test_text(const test_t *t, char *buf, size_t cap)
{
    if (!t->n) snprintf(buf, cap, "no pairs");
    else snprintf(buf, cap, "Wilcoxon signed-rank, n = %d pairs, W = %g, p = %.3g %s, Holm p = %.3g",
                  t->n, t->w.statistic, t->w.p, t->w.exact ? "(exact)" : "(normal approx.)",
                  t->p_holm);
}

void jg_repro_tests_table(jg_report_t *r, const test_t *t, int m, const char *unit)
{
    jg_report_table_begin(r);
    jg_report_row(r, "comparison\tpairs\tmedian paired effect\tW+\tW = min(W+, W-)\tp\tHolm p");
    for (int i = 0; i < m; i++) {
        char e[48];
        jg_repro_effect_text(&t[i], unit, e, sizeof e);
        jg_report_row(r, "%s\t%d\t%s\t%g\t%g\t%.3g%s\t%.3g", t[i].name, t[i].n, e, t[i].w.w_plus,
                      t[i].w.statistic, t[i].w.p, t[i].w.exact ? " (exact)" : "", t[i].p_holm);
    }
    jg_report_table_end(r);
}

int jg_repro_tests_csv(const char *dir, const char *name, const test_t *t, int m)
{
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "comparison,pairs,median_effect,effect_is_log_ratio,w_plus,statistic,p,"
                     "exact,p_holm\n");
    for (int i = 0; i < m; i++)
        jg_sb_printf(&b, "%s,%d,%.9g,%d,%.9g,%.9g,%.9g,%d,%.9g\n", t[i].name, t[i].n,
                     t[i].effect, t[i].ratio, t[i].w.w_plus, t[i].w.statistic, t[i].w.p,
                     t[i].w.exact, t[i].p_holm);
    return jg_sb_write(dir, name, &b);
}

void jg_repro_claim(claims_t *cl, const char *id, const char *verdict, const char *fmt, ...)
{
    if (cl->n == MAX_CLAIMS) return;
    claim_t *c = &cl->c[cl->n++];
    snprintf(c->id, sizeof c->id, "%s", id);
    c->verdict = verdict;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text, sizeof c->text, fmt, ap);
    va_end(ap);
}

double jg_repro_median(const double *v, int n)
{
    jg_stats_summary_t s;
    return jg_stats_summary(v, n, &s) ? NAN : s.median;
}

/* A number or "-" for NaN. */
const char *jg_repro_num(char *buf, size_t cap, const char *fmt, double v)
{
    if (isnan(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, fmt, v);
    return buf;
}

