/* SPDX-License-Identifier: MIT */
/* Statistics and normalisation vs double references, permutation, subset,
 * limit, seeded split, and the synthetic generator. */
#include <math.h>

#include "fixtures.h"

/* mean/std are computed in double and rounded once to float: 1 float ulp
 * of relative error, with headroom. */
#define TOL_STATS_RTOL 1e-6
/* After normalising with the data's own statistics the float data has mean
 * 0 and std 1 up to float rounding of (x - m) / s per element. */
#define TOL_NORM_ATOL 1e-5

static void ref_stats(const jg_dataset_t *ds, double *mean, double *std)
{
    const size_t hw = (size_t)ds->h * (size_t)ds->w;
    for (int c = 0; c < ds->c; c++) {
        double s = 0.0, s2 = 0.0;
        for (int i = 0; i < ds->n; i++)
            for (size_t j = 0; j < hw; j++) s += ds->x[((size_t)i * ds->c + c) * hw + j];
        mean[c] = s / (double)(ds->n * hw);
        for (int i = 0; i < ds->n; i++)
            for (size_t j = 0; j < hw; j++) {
                const double d = ds->x[((size_t)i * ds->c + c) * hw + j] - mean[c];
                s2 += d * d;
            }
        std[c] = sqrt(s2 / (double)(ds->n * hw));
    }
}

static void test_stats_and_normalize(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    /* Odd sizes so no loop happens to hit a multiple of anything. */
    assert_int_equal(jg_data_synthetic(37, 3, 7, 5, 4, 11, &ds, &err), 0);
    double m[3], s[3];
    ref_stats(&ds, m, s);
    float fm[3], fs[3];
    assert_int_equal(jg_dataset_stats(fm, fs, &ds), 0);
    jg_test_assert_close_d("mean", fm, m, 3, TOL_STATS_RTOL, 0.0);
    jg_test_assert_close_d("std", fs, s, 3, TOL_STATS_RTOL, 0.0);
    for (int c = 0; c < 3; c++) assert_true(fs[c] > 0.05f);  /* not degenerate */

    float *before = jg_test_alloc((size_t)37 * 3 * 35);
    memcpy(before, ds.x, (size_t)37 * 3 * 35 * sizeof(float));
    assert_int_equal(jg_dataset_normalize(&ds, fm, fs), 0);
    for (size_t k = 0; k < (size_t)37 * 3 * 35; k++) {
        const int c = (int)((k / 35) % 3);
        assert_true(ds.x[k] == (before[k] - fm[c]) / fs[c]);
    }
    float nm[3], ns[3];
    assert_int_equal(jg_dataset_stats(nm, ns, &ds), 0);
    for (int c = 0; c < 3; c++) {
        assert_true(fabs(nm[c]) < TOL_NORM_ATOL);
        assert_true(fabs(ns[c] - 1.0) < TOL_NORM_ATOL);
    }
    free(before);

    /* A constant channel: std is floored, so normalising stays finite. */
    for (size_t k = 0; k < (size_t)37 * 3 * 35; k++) ds.x[k] = 0.25f;
    assert_int_equal(jg_dataset_stats(fm, fs, &ds), 0);
    assert_true(fm[0] == 0.25f);
    assert_true(fs[0] == JG_DATA_STD_MIN);
    assert_int_equal(jg_dataset_normalize(&ds, fm, fs), 0);
    assert_true(ds.x[0] == 0.0f);

    const float zero[3] = {0, 0, 0}, neg[3] = {1, -1, 1}, nan_[3] = {1, NAN, 1};
    assert_int_equal(jg_dataset_normalize(&ds, fm, zero), -EINVAL);
    assert_int_equal(jg_dataset_normalize(&ds, fm, neg), -EINVAL);
    assert_int_equal(jg_dataset_normalize(&ds, fm, nan_), -EINVAL);
    assert_int_equal(jg_dataset_normalize(&ds, NULL, fs), -EINVAL);
    assert_int_equal(jg_dataset_normalize(NULL, fm, fs), -EINVAL);
    assert_int_equal(jg_dataset_stats(NULL, fs, &ds), -EINVAL);
    assert_int_equal(jg_dataset_stats(fm, fs, NULL), -EINVAL);
    jg_dataset_free(&ds);
    assert_int_equal(jg_dataset_stats(fm, fs, &ds), -EINVAL);  /* empty */
    jg_dataset_free(NULL);
}

static void test_permutation(void **state)
{
    (void)state;
    const int sizes[] = {0, 1, 2, 3, 17, 1000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const int n = sizes[k];
        int32_t a[1000], b[1000], c[1000];
        char seen[1000] = {0};
        assert_int_equal(jg_data_permutation(a, n, 42), 0);
        assert_int_equal(jg_data_permutation(b, n, 42), 0);
        assert_int_equal(jg_data_permutation(c, n, 43), 0);
        for (int i = 0; i < n; i++) {
            assert_true(a[i] >= 0 && a[i] < n);
            assert_false(seen[a[i]]);
            seen[a[i]] = 1;
        }
        assert_memory_equal(a, b, (size_t)n * sizeof *a);
        if (n >= 17) assert_memory_not_equal(a, c, (size_t)n * sizeof *a);
    }
    /* Pinned value: the permutation must not change across platforms or
     * refactors, or saved splits stop being reproducible. */
    int32_t p[5];
    const int32_t pinned[5] = {3, 2, 0, 4, 1};
    assert_int_equal(jg_data_permutation(p, 5, 1), 0);
    assert_memory_equal(p, pinned, sizeof p);
    assert_int_equal(jg_data_permutation(NULL, 3, 1), -EINVAL);
    assert_int_equal(jg_data_permutation(p, -1, 1), -EINVAL);
}

/* A dataset whose pixel 0 identifies the example. */
static void tagged(jg_dataset_t *ds, int n)
{
    jg_data_error_t err;
    assert_int_equal(jg_dataset_alloc(ds, n, 2, 3, 3, 5, &err), 0);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 18; j++) ds->x[i * 18 + j] = (float)(i * 100 + j);
        ds->y[i] = i % 5;
    }
}

static void test_subset_limit_split(void **state)
{
    (void)state;
    jg_dataset_t src, sub, tr, va, tr2, va2;
    jg_data_error_t err;
    tagged(&src, 23);
    const char *names[5] = {"a", "b", "c", "d", "e"};
    /* jg_dataset_alloc leaves class_names NULL; copy names in by hand. */
    src.class_names = calloc(5, sizeof(char *));
    assert_non_null(src.class_names);
    for (int k = 0; k < 5; k++) {
        src.class_names[k] = malloc(2);
        assert_non_null(src.class_names[k]);
        memcpy(src.class_names[k], names[k], 2);
    }

    assert_int_equal(jg_data_subset(&sub, &src, 4, 6, &err), 0);
    assert_int_equal(sub.n, 6);
    assert_memory_equal(sub.x, src.x + 4 * 18, 6 * 18 * sizeof(float));
    assert_memory_equal(sub.y, src.y + 4, 6 * sizeof(int32_t));
    assert_string_equal(sub.class_names[4], "e");
    jg_dataset_free(&sub);
    assert_int_equal(jg_data_subset(&sub, &src, 23, 0, &err), 0);
    assert_int_equal(sub.n, 0);
    jg_dataset_free(&sub);
    assert_int_equal(jg_data_subset(&sub, &src, 20, 4, &err), -EINVAL);
    assert_int_equal(jg_data_subset(&sub, &src, -1, 2, &err), -EINVAL);
    assert_int_equal(jg_data_subset(NULL, &src, 0, 2, &err), -EINVAL);

    assert_int_equal(jg_data_split(&tr, &va, &src, 7, 99, &err), 0);
    assert_int_equal(jg_data_split(&tr2, &va2, &src, 7, 99, &err), 0);
    assert_int_equal(va.n, 7);
    assert_int_equal(tr.n, 16);
    assert_memory_equal(tr.x, tr2.x, 16 * 18 * sizeof(float));
    assert_memory_equal(va.x, va2.x, 7 * 18 * sizeof(float));
    assert_string_equal(tr.class_names[0], "a");
    /* A partition of the examples, each copied whole with its label. */
    int seen[23] = {0};
    const jg_dataset_t *parts[2] = {&tr, &va};
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < parts[s]->n; i++) {
            const int id = (int)parts[s]->x[i * 18] / 100;
            assert_true(id >= 0 && id < 23);
            seen[id]++;
            assert_int_equal(parts[s]->y[i], id % 5);
            for (int j = 0; j < 18; j++)
                assert_true(parts[s]->x[i * 18 + j] == (float)(id * 100 + j));
        }
    for (int i = 0; i < 23; i++) assert_int_equal(seen[i], 1);
    /* The order is the documented one: val = perm[0..7). */
    int32_t perm[23];
    jg_data_permutation(perm, 23, 99);
    for (int i = 0; i < 7; i++) assert_true(va.x[i * 18] == (float)(perm[i] * 100));
    jg_dataset_free(&tr2);
    jg_dataset_free(&va2);
    /* Another seed gives another split. */
    assert_int_equal(jg_data_split(&tr2, &va2, &src, 7, 100, &err), 0);
    assert_memory_not_equal(va.x, va2.x, 7 * 18 * sizeof(float));
    jg_dataset_free(&tr2);
    jg_dataset_free(&va2);
    jg_dataset_free(&tr);
    jg_dataset_free(&va);

    assert_int_equal(jg_data_split(&tr, &va, &src, 0, 1, &err), 0);
    assert_int_equal(tr.n, 23);
    assert_int_equal(va.n, 0);
    assert_null(va.x);
    jg_dataset_free(&tr);
    jg_dataset_free(&va);
    assert_int_equal(jg_data_split(&tr, &va, &src, 24, 1, &err), -EINVAL);
    assert_int_equal(jg_data_split(&tr, &va, &src, -1, 1, &err), -EINVAL);
    assert_int_equal(jg_data_split(&tr, &tr, &src, 1, 1, &err), -EINVAL);
    fx_assert_empty(&va);

    assert_int_equal(jg_data_limit(&src, 30), 0);
    assert_int_equal(src.n, 23);
    assert_int_equal(jg_data_limit(&src, 10), 0);
    assert_int_equal(src.n, 10);
    assert_int_equal(jg_data_limit(&src, -1), -EINVAL);
    jg_dataset_free(&src);

    assert_int_equal(jg_dataset_alloc(&src, 1, 0, 1, 1, 1, &err), -EINVAL);
    assert_int_equal(jg_dataset_alloc(&src, 1 << 20, 1, 2048, 2048, 1, &err), -EOVERFLOW);
    assert_int_equal(jg_dataset_alloc(NULL, 1, 1, 1, 1, 1, &err), -EINVAL);
}

/* Nearest class mean on held-out data: proves the labels are in the
 * pixels, i.e. a classifier can learn the synthetic set. */
static double nearest_mean_accuracy(const jg_dataset_t *tr, const jg_dataset_t *te)
{
    const size_t d = (size_t)tr->c * tr->h * tr->w;
    double *mu = calloc((size_t)tr->classes * d, sizeof *mu);
    int *cnt = calloc((size_t)tr->classes, sizeof *cnt);
    assert_non_null(mu);
    assert_non_null(cnt);
    for (int i = 0; i < tr->n; i++) {
        cnt[tr->y[i]]++;
        for (size_t j = 0; j < d; j++) mu[tr->y[i] * d + j] += tr->x[i * d + j];
    }
    for (int k = 0; k < tr->classes; k++)
        for (size_t j = 0; j < d; j++) mu[k * d + j] /= cnt[k] ? cnt[k] : 1;
    int ok = 0;
    for (int i = 0; i < te->n; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int k = 0; k < tr->classes; k++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) {
                const double t = te->x[i * d + j] - mu[k * d + j];
                s += t * t;
            }
            if (s < bd) {
                bd = s;
                best = k;
            }
        }
        ok += best == te->y[i];
    }
    free(mu);
    free(cnt);
    return (double)ok / te->n;
}

static void test_synthetic(void **state)
{
    (void)state;
    jg_dataset_t a, b, c, te;
    jg_data_error_t err;
    assert_int_equal(jg_data_synthetic(103, 3, 12, 12, 10, 7, &a, &err), 0);
    assert_int_equal(jg_data_synthetic(103, 3, 12, 12, 10, 7, &b, &err), 0);
    assert_int_equal(jg_data_synthetic(103, 3, 12, 12, 10, 8, &c, &err), 0);
    const size_t total = (size_t)103 * 3 * 144;
    assert_memory_equal(a.x, b.x, total * sizeof(float));
    assert_memory_equal(a.y, b.y, 103 * sizeof(int32_t));
    assert_memory_not_equal(a.x, c.x, total * sizeof(float));
    assert_int_equal(a.classes, 10);
    int counts[10] = {0};
    for (int i = 0; i < 103; i++) {
        assert_true(a.y[i] >= 0 && a.y[i] < 10);
        counts[a.y[i]]++;
    }
    for (int k = 0; k < 10; k++) assert_true(counts[k] == 10 || counts[k] == 11);
    for (size_t k = 0; k < total; k++) assert_true(a.x[k] >= 0.0f && a.x[k] <= 1.0f);

    assert_int_equal(jg_data_synthetic(400, 3, 12, 12, 10, 9, &te, &err), 0);
    const double acc = nearest_mean_accuracy(&a, &te);
    if (acc < 0.9) fail_msg("nearest-mean accuracy %.3f < 0.9: classes not separable", acc);
    jg_dataset_free(&te);
    /* Grey and 1x1 still carry the label through brightness. */
    jg_dataset_free(&c);
    assert_int_equal(jg_data_synthetic(200, 1, 1, 1, 3, 5, &c, &err), 0);
    assert_int_equal(jg_data_synthetic(300, 1, 1, 1, 3, 6, &te, &err), 0);
    assert_true(nearest_mean_accuracy(&c, &te) > 0.9);
    jg_dataset_free(&te);
    jg_dataset_free(&a);
    jg_dataset_free(&b);
    jg_dataset_free(&c);

    assert_int_equal(jg_data_synthetic(0, 1, 4, 4, 2, 1, &a, &err), -EINVAL);
    assert_int_equal(jg_data_synthetic(4, 0, 4, 4, 2, 1, &a, &err), -EINVAL);
    assert_int_equal(jg_data_synthetic(4, 1, 4, 4, 0, 1, &a, &err), -EINVAL);
    assert_int_equal(jg_data_synthetic(4, 1, -4, 4, 2, 1, &a, &err), -EINVAL);
    assert_int_equal(jg_data_synthetic(4, 1, 4, 4, 2, 1, NULL, &err), -EINVAL);
    fx_assert_empty(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_and_normalize),
        cmocka_unit_test(test_permutation),
        cmocka_unit_test(test_subset_limit_split),
        cmocka_unit_test(test_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
