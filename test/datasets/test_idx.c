/* SPDX-License-Identifier: MIT */
/* IDX parsing (plain, gzip, concatenated gzip, in memory and from disk),
 * the Fashion-MNIST file lookup, and every malformed-input case. */
#include "fixtures.h"

#define N_IMG 7
#define IMG_H 5
#define IMG_W 3
#define IMG_BYTES (16 + N_IMG * IMG_H * IMG_W)
#define LBL_BYTES (8 + N_IMG)

/* Pixel byte of image i at (r, c): every value 0..255 shows up across
 * tests with a different multiplier, including 0 and 255. */
static unsigned char pix(int i, int r, int c)
{
    return (unsigned char)((i * 37 + r * 11 + c * 5) * 13 % 256);
}

static void make_images(unsigned char *b, uint32_t n, uint32_t h, uint32_t w)
{
    fx_be32(b, 0x00000803u);
    fx_be32(b + 4, n);
    fx_be32(b + 8, h);
    fx_be32(b + 12, w);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t r = 0; r < h; r++)
            for (uint32_t c = 0; c < w; c++)
                b[16 + (i * h + r) * w + c] = pix((int)i, (int)r, (int)c);
}

static void make_labels(unsigned char *b, uint32_t n, int classes)
{
    fx_be32(b, 0x00000801u);
    fx_be32(b + 4, n);
    for (uint32_t i = 0; i < n; i++) b[8 + i] = (unsigned char)((i * 3) % (unsigned)classes);
}

static void check_images(const jg_dataset_t *ds)
{
    assert_int_equal(ds->n, N_IMG);
    assert_int_equal(ds->c, 1);
    assert_int_equal(ds->h, IMG_H);
    assert_int_equal(ds->w, IMG_W);
    for (int i = 0; i < N_IMG; i++)
        for (int r = 0; r < IMG_H; r++)
            for (int c = 0; c < IMG_W; c++) {
                /* Exact: the loader must compute v / 255.0f. */
                const float want = (float)pix(i, r, c) / 255.0f;
                assert_true(ds->x[(i * IMG_H + r) * IMG_W + c] == want);
            }
}

static void test_load_plain_and_gz(void **state)
{
    (void)state;
    unsigned char img[IMG_BYTES], lbl[LBL_BYTES];
    make_images(img, N_IMG, IMG_H, IMG_W);
    make_labels(lbl, N_IMG, 4);
    fx_write(fx_path("img"), img, sizeof img);
    fx_write(fx_path("lbl"), lbl, sizeof lbl);
    /* Gzip is found by magic, so a misleading name must not matter. */
    fx_write_gz(fx_path("img.gz.bin"), img, sizeof img);
    fx_write_gz(fx_path("lbl.plain"), lbl, sizeof lbl);

    const char *pairs[2][2] = {{"img", "lbl"}, {"img.gz.bin", "lbl.plain"}};
    for (int k = 0; k < 2; k++) {
        jg_dataset_t ds;
        jg_data_error_t err;
        char a[512], b[512];
        snprintf(a, sizeof a, "%s", fx_path(pairs[k][0]));
        snprintf(b, sizeof b, "%s", fx_path(pairs[k][1]));
        assert_int_equal(jg_data_load_idx(a, b, 0, &ds, &err), 0);
        check_images(&ds);
        assert_int_equal(ds.classes, 4);  /* inferred: max label 3 + 1 */
        for (int i = 0; i < N_IMG; i++) assert_int_equal(ds.y[i], (i * 3) % 4);
        assert_null(ds.class_names);
        jg_dataset_free(&ds);
        assert_null(ds.x);
        assert_int_equal(jg_data_load_idx(a, b, 10, &ds, &err), 0);
        assert_int_equal(ds.classes, 10);
        jg_dataset_free(&ds);
    }
}

static void test_mem_and_concatenated_gzip(void **state)
{
    (void)state;
    unsigned char img[IMG_BYTES];
    make_images(img, N_IMG, IMG_H, IMG_W);
    /* Two gzip members back to back, split inside the pixel data. */
    fx_write_gz(fx_path("part1.gz"), img, 40);
    fx_write_gz(fx_path("part2.gz"), img + 40, sizeof img - 40);
    size_t l1, l2;
    unsigned char *p1 = fx_read(fx_path("part1.gz"), &l1);
    unsigned char *p2 = fx_read(fx_path("part2.gz"), &l2);
    unsigned char *cat = jg_test_alloc_bytes(l1 + l2);
    memcpy(cat, p1, l1);
    memcpy(cat + l1, p2, l2);
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_parse_idx_images_mem(cat, l1 + l2, "cat.gz", &ds, &err), 0);
    check_images(&ds);
    jg_dataset_free(&ds);
    assert_int_equal(jg_data_parse_idx_images_mem(img, sizeof img, NULL, &ds, &err), 0);
    check_images(&ds);
    jg_dataset_free(&ds);

    /* Garbage after the last member is rejected, not ignored. */
    memcpy(cat + l1, "junk", 4);
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(cat, l1 + 4, "tail.gz", &ds, &err),
                  -EBADMSG, err, "tail.gz", "trailing garbage");
    fx_assert_empty(&ds);
    free(p1);
    free(p2);
    free(cat);
}

static void test_labels_mem(void **state)
{
    (void)state;
    unsigned char lbl[LBL_BYTES];
    make_labels(lbl, N_IMG, 10);
    int32_t *y = NULL;
    int n = 0, mx = 0;
    jg_data_error_t err;
    assert_int_equal(jg_data_parse_idx_labels_mem(lbl, sizeof lbl, "l", 10, &y, &n, &mx, &err), 0);
    assert_int_equal(n, N_IMG);
    assert_int_equal(mx, 9);
    for (int i = 0; i < N_IMG; i++) assert_int_equal(y[i], (i * 3) % 10);
    free(y);
    /* max_label is optional. */
    assert_int_equal(jg_data_parse_idx_labels_mem(lbl, sizeof lbl, "l", 0, &y, &n, NULL, &err), 0);
    free(y);

    lbl[8 + 4] = 10;
    FX_EXPECT_ERR(jg_data_parse_idx_labels_mem(lbl, sizeof lbl, "lab.idx", 10, &y, &n, &mx, &err),
                  -EBADMSG, err, "lab.idx", "label 10 at index 4", ">= the 10 classes");
    assert_null(y);
    assert_int_equal(n, 0);
}

static void test_truncated(void **state)
{
    (void)state;
    unsigned char img[IMG_BYTES], lbl[LBL_BYTES];
    make_images(img, N_IMG, IMG_H, IMG_W);
    make_labels(lbl, N_IMG, 10);
    jg_dataset_t ds;
    jg_data_error_t err;
    /* Inside the magic, inside the dims, right after the header, mid-data,
     * one byte short. */
    const size_t cuts[] = {1, 3, 4, 7, 12, 15, 16, 17, 50, IMG_BYTES - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        FX_EXPECT_ERR(jg_data_parse_idx_images_mem(img, cuts[k], "cut-images", &ds, &err),
                      -EBADMSG, err, "cut-images", "truncated");
        fx_assert_empty(&ds);
    }
    const size_t lcuts[] = {2, 4, 7, 8, LBL_BYTES - 1};
    for (size_t k = 0; k < sizeof lcuts / sizeof *lcuts; k++) {
        int32_t *y = NULL;
        int n;
        FX_EXPECT_ERR(jg_data_parse_idx_labels_mem(lbl, lcuts[k], "cut-labels", 0, &y, &n,
                                                   NULL, &err),
                      -EBADMSG, err, "cut-labels", "truncated");
        assert_null(y);
    }
    /* The message quotes the header's claim and the real size. */
    unsigned char hdr[1000];
    memset(hdr, 0, sizeof hdr);
    make_images(hdr, 0, 0, 0);
    fx_be32(hdr + 4, 60000);
    fx_be32(hdr + 8, 28);
    fx_be32(hdr + 12, 28);
    fx_write_gz(fx_path("train-images-idx3-ubyte.gz"), hdr, sizeof hdr);
    fx_write(fx_path("ok-labels"), lbl, sizeof lbl);
    char a[512];
    snprintf(a, sizeof a, "%s", fx_path("train-images-idx3-ubyte.gz"));
    FX_EXPECT_ERR(jg_data_load_idx(a, fx_path("ok-labels"), 0, &ds, &err), -EBADMSG, err,
                  "train-images-idx3-ubyte.gz: truncated: header says 60000 images of "
                  "28x28 (47040016 bytes) but the decompressed file has 1000 bytes");
    fx_assert_empty(&ds);

    /* A gzip stream cut short, from disk so the message names the file. */
    fx_write_gz(fx_path("full.gz"), img, sizeof img);
    size_t glen;
    unsigned char *gz = fx_read(fx_path("full.gz"), &glen);
    for (size_t cut = 2; cut < glen; cut += (glen - 2) / 5 + 1) {
        fx_write(fx_path("short.gz"), gz, cut);
        FX_EXPECT_ERR(jg_data_load_idx(fx_path("short.gz"), fx_path("ok-labels"), 0, &ds, &err),
                      -EBADMSG, err, "short.gz");
        assert_true(strstr(err.msg, "truncated") || strstr(err.msg, "corrupt"));
        fx_assert_empty(&ds);
    }
    free(gz);
}

static void test_trailing_and_mismatch(void **state)
{
    (void)state;
    unsigned char img[IMG_BYTES + 1], lbl[LBL_BYTES];
    make_images(img, N_IMG, IMG_H, IMG_W);
    img[IMG_BYTES] = 0;
    jg_dataset_t ds;
    jg_data_error_t err;
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(img, sizeof img, "long", &ds, &err), -EBADMSG,
                  err, "long", "trailing data", "but the file has");

    /* 6 labels for 7 images: the message names both files. */
    make_labels(lbl, N_IMG - 1, 10);
    fx_write(fx_path("m-img"), img, IMG_BYTES);
    fx_write(fx_path("m-lbl"), lbl, LBL_BYTES - 1);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", fx_path("m-img"));
    snprintf(b, sizeof b, "%s", fx_path("m-lbl"));
    FX_EXPECT_ERR(jg_data_load_idx(a, b, 10, &ds, &err), -EBADMSG, err, a, b,
                  "6 labels", "7 images");
    fx_assert_empty(&ds);

    /* Label out of range through the file loader. */
    make_labels(lbl, N_IMG, 10);
    lbl[8] = 200;
    fx_write(fx_path("bad-lbl"), lbl, LBL_BYTES);
    snprintf(b, sizeof b, "%s", fx_path("bad-lbl"));
    FX_EXPECT_ERR(jg_data_load_idx(a, b, 10, &ds, &err), -EBADMSG, err, b, "label 200");
    fx_assert_empty(&ds);
}

static void test_wrong_magic(void **state)
{
    (void)state;
    unsigned char img[IMG_BYTES], lbl[LBL_BYTES];
    make_images(img, N_IMG, IMG_H, IMG_W);
    make_labels(lbl, N_IMG, 10);
    jg_dataset_t ds;
    jg_data_error_t err;
    int32_t *y = NULL;
    int n;
    /* Images and labels swapped. */
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(lbl, sizeof lbl, "swapped", &ds, &err),
                  -EBADMSG, err, "swapped", "wrong magic 0x00000801", "labels file");
    FX_EXPECT_ERR(jg_data_parse_idx_labels_mem(img, sizeof img, "swapped2", 0, &y, &n, NULL, &err),
                  -EBADMSG, err, "swapped2", "wrong magic 0x00000803");
    /* A PNG signature is not IDX. */
    const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(png, sizeof png, "x.png", &ds, &err), -EBADMSG,
                  err, "x.png", "wrong magic 0x89504e47");
    /* Gzip magic with garbage after it. */
    const unsigned char fake[32] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad};
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(fake, sizeof fake, "fake.gz", &ds, &err),
                  -EBADMSG, err, "fake.gz");
    fx_assert_empty(&ds);
    assert_null(y);
}

static void test_dims_overflow(void **state)
{
    (void)state;
    unsigned char h[64];
    memset(h, 0, sizeof h);
    jg_dataset_t ds;
    jg_data_error_t err;
    make_images(h, 0, 0, 0);
    fx_be32(h + 4, 0xFFFFFFFFu);
    fx_be32(h + 8, 0xFFFFFFFFu);
    fx_be32(h + 12, 0xFFFFFFFFu);
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(h, sizeof h, "huge", &ds, &err), -EOVERFLOW,
                  err, "huge", "4294967295x4294967295", "cap");
    /* Dims within the per-side cap whose product exceeds the total cap. */
    fx_be32(h + 4, 0xFFFFFFFFu);
    fx_be32(h + 8, 4096);
    fx_be32(h + 12, 4096);
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(h, sizeof h, "many", &ds, &err), -EOVERFLOW,
                  err, "many", "4294967295 images of 4096x4096");
    fx_be32(h + 4, 0x80000000u);
    fx_be32(h + 8, 1);
    fx_be32(h + 12, 1);
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(h, sizeof h, "intmax", &ds, &err), -EOVERFLOW,
                  err, "intmax");
    /* Zero-sized headers are malformed, not a crash. */
    fx_be32(h + 4, 3);
    fx_be32(h + 8, 0);
    FX_EXPECT_ERR(jg_data_parse_idx_images_mem(h, sizeof h, "zero", &ds, &err), -EBADMSG,
                  err, "zero", "empty");
    fx_assert_empty(&ds);

    unsigned char l[8];
    fx_be32(l, 0x00000801u);
    fx_be32(l + 4, 0xFFFFFFFFu);
    int32_t *y = NULL;
    int n;
    FX_EXPECT_ERR(jg_data_parse_idx_labels_mem(l, sizeof l, "lhuge", 0, &y, &n, NULL, &err),
                  -EOVERFLOW, err, "lhuge", "4294967295 labels");
    fx_be32(l + 4, 0);
    FX_EXPECT_ERR(jg_data_parse_idx_labels_mem(l, sizeof l, "lzero", 0, &y, &n, NULL, &err),
                  -EBADMSG, err, "lzero", "0 labels");
    assert_null(y);
}

static void test_empty_missing_and_args(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    unsigned char lbl[LBL_BYTES];
    make_labels(lbl, N_IMG, 10);
    fx_write(fx_path("zero-bytes"), "", 0);
    fx_write(fx_path("lbl-ok"), lbl, sizeof lbl);
    char z[512], l[512];
    snprintf(z, sizeof z, "%s", fx_path("zero-bytes"));
    snprintf(l, sizeof l, "%s", fx_path("lbl-ok"));
    FX_EXPECT_ERR(jg_data_load_idx(z, l, 0, &ds, &err), -EBADMSG, err, z, "empty file");
    FX_EXPECT_ERR(jg_data_load_idx(fx_path("nope"), l, 0, &ds, &err), -ENOENT, err, "nope",
                  "cannot open");
    FX_EXPECT_ERR(jg_data_load_idx(fx_dir(), l, 0, &ds, &err), -EISDIR, err, fx_dir());
    fx_assert_empty(&ds);

    assert_int_equal(jg_data_load_idx(NULL, l, 0, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_idx(z, NULL, 0, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_idx(z, l, -1, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_idx(z, l, 0, NULL, &err), -EINVAL);
    assert_int_equal(jg_data_parse_idx_images_mem(NULL, 5, "n", &ds, &err), -EINVAL);
    assert_int_equal(jg_data_parse_idx_images_mem(lbl, 5, "n", NULL, &err), -EINVAL);
    int32_t *y;
    int n;
    assert_int_equal(jg_data_parse_idx_labels_mem(lbl, sizeof lbl, "n", -2, &y, &n, NULL, &err),
                     -EINVAL);
    assert_int_equal(jg_data_parse_idx_labels_mem(lbl, sizeof lbl, "n", 0, NULL, &n, NULL, &err),
                     -EINVAL);
    /* A NULL error struct is allowed. */
    assert_int_equal(jg_data_parse_idx_images_mem(lbl, 3, "n", &ds, NULL), -EBADMSG);
    assert_int_equal(jg_data_parse_idx_images_mem(NULL, 0, "n", &ds, &err), -EBADMSG);
}

static void test_fashion_lookup(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    FX_EXPECT_ERR(jg_data_fashion_mnist(fx_path("no-such-dir"), 1, &ds, &err), -ENOENT, err,
                  "no-such-dir", "dataset-fashion-mnist", "data dir");

    /* A private copy in the standard layout: plain images, gzip labels. */
    fx_mkdir("fm");
    enum { N = 3, S = 28 };
    unsigned char *img = jg_test_alloc_bytes(16 + N * S * S);
    unsigned char lbl[8 + N];
    make_images(img, N, S, S);
    make_labels(lbl, N, 10);
    fx_write(fx_path("fm/t10k-images-idx3-ubyte"), img, 16 + N * S * S);
    fx_write_gz(fx_path("fm/t10k-labels-idx1-ubyte.gz"), lbl, sizeof lbl);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("fm"));
    assert_int_equal(jg_data_fashion_mnist(dir, 0, &ds, &err), 0);
    assert_int_equal(ds.n, N);
    assert_int_equal(ds.classes, 10);
    assert_non_null(ds.class_names);
    assert_string_equal(ds.class_names[0], "T-shirt/top");
    assert_string_equal(ds.class_names[9], "Ankle boot");
    jg_dataset_free(&ds);
    /* The train files are absent. */
    FX_EXPECT_ERR(jg_data_fashion_mnist(dir, 1, &ds, &err), -ENOENT, err, dir,
                  "train-images-idx3-ubyte");

    /* Wrong image size for Fashion-MNIST. */
    fx_mkdir("fm5");
    make_images(img, N, 5, 5);
    fx_write(fx_path("fm5/train-images-idx3-ubyte"), img, 16 + N * 25);
    fx_write(fx_path("fm5/train-labels-idx1-ubyte"), lbl, sizeof lbl);
    snprintf(dir, sizeof dir, "%s", fx_path("fm5"));
    FX_EXPECT_ERR(jg_data_fashion_mnist(dir, 1, &ds, &err), -EBADMSG, err,
                  "train-images-idx3-ubyte", "28x28");
    fx_assert_empty(&ds);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_plain_and_gz),
        cmocka_unit_test(test_mem_and_concatenated_gzip),
        cmocka_unit_test(test_labels_mem),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_and_mismatch),
        cmocka_unit_test(test_wrong_magic),
        cmocka_unit_test(test_dims_overflow),
        cmocka_unit_test(test_empty_missing_and_args),
        cmocka_unit_test(test_fashion_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
