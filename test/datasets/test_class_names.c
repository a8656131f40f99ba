/* SPDX-License-Identifier: MIT */
/* Class names end up as JSON keys (summary.json), CSV cells and one-line
 * messages, so the loaders refuse what would break them: a class folder or a
 * batches.meta.txt line that is not valid UTF-8 or holds a control
 * character, and repeated names in batches.meta.txt. The message names the
 * problem with the bad bytes escaped (\xff), never raw. Valid non-ASCII
 * names load unchanged. Also the escaping itself (jg_text_escape). */
#include "fixtures.h"

#include <stb_image_write.h>

#include "jg_common.h"

static void write_png(const char *rel)
{
    const unsigned char px[2 * 2 * 3] = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120};
    if (!stbi_write_png(fx_path(rel), 2, 2, 3, px, 6)) fail_msg("stbi_write_png %s", rel);
}

/* A tree root/<name>/a.png for each name. */
static void make_tree(const char *root, const char *const *names, int n)
{
    fx_mkdir(root);
    for (int i = 0; i < n; i++) {
        char rel[200];
        snprintf(rel, sizeof rel, "%s/%s", root, names[i]);
        fx_mkdir(rel);
        snprintf(rel, sizeof rel, "%s/%s/a.png", root, names[i]);
        write_png(rel);
    }
}

/* No byte >= 0x80 and no control character: the message is plain ASCII. */
static void assert_ascii(const char *msg)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++)
        if (*p >= 0x80 || *p < 0x20) fail_msg("raw byte 0x%02x in message: %s", *p, msg);
}

static void test_folder_names(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    char dir[512];

    /* valid UTF-8 beyond ASCII loads unchanged */
    const char *good[] = {"caf\xc3\xa9", "\xe7\x8c\xab", "dog"};
    make_tree("good", good, 3);
    snprintf(dir, sizeof dir, "%s", fx_path("good"));
    assert_int_equal(jg_data_load_image_folder(dir, 3, 2, 2, &ds, &err), 0);
    assert_int_equal(ds.classes, 3);
    assert_string_equal(ds.class_names[0], "caf\xc3\xa9");
    assert_string_equal(ds.class_names[1], "dog");
    assert_string_equal(ds.class_names[2], "\xe7\x8c\xab");
    jg_dataset_free(&ds);

    /* Latin-1 "caf\xe9" is not UTF-8 */
    const char *latin1[] = {"caf\xe9", "dog"};
    make_tree("latin1", latin1, 2);
    snprintf(dir, sizeof dir, "%s", fx_path("latin1"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 2, 2, &ds, &err), -EINVAL, err, dir,
                  "'caf\\xe9' is not valid UTF-8", "offset 3", "rename it");
    assert_ascii(err.msg);
    fx_assert_empty(&ds);

    const char *bare[] = {"\xff", "ok"};
    make_tree("ff", bare, 2);
    snprintf(dir, sizeof dir, "%s", fx_path("ff"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 2, 2, &ds, &err), -EINVAL, err,
                  "'\\xff' is not valid UTF-8");
    assert_ascii(err.msg);

    /* a tab in a folder name: a control character, shown escaped */
    const char *tab[] = {"a\tb"};
    make_tree("tab", tab, 1);
    snprintf(dir, sizeof dir, "%s", fx_path("tab"));
    FX_EXPECT_ERR(jg_data_load_image_folder(dir, 3, 2, 2, &ds, &err), -EINVAL, err,
                  "'a\\x09b'", "control character U+0009");
    fx_assert_empty(&ds);
}

static void write_cifar(const char *sub, const char *meta, size_t meta_len)
{
    fx_mkdir(sub);
    unsigned char rec[3073] = {0};
    char rel[256];
    snprintf(rel, sizeof rel, "%s/test_batch.bin", sub);
    fx_write(fx_path(rel), rec, sizeof rec);
    snprintf(rel, sizeof rel, "%s/batches.meta.txt", sub);
    fx_write(fx_path(rel), meta, meta_len);
}

/* batches.meta.txt with line `bad` in place of line 4 (1-based) of ten
 * distinct names; expect -EINVAL and every needle. */
static void expect_meta_refused(const char *bad, const char *n1, const char *n2)
{
    char meta[1024];
    snprintf(meta, sizeof meta, "n0\nn1\nn2\n%s\nn4\nn5\nn6\nn7\nn8\nn9\n", bad);
    write_cifar("cm", meta, strlen(meta));
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("cm"));
    jg_dataset_t ds;
    jg_data_error_t err;
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EINVAL, err, "batches.meta.txt",
                  "line 4", n1, n2);
    assert_ascii(err.msg);
    fx_assert_empty(&ds);
}

static void test_cifar_meta(void **state)
{
    (void)state;
    jg_dataset_t ds;
    jg_data_error_t err;
    char dir[512];
    snprintf(dir, sizeof dir, "%s", fx_path("cm"));

    /* ten identical names would be ten identical JSON keys */
    const char *same = "cat\ncat\ncat\ncat\ncat\ncat\ncat\ncat\ncat\ncat\n";
    write_cifar("cm", same, strlen(same));
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EINVAL, err, "batches.meta.txt",
                  "classes 0 and 1 are both named 'cat'");
    fx_assert_empty(&ds);
    const char *late = "a\nb\nc\nd\ne\nf\ng\nh\ni\nb\n";
    write_cifar("cm", late, strlen(late));
    FX_EXPECT_ERR(jg_data_load_cifar10(dir, 0, &ds, &err), -EINVAL, err,
                  "classes 1 and 9 are both named 'b'");

    expect_meta_refused("bird\xff", "'bird\\xff' is not valid UTF-8", "offset 4");
    expect_meta_refused("\xc0\xaf", "'\\xc0\\xaf' is not valid UTF-8", "offset 0"); /* overlong '/' */
    expect_meta_refused("\xed\xa0\x80", "'\\xed\\xa0\\x80'", "not valid UTF-8");   /* surrogate */
    expect_meta_refused("\xf4\x90\x80\x80", "not valid UTF-8", "byte 0xf4");     /* > U+10FFFF */
    expect_meta_refused("ab\xe2\x82", "'ab\\xe2\\x82'", "offset 2");             /* cut short */
    expect_meta_refused("x\xc2\x85y", "'x\\xc2\\x85y'", "control character U+0085");
    expect_meta_refused("x\x1b[31my", "'x\\x1b[31my'", "control character U+001B");

    /* the same names in valid UTF-8 load, trimmed, with their bytes intact */
    const char *ok = "caf\xc3\xa9\n\xe2\x82\xac\nn2\nn3\nn4\nn5\nn6\nn7\nn8\n\xf0\x9f\x90\x88\n";
    write_cifar("cm", ok, strlen(ok));
    assert_int_equal(jg_data_load_cifar10(dir, 0, &ds, &err), 0);
    assert_string_equal(ds.class_names[0], "caf\xc3\xa9");
    assert_string_equal(ds.class_names[1], "\xe2\x82\xac");
    assert_string_equal(ds.class_names[9], "\xf0\x9f\x90\x88");
    jg_dataset_free(&ds);
}

static void test_escape(void **state)
{
    (void)state;
    char buf[16];
    assert_string_equal(jg_text_escape("a\\b", 3, buf, sizeof buf), "a\\\\b");
    assert_string_equal(jg_text_escape("caf\xc3\xa9", 5, buf, sizeof buf), "caf\xc3\xa9");
    assert_string_equal(jg_text_escape("\xff\n", 2, buf, sizeof buf), "\\xff\\x0a");
    /* what does not fit ends in "...", within the buffer */
    assert_string_equal(jg_text_escape("abcdefghijklmnopqrstuvwxyz", 26, buf, sizeof buf),
                        "abcdefghijkl...");
    assert_string_equal(jg_text_escape("\xff\xff\xff\xff\xff", 5, buf, sizeof buf),
                        "\\xff\\xff\\xff...");
    assert_string_equal(jg_text_escape("abc", 3, buf, 4), "abc");
    assert_string_equal(jg_text_escape("abcd", 4, buf, 4), "...");
    assert_string_equal(jg_text_escape("", 0, buf, sizeof buf), "");

    char why[256];
    assert_int_equal(jg_class_name_check("", 0, why, sizeof why), -EINVAL);
    assert_non_null(strstr(why, "empty"));
    char longname[JG_CLASS_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname);
    assert_int_equal(jg_class_name_check(longname, JG_CLASS_NAME_MAX, why, sizeof why), 0);
    assert_int_equal(jg_class_name_check(longname, JG_CLASS_NAME_MAX + 1, why, sizeof why),
                     -EINVAL);
    assert_non_null(strstr(why, "256 bytes long, more than 255"));
    const char *dup[] = {"x", "y", "z", "y"};
    assert_int_equal(jg_class_names_check(dup, 4, why, sizeof why), -EINVAL);
    assert_string_equal(why, "classes 1 and 3 are both named 'y'");
    assert_int_equal(jg_class_names_check(dup, 3, why, sizeof why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_names),
        cmocka_unit_test(test_cifar_meta),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
