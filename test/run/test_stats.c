/* SPDX-License-Identifier: MIT */
/*
 * test_stats.c - cli/stats.c against known values: Wilcoxon signed-rank
 * p-values computed offline with scipy 1.10.1 (scipy.stats.wilcoxon; the
 * exact inputs are below), the exact test with ties and Pratt zeros against
 * a brute-force enumeration of every sign assignment, Holm against a worked
 * example, quantiles against numpy.percentile, and the 2^3 factorial sums of
 * squares against a design built from known effects.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "jg_run.h"

#define P_TOL 1e-12 /* exact p-values are dyadic rationals; approx ones go through erfc */

/* scipy.stats.wilcoxon(d, method='exact') documentation example (n = 15,
 * no ties): statistic 24, p = 0.041259765625. */
static void test_wilcoxon_exact_scipy(void **state)
{
    (void)state;
    const double d[] = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
    jg_stats_wilcoxon_t r;
    assert_int_equal(jg_stats_wilcoxon(d, NULL, 15, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_int_equal(r.exact, 1);
    assert_int_equal(r.n, 15);
    assert_true(r.statistic == 24);
    assert_true(r.w_plus + r.w_minus == 120);
    assert_true(fabs(r.p - 0.041259765625) < P_TOL);

    // Paired form: Hollander & Wolfe's depression scores, statistic 5, p = 0.0390625.
    const double x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
    const double y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
    assert_int_equal(jg_stats_wilcoxon(x, y, 9, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_true(r.statistic == 5 && r.w_plus == 40);
    assert_true(fabs(r.p - 0.0390625) < P_TOL);
}

/* d6[i] = (i+1) * 0.1 * (i % 3 ? 1 : -1): the first 25 are exact (scipy:
 * statistic 117, p = 0.23036134243011475), all 26 use the normal
 * approximation (scipy method='approx', correction=False: 117,
 * p = 0.1373368801747642). */
static void test_wilcoxon_exact_limit(void **state)
{
    (void)state;
    double d[26];
    for (int i = 0; i < 26; i++) d[i] = (i + 1) * (i % 3 ? 1 : -1) * 0.1;
    jg_stats_wilcoxon_t r;
    assert_int_equal(jg_stats_wilcoxon(d, NULL, 25, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_int_equal(r.exact, 1);
    assert_true(r.statistic == 117);
    assert_true(fabs(r.p - 0.23036134243011475) < P_TOL);
    assert_int_equal(jg_stats_wilcoxon(d, NULL, 26, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_int_equal(r.exact, 0);
    assert_true(r.statistic == 117);
    assert_true(fabs(r.p - 0.1373368801747642) < 1e-12);
}

/* Normal approximation with tied groups and zeros, scipy method='approx',
 * correction=False: 34 values with one zero (wilcox 214 / 0.23439535526794475,
 * pratt 228 / 0.2377924675291977), and the same plus two more zeros (wilcox
 * unchanged, pratt 256 / 0.24451803179140807). */
static void test_wilcoxon_approx_ties_zeros(void **state)
{
    (void)state;
    double d[36];
    for (int i = 0; i < 34; i++) d[i] = ((i * 37) % 23 - 9) * 0.5;
    d[34] = d[35] = 0;
    const struct {
        int n;
        jg_stats_zero_t zero;
        double stat, p;
    } want[] = {
        {34, JG_STATS_ZERO_WILCOX, 214, 0.23439535526794475},
        {34, JG_STATS_ZERO_PRATT, 228, 0.2377924675291977},
        {36, JG_STATS_ZERO_WILCOX, 214, 0.23439535526794475},
        {36, JG_STATS_ZERO_PRATT, 256, 0.24451803179140807},
    };
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        jg_stats_wilcoxon_t r;
        assert_int_equal(jg_stats_wilcoxon(d, NULL, want[k].n, want[k].zero, &r), 0);
        assert_int_equal(r.exact, 0);
        assert_int_equal(r.n_zero, want[k].n == 34 ? 1 : 3);
        assert_true(r.statistic == want[k].stat);
        if (fabs(r.p - want[k].p) > 1e-12)
            fail_msg("case %zu: p %.17g, scipy %.17g", k, r.p, want[k].p);
    }
}

/* Brute force: p over all 2^k sign assignments of the non-zero ranks. */
static double brute_p(const double *d, int n, jg_stats_zero_t zero, double *w_plus)
{
    double rank[32], nzr[32];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (zero == JG_STATS_ZERO_WILCOX && d[i] == 0) {
            rank[i] = NAN;
            continue;
        }
        int less = 0, equal = 0; // midrank among the ranked values
        for (int j = 0; j < n; j++) {
            if (zero == JG_STATS_ZERO_WILCOX && d[j] == 0) continue;
            less += fabs(d[j]) < fabs(d[i]);
            equal += fabs(d[j]) == fabs(d[i]);
        }
        rank[i] = less + (equal + 1) * 0.5;
    }
    *w_plus = 0;
    for (int i = 0; i < n; i++) {
        if (d[i] > 0) *w_plus += rank[i];
        if (d[i] != 0) nzr[m++] = rank[i];
    }
    double le = 0, ge = 0;
    for (unsigned s = 0; s < 1u << m; s++) {
        double w = 0;
        for (int i = 0; i < m; i++)
            if (s >> i & 1) w += nzr[i];
        le += w <= *w_plus;
        ge += w >= *w_plus;
    }
    const double p = 2 * fmin(le, ge) / ldexp(1, m);
    return p < 1 ? p : 1;
}

/* Exact p-values with ties and zeros on generated small samples (values on a
 * coarse grid so ties and zeros are common) equal the brute force; two
 * worked cases are checked by value (brute force in Python, offline). */
static void test_wilcoxon_exact_ties_brute(void **state)
{
    (void)state;
    const double d3[] = {1.5, -0.5, 2, 2, -2, 3, 0.5, 4, 4, 4, -1, 5};
    const double d4[] = {0, 0, 1.5, -0.5, 2, 2, -2, 3, 0.5, 4, 0, -1, 5, 6};
    jg_stats_wilcoxon_t r;
    assert_int_equal(jg_stats_wilcoxon(d3, NULL, 12, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_true(r.exact && r.w_plus == 67.5 && fabs(r.p - 0.0224609375) < P_TOL);
    assert_int_equal(jg_stats_wilcoxon(d4, NULL, 14, JG_STATS_ZERO_PRATT, &r), 0);
    assert_true(r.exact && r.w_plus == 79.5 && fabs(r.p - 0.0576171875) < P_TOL);
    assert_int_equal(jg_stats_wilcoxon(d4, NULL, 14, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_true(r.exact && r.w_plus == 55.5 && fabs(r.p - 0.0458984375) < P_TOL);

    jg_test_rng_t rng;
    jg_test_rng_seed(&rng, 77);
    int cases = 0;
    for (int n = 1; n <= 14; n++)
        for (int rep = 0; rep < 12; rep++) {
            double d[14];
            for (int i = 0; i < n; i++) d[i] = (double)((int)(jg_test_rng_u64(&rng) % 9) - 3);
            for (int z = 0; z < 2; z++) {
                const jg_stats_zero_t zero = z ? JG_STATS_ZERO_PRATT : JG_STATS_ZERO_WILCOX;
                double wp;
                const double p = brute_p(d, n, zero, &wp);
                assert_int_equal(jg_stats_wilcoxon(d, NULL, n, zero, &r), 0);
                if (r.w_plus != wp || fabs(r.p - p) > P_TOL)
                    fail_msg("n %d rep %d zero %d: w+ %g p %.17g, brute %g %.17g", n, rep, z,
                             r.w_plus, r.p, wp, p);
                cases++;
            }
        }
    assert_int_equal(cases, 14 * 12 * 2);
}

static void test_wilcoxon_edges(void **state)
{
    (void)state;
    jg_stats_wilcoxon_t r;
    const double zeros[] = {0, 0, 0}, bad[] = {1, NAN};
    assert_int_equal(jg_stats_wilcoxon(zeros, NULL, 3, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_true(r.p == 1 && r.n == 0 && r.n_zero == 3);
    assert_int_equal(jg_stats_wilcoxon(bad, NULL, 2, JG_STATS_ZERO_WILCOX, &r), -EINVAL);
    assert_int_equal(jg_stats_wilcoxon(zeros, NULL, 0, JG_STATS_ZERO_WILCOX, &r), -EINVAL);
    // n = 5 all positive: the smallest two-sided p is 2/32 > 0.05.
    const double five[] = {1, 2, 3, 4, 5};
    assert_int_equal(jg_stats_wilcoxon(five, NULL, 5, JG_STATS_ZERO_WILCOX, &r), 0);
    assert_true(fabs(r.p - 0.0625) < P_TOL);
}

/* Worked example: p = (0.01, 0.04, 0.03, 0.005), m = 4. Sorted 0.005, 0.01,
 * 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02,
 * 0.03, 0.06, 0.06. */
static void test_holm(void **state)
{
    (void)state;
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    const double want[] = {0.03, 0.06, 0.06, 0.02};
    assert_int_equal(jg_stats_holm(p, 4, adj), 0);
    for (int i = 0; i < 4; i++) assert_true(fabs(adj[i] - want[i]) < 1e-15);
    // In place, capped at 1, ties keep their order.
    double q[] = {0.5, 0.5, 0.9};
    assert_int_equal(jg_stats_holm(q, 3, q), 0);
    assert_true(q[0] == 1 && q[1] == 1 && q[2] == 1);
    double nan_p[] = {NAN};
    assert_int_equal(jg_stats_holm(nan_p, 1, adj), -EINVAL);
}

/* numpy.percentile([3.5, 1, 7.25, 2, 10, 4], [25, 50, 75]) = 2.375, 3.75,
 * 6.4375; mean 4.625, sd (ddof 1) 3.3902433540971657. NaNs are skipped. */
static void test_summary(void **state)
{
    (void)state;
    const double v[] = {3.5, 1.0, NAN, 7.25, 2.0, 10.0, INFINITY, 4.0};
    jg_stats_summary_t s;
    assert_int_equal(jg_stats_summary(v, 8, &s), 0);
    assert_int_equal(s.n, 6);
    assert_true(fabs(s.q1 - 2.375) < 1e-15 && fabs(s.median - 3.75) < 1e-15 &&
                fabs(s.q3 - 6.4375) < 1e-15);
    assert_true(fabs(s.mean - 4.625) < 1e-15 && fabs(s.sd - 3.3902433540971657) < 1e-14);
    assert_true(s.min == 1 && s.max == 10);
    assert_int_equal(jg_stats_summary(v + 2, 1, &s), 0);
    assert_true(s.n == 0 && isnan(s.median));
}

/* y = 10 + 4 A + 1 B + 0.5 C + 0.25 AB + noise(+-0.1 by replicate) in a 2^3
 * design with 2 replicates: each effect's SS is n * (coefficient)^2 with
 * n = 16 (coded +-1 levels), the noise only adds to the residual. */
static void test_factorial(void **state)
{
    (void)state;
    double y[16], ss[8];
    for (int c = 0; c < 8; c++)
        for (int r = 0; r < 2; r++) {
            const double a = c & 1 ? 1 : -1, b = c & 2 ? 1 : -1, cc = c & 4 ? 1 : -1;
            y[c * 2 + r] = 10 + 4 * a + b + 0.5 * cc + 0.25 * a * b + (r ? 0.1 : -0.1);
        }
    assert_int_equal(jg_stats_factorial(y, 3, 2, ss), 0);
    const double want[8] = {0, 16 * 16.0, 16 * 1.0, 16 * 0.0625, 16 * 0.25, 0, 0, 0};
    double sum = 0;
    for (int e = 1; e < 8; e++) {
        if (fabs(ss[e] - want[e]) > 1e-9) fail_msg("effect %d: ss %.12g want %.12g", e, ss[e], want[e]);
        sum += ss[e];
    }
    // Total = effects + replication error (16 values of +-0.1: 0.16).
    assert_true(fabs(ss[0] - (sum + 0.16)) < 1e-9);
    const double bad[2] = {1, NAN};
    assert_int_equal(jg_stats_factorial(bad, 1, 1, ss), -EINVAL);
    assert_int_equal(jg_stats_factorial(y, 0, 2, ss), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilcoxon_exact_scipy),
        cmocka_unit_test(test_wilcoxon_exact_limit),
        cmocka_unit_test(test_wilcoxon_approx_ties_zeros),
        cmocka_unit_test(test_wilcoxon_exact_ties_brute),
        cmocka_unit_test(test_wilcoxon_edges),
        cmocka_unit_test(test_holm),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_factorial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
