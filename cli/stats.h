/* SPDX-License-Identifier: MIT */
/*
 * stats.h - the few statistics `joulegrad reproduce` reports: summaries
 * (median and quartiles, no bootstrap), the Wilcoxon signed-rank test over
 * paired samples, the Holm-Bonferroni correction and the sums of squares of
 * a two-level factorial design. Private to cli/.
 *
 * Contract: every function returns 0 or a negative errno (-EINVAL for bad
 * arguments, -ENOMEM) and never prints. Results are deterministic.
 */
#ifndef JG_CLI_STATS_H
#define JG_CLI_STATS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Summary of the finite values of v[0..n-1] (NaN and inf are skipped and not
 * counted). Quantiles interpolate linearly between order statistics
 * (numpy's default, "type 7"); sd uses n - 1 (0 for one value). With no
 * finite value n = 0 and every other field is NaN. */
typedef struct {
    int n;
    double mean, sd, median, q1, q3, min, max;
} jg_stats_summary_t;

int jg_stats_summary(const double *v, int n, jg_stats_summary_t *s);

/* Zero differences: WILCOX drops them before ranking (scipy's default);
 * PRATT ranks them with the others and then leaves their ranks out of both
 * sums (Pratt 1959), with the matching mean/variance correction. */
typedef enum {
    JG_STATS_ZERO_WILCOX = 0,
    JG_STATS_ZERO_PRATT = 1,
} jg_stats_zero_t;

/* Largest number of non-zero differences with an exact p-value. */
#define JG_STATS_WILCOXON_EXACT_MAX 25

typedef struct {
    int n;            /* differences ranked (without zeros for WILCOX) */
    int n_zero;       /* zero differences */
    double w_plus;    /* sum of the ranks of the positive differences */
    double w_minus;   /* sum of the ranks of the negative differences */
    double statistic; /* min(w_plus, w_minus), as scipy reports it */
    double z;         /* normal approximation's z, NaN when exact */
    double p;         /* two-sided p-value; 1 when no difference is non-zero */
    int exact;        /* 1: exact distribution, 0: normal approximation */
} jg_stats_wilcoxon_t;

/* Two-sided Wilcoxon signed-rank test of d_i = x_i - y_i (y NULL: d_i = x_i)
 * against a distribution symmetric about 0. Absolute differences get
 * midranks on ties. With at most JG_STATS_WILCOXON_EXACT_MAX non-zero
 * differences the p-value is exact: the permutation distribution of w_plus
 * over the 2^k sign assignments of the observed ranks (so it stays exact with
 * ties and Pratt zeros), p = min(1, 2 min(P(W <= w_plus), P(W >= w_plus))).
 * Above it, the normal approximation without continuity correction,
 *   z = (statistic - mu) / sigma,  mu = n(n+1)/4,
 *   sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48   (t: sizes of tied groups)
 * (PRATT: mu and sigma^2 also lose n0(n0+1)/4 and n0(n0+1)(2n0+1)/24 for the
 * n0 zeros), p = 2 (1 - Phi(|z|)), as scipy.stats.wilcoxon(method="approx").
 * Non-finite differences are -EINVAL. */
int jg_stats_wilcoxon(const double *x, const double *y, int n, jg_stats_zero_t zero,
                      jg_stats_wilcoxon_t *r);

/* Holm-Bonferroni adjusted p-values for m tests:
 *   adj_(j) = min(1, max_{i <= j} (m - i + 1) p_(i))   over the sorted p_(1) <= ...
 * so rejecting adj[i] <= alpha controls the family-wise error at alpha.
 * adj may alias p. NaN p-values are -EINVAL. */
int jg_stats_holm(const double *p, int m, double *adj);

/* Sums of squares of a 2^k factorial design with reps replicates per cell:
 * y[c * reps + r] is replicate r of cell c, where bit f of c is 1 when factor
 * f is at its high level. ss has 2^k entries: ss[0] is the total sum of
 * squares about the grand mean, ss[e] (e = 1 .. 2^k - 1, a bit mask of the
 * factors) the effect's sum of squares
 *   ss[e] = (sum_c s_e(c) sum_r y[c, r])^2 / (reps 2^k),
 *   s_e(c) = prod_{f in e} (bit f of c ? +1 : -1).
 * The residual (replication error) is ss[0] - sum_{e >= 1} ss[e]; the share
 * of variance a factor explains (eta squared) is ss[e] / ss[0].
 * 1 <= k <= 8, reps >= 1; non-finite y is -EINVAL. */
int jg_stats_factorial(const double *y, int k, int reps, double *ss);

/* Standard normal upper tail 1 - Phi(z), accurate in the far tail. */
double jg_stats_normal_sf(double z);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_STATS_H */
