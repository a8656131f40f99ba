/* SPDX-License-Identifier: MIT */
/* Cost-aware Bayesian optimisation: EI per predicted joule against plain EI
 * on Branin with a synthetic cost (regret at a fixed cumulative-cost budget,
 * median over 10 seeds); the log-cost GP's predictions on a known log-linear
 * cost; -EAGAIN/-EINVAL contracts; bit-identical proposals for a seed. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

#define BRANIN_MIN 0.397887357729738
#define N_SEEDS 10
#define COST_BUDGET_J 150.0 /* cumulative synthetic joules per run */
#define MAX_EVALS 200       /* safety stop; the budget ends a run long before */

/* Synthetic cost in joules: 1 J at u0 = 0 to e^3 = 20.1 J at u0 = 1, so the
 * cheapest of Branin's three minima (u0 = 0.124, 0.543, 0.962) costs 1.45 J
 * and the dearest 18 J. */
static double cost01(const double *u)
{
    return exp(3.0 * u[0]);
}

static jg_tune_bayes_t *make(const jg_tune_bayes_config_t *cfg)
{
    jg_tune_bayes_t *bo = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_bayes_create(&bo, cfg, &err);
    if (rc) fail_msg("create: %d %s", rc, err.msg);
    return bo;
}

/* Regret (best Branin value - minimum) among the evaluations that finish
 * within COST_BUDGET_J cumulative joules; *evals = their number. */
static double regret_at_budget(jg_tune_acq_t acq, uint64_t seed, int *evals)
{
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, seed);
    cfg.maximise = 0;
    cfg.acq = acq;
    jg_tune_bayes_t *bo = make(&cfg);
    jg_tune_error_t err;
    double spent = 0.0, best = INFINITY;
    int i = 0;
    for (; i < MAX_EVALS; i++) {
        double u[2];
        int rc = jg_tune_bayes_propose(bo, u, &err);
        if (rc) fail_msg("propose: %d %s", rc, err.msg);
        const double y = jg_tune_branin01(u), c = cost01(u);
        if (spent + c > COST_BUDGET_J) break;
        spent += c;
        best = fmin(best, y);
        rc = jg_tune_bayes_observe_cost(bo, u, y, c, &err);
        if (rc) fail_msg("observe: %d %s", rc, err.msg);
    }
    jg_tune_bayes_destroy(bo);
    *evals = i;
    return best - BRANIN_MIN;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void test_ei_per_joule_beats_ei(void **state)
{
    (void)state;
    double r_ei[N_SEEDS], r_j[N_SEEDS];
    int n_ei[N_SEEDS], n_j[N_SEEDS];
    for (int s = 0; s < N_SEEDS; s++) {
        r_ei[s] = regret_at_budget(JG_TUNE_ACQ_EI, (uint64_t)s + 1, &n_ei[s]);
        r_j[s] = regret_at_budget(JG_TUNE_ACQ_EI_PER_J, (uint64_t)s + 1, &n_j[s]);
    }
    printf("branin regret within %.0f J of exp(3 u0) cost (EI [evals] / EI per J [evals]):",
           COST_BUDGET_J);
    for (int s = 0; s < N_SEEDS; s++)
        printf(" %.3g[%d]/%.3g[%d]", r_ei[s], n_ei[s], r_j[s], n_j[s]);
    const double m_ei = median(r_ei, N_SEEDS), m_j = median(r_j, N_SEEDS);
    printf("\nmedian regret: EI %.4g, EI per J %.4g\n", m_ei, m_j);
    assert_true(m_j < m_ei);
}

/* The log-cost GP on cost = 2 exp(1.5 u0 - u1 + 0.5 u2) J (a 11x range) from
 * 30 seeded uniform points: every prediction at 50 fresh points is within
 * PRED_TOL_LOG of ln(cost), and cost <= cost_hi. */
#define PRED_TOL_LOG 0.01 /* 1% relative */
static double loglin_cost(const double *u)
{
    return 2.0 * exp(1.5 * u[0] - u[1] + 0.5 * u[2]);
}

static void test_predict_cost_log_linear(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 3, 5);
    jg_tune_bayes_t *bo = make(&cfg);
    jg_tune_error_t err;
    jg_test_rng_t r;
    jg_test_rng_seed(&r, 99);
    double u[3], c, hi;
    for (int k = 0; k < 3; k++) u[k] = 0.5;
    /* fewer than 2 costs: -EAGAIN (an observation without a cost does not count) */
    assert_int_equal(jg_tune_bayes_predict_cost(bo, u, &c, &hi, &err), -EAGAIN);
    assert_int_equal(jg_tune_bayes_observe(bo, u, 0.5, &err), 0);
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 0.5, loglin_cost(u), &err), 0);
    assert_int_equal(jg_tune_bayes_predict_cost(bo, u, &c, &hi, &err), -EAGAIN);
    assert_non_null(strstr(err.msg, "need 2"));
    for (int i = 0; i < 30; i++) {
        for (int k = 0; k < 3; k++) u[k] = (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
        assert_int_equal(jg_tune_bayes_observe_cost(bo, u, u[0], loglin_cost(u), &err), 0);
    }
    double worst = 0.0, mean_band = 0.0;
    for (int i = 0; i < 50; i++) {
        for (int k = 0; k < 3; k++) u[k] = (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
        const int rc = jg_tune_bayes_predict_cost(bo, u, &c, &hi, &err);
        if (rc) fail_msg("predict_cost: %d %s", rc, err.msg);
        worst = fmax(worst, fabs(log(c) - log(loglin_cost(u))));
        assert_true(hi >= c);
        mean_band += log(hi / c) / 50;
    }
    printf("log-linear cost: worst |ln predicted - ln true| %.4f over 50 points "
           "(tolerance %.2f); mean ln(cost_hi / cost) %.4f\n", worst, PRED_TOL_LOG, mean_band);
    assert_true(worst < PRED_TOL_LOG);
    /* cost_hi may be NULL; u outside the cube is refused */
    assert_int_equal(jg_tune_bayes_predict_cost(bo, u, &c, NULL, &err), 0);
    u[1] = 1.5;
    assert_int_equal(jg_tune_bayes_predict_cost(bo, u, &c, &hi, &err), -EINVAL);
    jg_tune_bayes_destroy(bo);
}

static double unit_draw(jg_test_rng_t *r)
{
    return (double)(jg_test_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Energy readings are noisy: the same log-linear cost times lognormal noise
 * (sd 0.1 in ln) at 60 points. The rms of ln(cost) - ln(noise-free cost) over
 * 200 fresh points is below NOISY_RMS_LOG, and cost_hi covers 85-100% of
 * fresh noisy readings (nominal 95%: the bound includes the fitted noise). */
#define NOISY_RMS_LOG 0.06
static void test_predict_cost_noisy_coverage(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 3, 6);
    jg_tune_bayes_t *bo = make(&cfg);
    jg_tune_error_t err;
    jg_test_rng_t r;
    jg_test_rng_seed(&r, 7);
    double u[3], c, hi, sq = 0.0;
    int covered = 0;
    for (int i = 0; i < 260; i++) {
        for (int k = 0; k < 3; k++) u[k] = unit_draw(&r);
        const double a = 1.0 - unit_draw(&r), b = unit_draw(&r);
        const double z = sqrt(-2.0 * log(a)) * cos(6.283185307179586 * b);
        const double noisy = loglin_cost(u) * exp(0.1 * z);
        if (i < 60) {
            assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 0.0, noisy, &err), 0);
            continue;
        }
        const int rc = jg_tune_bayes_predict_cost(bo, u, &c, &hi, &err);
        if (rc) fail_msg("predict_cost: %d %s", rc, err.msg);
        sq += (log(c) - log(loglin_cost(u))) * (log(c) - log(loglin_cost(u)));
        covered += noisy <= hi;
    }
    const double rms = sqrt(sq / 200);
    printf("noisy cost (ln sd 0.1, 60 points): rms ln error %.4f (tolerance %.2f), "
           "cost_hi covers %d/200 readings\n", rms, NOISY_RMS_LOG, covered);
    assert_true(rms < NOISY_RMS_LOG);
    assert_true(covered >= 170);
    jg_tune_bayes_destroy(bo);
}

static void test_costs_required_and_checked(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_error_t err;
    const double u[2] = { 0.25, 0.75 };
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.acq = JG_TUNE_ACQ_EI_PER_J;
    jg_tune_bayes_t *bo = make(&cfg);
    assert_int_equal(jg_tune_bayes_observe(bo, u, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "ei-per-joule needs a cost"));
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 1.0, 0.0, &err), -EINVAL);
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 1.0, -2.0, &err), -EINVAL);
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 1.0, NAN, &err), -EINVAL);
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 1.0, INFINITY, &err), -EINVAL);
    assert_int_equal(jg_tune_bayes_n_obs(bo), 0);
    assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 1.0, 3.0, &err), 0);
    assert_int_equal(jg_tune_bayes_n_obs(bo), 1);
    jg_tune_bayes_destroy(bo);

    cfg.acq = (jg_tune_acq_t)4;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    cfg.acq = JG_TUNE_ACQ_EI;
    cfg.objective = JG_TUNE_OBJ_PARETO;
    bo = make(&cfg);
    assert_int_equal(jg_tune_bayes_observe(bo, u, 1.0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "pareto needs a cost"));
    jg_tune_bayes_destroy(bo);
    cfg.objective = (jg_tune_objective_t)2;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
}

/* Two states with the same seed fed the same (y, cost) give bit-identical
 * proposals past the initial points; a resumed state fed the history agrees. */
static void test_ei_per_joule_deterministic(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, 11);
    cfg.maximise = 0;
    cfg.acq = JG_TUNE_ACQ_EI_PER_J;
    jg_tune_bayes_t *a = make(&cfg), *b = make(&cfg), *r = make(&cfg);
    jg_tune_error_t err;
    double ua[2], ub[2];
    for (int i = 0; i < 10; i++) {
        assert_int_equal(jg_tune_bayes_propose(a, ua, &err), 0);
        assert_int_equal(jg_tune_bayes_propose(b, ub, &err), 0);
        assert_memory_equal(ua, ub, sizeof ua);
        assert_int_equal(jg_tune_bayes_observe_cost(a, ua, jg_tune_branin01(ua), cost01(ua), &err), 0);
        assert_int_equal(jg_tune_bayes_observe_cost(b, ub, jg_tune_branin01(ub), cost01(ub), &err), 0);
        assert_int_equal(jg_tune_bayes_observe_cost(r, ua, jg_tune_branin01(ua), cost01(ua), &err), 0);
    }
    double c1, c2;
    assert_int_equal(jg_tune_bayes_predict_cost(a, ua, &c1, NULL, &err), 0);
    assert_int_equal(jg_tune_bayes_propose(a, ua, &err), 0);
    assert_int_equal(jg_tune_bayes_propose(r, ub, &err), 0); /* r never predicted */
    assert_memory_equal(ua, ub, sizeof ua);
    assert_int_equal(jg_tune_bayes_predict_cost(r, ua, &c2, NULL, &err), 0);
    assert_int_equal(jg_tune_bayes_predict_cost(a, ua, &c1, NULL, &err), 0);
    assert_memory_equal(&c1, &c2, sizeof c1);
    jg_tune_bayes_destroy(a);
    jg_tune_bayes_destroy(b);
    jg_tune_bayes_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ei_per_joule_beats_ei),
        cmocka_unit_test(test_predict_cost_log_linear),
        cmocka_unit_test(test_predict_cost_noisy_coverage),
        cmocka_unit_test(test_costs_required_and_checked),
        cmocka_unit_test(test_ei_per_joule_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
