/* SPDX-License-Identifier: MIT */
/* Bayesian optimisation: Branin (rescaled to [0,1]^2, minimised) reaches
 * f < 0.3989 in few evaluations and beats random search with the same seeds;
 * proposals are deterministic and depend only on the observations; every
 * acquisition works for both senses; argument errors. Categorical and
 * integer dimensions: the best category and optimum are found, proposals sit
 * at cell centres, one-hot inputs carry no false order, configs from a
 * space. */
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
        step(bo, u, jg_tune_branin01, &y);
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
        if (jg_tune_branin01(u) < BRANIN_TARGET) return i;
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
        step(a, ua[i], jg_tune_branin01, &y);
        step(b, ub, jg_tune_branin01, &y);
        assert_memory_equal(ua[i], ub, sizeof ub);
    }
    jg_tune_bayes_t *r = make(&cfg);
    jg_tune_error_t err;
    for (int i = 0; i < 12; i++)
        assert_int_equal(jg_tune_bayes_observe(r, ua[i], jg_tune_branin01(ua[i]), &err), 0);
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

/* 4 categories (u0) x 1 continuous (u1): category 2 is much better, and each
 * category has its own optimum in u1. max = 1 at (category 2, u1 = 0.65). */
static const double CAT_OFF[4] = { 0.2, 0.5, 1.0, 0.4 };
static const double CAT_X[4] = { 0.2, 0.8, 0.65, 0.4 };
#define CAT_BUDGET 25 /* evaluations per seed */

static int cat_of(double u, int L)
{
    const int j = (int)floor(u * L);
    return j < 0 ? 0 : (j >= L ? L - 1 : j);
}

static double cat_fn(const double *u)
{
    const int c = cat_of(u[0], 4);
    return CAT_OFF[c] - 2.0 * (u[1] - CAT_X[c]) * (u[1] - CAT_X[c]);
}

static void cat_config(jg_tune_bayes_config_t *cfg, uint64_t seed)
{
    jg_tune_bayes_config_default(cfg, 2, seed);
    cfg->levels[0] = 4;
    cfg->categorical[0] = 1;
}

static void test_categorical_finds_best(void **state)
{
    (void)state;
    printf("categorical: evaluations to within 1e-3 of the optimum (budget %d):", CAT_BUDGET);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        jg_tune_bayes_config_t cfg;
        cat_config(&cfg, seed);
        jg_tune_bayes_t *bo = make(&cfg);
        int found = 0;
        for (int i = 1; i <= CAT_BUDGET; i++) {
            double u[2], y;
            step(bo, u, cat_fn, &y);
            const int c = cat_of(u[0], 4);
            if (u[0] != (c + 0.5) / 4) fail_msg("proposal %d: u0 = %.17g not a cell centre", i, u[0]);
            if (!found && 1.0 - y < 1e-3) found = i;
        }
        printf(" %d", found);
        if (!found) fail_msg("seed %d: optimum not reached in %d evaluations", (int)seed, CAT_BUDGET);
        jg_tune_bayes_destroy(bo);
    }
    printf("\n");
}

/* An ordered integer dimension (5 values, u0) beside a continuous one:
 * proposals at cell centres, the best integer (3) found in 15 evaluations. */
static double int_fn(const double *u)
{
    const int j = cat_of(u[0], 5);
    return -(j - 3) * (j - 3) - (u[1] - 0.5) * (u[1] - 0.5);
}

static void test_integer_snapped(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_default(&cfg, 2, 3);
    cfg.levels[0] = 5;
    jg_tune_bayes_t *bo = make(&cfg);
    int best_j = -1;
    double best = -INFINITY;
    for (int i = 0; i < 15; i++) {
        double u[2], y;
        step(bo, u, int_fn, &y);
        const int j = cat_of(u[0], 5);
        assert_true(u[0] == (j + 0.5) / 5);
        if (y > best) {
            best = y;
            best_j = j;
        }
    }
    assert_int_equal(best_j, 3);
    assert_true(best > -1e-3);
    jg_tune_bayes_destroy(bo);
}

/* One-hot inputs put every pair of categories at the same distance, so a
 * category never observed is not extrapolated along a false order: costs
 * 1, 10, 100 J observed for categories 0, 1, 2 (two points each); the
 * predicted cost of category 3 is within 10% of the geometric mean 10 J (no
 * category is nearer), while the same data as an ordered dimension pulls it
 * towards its neighbour's 100 J (at least twice that). */
static void test_onehot_unobserved_category(void **state)
{
    (void)state;
    double pred[2];
    for (int cat = 1; cat >= 0; cat--) {
        jg_tune_bayes_config_t cfg;
        cat_config(&cfg, 4);
        cfg.categorical[0] = cat;
        jg_tune_bayes_t *bo = make(&cfg);
        jg_tune_error_t err;
        for (int c = 0; c < 3; c++) {
            for (int k = 0; k < 2; k++) {
                const double u[2] = { (c + 0.5) / 4, 0.25 + 0.5 * k };
                assert_int_equal(jg_tune_bayes_observe_cost(bo, u, 0.0, pow(10.0, c), &err), 0);
            }
        }
        const double u3[2] = { 0.875, 0.5 };
        const int rc = jg_tune_bayes_predict_cost(bo, u3, &pred[cat], NULL, &err);
        if (rc) fail_msg("predict_cost: %d %s", rc, err.msg);
        jg_tune_bayes_destroy(bo);
    }
    printf("unobserved category: predicted %.3g J one-hot, %.3g J ordered\n", pred[1], pred[0]);
    assert_true(fabs(log(pred[1] / 10.0)) < log(1.1));
    assert_true(pred[0] > 2.0 * pred[1]);
}

static void test_categorical_deterministic(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    cat_config(&cfg, 8);
    cfg.levels[1] = 7; /* and an ordered integer */
    jg_tune_bayes_t *a = make(&cfg), *b = make(&cfg), *r = make(&cfg);
    jg_tune_error_t err;
    double ua[2], ub[2], y;
    for (int i = 0; i < 10; i++) {
        step(a, ua, cat_fn, &y);
        step(b, ub, cat_fn, &y);
        assert_memory_equal(ua, ub, sizeof ua);
        assert_int_equal(jg_tune_bayes_observe(r, ua, cat_fn(ua), &err), 0);
    }
    assert_int_equal(jg_tune_bayes_propose(a, ua, &err), 0);
    assert_int_equal(jg_tune_bayes_propose(r, ub, &err), 0);
    assert_memory_equal(ua, ub, sizeof ua);
    jg_tune_bayes_destroy(a);
    jg_tune_bayes_destroy(b);
    jg_tune_bayes_destroy(r);
}

static void test_config_from_space(void **state)
{
    (void)state;
    jg_tune_space_t sp;
    jg_tune_error_t err;
    assert_int_equal(jg_tune_space_parse(&sp, "lr=log:1e-5:1e-1,batch=int:32:512,"
                                         "opt=cat:adam|sgd|rms,big=int:0:2000000,one=cat:x",
                                         &err), 0);
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_config_from_space(&cfg, &sp, 77);
    assert_int_equal(cfg.d, 5);
    assert_true(cfg.seed == 77);
    assert_int_equal(cfg.n_init, 6);
    const int lv[5] = { 0, 481, 3, 0, 1 }, ct[5] = { 0, 0, 1, 0, 1 };
    for (int k = 0; k < 5; k++) {
        assert_int_equal(cfg.levels[k], lv[k]);
        assert_int_equal(cfg.categorical[k], ct[k]);
    }
    /* proposals map back to points of the space */
    jg_tune_bayes_t *bo = make(&cfg);
    for (int i = 0; i < 8; i++) {
        double u[5];
        jg_tune_point_t p;
        assert_int_equal(jg_tune_bayes_propose(bo, u, &err), 0);
        assert_int_equal(jg_tune_space_from_unit(&sp, u, &p, &err), 0);
        double back[5];
        assert_int_equal(jg_tune_space_to_unit(&sp, &p, back, &err), 0);
        for (int k = 1; k <= 2; k++) assert_true(back[k] == u[k]); /* cell centres */
        assert_int_equal(jg_tune_bayes_observe(bo, back, p.v[0], &err), 0);
    }
    jg_tune_bayes_destroy(bo);
}

static void test_bad_discrete_configs(void **state)
{
    (void)state;
    jg_tune_bayes_config_t cfg;
    jg_tune_bayes_t *bo = NULL;
    jg_tune_error_t err;
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.categorical[0] = 1; /* no levels */
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.levels[1] = -3;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.levels[2] = 4; /* beyond d */
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    jg_tune_bayes_config_default(&cfg, 2, 1);
    cfg.levels[0] = JG_TUNE_MAX_CATS + 1;
    cfg.categorical[0] = 1;
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    cfg.levels[0] = JG_TUNE_MAX_CATS; /* 32 + 1 GP inputs > JG_TUNE_GP_MAX_DIM */
    assert_int_equal(jg_tune_bayes_create(&bo, &cfg, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "one-hot"));
    cfg.levels[0] = JG_TUNE_MAX_CATS - 1; /* 31 + 1 fits */
    bo = make(&cfg);
    jg_tune_bayes_destroy(bo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branin_median_evaluations),
        cmocka_unit_test(test_deterministic_and_resumable),
        cmocka_unit_test(test_acquisitions_both_senses),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_categorical_finds_best),
        cmocka_unit_test(test_integer_snapped),
        cmocka_unit_test(test_onehot_unobserved_category),
        cmocka_unit_test(test_categorical_deterministic),
        cmocka_unit_test(test_config_from_space),
        cmocka_unit_test(test_bad_discrete_configs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
