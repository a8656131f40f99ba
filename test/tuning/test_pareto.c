/* SPDX-License-Identifier: MIT */
/* Pareto helpers (front, 2-D hypervolume) on hand-worked sets and against
 * brute force; ParEGO (JG_TUNE_OBJ_PARETO) against random search on a
 * two-objective toy problem; its proposals are deterministic. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

static void test_front_hand_worked(void **state)
{
    (void)state;
    /* 0 and 5 identical (keep 0); 1 dominated by 0; 3 same cost as 2 with
     * lower acc; 4 same acc as 2, dearer; 6 has a NaN */
    const double acc[] = { 0.9, 0.8, 0.7, 0.6, 0.7, 0.9, NAN, 0.95 };
    const double cost[] = { 5.0, 6.0, 2.0, 2.0, 3.0, 5.0, 1.0, 9.0 };
    int idx[8], m = -1;
    assert_int_equal(jg_tune_pareto_front(acc, cost, 8, idx, &m), 0);
    assert_int_equal(m, 3);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 0);
    assert_int_equal(idx[2], 7);
    assert_int_equal(jg_tune_pareto_front(acc, cost, 0, idx, &m), 0);
    assert_int_equal(m, 0);
    assert_int_equal(jg_tune_pareto_front(NULL, cost, 8, idx, &m), -EINVAL);
    assert_int_equal(jg_tune_pareto_front(acc, cost, -1, idx, &m), -EINVAL);
}

static void test_hypervolume_hand_worked(void **state)
{
    (void)state;
    /* reference (0, 10): staircase 0.5 on [2,5), 0.9 on [5,9), 0.95 on [9,10)
     * = 1.5 + 3.6 + 0.95 = 6.05; the dominated point 1 and the points beyond
     * the reference (acc 0 or below, cost 10 or above) add nothing */
    const double acc[] = { 0.5, 0.4, 0.9, 0.95, 2.0, -1.0, 0.0 };
    const double cost[] = { 2.0, 3.0, 5.0, 9.0, 10.0, 1.0, 0.5 };
    assert_true(fabs(jg_tune_hypervolume2(acc, cost, 7, 0.0, 10.0) - 6.05) < 1e-12);
    assert_true(fabs(jg_tune_hypervolume2(acc, cost, 1, 0.0, 10.0) - 4.0) < 1e-12);
    assert_true(jg_tune_hypervolume2(acc, cost, 0, 0.0, 10.0) == 0.0);
    assert_true(isnan(jg_tune_hypervolume2(NULL, cost, 3, 0.0, 10.0)));
    assert_true(isnan(jg_tune_hypervolume2(acc, cost, -1, 0.0, 10.0)));
}

static double draw(jg_test_rng_t *r)
{
    return (double)(jg_test_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Random sets (with ties from a coarse grid): the front equals the
 * brute-force non-dominated set, is sorted, and its hypervolume equals the
 * whole set's and a fine-grid count of the dominated cells. */
static void test_front_and_volume_random(void **state)
{
    (void)state;
    jg_test_rng_t r;
    jg_test_rng_seed(&r, 3);
    for (int trial = 0; trial < 50; trial++) {
        const int n = 1 + trial % 40;
        double acc[40], cost[40], fa[40], fc[40];
        int idx[40], m;
        for (int i = 0; i < n; i++) {
            acc[i] = floor(draw(&r) * 10.0) / 10.0; /* ties on purpose */
            cost[i] = floor(draw(&r) * 10.0) / 10.0;
        }
        assert_int_equal(jg_tune_pareto_front(acc, cost, n, idx, &m), 0);
        int brute = 0;
        for (int i = 0; i < n; i++) {
            int dom = 0;
            for (int j = 0; j < n; j++) {
                const int same = acc[j] == acc[i] && cost[j] == cost[i];
                if ((same && j < i) || (!same && acc[j] >= acc[i] && cost[j] <= cost[i])) dom = 1;
            }
            if (dom) continue;
            int found = 0;
            for (int k = 0; k < m; k++) found |= idx[k] == i;
            assert_true(found);
            brute++;
        }
        assert_int_equal(m, brute);
        for (int k = 0; k < m; k++) {
            fa[k] = acc[idx[k]];
            fc[k] = cost[idx[k]];
            if (k) assert_true(fc[k] > fc[k - 1] && fa[k] > fa[k - 1]);
        }
        const double hv = jg_tune_hypervolume2(acc, cost, n, -0.05, 1.05);
        assert_true(fabs(jg_tune_hypervolume2(fa, fc, m, -0.05, 1.05) - hv) < 1e-12);
        /* the values sit on a 0.1 grid and the reference on the half-grid:
         * count dominated 0.05 x 0.05 cells by their centres */
        int cells = 0;
        for (int a = 0; a < 22; a++) {
            for (int c = 0; c < 22; c++) {
                const double ca = -0.05 + 0.05 * (a + 0.5), cc = -0.05 + 0.05 * (c + 0.5);
                int dom = 0;
                for (int i = 0; i < n; i++) dom |= acc[i] >= ca && cost[i] <= cc;
                cells += dom;
            }
        }
        assert_true(fabs(hv - cells * 0.0025) < 1e-9);
    }
}

/* Toy problem on [0,1]^2: accuracy = 1 - Branin(u) / 310 (in [0.006, 0.9987],
 * best at Branin's minima u = (0.124, 0.818), (0.543, 0.152),
 * (0.962, 0.165)) and cost = exp(1.5 (u0 + u1)) J in [1, 20.1], cheapest at
 * u = 0 where accuracy is worst, so the front runs from (1 J, 0.006) to
 * (2.84 J, 0.9987). Hypervolume w.r.t. (accuracy 0, cost 20.1 J). */
#define PARETO_EVALS 30
#define N_SEEDS 10
#define REF_ACC 0.0
#define REF_COST_J 20.085536923187668 /* e^3 */

static double toy_acc(const double *u)
{
    return 1.0 - jg_tune_branin01(u) / 310.0;
}

static double toy_cost(const double *u)
{
    return exp(1.5 * (u[0] + u[1]));
}

static jg_tune_bayes_t *make_pareto(uint64_t seed)
{
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, seed);
    cfg.objective = JG_TUNE_OBJ_PARETO;
    jg_tune_bayes_t *bo = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_bayes_create(&bo, &cfg, &err);
    if (rc) fail_msg("create: %d %s", rc, err.msg);
    return bo;
}

static double parego_hv(uint64_t seed)
{
    jg_tune_bayes_t *bo = make_pareto(seed);
    jg_tune_error_t err;
    double acc[PARETO_EVALS], cost[PARETO_EVALS];
    for (int i = 0; i < PARETO_EVALS; i++) {
        double u[2];
        int rc = jg_tune_bayes_propose(bo, u, &err);
        if (rc) fail_msg("propose: %d %s", rc, err.msg);
        acc[i] = toy_acc(u);
        cost[i] = toy_cost(u);
        rc = jg_tune_bayes_observe_cost(bo, u, acc[i], cost[i], &err);
        if (rc) fail_msg("observe: %d %s", rc, err.msg);
    }
    jg_tune_bayes_destroy(bo);
    return jg_tune_hypervolume2(acc, cost, PARETO_EVALS, REF_ACC, REF_COST_J);
}

static double random_hv(uint64_t seed)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed);
    double acc[PARETO_EVALS], cost[PARETO_EVALS];
    for (int i = 0; i < PARETO_EVALS; i++) {
        const double u[2] = { draw(&r), draw(&r) };
        acc[i] = toy_acc(u);
        cost[i] = toy_cost(u);
    }
    return jg_tune_hypervolume2(acc, cost, PARETO_EVALS, REF_ACC, REF_COST_J);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_parego_beats_random(void **state)
{
    (void)state;
    double p[N_SEEDS], q[N_SEEDS];
    /* reference: the front scanned on a grid. Cost depends on u0 + u1 only,
     * so take the best accuracy along each of 400 lines u0 + u1 = const. */
    double sa[400], sc[400];
    for (int i = 0; i < 400; i++) {
        const double sum = 2.0 * (i + 0.5) / 400;
        sa[i] = 0.0;
        sc[i] = exp(1.5 * sum);
        for (int j = 0; j < 400; j++) {
            const double u0 = fmax(0.0, sum - 1.0) + (fmin(1.0, sum) - fmax(0.0, sum - 1.0)) * j / 399;
            const double u[2] = { u0, sum - u0 };
            sa[i] = fmax(sa[i], toy_acc(u));
        }
    }
    const double best = jg_tune_hypervolume2(sa, sc, 400, REF_ACC, REF_COST_J);
    for (int s = 0; s < N_SEEDS; s++) {
        p[s] = parego_hv((uint64_t)s + 1);
        q[s] = random_hv((uint64_t)s + 1);
        assert_true(p[s] <= best * 1.01 && q[s] <= best * 1.01);
    }
    printf("hypervolume after %d evaluations (ParEGO / random), ref (acc %g, %.2f J):",
           PARETO_EVALS, REF_ACC, REF_COST_J);
    for (int s = 0; s < N_SEEDS; s++) printf(" %.3f/%.3f", p[s], q[s]);
    qsort(p, N_SEEDS, sizeof *p, cmp_double);
    qsort(q, N_SEEDS, sizeof *q, cmp_double);
    const double mp = 0.5 * (p[4] + p[5]), mq = 0.5 * (q[4] + q[5]);
    printf("\nmedian: ParEGO %.4f, random %.4f (J x accuracy; scanned front %.4f, "
           "gaps %.4f / %.4f)\n", mp, mq, best, best - mp, best - mq);
    assert_true(mp > mq);
}

/* Same seed and observations: bit-identical proposals; a resumed state fed
 * the history agrees; the weight draw makes successive proposals differ. */
static void test_parego_deterministic(void **state)
{
    (void)state;
    jg_tune_bayes_t *a = make_pareto(21), *b = make_pareto(21), *r = make_pareto(21);
    jg_tune_error_t err;
    double ua[2], ub[2];
    for (int i = 0; i < 10; i++) {
        assert_int_equal(jg_tune_bayes_propose(a, ua, &err), 0);
        assert_int_equal(jg_tune_bayes_propose(b, ub, &err), 0);
        assert_memory_equal(ua, ub, sizeof ua);
        assert_int_equal(jg_tune_bayes_observe_cost(a, ua, toy_acc(ua), toy_cost(ua), &err), 0);
        assert_int_equal(jg_tune_bayes_observe_cost(b, ub, toy_acc(ub), toy_cost(ub), &err), 0);
        assert_int_equal(jg_tune_bayes_observe_cost(r, ua, toy_acc(ua), toy_cost(ua), &err), 0);
    }
    assert_int_equal(jg_tune_bayes_propose(a, ua, &err), 0);
    assert_int_equal(jg_tune_bayes_propose(r, ub, &err), 0);
    assert_memory_equal(ua, ub, sizeof ua);
    jg_tune_bayes_destroy(a);
    jg_tune_bayes_destroy(b);
    jg_tune_bayes_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_front_hand_worked),
        cmocka_unit_test(test_hypervolume_hand_worked),
        cmocka_unit_test(test_front_and_volume_random),
        cmocka_unit_test(test_parego_beats_random),
        cmocka_unit_test(test_parego_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
