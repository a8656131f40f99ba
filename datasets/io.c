/* SPDX-License-Identifier: MIT */
/* io.c - errors, whole-file reads, in-memory gunzip, checked arithmetic,
 * the seeded PRNG and small string helpers shared by the loaders. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "internal.h"

int jg_data_fail(jg_data_error_t *err, int code, const char *name,
                 const char *fmt, ...)
{
    if (!err) return code;
    int k = snprintf(err->msg, sizeof err->msg, "%s: ", name ? name : "?");
    if (k < 0) k = 0;
    if ((size_t)k < sizeof err->msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg + k, sizeof err->msg - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return code;
}

void jg_data_clear_error(jg_data_error_t *err)
{
    if (err) err->msg[0] = '\0';
}

int jg_data_read_file(const char *path, unsigned char **buf, size_t *len,
                      jg_data_error_t *err)
{
    const int rc = jg_read_regular(path, JG_DATA_MAX_FILE_BYTES, buf, len);
    if (rc == -EFBIG)
        return jg_data_fail(err, -EOVERFLOW, path,
                            "file has %zu bytes, more than the %zu-byte cap", *len,
                            (size_t)JG_DATA_MAX_FILE_BYTES);
    if (rc) {
        char why[160];
        return jg_data_fail(err, rc, path, "%s", jg_read_regular_why(rc, why, sizeof why));
    }
    return 0;
}

int jg_data_maybe_gunzip(const unsigned char *src, size_t len, const char *name,
                         unsigned char **out, size_t *out_len, int *gz,
                         jg_data_error_t *err)
{
    *out = NULL;
    *out_len = 0;
    *gz = 0;
    if (len < 2 || src[0] != 0x1f || src[1] != 0x8b) return 0;
    *gz = 1;
    if (len > UINT_MAX)
        return jg_data_fail(err, -EOVERFLOW, name, "gzip file of %zu bytes is too large", len);

    /* Deflate expands at most ~1032:1, so the trailer's ISIZE (untrusted)
     * is only a hint, bounded by that ratio and the cap. */
    const size_t limit = JG_DATA_MAX_FILE_BYTES;
    size_t cap = 4096;
    if (len >= 18) {
        const size_t isize = (size_t)src[len - 4] | (size_t)src[len - 3] << 8 |
                             (size_t)src[len - 2] << 16 | (size_t)src[len - 1] << 24;
        size_t bound = len <= (limit - 64) / 1032 ? len * 1032 + 64 : limit;
        if (isize + 1 > cap) cap = isize + 1 < bound ? isize + 1 : bound;
    }
    if (cap > limit) cap = limit;
    unsigned char *dst = malloc(cap);
    if (!dst) return jg_data_fail(err, -ENOMEM, name, "out of memory inflating");

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        free(dst);
        return jg_data_fail(err, -ENOMEM, name, "cannot initialise zlib");
    }
    zs.next_in = (unsigned char *)(uintptr_t)src;  /* zlib does not write it */
    zs.avail_in = (uInt)len;
    zs.next_out = dst;
    zs.avail_out = (uInt)cap;
    int rc = 0;
    for (;;) {
        if (zs.avail_out == 0) {
            const size_t produced = (size_t)(zs.next_out - dst);
            if (cap >= limit) {
                rc = jg_data_fail(err, -EOVERFLOW, name,
                                  "decompressed size exceeds the %zu-byte cap", limit);
                break;
            }
            const size_t ncap = cap > limit / 2 ? limit : cap * 2;
            unsigned char *nd = realloc(dst, ncap);
            if (!nd) {
                rc = jg_data_fail(err, -ENOMEM, name, "out of memory inflating");
                break;
            }
            dst = nd;
            cap = ncap;
            zs.next_out = dst + produced;
            zs.avail_out = (uInt)(cap - produced);
        }
        const int z = inflate(&zs, Z_NO_FLUSH);
        if (z == Z_OK) continue;
        if (z == Z_STREAM_END) {
            if (zs.avail_in == 0) break;
            /* Concatenated members are valid gzip (as gunzip accepts). */
            if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
                if (inflateReset(&zs) != Z_OK) {
                    rc = jg_data_fail(err, -EBADMSG, name, "corrupt gzip stream");
                    break;
                }
                continue;
            }
            rc = jg_data_fail(err, -EBADMSG, name,
                              "%u bytes of trailing garbage after the gzip stream",
                              zs.avail_in);
            break;
        }
        if (z == Z_BUF_ERROR && zs.avail_out != 0) {
            rc = jg_data_fail(err, -EBADMSG, name,
                              "truncated gzip stream (%zu compressed bytes)", len);
            break;
        }
        if (z == Z_BUF_ERROR) continue;  /* output full: grow above */
        if (z == Z_MEM_ERROR) {
            rc = jg_data_fail(err, -ENOMEM, name, "out of memory inflating");
            break;
        }
        rc = jg_data_fail(err, -EBADMSG, name, "corrupt gzip stream: %s",
                          zs.msg ? zs.msg : "bad data");
        break;
    }
    const size_t produced = (size_t)(zs.next_out - dst);
    inflateEnd(&zs);
    if (rc) {
        free(dst);
        return rc;
    }
    *out = dst;
    *out_len = produced;
    return 0;
}

int jg_data_mul(size_t a, size_t b, size_t limit, size_t *r)
{
    if (a != 0 && b > limit / a) return -EOVERFLOW;
    *r = a * b;
    return 0;
}

/* A constant table (v / 255.0f, exactly rounded) so conversion is one load
 * per pixel and identical to a division. */
#define JG_U8(v) ((float)(v) / 255.0f)
#define JG_U8x4(v) JG_U8(v), JG_U8((v) + 1), JG_U8((v) + 2), JG_U8((v) + 3)
#define JG_U8x16(v) JG_U8x4(v), JG_U8x4((v) + 4), JG_U8x4((v) + 8), JG_U8x4((v) + 12)
#define JG_U8x64(v) JG_U8x16(v), JG_U8x16((v) + 16), JG_U8x16((v) + 32), JG_U8x16((v) + 48)
const float jg_data_u8_to_unit[256] = {
    JG_U8x64(0), JG_U8x64(64), JG_U8x64(128), JG_U8x64(192),
};

void jg_data_u8_to_float(float *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] = jg_data_u8_to_unit[src[i]];
}

uint32_t jg_data_rng_below(uint64_t *state, uint32_t bound)
{
    /* Rejection on the top of the 32-bit range keeps it unbiased. */
    const uint32_t lim = UINT32_MAX - UINT32_MAX % bound;
    for (;;) {
        const uint32_t r = (uint32_t)(jg_splitmix64(state) >> 32);
        if (r < lim) return r % bound;
    }
}

float jg_data_rng_unit(uint64_t *state)
{
    return (float)(jg_splitmix64(state) >> 40) * (1.0f / 16777216.0f);
}

char *jg_data_strdup(const char *s)
{
    const size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

char *jg_data_path_join(const char *dir, const char *name)
{
    const size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t k = a;
    if (a == 0 || dir[a - 1] != '/') p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}
