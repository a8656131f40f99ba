/* SPDX-License-Identifier: MIT */
/* Bayesian optimisation: Branin (rescaled to [0,1]^2, minimised) reaches
 * f < 0.3989 in few evaluations and beats random search with the same seeds;
 * proposals are deterministic and depend only on the observations; every
 * acquisition works for both senses; argument errors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "jg_tuning.h"

#define BRANIN_TARGET 0.3989 /* global minimum 0.397887 */
#define BO_CAP 60            /* evaluations before a run counts as failed */
#define RANDOM_CAP 500

static double branin01(const double *u)
{
    const double x1 = 15.0 * u[0] - 5.0, x2 = 15.0 * u[1];
    const double pi = 3.14159265358979323846;
    const double t = x2 - 5.1 / (4 * pi * pi) * x1 * x1 + 5.0 / pi * x1 - 6.0;
    return t * t + 10.0 * (1.0 - 1.0 / (8 * pi)) * cos(x1) + 10.0;
}

static jg_tune_bayes_t *make(const jg_tune_bayes_config_t *cfg)
{
    jg_tune_bayes_t *bo = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_bayes_create(&bo, cfg, &err);
    if (rc) fail_msg("create: %d %s", rc, err.msg);
    return bo;
}

static void step(jg_tune_bayes_t *bo, double *u, double (*f)(const double *), double *y)
{
    jg_tune_error_t err;
    int rc = jg_tune_bayes_propose(bo, u, &err);
    if (rc) fail_msg("propose: %d %s", rc, err.msg);
    *y = f(u);
    rc = jg_tune_bayes_observe(bo, u, *y, &err);
    if (rc) fail_msg("observe: %d %s", rc, err.msg);
}

/* Evaluations until branin < target, or cap + 1. */
static int bo_evals(uint64_t seed)
{
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, seed);
    cfg.maximise = 0;
    jg_tune_bayes_t *bo = make(&cfg);
    int n = BO_CAP + 1;
    for (int i = 1; i <= BO_CAP; i++) {
        double u[2], y;
        step(bo, u, branin01, &y);
        if (y < BRANIN_TARGET) {
            n = i;
            break;
        }
    }
    jg_tune_bayes_destroy(bo);
    return n;
}

static int random_evals(uint64_t seed)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed);
    for (int i = 1; i <= RANDOM_CAP; i++) {
        double u[2];
        for (int k = 0; k < 2; k++) u[k] = (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
        if (branin01(u) < BRANIN_TARGET) return i;
    }
    return RANDOM_CAP + 1;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

static void test_branin_median_evaluations(void **state)
{
    (void)state;
    int bo[10], rs[10];
    for (int s = 0; s < 10; s++) {
        bo[s] = bo_evals((uint64_t)s + 1);
        rs[s] = random_evals((uint64_t)s + 1);
    }
    printf("branin evaluations to f < %g (BO, cap %d / random, cap %d):", BRANIN_TARGET,
           BO_CAP, RANDOM_CAP);
    for (int s = 0; s < 10; s++) printf(" %d/%d", bo[s], rs[s]);
    qsort(bo, 10, sizeof *bo, cmp_int);
    qsort(rs, 10, sizeof *rs, cmp_int);
    const double med_bo = 0.5 * (bo[4] + bo[5]), med_rs = 0.5 * (rs[4] + rs[5]);
    printf("\nmedian: BO %.1f, random %.1f\n", med_bo, med_rs);
    assert_true(med_bo <= 35.0);
    assert_true(2.0 * med_bo < med_rs);
}

/* Same seed and observations give the same proposals; a fresh state fed the
 * same history (a resumed study) proposes the same next point; another seed
 * proposes differently. */
static void test_deterministic_and_resumable(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, 42);
    cfg.maximise = 0;
    jg_tune_bayes_t *a = make(&cfg), *b = make(&cfg);
    double ua[12][2], ub[2], y;
    for (int i = 0; i < 12; i++) {
        step(a, ua[i], branin01, &y);
        step(b, ub, branin01, &y);
        assert_memory_equal(ua[i], ub, sizeof ub);
    }
    jg_tune_bayes_t *r = make(&cfg);
    jg_tune_error_t err;
    for (int i = 0; i < 12; i++)
        assert_int_equal(jg_tune_bayes_observe(r, ua[i], branin01(ua[i]), &err), 0);
    assert_int_equal(jg_tune_bayes_n_obs(r), 12);
    double na[2], nr[2];
    assert_int_equal(jg_tune_bayes_propose(a, na, &err), 0);
    assert_int_equal(jg_tune_bayes_propose(r, nr, &err), 0);
    assert_memory_equal(na, nr, sizeof na);

    cfg.seed = 43;
    jg_tune_bayes_t *c = make(&cfg);
    double uc[2];
    assert_int_equal(jg_tune_bayes_propose(c, uc, &err), 0);
    assert_true(uc[0] != ua[0][0] || uc[1] != ua[0][1]);
    jg_tune_bayes_destroy(a);
    jg_tune_bayes_destroy(b);
    jg_tune_bayes_destroy(r);
    jg_tune_bayes_destroy(c);
}

static double bump(const double *u) /* max 1 at u = 0.3 */
{
    return 1.0 - 4.0 * (u[0] - 0.3) * (u[0] - 0.3);
}

static double neg_bump(const double *u) /* min -1 at u = 0.3 */
{
    return -bump(u);
}

/* Every acquisition, maximising and minimising, finds the optimum of a 1-D
 * parabola within 15 evaluations and stays in the cube. */
static void test_acquisitions_both_senses(void **state)
{
    (void)state;
    for (int acq = JG_TUNE_ACQ_EI; acq <= JG_TUNE_ACQ_UCB; acq++) {
        for (int maximise = 0; maximise <= 1; maximise++) {
            jg_tune_bayes_config_t cfg;
            jg_tune_bayes_config_default(&cfg, 1, 7);
            cfg.acq = (jg_tune_acq_t)acq;
            cfg.maximise = maximise;
            if (acq == JG_TUNE_ACQ_PI) cfg.xi = 0.01;
            jg_tune_bayes_t *bo = make(&cfg);
            double best_gap = INFINITY;
            for (int i = 0; i < 15; i++) {
                double u[1], y;
                step(bo, u, maximise ? bump : neg_bump, &y);
                assert_true(u[0] >= 0.0 && u[0] <= 1.0);
                best_gap = fmin(best_gap, 1.0 - (maximise ? y : -y));
            }
            if (!(best_gap < 1e-3))
                fail_msg("acq %d maximise %d: gap to optimum %g", acq, maximise, best_gap);
            jg_tune_bayes_destroy(bo);
        }
    }
}

static void test_bad_arguments(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_t *bo = NULL;
    jg_tune_error_t err;
    jg_tune_bayes_config_default(&cfg, 0, 1);
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.acq = (jg_tune_acq_t)7;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.xi = NAN;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    bo = make(&cfg);
    const double out[2] = { 0.5, -0.1 }, in[2] = { 0.5, 0.5 };
    assert_int_equal(jg_tune_bayes_observe(bo, out, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "outside"));
    assert_int_equal(jg_tune_bayes_observe(bo, in, INFINITY, &err), -EINVAL);
    assert_int_equal(jg_tune_bayes_n_obs(bo), 0);
    assert_int_equal(jg_tune_bayes_propose(bo, NULL, &err), -EINVAL);
    jg_tune_bayes_destroy(bo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branin_median_evaluations),
        cmocka_unit_test(test_deterministic_and_resumable),
        cmocka_unit_test(test_acquisitions_both_senses),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
