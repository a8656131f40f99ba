/* SPDX-License-Identifier: MIT */
/* Grid, random and Sobol strategies: the grid enumerates exactly the promised
 * set in a reproducible seeded order; random is in bounds, seeded and
 * order-independent; Sobol stratifies. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

static jg_tune_space_t *parse_ok(const char *text)
{
    jg_tune_space_t *s = jg_test_alloc_bytes(sizeof *s);
    jg_tune_error_t err;
    const int rc = jg_tune_space_parse(s, text, &err);
    if (rc) fail_msg("parse '%s': %d %s", text, rc, err.msg);
    return s;
}

static jg_tune_strategy_t *make(const char *name, const jg_tune_space_t *s, uint64_t seed,
                                int grid_points)
{
    jg_tune_strategy_t *st = NULL;
    jg_tune_error_t err;
    const int rc = jg_tune_strategy_create(&st, name, s, seed, grid_points, &err);
    if (rc) fail_msg("create %s: %d %s", name, rc, err.msg);
    return st;
}

static void propose(jg_tune_strategy_t *st, int64_t i, jg_tune_point_t *p)
{
    jg_tune_error_t err;
    const int rc = jg_tune_strategy_propose(st, i, p, &err);
    if (rc) fail_msg("propose %lld: %d %s", (long long)i, rc, err.msg);
}

static int index_of(const double *vals, int n, double x, double rtol)
{
    for (int k = 0; k < n; k++)
        if (fabs(x - vals[k]) <= rtol * fabs(vals[k])) return k;
    return -1;
}

static void test_grid_enumerates_exact_set(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok("lr=log:1e-4:1,beta1=0:1,batch=int:1:4,opt=cat:a|b|c");
    /* By hand with 5 points: lr decades, beta1 quarters, batch
     * round(1, 1.75, 2.5, 3.25, 4) = 1 2 3 3 4 -> {1,2,3,4}, opt all three. */
    static const double lr[] = { 1e-4, 1e-3, 1e-2, 1e-1, 1 };
    static const double b1[] = { 0, 0.25, 0.5, 0.75, 1 };
    static const double batch[] = { 1, 2, 3, 4 };
    static const double opt[] = { 0, 1, 2 };
    enum { N = 5 * 5 * 4 * 3 };
    jg_tune_strategy_t *st = make("grid", s, 42, 0);
    assert_int_equal(jg_tune_strategy_size(st), N);
    assert_string_equal(jg_tune_strategy_name(st), "grid");
    int seen[5][5][4][3];
    memset(seen, 0, sizeof seen);
    jg_tune_point_t p;
    for (int i = 0; i < N; i++) {
        propose(st, i, &p);
        const int a = index_of(lr, 5, p.v[0], 1e-12), b = index_of(b1, 5, p.v[1], 0);
        const int c = index_of(batch, 4, p.v[2], 0), d = index_of(opt, 3, p.v[3], 0);
        if (a < 0 || b < 0 || c < 0 || d < 0)
            fail_msg("proposal %d (%g %g %g %g) not on the grid", i, p.v[0], p.v[1], p.v[2], p.v[3]);
        seen[a][b][c][d]++;
    }
    /* bounds exact, every point exactly once */
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 4; c++)
                for (int d = 0; d < 3; d++) assert_int_equal(seen[a][b][c][d], 1);
    jg_tune_error_t err;
    assert_int_equal(jg_tune_strategy_propose(st, N, &p, &err), -ERANGE);
    assert_int_equal(jg_tune_strategy_propose(st, -1, &p, &err), -EINVAL);
    jg_tune_strategy_destroy(st);

    /* log spacing: equal ratios; both bounds exact */
    jg_tune_space_t *l = parse_ok("lr=log:1e-5:1e-1");
    st = make("grid", l, 1, 9);
    double v[9];
    for (int i = 0; i < 9; i++) {
        propose(st, i, &p);
        v[i] = p.v[0];
    }
    for (int i = 0; i < 9; i++)
        for (int j = i + 1; j < 9; j++)
            if (v[j] < v[i]) { const double t = v[i]; v[i] = v[j]; v[j] = t; }
    assert_true(v[0] == 1e-5 && v[8] == 1e-1);
    for (int i = 1; i < 9; i++) assert_true(fabs(v[i] / v[i - 1] - sqrt(10)) < 1e-9);
    jg_tune_strategy_destroy(st);
    free(l);
    free(s);
}

static void test_grid_order_seeded(void **state)
{
    (void)state;
    /* The study: 3 dims x 5 points = 125, of which it drew 64. */
    jg_tune_space_t *s = parse_ok("lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999");
    jg_tune_strategy_t *a = make("grid", s, 7, 5), *b = make("grid", s, 7, 5);
    jg_tune_strategy_t *c = make("grid", s, 8, 5);
    assert_int_equal(jg_tune_strategy_size(a), 125);
    int same_c = 0, in_order = 1;
    jg_tune_point_t pa, pb, pc, prev = { { 0 } };
    for (int i = 0; i < 125; i++) {
        propose(a, i, &pa);
        propose(b, 124 - i, &pb); /* b asked in reverse: order cannot matter */
        propose(b, i, &pb);
        propose(c, i, &pc);
        assert_memory_equal(&pa, &pb, sizeof pa);
        same_c += !memcmp(&pa, &pc, sizeof pa);
        /* lexicographic order would keep lr non-decreasing */
        if (i && pa.v[0] < prev.v[0]) in_order = 0;
        prev = pa;
    }
    assert_true(same_c < 20); /* a different seed is a different shuffle */
    assert_false(in_order);   /* and it is shuffled at all */
    jg_tune_strategy_destroy(a);
    jg_tune_strategy_destroy(b);
    jg_tune_strategy_destroy(c);
    free(s);
}

static void test_create_errors(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok("a=0:1,b=0:1,c=0:1,d=0:1,e=0:1,f=0:1,g=0:1,h=0:1,i=0:1");
    jg_tune_strategy_t *st = NULL;
    jg_tune_error_t err;
    assert_int_equal(jg_tune_strategy_create(&st, "annealing", s, 1, 0, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "annealing"));
    assert_int_equal(jg_tune_strategy_create(&st, "grid", s, 1, 1, &err), -EINVAL);
    /* 5^9 = 1,953,125 > cap */
    assert_int_equal(jg_tune_strategy_create(&st, "grid", s, 1, 0, &err), -E2BIG);
    assert_null(st);
    free(s);
}

static void test_random_uniform(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok("lr=log:1e-5:1e-1,beta1=0.1:0.999,batch=int:32:512,opt=cat:adam|sgd|rms");
    jg_tune_strategy_t *a = make("random", s, 3, 0), *b = make("random", s, 3, 0);
    jg_tune_strategy_t *c = make("random", s, 4, 0);
    assert_int_equal(jg_tune_strategy_size(a), -1);
    enum { N = 4000 };
    double below_mid = 0, mean_b1 = 0;
    int cats[3] = { 0 }, differ = 0;
    jg_tune_error_t err;
    jg_tune_point_t p, q, r;
    for (int i = 0; i < N; i++) {
        propose(a, i, &p);
        propose(c, i, &r);
        assert_int_equal(jg_tune_point_check(s, &p, &err), 0);
        below_mid += p.v[0] < 1e-3; /* geometric midpoint */
        mean_b1 += p.v[1] / N;
        cats[(int)p.v[3]]++;
        differ += memcmp(&p, &r, sizeof p) != 0;
    }
    /* binomial sd at N=4000 is 0.008: 4 sd bands */
    assert_true(fabs(below_mid / N - 0.5) < 0.032);
    assert_true(fabs(mean_b1 - 0.5495) < 0.9 * 0.032);
    for (int k = 0; k < 3; k++) assert_true(fabs(cats[k] / (double)N - 1.0 / 3) < 0.03);
    assert_int_equal(differ, N);
    /* proposal i depends only on (seed, i), not on call history */
    for (int i = 50; i >= 0; i -= 7) {
        propose(a, i, &p);
        propose(b, i, &q);
        assert_memory_equal(&p, &q, sizeof p);
    }
    jg_tune_strategy_destroy(a);
    jg_tune_strategy_destroy(b);
    jg_tune_strategy_destroy(c);
    free(s);
}

static void test_sobol_stratifies(void **state)
{
    (void)state;
    char text[512] = "";
    for (int d = 0; d < JG_TUNE_MAX_DIMS; d++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sx%d=0:1", d ? "," : "", d);
    jg_tune_space_t *s = parse_ok(text);
    for (uint64_t seed = 1; seed <= 2; seed++) {
        jg_tune_strategy_t *st = make("sobol", s, seed, 0);
        enum { N = 1024 };
        static double x[N][JG_TUNE_MAX_DIMS];
        for (int i = 0; i < N; i++) {
            jg_tune_point_t p;
            propose(st, i, &p);
            memcpy(x[i], p.v, sizeof x[i]);
        }
        /* dims 0,1: the first 64 points hit every cell of an 8x8 grid */
        int cell[8][8] = { { 0 } };
        for (int i = 0; i < 64; i++) cell[(int)(x[i][0] * 8)][(int)(x[i][1] * 8)]++;
        for (int a = 0; a < 8; a++)
            for (int b = 0; b < 8; b++) assert_int_equal(cell[a][b], 1);
        /* every 1-D projection: the first 1024 points fill 1024 cells once */
        for (int d = 0; d < JG_TUNE_MAX_DIMS; d++) {
            static int hit[N];
            memset(hit, 0, sizeof hit);
            for (int i = 0; i < N; i++) hit[(int)(x[i][d] * N)]++;
            for (int k = 0; k < N; k++)
                if (hit[k] != 1) fail_msg("seed %d dim %d cell %d hit %d times", (int)seed, d, k, hit[k]);
        }
        /* every 2-D projection: 1024 points, 4x4 cells, 64 each (a (t,10,2)-net
         * with t <= 6, which the Joe-Kuo numbers give) */
        for (int d = 0; d < JG_TUNE_MAX_DIMS; d++)
            for (int e = d + 1; e < JG_TUNE_MAX_DIMS; e++) {
                int c4[4][4] = { { 0 } };
                for (int i = 0; i < N; i++) c4[(int)(x[i][d] * 4)][(int)(x[i][e] * 4)]++;
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++)
                        if (c4[a][b] != 64)
                            fail_msg("dims %d,%d cell %d,%d: %d points", d, e, a, b, c4[a][b]);
            }
        jg_tune_strategy_destroy(st);
    }
    /* seeded: same seed same points, another seed other points */
    jg_tune_strategy_t *a = make("sobol", s, 5, 0), *b = make("sobol", s, 5, 0);
    jg_tune_strategy_t *c = make("sobol", s, 6, 0);
    jg_tune_point_t p, q, r;
    propose(a, 9, &p);
    propose(b, 9, &q);
    propose(c, 9, &r);
    assert_memory_equal(&p, &q, sizeof p);
    assert_memory_not_equal(&p, &r, sizeof p);
    jg_tune_strategy_destroy(a);
    jg_tune_strategy_destroy(b);
    jg_tune_strategy_destroy(c);
    free(s);
}

/* Sobol's first 64 points cover an 8x8 grid better than random ones: a
 * sanity check that the quasi-random choice pays off. */
static void test_sobol_beats_random_coverage(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok("a=0:1,b=0:1");
    jg_tune_strategy_t *so = make("sobol", s, 11, 0), *ra = make("random", s, 11, 0);
    int cs[8][8] = { { 0 } }, cr[8][8] = { { 0 } }, ns = 0, nr = 0;
    jg_tune_point_t p;
    for (int i = 0; i < 64; i++) {
        propose(so, i, &p);
        ns += !cs[(int)(p.v[0] * 8)][(int)(p.v[1] * 8)]++;
        propose(ra, i, &p);
        nr += !cr[(int)(p.v[0] * 8)][(int)(p.v[1] * 8)]++;
    }
    assert_int_equal(ns, 64);
    assert_true(nr < 56); /* expected 64 (1 - e^-1) ~ 40.5 */
    jg_tune_strategy_destroy(so);
    jg_tune_strategy_destroy(ra);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_enumerates_exact_set),
        cmocka_unit_test(test_grid_order_seeded),
        cmocka_unit_test(test_create_errors),
        cmocka_unit_test(test_random_uniform),
        cmocka_unit_test(test_sobol_stratifies),
        cmocka_unit_test(test_sobol_beats_random_coverage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
