/* SPDX-License-Identifier: MIT */
/* Search spaces: parsing, canonical text, hash, unit-cube mapping. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

static void vset(jg_tune_error_t *err, const char *fmt, va_list ap)
{
    if (err) vsnprintf(err->msg, sizeof err->msg, fmt, ap);
}

void jg_tune_errorf(jg_tune_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, fmt, ap);
    va_end(ap);
}

int jg_tune_fail(jg_tune_error_t *err, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, fmt, ap);
    va_end(ap);
    return rc;
}

/* Token [b, e) of the input text; col is 1-based. */
typedef struct {
    const char *text;
    size_t b, e;
} tok_t;

static int tok_fail(jg_tune_error_t *err, const tok_t *t, const char *what,
                    const char *hint)
{
    const int len = (int)(t->e - t->b > 40 ? 40 : t->e - t->b);
    return jg_tune_fail(err, -EINVAL, "space:1:%zu: %s '%.*s'%s%s", t->b + 1, what, len,
                t->text + t->b, hint[0] ? ": " : "", hint);
}

static int is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static int valid_name(const tok_t *t)
{
    if (t->e == t->b || t->e - t->b >= JG_TUNE_NAME_MAX) return 0;
    for (size_t i = t->b; i < t->e; i++)
        if (!is_name_char(t->text[i])) return 0;
    return 1;
}

static void tok_copy(char *dst, const tok_t *t)
{
    memcpy(dst, t->text + t->b, t->e - t->b);
    dst[t->e - t->b] = '\0';
}

/* Splits [b, e) at sep; returns the field [b, next sep or e). */
static tok_t next_field(const char *text, size_t *pos, size_t end, char sep)
{
    tok_t t = { text, *pos, *pos };
    while (t.e < end && text[t.e] != sep) t.e++;
    *pos = t.e < end ? t.e + 1 : t.e;
    return t;
}

static int parse_num(const tok_t *t, double *out)
{
    char buf[64];
    if (t->e == t->b || t->e - t->b >= sizeof buf) return -1;
    tok_copy(buf, t);
    if (isspace((unsigned char)buf[0])) return -1;
    char *end = NULL;
    errno = 0;
    const double v = strtod(buf, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* Parses the part after '=' in [b, e). */
static int parse_spec(jg_tune_dim_t *d, const char *text, size_t b, size_t e,
                      jg_tune_error_t *err)
{
    size_t pos = b;
    tok_t first = next_field(text, &pos, e, ':');
    const tok_t whole = { text, b, e };
    char kind[8] = "";
    if (first.e - first.b < sizeof kind) tok_copy(kind, &first);
    int has_kind = 1;
    if (!strcmp(kind, "lin")) d->kind = JG_TUNE_LIN;
    else if (!strcmp(kind, "log")) d->kind = JG_TUNE_LOG;
    else if (!strcmp(kind, "int")) d->kind = JG_TUNE_INT;
    else if (!strcmp(kind, "cat")) d->kind = JG_TUNE_CAT;
    else {
        double tmp;
        if (first.e == e || parse_num(&first, &tmp) != 0)
            return tok_fail(err, &first, "unknown kind",
                            "want lin|log|int|cat or a number");
        d->kind = JG_TUNE_LIN; /* "lo:hi" */
        has_kind = 0;
        pos = b;
    }
    if (has_kind && first.e == e)
        return tok_fail(err, &whole, "missing bounds after kind", "");

    if (d->kind == JG_TUNE_CAT) {
        d->n_cats = 0;
        while (pos <= e) {
            tok_t c = next_field(text, &pos, e, '|');
            if (!valid_name(&c))
                return tok_fail(err, &c, "bad category",
                                "want 1-31 of [A-Za-z0-9_.-]");
            if (d->n_cats == JG_TUNE_MAX_CATS)
                return tok_fail(err, &c, "too many categories", "at most 32");
            char name[JG_TUNE_NAME_MAX] = "";
            tok_copy(name, &c);
            for (int k = 0; k < d->n_cats; k++)
                if (!strcmp(d->cats[k], name))
                    return tok_fail(err, &c, "duplicate category", "");
            memcpy(d->cats[d->n_cats++], name, sizeof name);
            if (c.e == e) break;
        }
        d->lo = 0;
        d->hi = d->n_cats - 1;
        return 0;
    }

    tok_t lo_t = next_field(text, &pos, e, ':');
    if (lo_t.e == e) return tok_fail(err, &whole, "want two bounds in", "lo:hi");
    tok_t hi_t = next_field(text, &pos, e, ':');
    if (hi_t.e != e) {
        const tok_t extra = { text, hi_t.e, e };
        return tok_fail(err, &extra, "unexpected", "want exactly lo:hi");
    }
    if (parse_num(&lo_t, &d->lo)) return tok_fail(err, &lo_t, "bad bound", "want a finite number");
    if (parse_num(&hi_t, &d->hi)) return tok_fail(err, &hi_t, "bad bound", "want a finite number");
    if (!(d->lo < d->hi)) return tok_fail(err, &whole, "empty range", "want lo < hi");
    if (d->kind == JG_TUNE_LOG && !(d->lo > 0))
        return tok_fail(err, &lo_t, "bad bound", "log scale needs lo > 0");
    if (d->kind == JG_TUNE_INT) {
        const double lim = 1e15; /* exact in a double, with room for hi - lo + 1 */
        if (d->lo != floor(d->lo) || fabs(d->lo) > lim)
            return tok_fail(err, &lo_t, "bad bound", "want an integer below 1e15");
        if (d->hi != floor(d->hi) || fabs(d->hi) > lim)
            return tok_fail(err, &hi_t, "bad bound", "want an integer below 1e15");
    }
    return 0;
}

int jg_tune_space_parse(jg_tune_space_t *space, const char *text,
                        jg_tune_error_t *err)
{
    if (!space || !text) return jg_tune_fail(err, -EINVAL, "space: NULL argument");
    memset(space, 0, sizeof *space);
    const size_t n = strlen(text);
    if (n == 0) return jg_tune_fail(err, -EINVAL, "space:1:1: empty space");
    size_t pos = 0;
    while (pos <= n) {
        tok_t dim = next_field(text, &pos, n, ',');
        if (dim.e == dim.b) return tok_fail(err, &dim, "empty dimension", "want name=spec");
        size_t eq = dim.b;
        while (eq < dim.e && text[eq] != '=') eq++;
        tok_t name = { text, dim.b, eq };
        if (eq == dim.e) return tok_fail(err, &dim, "missing '=' in", "want name=spec");
        if (!valid_name(&name))
            return tok_fail(err, &name, "bad name", "want 1-31 of [A-Za-z0-9_.-]");
        if (space->n_dims == JG_TUNE_MAX_DIMS)
            return tok_fail(err, &name, "too many dimensions", "at most 20");
        jg_tune_dim_t *d = &space->dims[space->n_dims];
        tok_copy(d->name, &name);
        if (jg_tune_space_find(space, d->name) >= 0)
            return tok_fail(err, &name, "duplicate name", "");
        if (eq + 1 == dim.e) {
            const tok_t spec = { text, eq + 1, eq + 1 };
            return tok_fail(err, &spec, "missing spec", "want [lin:|log:|int:]lo:hi or cat:a|b");
        }
        const int rc = parse_spec(d, text, eq + 1, dim.e, err);
        if (rc) return rc;
        space->n_dims++;
        if (dim.e == n) break;
    }
    return 0;
}

int jg_tune_space_find(const jg_tune_space_t *space, const char *name)
{
    for (int i = 0; i < space->n_dims; i++)
        if (!strcmp(space->dims[i].name, name)) return i;
    return -1;
}

void jg_tune_fmt_double(char *buf, size_t len, double v)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

int jg_tune_space_format(const jg_tune_space_t *space, char *buf, size_t len)
{
    static const char *kinds[] = { "lin", "log", "int", "cat" };
    size_t used = 0;
    if (len == 0) return -ENOSPC;
    buf[0] = '\0';
    for (int i = 0; i < space->n_dims; i++) {
        const jg_tune_dim_t *d = &space->dims[i];
        char part[JG_TUNE_NAME_MAX * (JG_TUNE_MAX_CATS + 2) + 64];
        int k = snprintf(part, sizeof part, "%s%s=%s:", i ? "," : "", d->name,
                         kinds[d->kind]);
        if (d->kind == JG_TUNE_CAT) {
            for (int c = 0; c < d->n_cats; c++)
                k += snprintf(part + k, sizeof part - (size_t)k, "%s%s",
                              c ? "|" : "", d->cats[c]);
        } else {
            char lo[32], hi[32];
            jg_tune_fmt_double(lo, sizeof lo, d->lo);
            jg_tune_fmt_double(hi, sizeof hi, d->hi);
            k += snprintf(part + k, sizeof part - (size_t)k, "%s:%s", lo, hi);
        }
        if (used + (size_t)k + 1 > len) return -ENOSPC;
        memcpy(buf + used, part, (size_t)k + 1);
        used += (size_t)k;
    }
    return 0;
}

uint64_t jg_tune_space_hash(const jg_tune_space_t *space)
{
    char text[JG_TUNE_SPACE_TEXT_MAX];
    if (jg_tune_space_format(space, text, sizeof text)) return 0;
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 */
    for (const char *c = text; *c; c++) {
        h ^= (unsigned char)*c;
        h *= 0x100000001b3ull;
    }
    return h;
}

int jg_tune_point_check(const jg_tune_space_t *space, const jg_tune_point_t *p,
                        jg_tune_error_t *err)
{
    for (int i = 0; i < space->n_dims; i++) {
        const jg_tune_dim_t *d = &space->dims[i];
        const double x = p->v[i];
        if (!isfinite(x) || x < d->lo || x > d->hi)
            return jg_tune_fail(err, -EINVAL, "point: %s = %g outside [%g, %g]", d->name,
                        x, d->lo, d->hi);
        if ((d->kind == JG_TUNE_INT || d->kind == JG_TUNE_CAT) && x != floor(x))
            return jg_tune_fail(err, -EINVAL, "point: %s = %g is not an integer", d->name, x);
    }
    return 0;
}

int jg_tune_space_to_unit(const jg_tune_space_t *space, const jg_tune_point_t *p,
                          double *u, jg_tune_error_t *err)
{
    const int rc = jg_tune_point_check(space, p, err);
    if (rc) return rc;
    for (int i = 0; i < space->n_dims; i++) {
        const jg_tune_dim_t *d = &space->dims[i];
        const double x = p->v[i];
        switch (d->kind) {
        case JG_TUNE_LIN: u[i] = (x - d->lo) / (d->hi - d->lo); break;
        case JG_TUNE_LOG: u[i] = log(x / d->lo) / log(d->hi / d->lo); break;
        case JG_TUNE_INT:
        case JG_TUNE_CAT: u[i] = (x - d->lo + 0.5) / (d->hi - d->lo + 1); break;
        }
    }
    return 0;
}

int jg_tune_space_from_unit(const jg_tune_space_t *space, const double *u,
                            jg_tune_point_t *p, jg_tune_error_t *err)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < space->n_dims; i++) {
        const jg_tune_dim_t *d = &space->dims[i];
        if (isnan(u[i])) return jg_tune_fail(err, -EINVAL, "from_unit: %s is NaN", d->name);
        const double t = u[i] < 0 ? 0 : u[i] > 1 ? 1 : u[i];
        double x = 0;
        switch (d->kind) {
        case JG_TUNE_LIN: x = d->lo + t * (d->hi - d->lo); break;
        case JG_TUNE_LOG: x = d->lo * exp(t * log(d->hi / d->lo)); break;
        case JG_TUNE_INT:
        case JG_TUNE_CAT: {
            const double n = d->hi - d->lo + 1; /* cells */
            const double k = floor(t * n);
            x = d->lo + (k > n - 1 ? n - 1 : k);
            break;
        }
        }
        /* Rounding in exp/log may step just outside the bounds. */
        p->v[i] = x < d->lo ? d->lo : x > d->hi ? d->hi : x;
    }
    return 0;
}

void jg_tune_point_format(const jg_tune_space_t *space, const jg_tune_point_t *p,
                          char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0) return;
    buf[0] = '\0';
    for (int i = 0; i < space->n_dims && used < len; i++) {
        const jg_tune_dim_t *d = &space->dims[i];
        int k;
        if (d->kind == JG_TUNE_CAT) {
            const int c = (int)p->v[i];
            k = snprintf(buf + used, len - used, "%s%s=%s", i ? "," : "", d->name,
                         c >= 0 && c < d->n_cats ? d->cats[c] : "?");
        } else {
            k = snprintf(buf + used, len - used, "%s%s=%.*g", i ? "," : "",
                         d->name, d->kind == JG_TUNE_INT ? 15 : 6, p->v[i]);
        }
        if (k < 0) return;
        used += (size_t)k;
    }
}
