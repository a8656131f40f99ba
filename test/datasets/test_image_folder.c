/* SPDX-License-Identifier: MIT */
/* Image folders: class order, file order, hidden entries, PNG/BMP/JPEG/RGBA/grey
 * decoding, grey <-> RGB conversion, resizing, and malformed trees. */
#include "fixtures.h"

#include <math.h>

#include <stb_image_write.h>

/* stb converts RGB to grey with integer weights (77, 150, 29) / 256 and
 * truncation; other libraries round differently, so allow 1.5 grey levels
 * instead of pinning stb's exact arithmetic. */
#define TOL_GREY (1.5 / 255.0)
/* Resampling a constant image must give the constant back up to float
 * rounding of the filter weights (which sum to 1 in float). */
#define TOL_CONST 1e-5
/* Box-average of a linear ramp: the resized mean stays within 2 levels. */
#define TOL_MEAN (2.0 / 255.0)
/* JPEG at quality 100 of a flat colour: chroma rounding through YCbCr
 * moves each channel by at most a few levels. */
#define TOL_JPEG (4.0 / 255.0)

static unsigned char rgb(int img, int p, int ch)
{
    return (unsigned char)((img * 61 + p * 17 + ch * 83) % 256);
}

static void write_png(const char *rel, int w, int h, int comp, const unsigned char *px)
{
    if (!stbi_write_png(fx_path(rel), w, h, comp, px, w * comp))
        fail_msg("stbi_write_png %s", rel);
}

static void write_pattern_png(const char *rel, int img, int w, int h, int comp)
{
    unsigned char px[64 * 64 * 4];
    for (int p = 0; p < w * h; p++)
        for (int c = 0; c < comp; c++) px[p * comp + c] = rgb(img, p, c);
    write_png(rel, w, h, comp, px);
}

static void build_tree(void)
{
    fx_mkdir("f1");
    fx_mkdir("f1/b_dog");
    fx_mkdir("f1/a_cat");
    fx_mkdir("f1/10");
    fx_mkdir("f1/9");
    fx_mkdir("f1/.hidden_class");
    write_pattern_png("f1/10/x.png", 0, 4, 4, 3);
    unsigned char px[4 * 4 * 3];
    for (int p = 0; p < 16; p++)
        for (int c = 0; c < 3; c++) px[p * 3 + c] = rgb(1, p, c);
    if (!stbi_write_bmp(fx_path("f1/9/y.bmp"), 4, 4, 3, px)) fail_msg("stbi_write_bmp");
    write_pattern_png("f1/a_cat/b.png", 2, 4, 4, 1);
    write_pattern_png("f1/a_cat/a.png", 3, 4, 4, 4);
    unsigned char cst[8 * 8 * 3];
    for (int p = 0; p < 64; p++) {
        cst[p * 3] = 200;
        cst[p * 3 + 1] = 30;
        cst[p * 3 + 2] = 90;
    }
    write_png("f1/b_dog/z.png", 8, 8, 3, cst);
    write_pattern_png("f1/.hidden_class/q.png", 4, 4, 4, 3);
    fx_write(fx_path("f1/a_cat/.DS_Store"), "junk", 4);
    fx_write(fx_path("f1/README.txt"), "hello", 5);
}

static float at(const jg_dataset_t *ds, int i, int c, int p)
{
    return ds->x[((size_t)i * (size_t)ds->c + (size_t)c) * (size_t)(ds->h * ds->w) + (size_t)p];
}

static void test_rgb_tree(void **state)
{
    (void)state;
    build_tree();
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("f1"));
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_load_image_folder(dir, 3, 4, 4, &ds, &err), 0);
    assert_int_equal(ds.n, 5);
    assert_int_equal(ds.c, 3);
    assert_int_equal(ds.classes, 4);
    /* Bytewise order: "10" < "9" < "a_cat" < "b_dog". */
    const char *names[4] = {"10", "9", "a_cat", "b_dog"};
    for (int k = 0; k < 4; k++) assert_string_equal(ds.class_names[k], names[k]);
    const int32_t labels[5] = {0, 1, 2, 2, 3};
    for (int i = 0; i < 5; i++) assert_int_equal(ds.y[i], labels[i]);
    for (int p = 0; p < 16; p++) {
        for (int c = 0; c < 3; c++) {
            /* Same size: no resampling, so exact. x.png, y.bmp, a.png
             * (alpha dropped), b.png (grey replicated). */
            assert_true(at(&ds, 0, c, p) == (float)rgb(0, p, c) / 255.0f);
            assert_true(at(&ds, 1, c, p) == (float)rgb(1, p, c) / 255.0f);
            assert_true(at(&ds, 2, c, p) == (float)rgb(3, p, c) / 255.0f);
            assert_true(at(&ds, 3, c, p) == (float)rgb(2, p, 0) / 255.0f);
        }
        const double want[3] = {200 / 255.0, 30 / 255.0, 90 / 255.0};
        for (int c = 0; c < 3; c++)
            if (fabs(at(&ds, 4, c, p) - want[c]) > TOL_CONST)
                fail_msg("resized constant: c=%d p=%d got %g want %g", c, p,
                         (double)at(&ds, 4, c, p), want[c]);
    }
    /* Determinism: a second load is bit-identical. */
    jg_dataset_t again;
    assert_int_equal(jg_data_load_image_folder(dir, 3, 4, 4, &again, &err), 0);
    assert_memory_equal(ds.x, again.x, (size_t)5 * 3 * 16 * sizeof(float));
    assert_memory_equal(ds.y, again.y, 5 * sizeof(int32_t));
    jg_dataset_free(&again);
    jg_dataset_free(&ds);
}

static void test_grey(void **state)
{
    (void)state;
    build_tree();
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("f1"));
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), 0);
    assert_int_equal(ds.c, 1);
    for (int p = 0; p < 16; p++) {
        const double y = (0.299 * rgb(0, p, 0) + 0.587 * rgb(0, p, 1) + 0.114 * rgb(0, p, 2)) / 255.0;
        if (fabs(at(&ds, 0, 0, p) - y) > TOL_GREY)
            fail_msg("grey p=%d got %g want %g", p, (double)at(&ds, 0, 0, p), y);
        assert_true(at(&ds, 3, 0, p) == (float)rgb(2, p, 0) / 255.0f);
    }
    jg_dataset_free(&ds);
}

static void test_resize(void **state)
{
    (void)state;
    fx_mkdir("f2");
    fx_mkdir("f2/only");
    /* Horizontal ramp 16 wide, 8 high. */
    unsigned char ramp[16 * 8 * 3];
    double mean = 0.0;
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 16; x++)
            for (int c = 0; c < 3; c++) {
                ramp[(y * 16 + x) * 3 + c] = (unsigned char)(x * 16 + c);
                mean += (x * 16 + c) / 255.0 / (16 * 8 * 3);
            }
    write_png("f2/only/ramp.png", 16, 8, 3, ramp);
    /* 2x2 checkerboard, to be upsampled (filters overshoot here). */
    const unsigned char chk[4] = {0, 255, 255, 0};
    write_png("f2/only/zchk.png", 2, 2, 1, chk);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("f2"));
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_load_image_folder(dir, 3, 5, 7, &ds, &err), 0);
    assert_int_equal(ds.h, 5);
    assert_int_equal(ds.w, 7);
    double got = 0.0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 7; x++) {
                const float v = at(&ds, 0, c, y * 7 + x);
                got += v / (5.0 * 7 * 3);
                if (x > 0) assert_true(v >= at(&ds, 0, c, y * 7 + x - 1));
                assert_true(fabs(v - at(&ds, 0, c, x)) <= TOL_CONST);  /* rows equal */
            }
    if (fabs(got - mean) > TOL_MEAN) fail_msg("resized mean %g vs %g", got, mean);
    for (int j = 0; j < 3 * 35; j++) {
        const float v = ds.x[3 * 35 + j];
        assert_true(v >= 0.0f && v <= 1.0f);
    }
    jg_dataset_free(&ds);
}

static void test_jpeg(void **state)
{
    (void)state;
    fx_mkdir("f9");
    fx_mkdir("f9/cls");
    unsigned char px[16 * 16 * 3];
    for (int p = 0; p < 256; p++) {
        px[p * 3] = 40;
        px[p * 3 + 1] = 160;
        px[p * 3 + 2] = 220;
    }
    if (!stbi_write_jpg(fx_path("f9/cls/flat.jpg"), 16, 16, 3, px, 100))
        fail_msg("stbi_write_jpg");
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("f9"));
    jg_dataset_t ds;
    jg_data_error_t err;
    assert_int_equal(jg_data_load_image_folder(dir, 3, 6, 6, &ds, &err), 0);
    const double want[3] = {40 / 255.0, 160 / 255.0, 220 / 255.0};
    for (int c = 0; c < 3; c++)
        for (int p = 0; p < 36; p++)
            if (fabs(at(&ds, 0, c, p) - want[c]) > TOL_JPEG)
                fail_msg("jpeg c=%d p=%d got %g want %g", c, p, (double)at(&ds, 0, c, p),
                         want[c]);
    jg_dataset_free(&ds);
}

static void test_bad_trees(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    char dir[512];

    fx_mkdir("f3");
    fx_mkdir("f3/cls");
    write_pattern_png("f3/cls/a.png", 0, 4, 4, 3);
    fx_write(fx_path("f3/cls/notes.txt"), "not an image\n", 13);
    snprintf(dir, sizeof dir, "%s", fx_path("f3"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 4, 4, &ds, &err), -EBADMSG, err,
                  "cls/notes.txt", "not an image");
    fx_assert_empty(&ds);

    fx_mkdir("f4");
    fx_mkdir("f4/cls");
    fx_write(fx_path("f4/cls/empty.png"), "", 0);
    snprintf(dir, sizeof dir, "%s", fx_path("f4"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), -EBADMSG, err,
                  "cls/empty.png", "empty file");

    fx_mkdir("f5");
    fx_mkdir("f5/cls");
    fx_mkdir("f5/cls/sub");
    snprintf(dir, sizeof dir, "%s", fx_path("f5"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), -EBADMSG, err,
                  "cls/sub", "nested directory");

    fx_mkdir("f6");
    fx_write(fx_path("f6/a.png"), "x", 1);
    snprintf(dir, sizeof dir, "%s", fx_path("f6"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), -EBADMSG, err, "f6",
                  "no class sub-folders");

    /* Half a PNG: the header parses, the pixel data does not. */
    fx_mkdir("f7");
    fx_mkdir("f7/cls");
    write_pattern_png("f7/cls/full.png", 0, 32, 32, 3);
    size_t len;
    unsigned char *png = fx_read(fx_path("f7/cls/full.png"), &len);
    remove(fx_path("f7/cls/full.png"));
    const size_t cuts[] = {4, 30, len / 2, len - 13};
    snprintf(dir, sizeof dir, "%s", fx_path("f7"));
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        fx_write(fx_path("f7/cls/trunc.png"), png, cuts[k]);
        FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 4, 4, &ds, &err), -EBADMSG, err,
                      "cls/trunc.png");
        assert_true(strstr(err.msg, "not an image") || strstr(err.msg, "corrupt image"));
        fx_assert_empty(&ds);
    }
    free(png);

    fx_mkdir("f8");
    fx_mkdir("f8/cls");
    snprintf(dir, sizeof dir, "%s", fx_path("f8"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), -EBADMSG, err, "cls",
                  "holds no images");

    FX_EXPECT_ERR(jg_data_load_image_folder(fx_path("missing"), 1, 4, 4, &ds, &err), -ENOENT,
                  err, "missing", "not found");
    snprintf(dir, sizeof dir, "%s", fx_path("f6/a.png"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 1, 4, 4, &ds, &err), -ENOTDIR, err, "a.png");

    snprintf(dir, sizeof dir, "%s", fx_path("f3"));
    assert_int_equal(jg_data_load_image_folder(dir, 2, 4, 4, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_image_folder(dir, 3, 0, 4, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_image_folder(dir, 3, 4, -1, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_image_folder(dir, 3, 4, JG_DATA_MAX_DIM + 1, &ds, &err),
                     -EINVAL);
    assert_int_equal(jg_data_load_image_folder(NULL, 3, 4, 4, &ds, &err), -EINVAL);
    assert_int_equal(jg_data_load_image_folder(dir, 3, 4, 4, NULL, &err), -EINVAL);
    fx_assert_empty(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rgb_tree),
        cmocka_unit_test(test_grey),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_jpeg),
        cmocka_unit_test(test_bad_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
