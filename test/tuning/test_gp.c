/* SPDX-License-Identifier: MIT */
/* GP regression: posterior vs a closed-form reference on a tiny 1-D case,
 * duplicate points through the jitter path, the log-marginal-likelihood
 * gradient vs central differences, fitting, and argument errors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

static double matern52(double r)
{
    return (1.0 + sqrt(5.0) * r + 5.0 / 3.0 * r * r) * exp(-sqrt(5.0) * r);
}

static jg_tune_gp_t *make(int d)
{
    jg_tune_gp_t *gp = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_gp_create(&gp, d, &err);
    if (rc) fail_msg("create: %d %s", rc, err.msg);
    return gp;
}

/* 1-D, 3 points, ls 0.3, sf2 1.5, sn2 0.01: K, its inverse by cofactors,
 * and the textbook posterior, all by hand in double. */
static void test_posterior_closed_form(void **state)
{
    (void)state;
    const double u[3] = { 0.1, 0.4, 0.9 }, y[3] = { 1.0, 3.0, 2.0 };
    const double ls = 0.3, sf2 = 1.5, sn2 = 0.01;
    jg_tune_gp_t *gp = make(1);
    jg_tune_gp_hyp_t h = { .log_ls = { log(ls) }, .log_sf2 = log(sf2), .log_sn2 = log(sn2) };
    jg_tune_error_t err;
    assert_int_equal(jg_tune_gp_set_hyp(gp, &h, &err), 0);
    assert_int_equal(jg_tune_gp_set_data(gp, u, y, 3, &err), 0);
    assert_true(jg_tune_gp_jitter(gp) == 0.0);

    /* standardise: mean 2, std sqrt(2/3) */
    const double m = 2.0, s = sqrt(2.0 / 3.0);
    double ys[3], K[3][3], C[3][3];
    for (int i = 0; i < 3; i++) ys[i] = (y[i] - m) / s;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            K[i][j] = sf2 * matern52(fabs(u[i] - u[j]) / ls) + (i == j ? sn2 : 0.0);
    /* inverse = adjugate / det */
    const double det = K[0][0] * (K[1][1] * K[2][2] - K[1][2] * K[2][1]) -
                       K[0][1] * (K[1][0] * K[2][2] - K[1][2] * K[2][0]) +
                       K[0][2] * (K[1][0] * K[2][1] - K[1][1] * K[2][0]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            const int a = (j + 1) % 3, b = (j + 2) % 3, c = (i + 1) % 3, e = (i + 2) % 3;
            C[i][j] = (K[a][c] * K[b][e] - K[a][e] * K[b][c]) / det;
        }
    const double q[4] = { 0.0, 0.25, 0.4, 0.75 };
    double mean[4], var[4], want_m[4], want_v[4];
    for (int t = 0; t < 4; t++) {
        double ks[3], mu = 0.0, quad = 0.0;
        for (int i = 0; i < 3; i++) ks[i] = sf2 * matern52(fabs(q[t] - u[i]) / ls);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                mu += ks[i] * C[i][j] * ys[j];
                quad += ks[i] * C[i][j] * ks[j];
            }
        want_m[t] = m + s * mu;
        want_v[t] = s * s * (sf2 - quad);
    }
    assert_int_equal(jg_tune_gp_predict(gp, q, 4, mean, var, &err), 0);
    for (int t = 0; t < 4; t++) {
        if (fabs(mean[t] - want_m[t]) > 1e-10 || fabs(var[t] - want_v[t]) > 1e-10)
            fail_msg("q %g: mean %.12g want %.12g, var %.12g want %.12g", q[t],
                     mean[t], want_m[t], var[t], want_v[t]);
    }
    /* near a data point the noise is small: mean close to y, variance small */
    assert_true(fabs(mean[2] - 3.0) < 0.05);
    assert_true(var[2] < 0.02 * s * s);
    jg_tune_gp_destroy(gp);
}

/* Exact duplicates with (almost) no noise make K singular: the factorisation
 * must add jitter and still predict the shared value. */
static void test_duplicates_take_jitter_path(void **state)
{
    (void)state;
    /* (4, 2): A, B, A, A with A = (0.2, 0.7), B = (0.5, 0.5) */
    const double u[8] = { 0.2, 0.7, 0.5, 0.5, 0.2, 0.7, 0.2, 0.7 };
    const double y[4] = { 1.0, 2.0, 1.0, 1.0 };
    jg_tune_gp_t *gp = make(2);
    jg_tune_gp_hyp_t h = { .log_ls = { log(0.4), log(0.4) }, .log_sf2 = 0.0,
                           .log_sn2 = log(1e-300) };
    jg_tune_error_t err;
    assert_int_equal(jg_tune_gp_set_hyp(gp, &h, &err), 0);
    int rc = jg_tune_gp_set_data(gp, u, y, 4, &err);
    if (rc) fail_msg("set_data: %d %s", rc, err.msg);
    assert_true(jg_tune_gp_jitter(gp) > 0.0);
    assert_true(jg_tune_gp_jitter(gp) <= 1e-2 + 1e-15); /* 1e-2 x diagonal 1 */
    double mean[2], var[2];
    assert_int_equal(jg_tune_gp_predict(gp, u, 2, mean, var, &err), 0);
    assert_true(fabs(mean[0] - 1.0) < 1e-3 && fabs(mean[1] - 2.0) < 1e-3);
    assert_true(var[0] >= 0.0 && var[0] < 1e-3 && var[1] >= 0.0 && var[1] < 1e-3);
    /* fitting on duplicates also succeeds */
    rc = jg_tune_gp_fit(gp, 7, 2, &err);
    if (rc) fail_msg("fit: %d %s", rc, err.msg);
    jg_tune_gp_destroy(gp);
}

static void random_data(int n, int d, uint64_t seed, double *u, double *y)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed);
    for (int i = 0; i < n * d; i++) u[i] = (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
    for (int i = 0; i < n; i++) {
        double uu[2] = { u[i * d], u[i * d + 1] };
        y[i] = jg_tune_branin01(uu) + (d > 2 ? sin(6.0 * u[i * d + 2]) : 0.0);
    }
}

static void test_lml_gradient_fd(void **state)
{
    (void)state;
    enum { N = 12, D = 3 };
    double u[N * D], y[N];
    random_data(N, D, 11, u, y);
    jg_tune_gp_t *gp = make(D);
    jg_tune_error_t err;
    assert_int_equal(jg_tune_gp_set_data(gp, u, y, N, &err), 0);
    const jg_tune_gp_hyp_t h0 = { .log_ls = { log(0.3), log(0.8), log(0.15) },
                                  .log_sf2 = log(1.3), .log_sn2 = log(0.02) };
    double f, g[D + 2];
    assert_int_equal(jg_tune_gp_lml(gp, &h0, &f, g, &err), 0);
    assert_true(isfinite(f));
    const double eps = 1e-5;
    for (int k = 0; k < D + 2; k++) {
        jg_tune_gp_hyp_t hp = h0, hm = h0;
        double *pp = k < D ? &hp.log_ls[k] : (k == D ? &hp.log_sf2 : &hp.log_sn2);
        double *pm = k < D ? &hm.log_ls[k] : (k == D ? &hm.log_sf2 : &hm.log_sn2);
        *pp += eps;
        *pm -= eps;
        double fp, fm;
        assert_int_equal(jg_tune_gp_lml(gp, &hp, &fp, NULL, &err), 0);
        assert_int_equal(jg_tune_gp_lml(gp, &hm, &fm, NULL, &err), 0);
        const double fd = (fp - fm) / (2 * eps);
        if (fabs(fd - g[k]) > 1e-5 + 1e-5 * fabs(fd))
            fail_msg("param %d: analytic %.10g, finite difference %.10g", k, g[k], fd);
    }
    jg_tune_gp_destroy(gp);
}

/* The fit must beat the default hyperparameters on the marginal likelihood,
 * be deterministic, and predict held-out points better than the mean. */
static void test_fit_improves_and_is_deterministic(void **state)
{
    (void)state;
    enum { N = 30, D = 2 };
    double u[N * D], y[N];
    random_data(N, D, 5, u, y);
    jg_tune_gp_t *a = make(D), *b = make(D);
    jg_tune_error_t err;
    jg_tune_gp_hyp_t h0, ha, hb;
    jg_tune_gp_get_hyp(a, &h0);
    assert_int_equal(jg_tune_gp_set_data(a, u, y, N, &err), 0);
    assert_int_equal(jg_tune_gp_set_data(b, u, y, N, &err), 0);
    double f0, fa;
    assert_int_equal(jg_tune_gp_lml(a, &h0, &f0, NULL, &err), 0);
    assert_int_equal(jg_tune_gp_fit(a, 3, 3, &err), 0);
    assert_int_equal(jg_tune_gp_fit(b, 3, 3, &err), 0);
    jg_tune_gp_get_hyp(a, &ha);
    jg_tune_gp_get_hyp(b, &hb);
    assert_memory_equal(&ha, &hb, sizeof ha);
    assert_int_equal(jg_tune_gp_lml(a, &ha, &fa, NULL, &err), 0);
    assert_true(fa > f0);
    assert_true(ha.log_sn2 >= log(1e-6) - 1e-12);
    double uq[20 * D], yq[20], mq[20], se = 0.0, sm = 0.0, ym = 0.0;
    random_data(20, D, 99, uq, yq);
    for (int i = 0; i < N; i++) ym += y[i] / N;
    assert_int_equal(jg_tune_gp_predict(a, uq, 20, mq, NULL, &err), 0);
    for (int i = 0; i < 20; i++) {
        se += (mq[i] - yq[i]) * (mq[i] - yq[i]);
        sm += (ym - yq[i]) * (ym - yq[i]);
    }
    assert_true(se < 0.25 * sm);
    jg_tune_gp_destroy(a);
    jg_tune_gp_destroy(b);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jg_tune_gp_t *gp = NULL;
    jg_tune_error_t err;
    assert_int_equal(jg_tune_gp_create(&gp, 0, &err), -EINVAL);
    assert_int_equal(jg_tune_gp_create(&gp, JG_TUNE_GP_MAX_DIM + 1, NULL), -EINVAL);
    gp = make(1);
    const double u_bad[1] = { 1.5 }, u[1] = { 0.5 }, y_bad[1] = { NAN }, y[1] = { 1.0 };
    assert_int_equal(jg_tune_gp_set_data(gp, u_bad, y, 1, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "outside"));
    assert_int_equal(jg_tune_gp_set_data(gp, u, y_bad, 1, &err), -EINVAL);
    assert_int_equal(jg_tune_gp_set_data(gp, u, y, 0, &err), -EINVAL);
    double m;
    assert_int_equal(jg_tune_gp_predict(gp, u, 1, &m, NULL, &err), -EINVAL); /* no data */
    jg_tune_gp_hyp_t h;
    jg_tune_gp_get_hyp(gp, &h);
    h.log_sf2 = INFINITY;
    assert_int_equal(jg_tune_gp_set_hyp(gp, &h, &err), -EINVAL);
    /* one point: std falls back to 1, mean is the point */
    assert_int_equal(jg_tune_gp_set_data(gp, u, y, 1, &err), 0);
    assert_int_equal(jg_tune_gp_predict(gp, u, 1, &m, NULL, &err), 0);
    assert_true(fabs(m - 1.0) < 1e-12);
    jg_tune_gp_destroy(gp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posterior_closed_form),
        cmocka_unit_test(test_duplicates_take_jitter_path),
        cmocka_unit_test(test_lml_gradient_fd),
        cmocka_unit_test(test_fit_improves_and_is_deterministic),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
