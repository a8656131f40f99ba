/* SPDX-License-Identifier: MIT */
/* Every loader refuses what is not a regular file where it expects one, at
 * once and with "not a regular file": a FIFO (opening it for reading used to
 * wait forever for a writer) and /dev/zero (used to be read until the size
 * check said "file changed while reading"). Each case runs under alarm(), so
 * a loader that blocks fails the test instead of hanging it. */
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fixtures.h"

#define DEADLINE_S 20

static void make_fifo(const char *rel)
{
    const char *p = fx_path(rel);
    if (mkfifo(p, 0600) != 0) fail_msg("mkfifo %s: %s", p, strerror(errno));
}

/* A valid IDX labels file of n labels 0..n-1. */
static void write_labels(const char *rel, int n)
{
    unsigned char b[8 + 16];
    fx_be32(b, 0x00000801u);
    fx_be32(b + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) b[8 + i] = (unsigned char)i;
    fx_write(fx_path(rel), b, 8 + (size_t)n);
}

/* A valid IDX images file of n 1x1 images. */
static void write_images(const char *rel, int n)
{
    unsigned char b[16 + 16] = {0};
    fx_be32(b, 0x00000803u);
    fx_be32(b + 4, (uint32_t)n);
    fx_be32(b + 8, 1);
    fx_be32(b + 12, 1);
    fx_write(fx_path(rel), b, 16 + (size_t)n);
}

static void test_idx(void **state)
{
    (void)state;
    alarm(DEADLINE_S);
    jg_dataset_t ds;
    jg_data_error_t err;
    char fifo[512], img[512], lbl[512];
    make_fifo("images.fifo");
    write_images("images-ok", 2);
    write_labels("labels-ok", 2);
    snprintf(fifo, sizeof fifo, "%s", fx_path("images.fifo"));
    snprintf(img, sizeof img, "%s", fx_path("images-ok"));
    snprintf(lbl, sizeof lbl, "%s", fx_path("labels-ok"));
    assert_int_equal(jg_data_load_idx(img, lbl, 0, &ds, &err), 0); /* the fixtures load */
    jg_dataset_free(&ds);
    FX_EXPECT_ERR(jg_data_load_idx(fifo, lbl, 0, &ds, &err), -EINVAL, err, fifo,
                  "not a regular file");
    fx_assert_empty(&ds);
    /* the labels file, read second, is checked the same way */
    FX_EXPECT_ERR(jg_data_load_idx(img, fifo, 0, &ds, &err), -EINVAL, err, fifo,
                  "not a regular file");
    /* /dev/zero: refused before reading, not "file changed while reading" */
    FX_EXPECT_ERR(jg_data_load_idx("/dev/zero", lbl, 0, &ds, &err), -EINVAL, err,
                  "/dev/zero", "not a regular file");
    assert_null(strstr(err.msg, "changed"));
    fx_assert_empty(&ds);
    alarm(0);
}

/* The Fashion-MNIST loader prefers NAME.gz: a FIFO there is refused too. */
static void test_fashion_gz(void **state)
{
    (void)state;
    alarm(DEADLINE_S);
    fx_mkdir("fm");
    make_fifo("fm/train-images-idx3-ubyte.gz");
    write_labels("fm/train-labels-idx1-ubyte", 2);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("fm"));
    jg_dataset_t ds;
    jg_data_error_t err;
    FX_EXPECT_ERR(jg_data_fashion_mnist(dir, 1, &ds, &err), -EINVAL, err,
                  "train-images-idx3-ubyte.gz", "not a regular file");
    fx_assert_empty(&ds);
    alarm(0);
}

static void test_cifar(void **state)
{
    (void)state;
    alarm(DEADLINE_S);
    fx_mkdir("cf");
    make_fifo("cf/test_batch.bin");
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("cf"));
    jg_dataset_t ds;
    jg_data_error_t err;
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EINVAL, err, "test_batch.bin",
                  "not a regular file");
    fx_assert_empty(&ds);

    /* a valid batch, but batches.meta.txt is a FIFO */
    remove(fx_path("cf/test_batch.bin"));
    unsigned char rec[3073] = {0};
    fx_write(fx_path("cf/test_batch.bin"), rec, sizeof rec);
    make_fifo("cf/batches.meta.txt");
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EINVAL, err, "batches.meta.txt",
                  "not a regular file");
    fx_assert_empty(&ds);
    alarm(0);
}

static void test_images(void **state)
{
    (void)state;
    alarm(DEADLINE_S);
    float img[3 * 4 * 4];
    jg_data_error_t err;
    make_fifo("one.png");
    FX_EXPECT_ERR(jg_data_load_image(fx_path("one.png"), 3, 4, 4, img, &err), -EINVAL, err,
                  "one.png", "not a regular file");
    FX_EXPECT_ERR(jg_data_load_image("/dev/zero", 3, 4, 4, img, &err), -EINVAL, err,
                  "/dev/zero", "not a regular file");

    /* inside an image folder the entry is refused before anything is read */
    fx_mkdir("tree");
    fx_mkdir("tree/cat");
    make_fifo("tree/cat/a.png");
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("tree"));
    jg_dataset_t ds;
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 4, 4, &ds, &err), -EBADMSG, err, "a.png",
                  "not a regular file");
    fx_assert_empty(&ds);
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx),
        cmocka_unit_test(test_fashion_gz),
        cmocka_unit_test(test_cifar),
        cmocka_unit_test(test_images),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
