/* SPDX-License-Identifier: MIT */
/* jg_data_load_image: one file decoded exactly like an image-folder entry
 * (same pixels for the same file), bad arguments, missing and corrupt files. */
#include "fixtures.h"

#include <stb_image_write.h>

static void write_ramp_png(const char *rel, int w, int h, int comp)
{
    unsigned char px[32 * 32 * 3];
    for (int p = 0; p < w * h; p++)
        for (int c = 0; c < comp; c++) px[p * comp + c] = (unsigned char)((p * 7 + c * 50) % 256);
    if (!stbi_write_png(fx_path(rel), w, h, comp, px, w * comp)) fail_msg("stbi_write_png %s", rel);
}

static void test_matches_folder(void **state)
{
    (void)state;
    fx_mkdir("t1");
    fx_mkdir("t1/only");
    write_ramp_png("t1/only/a.png", 20, 13, 3);
    for (int ch = 1; ch <= 3; ch += 2) {
        jg_dataset_t ds;
        jg_data_error_t err;
        char dir[512];
        snprintf(dir, sizeof dir, "%s", fx_path("t1"));
        assert_int_equal(jg_data_load_image_folder(dir, ch, 9, 11, &ds, &err), 0);
        float img[3 * 9 * 11];  // (C, H, W)
        assert_int_equal(jg_data_load_image(fx_path("t1/only/a.png"), ch, 9, 11, img, &err), 0);
        assert_memory_equal(img, ds.x, sizeof(float) * (size_t)(ch * 9 * 11));
        for (int i = 0; i < ch * 9 * 11; i++) assert_true(img[i] >= 0.0f && img[i] <= 1.0f);
        jg_dataset_free(&ds);
    }
}

static void test_errors(void **state)
{
    (void)state;
    float img[3 * 4 * 4];
    jg_data_error_t err;
    write_ramp_png("ok.png", 4, 4, 3);
    FX_EXPECT_ERR(jg_data_load_image(fx_path("ok.png"), 2, 4, 4, img, &err), -EINVAL, err,
                  "channels=2");
    FX_EXPECT_ERR(jg_data_load_image(fx_path("ok.png"), 3, 0, 4, img, &err), -EINVAL, err,
                  "size=0x4");
    FX_EXPECT_ERR(jg_data_load_image(fx_path("ok.png"), 3, 4, 4, NULL, &err), -EINVAL, err,
                  "bad arguments");
    FX_EXPECT_ERR(jg_data_load_image(fx_path("missing.png"), 3, 4, 4, img, &err), -ENOENT, err,
                  "missing.png");
    fx_write(fx_path("empty.png"), "", 0);
    FX_EXPECT_ERR(jg_data_load_image(fx_path("empty.png"), 3, 4, 4, img, &err), -EBADMSG, err,
                  "empty file");
    fx_write(fx_path("text.png"), "not an image at all", 19);
    FX_EXPECT_ERR(jg_data_load_image(fx_path("text.png"), 3, 4, 4, img, &err), -EBADMSG, err,
                  "not an image");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_folder),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
