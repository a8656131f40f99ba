/* SPDX-License-Identifier: MIT */
/* text.c - growing text buffers, the shortest exact text of a float, the
 * monotonic clock and splitmix64. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jg_common.h"

void jg_sb_printf(jg_sbuf_t *b, const char *fmt, ...)
{
    if (b->err) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        const int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt,
                                ap);
        va_end(ap);
        if (n < 0) {
            b->err = -EIO;
            return;
        }
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        const size_t cap = 2 * (b->cap + (size_t)n + 256);
        char *p = realloc(b->p, cap);
        if (!p) {
            b->err = -ENOMEM;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

int jg_sb_write(const char *dir, const char *name, jg_sbuf_t *b)
{
    char path[4400];
    int rc = b->err;
    if (!rc && snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        rc = -ENAMETOOLONG;
    if (!rc) rc = jg_write_atomic(path, b->p ? b->p : "", b->len);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    return rc;
}

void jg_logf(const jg_log_t *log, int stream, const char *fmt, ...)
{
    if (!log || !log->fn) return;
    char line[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log->fn(log->ctx, stream, line);
}

char *jg_float_text(float v, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, cap, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    return buf;
}

double jg_float_double(float v)
{
    char buf[32];
    return strtod(jg_float_text(v, buf, sizeof buf), NULL);
}

double jg_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t jg_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
