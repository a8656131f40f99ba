/* SPDX-License-Identifier: MIT */
/* stats.c - summaries, Wilcoxon signed-rank, Holm, 2^k sums of squares (jg_run.h). */
#include "jg_run.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n-1], linear between order statistics. */
static double quantile(const double *v, int n, double q)
{
    const double h = (n - 1) * q;
    const int lo = (int)floor(h);
    return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

int jg_stats_summary(const double *v, int n, jg_stats_summary_t *s)
{
    if (!s || n < 0 || (n && !v)) return -EINVAL;
    double *w = malloc(sizeof *w * (size_t)(n ? n : 1));
    if (!w) return -ENOMEM;
    int k = 0;
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) {
            w[k++] = v[i];
            sum += v[i];
        }
    s->n = k;
    if (!k) {
        s->mean = s->sd = s->median = s->q1 = s->q3 = s->min = s->max = NAN;
        free(w);
        return 0;
    }
    qsort(w, (size_t)k, sizeof *w, cmp_double);
    s->mean = sum / k;
    double ss = 0;
    for (int i = 0; i < k; i++) ss += (w[i] - s->mean) * (w[i] - s->mean);
    s->sd = k > 1 ? sqrt(ss / (k - 1)) : 0;
    s->median = quantile(w, k, 0.5);
    s->q1 = quantile(w, k, 0.25);
    s->q3 = quantile(w, k, 0.75);
    s->min = w[0];
    s->max = w[k - 1];
    free(w);
    return 0;
}

double jg_stats_normal_sf(double z)
{
    return 0.5 * erfc(z / sqrt(2.0));
}

typedef struct {
    double a; /* |d| */
    int i;    /* index in d */
} absval_t;

static int cmp_abs(const void *x, const void *y)
{
    const absval_t *a = x, *b = y;
    return (a->a > b->a) - (a->a < b->a);
}

int jg_stats_wilcoxon(const double *x, const double *y, int n, jg_stats_zero_t zero,
                      jg_stats_wilcoxon_t *r)
{
    if (!x || !r || n < 1 || (zero != JG_STATS_ZERO_WILCOX && zero != JG_STATS_ZERO_PRATT))
        return -EINVAL;
    memset(r, 0, sizeof *r);
    r->z = NAN;
    r->p = 1;
    absval_t *av = malloc(sizeof *av * (size_t)n);
    double *d = malloc(sizeof *d * (size_t)n);
    int *rank2 = malloc(sizeof *rank2 * (size_t)n); // twice the midrank: an integer
    double *cnt = NULL;
    int rc = av && d && rank2 ? 0 : -ENOMEM;
    int m = 0; // ranked differences
    for (int i = 0; !rc && i < n; i++) {
        d[i] = y ? x[i] - y[i] : x[i];
        if (!isfinite(d[i])) rc = -EINVAL;
        else if (d[i] == 0) r->n_zero++;
        if (!rc && (d[i] != 0 || zero == JG_STATS_ZERO_PRATT))
            av[m++] = (absval_t){fabs(d[i]), i};
    }
    if (rc) goto done;
    r->n = m;
    const int nz = m - (zero == JG_STATS_ZERO_PRATT ? r->n_zero : 0); // non-zero ones
    if (!nz) goto done;
    qsort(av, (size_t)m, sizeof *av, cmp_abs);
    // Midranks; tie groups among the non-zero values feed the variance term.
    double tie_term = 0;                  // sum over tied groups of t^3 - t
    long long w2_plus = 0, total2 = 0;    // doubled rank sums (non-zero only)
    for (int a = 0; a < m;) {
        int b = a;
        while (b + 1 < m && av[b + 1].a == av[a].a) b++;
        const int t = b - a + 1;
        if (av[a].a != 0) tie_term += (double)t * t * t - t;
        for (int k = a; k <= b; k++) {
            rank2[av[k].i] = a + b + 2; // (a+1 + b+1): twice the midrank
            const double di = d[av[k].i];
            if (di > 0) w2_plus += rank2[av[k].i];
            if (di != 0) total2 += rank2[av[k].i];
        }
        a = b + 1;
    }
    r->w_plus = 0.5 * (double)w2_plus;
    r->w_minus = 0.5 * (double)(total2 - w2_plus);
    r->statistic = r->w_plus < r->w_minus ? r->w_plus : r->w_minus;

    if (nz <= JG_STATS_WILCOXON_EXACT_MAX) {
        // cnt[s] = sign assignments whose positive doubled ranks sum to s.
        cnt = calloc((size_t)total2 + 1, sizeof *cnt);
        if (!cnt) {
            rc = -ENOMEM;
            goto done;
        }
        cnt[0] = 1;
        long long reach = 0;
        for (int i = 0; i < n; i++) {
            if (d[i] == 0) continue;
            const int q = rank2[i];
            for (long long s = reach; s >= 0; s--)
                if (cnt[s] != 0) cnt[s + q] += cnt[s];
            reach += q;
        }
        double le = 0, ge = 0;
        for (long long s = 0; s <= total2; s++) {
            if (s <= w2_plus) le += cnt[s];
            if (s >= w2_plus) ge += cnt[s];
        }
        const double all = ldexp(1.0, nz);
        const double p = 2 * (le < ge ? le : ge) / all;
        r->p = p < 1 ? p : 1;
        r->exact = 1;
        goto done;
    }
    double mu = 0.25 * m * (m + 1.0);
    double var = m * (m + 1.0) * (2.0 * m + 1.0);
    if (zero == JG_STATS_ZERO_PRATT) {
        const double z0 = r->n_zero;
        mu -= 0.25 * z0 * (z0 + 1);
        var -= z0 * (z0 + 1) * (2 * z0 + 1);
    }
    var = (var - 0.5 * tie_term) / 24;
    r->z = var > 0 ? (r->statistic - mu) / sqrt(var) : 0;
    const double p = 2 * jg_stats_normal_sf(fabs(r->z));
    r->p = p < 1 ? p : 1;
done:
    free(cnt);
    free(rank2);
    free(d);
    free(av);
    return rc;
}

typedef struct {
    double p;
    int i;
} pval_t;

static int cmp_p(const void *x, const void *y)
{
    const pval_t *a = x, *b = y;
    if (a->p != b->p) return (a->p > b->p) - (a->p < b->p);
    return a->i - b->i; // stable
}

int jg_stats_holm(const double *p, int m, double *adj)
{
    if (!p || !adj || m < 1) return -EINVAL;
    for (int i = 0; i < m; i++)
        if (isnan(p[i])) return -EINVAL;
    pval_t *s = malloc(sizeof *s * (size_t)m);
    if (!s) return -ENOMEM;
    for (int i = 0; i < m; i++) s[i] = (pval_t){p[i], i};
    qsort(s, (size_t)m, sizeof *s, cmp_p);
    double run = 0;
    for (int j = 0; j < m; j++) {
        double a = (double)(m - j) * s[j].p;
        if (a > 1) a = 1;
        if (a > run) run = a;
        adj[s[j].i] = run;
    }
    free(s);
    return 0;
}

int jg_stats_factorial(const double *y, int k, int reps, double *ss)
{
    if (!y || !ss || k < 1 || k > 8 || reps < 1) return -EINVAL;
    const int cells = 1 << k, n = cells * reps;
    double mean = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i])) return -EINVAL;
        mean += y[i];
    }
    mean /= n;
    ss[0] = 0;
    for (int i = 0; i < n; i++) ss[0] += (y[i] - mean) * (y[i] - mean);
    for (int e = 1; e < cells; e++) {
        double contrast = 0;
        for (int c = 0; c < cells; c++) {
            double cell = 0;
            for (int r = 0; r < reps; r++) cell += y[c * reps + r];
            int low = 0; // factors of e at their low level in c: sign (-1)^low
            for (int f = 0; f < k; f++) low += (e >> f & 1) && !(c >> f & 1);
            contrast += low & 1 ? -cell : cell;
        }
        ss[e] = contrast * contrast / n;
    }
    return 0;
}
