/* SPDX-License-Identifier: MIT */
/* The real Fashion-MNIST from the Debian package dataset-fashion-mnist,
 * when installed: counts, shapes, balanced labels, training statistics,
 * and the load time. Skipped with a message when absent. */
#include <math.h>
#include <time.h>

#include "fixtures.h"

/* Published Fashion-MNIST training statistics of pixels / 255, to the 4
 * digits commonly quoted (mean 0.2860, std 0.3530). */
#define FMNIST_MEAN 0.2860
#define FMNIST_STD 0.3530
#define TOL_FMNIST 5e-4

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int have_fmnist(void)
{
    struct stat st;
    return stat(JG_DATA_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", &st) == 0 ||
           stat(JG_DATA_FASHION_MNIST_DIR "/train-images-idx3-ubyte", &st) == 0;
}

static void check_split(int train, int n, int per_class)
{
    jg_dataset_t ds;
    jg_data_error_t err;
    const double t0 = now_s();
    const int rc = jg_data_fashion_mnist(NULL, train, &ds, &err);
    const double dt = now_s() - t0;
    if (rc) fail_msg("load failed (%d): %s", rc, err.msg);
    print_message("Fashion-MNIST %s: %d images loaded in %.3f s\n", train ? "train" : "t10k",
                  ds.n, dt);
    assert_int_equal(ds.n, n);
    assert_int_equal(ds.c, 1);
    assert_int_equal(ds.h, 28);
    assert_int_equal(ds.w, 28);
    assert_int_equal(ds.classes, 10);
    assert_string_equal(ds.class_names[9], "Ankle boot");
    int counts[10] = {0};
    for (int i = 0; i < ds.n; i++) {
        assert_true(ds.y[i] >= 0 && ds.y[i] < 10);
        counts[ds.y[i]]++;
    }
    for (int k = 0; k < 10; k++) assert_int_equal(counts[k], per_class);
    if (train) {
        float m, s;
        assert_int_equal(jg_dataset_stats(&m, &s, &ds), 0);
        print_message("Fashion-MNIST train mean %.4f std %.4f\n", (double)m, (double)s);
        assert_true(fabs(m - FMNIST_MEAN) < TOL_FMNIST);
        assert_true(fabs(s - FMNIST_STD) < TOL_FMNIST);
    }
    jg_dataset_free(&ds);
}

static void test_train(void **state)
{
    (void)state;
    if (!have_fmnist())
        jg_test_skip_unless_ci(JG_DATA_FASHION_MNIST_DIR " not found (install the Debian "
                               "package dataset-fashion-mnist)");
    check_split(1, 60000, 6000);
}

static void test_t10k(void **state)
{
    (void)state;
    if (!have_fmnist())
        jg_test_skip_unless_ci(JG_DATA_FASHION_MNIST_DIR " not found (install the Debian "
                               "package dataset-fashion-mnist)");
    check_split(0, 10000, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train),
        cmocka_unit_test(test_t10k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
