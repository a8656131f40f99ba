/* SPDX-License-Identifier: MIT */
/*
 * test_prepare.c - jg_data_prepare, the one data preparation of every run:
 * subset and validation sizes, seeded determinism, the normalisation (train
 * statistics, or given ones), test limits, and the refusals (a fraction that
 * leaves no training image, a test split whose classes differ, an unknown
 * source).
 */
#include <math.h>

#include "fixtures.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

static jg_data_prep_config_t synthetic(void)
{
    const jg_data_prep_config_t c = {
        .source = {.name = "synthetic", .c = 1, .h = 8, .w = 8},
        .train = 1, .train_limit = 500, .subset_seed = 11, .val_fraction = 0.2,
        .split_seed = 12, .test = 1, .test_limit = 100,
    };
    return c;
}

/* Per-channel mean and population std of ds in double. */
static void moments(const jg_dataset_t *ds, int ch, double *mean, double *sd)
{
    const size_t hw = (size_t)ds->h * ds->w;
    double s = 0, s2 = 0;
    for (int i = 0; i < ds->n; i++)
        for (size_t p = 0; p < hw; p++) {
            const double v = ds->x[((size_t)i * ds->c + ch) * hw + p];
            s += v;
            s2 += v * v;
        }
    const double n = (double)ds->n * (double)hw;
    *mean = s / n;
    *sd = sqrt(fmax(0, s2 / n - *mean * *mean));
}

static void test_sizes_and_normalisation(void **state)
{
    (void)state;
    const jg_data_prep_config_t cfg = synthetic();
    jg_data_prepared_t p;
    jg_data_error_t err = {{0}};
    assert_int_equal(jg_data_prepare(&cfg, &p, &err), 0);
    assert_int_equal(p.val.n, 100); // llround(0.2 * 500)
    assert_int_equal(p.train.n, 400);
    assert_int_equal(p.test.n, 100);
    assert_int_equal(p.train.classes, JG_DATA_SYN_CLASSES);
    double m, sd;
    moments(&p.train, 0, &m, &sd);
    assert_true(fabs(m) < 1e-4);
    assert_true(fabs(sd - 1) < 1e-3);
    // The unused channels keep the identity normalisation.
    for (int c = 1; c < JG_DATA_MAX_CHANNELS; c++) {
        assert_true(p.mean[c] == 0.0f);
        assert_true(p.std[c] == 1.0f);
    }
    // Validation and test use the training statistics, not their own.
    jg_data_prepared_t q;
    jg_data_prep_config_t raw = cfg;
    raw.val_fraction = 0;
    raw.given_norm = 1;
    raw.mean[0] = 0;
    raw.std[0] = 1;
    assert_int_equal(jg_data_prepare(&raw, &q, &err), 0);
    for (int i = 0; i < 64; i++) {
        const float want = (q.test.x[i] - p.mean[0]) / p.std[0];
        assert_true(fabsf(p.test.x[i] - want) <= 1e-6f * (1 + fabsf(want)));
    }
    jg_data_prepared_free(&q);
    jg_data_prepared_free(&p);
}

static void test_deterministic_and_seeded(void **state)
{
    (void)state;
    jg_data_prep_config_t cfg = synthetic();
    jg_data_prepared_t a, b, c;
    assert_int_equal(jg_data_prepare(&cfg, &a, NULL), 0);
    assert_int_equal(jg_data_prepare(&cfg, &b, NULL), 0);
    const size_t chw = (size_t)a.train.c * a.train.h * a.train.w;
    assert_memory_equal(a.train.x, b.train.x, (size_t)a.train.n * chw * sizeof(float));
    assert_memory_equal(a.val.y, b.val.y, (size_t)a.val.n * sizeof(int32_t));
    cfg.split_seed = 13;
    assert_int_equal(jg_data_prepare(&cfg, &c, NULL), 0);
    assert_true(memcmp(a.val.y, c.val.y, (size_t)a.val.n * sizeof(int32_t)) ||
                memcmp(a.val.x, c.val.x, (size_t)a.val.n * chw * sizeof(float)));
    jg_data_prepared_free(&a);
    jg_data_prepared_free(&b);
    jg_data_prepared_free(&c);
}

static void test_refusals(void **state)
{
    (void)state;
    jg_data_prepared_t p;
    jg_data_error_t err = {{0}};
    jg_data_prep_config_t cfg = synthetic();
    cfg.train_limit = 1;
    cfg.val_fraction = 0.5; // one image, one held out: none left
    assert_int_equal(jg_data_prepare(&cfg, &p, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "leaves none for training"));
    assert_int_equal(p.train.n, 0); // freed on error

    cfg = synthetic();
    cfg.source.name = "mnist-9";
    assert_int_equal(jg_data_prepare(&cfg, &p, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "unknown dataset"));

    cfg = synthetic();
    cfg.source.name = "cifar10";
    assert_int_equal(jg_data_prepare(&cfg, &p, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "--data-dir"));

    // A folder whose test classes differ from its training classes.
    static const char *const tree[4] = {"pf/train/cat", "pf/train/dog", "pf/test/ant",
                                        "pf/test/dog"};
    fx_mkdir("pf");
    fx_mkdir("pf/train");
    fx_mkdir("pf/test");
    unsigned char px[4 * 4 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (unsigned char)(i * 7);
    for (int k = 0; k < 4; k++) {
        char rel[64];
        fx_mkdir(tree[k]);
        snprintf(rel, sizeof rel, "%s/a.png", tree[k]);
        assert_true(stbi_write_png(fx_path(rel), 4, 4, 3, px, 12));
    }
    const jg_data_prep_config_t f = {
        .source = {.name = "folder", .dir = fx_path("pf"), .c = 3, .h = 4, .w = 4},
        .train = 1, .test = 1,
    };
    assert_int_equal(jg_data_prepare(&f, &p, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "'cat' in the training data but 'ant'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_normalisation),
        cmocka_unit_test(test_deterministic_and_seeded),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
