/* SPDX-License-Identifier: MIT */
/*
 * fixtures.h - helpers for the dataset tests: a temp dir removed at exit,
 * whole-file writes (plain and gzip), reads, and error-message checks.
 * Header-only (static inline) because every test_*.c is its own program.
 */
#ifndef JG_TEST_DATASETS_FIXTURES_H
#define JG_TEST_DATASETS_FIXTURES_H

#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "harness.h"
#include "jg_datasets.h"

/* mkdtemp'd directory; paths built with fx_path live in a static buffer
 * ring so a test can hold a few at once. */
static char fx_root[256];

static inline void fx_cleanup(void)
{
    if (fx_root[0]) jg_test_rm_rf(fx_root);
}

static inline const char *fx_dir(void)
{
    if (!fx_root[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fx_root, sizeof fx_root, "%s/jg_datasets_XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fx_root)) {
            fx_root[0] = '\0';
            fail_msg("mkdtemp failed: %s", strerror(errno));
        }
        atexit(fx_cleanup);
    }
    return fx_root;
}

static inline const char *fx_path(const char *rel)
{
    static char ring[8][512];
    static int next;
    char *p = ring[next++ % 8];
    snprintf(p, 512, "%s/%s", fx_dir(), rel);
    return p;
}

static inline void fx_mkdir(const char *rel)
{
    const char *p = fx_path(rel);
    if (mkdir(p, 0700) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", p, strerror(errno));
}

static inline void fx_write(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    if (len && fwrite(data, 1, len, f) != len) fail_msg("short write %s", path);
    fclose(f);
}

static inline void fx_write_gz(const char *path, const void *data, size_t len)
{
    gzFile g = gzopen(path, "wb");
    if (!g) fail_msg("gzopen %s", path);
    if (len && gzwrite(g, data, (unsigned)len) != (int)len) fail_msg("gzwrite %s", path);
    gzclose(g);
}

/* Reads a whole file into a malloc'd buffer. */
static inline unsigned char *fx_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = jg_test_alloc_bytes((size_t)n + 1);
    if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) fail_msg("short read %s", path);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline void fx_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Asserts the error code and that the message contains every needle. */
#define FX_EXPECT_ERR(call, code, err, ...)                                        \
    do {                                                                           \
        const int rc_ = (call);                                                    \
        const char *needles_[] = {__VA_ARGS__};                                    \
        if (rc_ != (code))                                                         \
            fail_msg("%s: got %d, want %d (%s); message: %s", #call, rc_, (code),  \
                     #code, (err).msg);                                            \
        for (size_t i_ = 0; i_ < sizeof needles_ / sizeof *needles_; i_++)         \
            if (!strstr((err).msg, needles_[i_]))                                  \
                fail_msg("%s: message \"%s\" lacks \"%s\"", #call, (err).msg,      \
                         needles_[i_]);                                            \
        if (strchr((err).msg, '\n')) fail_msg("message is not one line: %s", (err).msg); \
    } while (0)

/* A dataset that failed to load must be left empty. */
static inline void fx_assert_empty(const jg_dataset_t *ds)
{
    assert_null(ds->x);
    assert_null(ds->y);
    assert_null(ds->class_names);
    assert_int_equal(ds->n, 0);
}

#endif /* JG_TEST_DATASETS_FIXTURES_H */
