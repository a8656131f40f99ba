/* SPDX-License-Identifier: MIT */
/* CIFAR-10 binary batches: record layout, batch order, class names from
 * batches.meta.txt, gzip in memory, and malformed inputs. */
#include "fixtures.h"

#define REC 3073
#define PIX 3072

/* Byte of pixel j of global record g (unique per record and plane). */
static unsigned char pix(int g, int j)
{
    return (unsigned char)((g * 101 + j * 7 + (j / 1024) * 50) % 256);
}

/* A batch of n records whose global indices start at g0. */
static unsigned char *make_batch(int n, int g0)
{
    unsigned char *b = jg_test_alloc_bytes((size_t)n * REC);
    for (int r = 0; r < n; r++) {
        b[(size_t)r * REC] = (unsigned char)((g0 + r) % 10);
        for (int j = 0; j < PIX; j++) b[(size_t)r * REC + 1 + (size_t)j] = pix(g0 + r, j);
    }
    return b;
}

static void check_records(const jg_dataset_t *ds, int n)
{
    assert_int_equal(ds->n, n);
    assert_int_equal(ds->c, 3);
    assert_int_equal(ds->h, 32);
    assert_int_equal(ds->w, 32);
    assert_int_equal(ds->classes, 10);
    for (int g = 0; g < n; g++) {
        assert_int_equal(ds->y[g], g % 10);
        /* Planar (C, H, W): j = c * 1024 + y * 32 + x, same as the file. */
        for (int j = 0; j < PIX; j++)
            if (ds->x[(size_t)g * PIX + (size_t)j] != (float)pix(g, j) / 255.0f)
                fail_msg("record %d value %d: got %g want %g", g, j,
                         (double)ds->x[(size_t)g * PIX + (size_t)j],
                         (double)pix(g, j) / 255.0);
    }
}

/* Writes data_batch_1..5 with counts[] records, one after the other. */
static void write_train(const char *sub, const int counts[5])
{
    fx_mkdir(sub);
    int g = 0;
    for (int f = 0; f < 5; f++) {
        char rel[128];
        snprintf(rel, sizeof rel, "%s/data_batch_%d.bin", sub, f + 1);
        unsigned char *b = make_batch(counts[f], g);
        fx_write(fx_path(rel), b, (size_t)counts[f] * REC);
        free(b);
        g += counts[f];
    }
}

static void test_train_and_test(void **state)
{
    (void)state;
    const int counts[5] = {1, 2, 3, 1, 4};
    write_train("c1", counts);
    unsigned char *t = make_batch(3, 0);
    fx_write(fx_path("c1/test_batch.bin"), t, 3 * REC);
    free(t);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("c1"));

    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_load_cifar10(dir, 1, &ds, &err), 0);
    check_records(&ds, 11);
    assert_non_null(ds.class_names);
    assert_string_equal(ds.class_names[0], "airplane");
    assert_string_equal(ds.class_names[9], "truck");
    jg_dataset_free(&ds);

    assert_int_equal(jg_data_load_cifar10(dir, 0, &ds, &err), 0);
    check_records(&ds, 3);
    jg_dataset_free(&ds);

    /* Class names from batches.meta.txt: CRLF, padding, blank lines. */
    const char *meta = "a0\r\n  b1 \n\nc2\nd3\ne4\nf5\ng6\nh7\ni8\nj 9\n\n\n";
    fx_write(fx_path("c1/batches.meta.txt"), meta, strlen(meta));
    assert_int_equal(jg_data_load_cifar10(dir, 0, &ds, &err), 0);
    assert_string_equal(ds.class_names[0], "a0");
    assert_string_equal(ds.class_names[1], "b1");
    assert_string_equal(ds.class_names[9], "j 9");
    jg_dataset_free(&ds);

    const char *bad = "a\nb\nc\n";
    fx_write(fx_path("c1/batches.meta.txt"), bad, strlen(bad));
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EBADMSG, err,
                  "batches.meta.txt", "3 class names, expected 10");
    fx_assert_empty(&ds);
}

static void test_mem_gzip(void **state)
{
    (void)state;
    unsigned char *b = make_batch(2, 0);
    fx_write_gz(fx_path("batch.gz"), b, 2 * REC);
    size_t len;
    unsigned char *gz = fx_read(fx_path("batch.gz"), &len);
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_parse_cifar10_mem(gz, len, "batch.gz", &ds, &err), 0);
    check_records(&ds, 2);
    jg_dataset_free(&ds);
    assert_int_equal(jg_data_parse_cifar10_mem(b, 2 * REC, NULL, &ds, &err), 0);
    check_records(&ds, 2);
    jg_dataset_free(&ds);
    free(gz);
    free(b);
}

static void test_bad_batches(void **state)
{
    (void)state;
    unsigned char *b = make_batch(2, 0);
    jg_dataset_t ds;
    jg_data_error_t err;
    /* Truncated at several offsets: inside the first label, inside the
     * first record, just past it, one byte short of two records. */
    const size_t cuts[] = {1, 2, REC - 1, REC + 1, 2 * REC - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        FX_EXPECT_ERR(jg_data_parse_cifar10_mem(b, cuts[k], "cut.bin", &ds, &err), -EBADMSG,
                      err, "cut.bin", "truncated", "3073");
        fx_assert_empty(&ds);
    }
    FX_EXPECT_ERR(jg_data_parse_cifar10_mem(b, 0, "zero.bin", &ds, &err), -EBADMSG, err,
                  "zero.bin", "empty file");
    b[REC] = 10;  /* label of record 1 */
    FX_EXPECT_ERR(jg_data_parse_cifar10_mem(b, 2 * REC, "lab.bin", &ds, &err), -EBADMSG, err,
                  "lab.bin", "label 10 in record 1", ">= the 10 classes");
    b[REC] = 255;
    FX_EXPECT_ERR(jg_data_parse_cifar10_mem(b, 2 * REC, "lab.bin", &ds, &err), -EBADMSG, err,
                  "label 255");
    fx_assert_empty(&ds);
    assert_int_equal(jg_data_parse_cifar10_mem(NULL, 4, "n", &ds, &err), -EINVAL);
    assert_int_equal(jg_data_parse_cifar10_mem(b, 4, "n", NULL, &err), -EINVAL);
    free(b);

    /* From disk: a missing batch, a zero-byte batch and a truncated one,
     * each named in the message. */
    const int counts[5] = {1, 1, 1, 1, 1};
    write_train("c2", counts);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("c2"));
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -ENOENT, err, "test_batch.bin");
    fx_write(fx_path("c2/data_batch_3.bin"), "", 0);
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 1, &ds, &err), -EBADMSG, err,
                  "data_batch_3.bin", "empty file");
    unsigned char *one = make_batch(1, 0);
    fx_write(fx_path("c2/data_batch_3.bin"), one, REC - 100);
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 1, &ds, &err), -EBADMSG, err,
                  "data_batch_3.bin", "2973 bytes");
    remove(fx_path("c2/data_batch_5.bin"));
    fx_write(fx_path("c2/data_batch_3.bin"), one, REC);
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 1, &ds, &err), -ENOENT, err, "data_batch_5.bin");
    fx_assert_empty(&ds);
    free(one);

    FX_EXPECT_ERR(jg_data_load_cifar10(fx_path("none"), 1, &ds, &err), -ENOENT, err, "none",
                  "not found");
    assert_int_equal(jg_data_load_cifar10(NULL, 1, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_cifar10(dir, 1, NULL, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_and_test),
        cmocka_unit_test(test_mem_gzip),
        cmocka_unit_test(test_bad_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
