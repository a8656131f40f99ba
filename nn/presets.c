/* SPDX-License-Identifier: MIT */
/* Named model presets expanded to spec text (docs/model-spec.md). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

static const jg_nn_preset_t PRESETS[] = {
    { "default", "", "conv 32 3x3 pad 1, relu, maxpool 2, conv 64 3x3 pad 1, relu, "
      "maxpool 2, flatten, linear 128, relu, linear classes" },
    { "lenet5", "", "LeNet-5 (for 28x28): conv 6 5x5 pad 2, relu, maxpool 2, conv 16 "
      "5x5, relu, maxpool 2, flatten, linear 120, relu, linear 84, relu, linear classes" },
    { "paper-simplecnn", "conv=2,linear=3", "per depth d: conv C*3^(d+1) 3x3 pad 1, "
      "batchnorm, relu, maxpool 2; flatten; linear max(CHW/2^(d+1), C) + relu for "
      "d < linear-1; linear classes" },
    { "paper-simplecnn-norelu", "conv=2,linear=3", "paper-simplecnn without any relu" },
    { "paper-densepoly", "linear=3", "flatten; linear max(CHW/2^(d+1), C) + relu for "
      "d < linear-1; linear classes" },
    { "paper-denselinear", "linear=3", "flatten; linear max(CHW - (d+1)*CHW/linear, C) "
      "+ relu for d < linear-1; linear classes" },
};
#define N_PRESETS ((int)(sizeof PRESETS / sizeof PRESETS[0]))

/* Limits that keep channel and width counts inside int. */
#define MAX_CONV 12
#define MAX_LINEAR 64

const jg_nn_preset_t *jg_nn_presets(int *count)
{
    if (count) *count = N_PRESETS;
    return PRESETS;
}

typedef struct {
    char *buf;
    size_t cap, len;
    int overflow;
} sbuf_t;

static void put(sbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const size_t room = b->cap > b->len ? b->cap - b->len : 0;
    const int n = vsnprintf(b->buf + b->len, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        b->overflow = 1;
        return;
    }
    b->len += (size_t)n;
}

/* Parse "conv=2,linear=3" into the allowed keys. */
static int parse_params(const char *name, const char *p, const char *allowed, int *conv,
                        int *linear, jg_nn_error_t *err)
{
    while (*p) {
        const char *eq = strchr(p, '=');
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (!eq || eq > end) {
            jg_nn_errorf(err, "preset %s: expected key=value, got '%.*s'", name,
                         (int)(end - p), p);
            return -EINVAL;
        }
        const size_t kl = (size_t)(eq - p);
        int *dst = NULL;
        if (kl == 4 && strncmp(p, "conv", 4) == 0 && strstr(allowed, "conv=")) dst = conv;
        if (kl == 6 && strncmp(p, "linear", 6) == 0 && strstr(allowed, "linear=")) dst = linear;
        if (!dst) {
            jg_nn_errorf(err, "preset %s: unknown parameter '%.*s' (accepted: %s)", name,
                         (int)kl, p, allowed[0] ? allowed : "none");
            return -EINVAL;
        }
        char *vend;
        const char *v = eq + 1;
        const long x = isdigit((unsigned char)*v) ? strtol(v, &vend, 10) : -1;
        const long lim = dst == conv ? MAX_CONV : MAX_LINEAR;
        if (x < 1 || x > lim || (x >= 0 && vend != end)) {
            jg_nn_errorf(err, "preset %s: expected an integer in [1, %ld] for %.*s, got "
                         "'%.*s'", name, lim, (int)kl, p, (int)(end - v), v);
            return -EINVAL;
        }
        *dst = (int)x;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* Linear stack widths for the paper presets, relu between when `relu`. */
static int linear_stack(sbuf_t *b, int poly, int n_linear, int c, int h, int w,
                        int classes, int relu)
{
    const int64_t chw = (int64_t)c * h * w;
    for (int d = 0; d + 1 < n_linear; d++) {
        int64_t width;
        if (poly) {
            width = chw >> (d + 1); /* floor(CHW / 2^(d+1)) */
        } else {
            /* floor(CHW - (d+1)*CHW/n) = CHW - ceil((d+1)*CHW/n) */
            const int64_t num = (int64_t)(d + 1) * chw;
            width = chw - (num + n_linear - 1) / n_linear;
        }
        if (width < c) width = c;
        if (width > 1000000000) return -EINVAL;
        put(b, " linear(%lld)%s", (long long)width, relu ? " relu" : "");
    }
    put(b, " linear(%d)", classes);
    return 0;
}

int jg_nn_preset_expand(const char *preset, int c, int h, int w, int classes,
                        char *buf, size_t cap, jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!preset || !buf || cap == 0 || c < 1 || h < 1 || w < 1 || classes < 1) {
        jg_nn_errorf(err, "preset: invalid arguments");
        return -EINVAL;
    }
    const char *colon = strchr(preset, ':');
    const size_t nl = colon ? (size_t)(colon - preset) : strlen(preset);
    const jg_nn_preset_t *p = NULL;
    for (int i = 0; i < N_PRESETS; i++)
        if (strlen(PRESETS[i].name) == nl && strncmp(PRESETS[i].name, preset, nl) == 0)
            p = &PRESETS[i];
    if (!p) {
        char names[200] = "";
        for (int i = 0; i < N_PRESETS; i++) {
            strncat(names, i ? ", " : "", sizeof names - strlen(names) - 1);
            strncat(names, PRESETS[i].name, sizeof names - strlen(names) - 1);
        }
        jg_nn_errorf(err, "unknown preset '%.*s' (expected one of %s)", (int)nl, preset,
                     names);
        return -ENOENT;
    }
    int n_conv = 2, n_linear = 3;
    if (colon) {
        const int rc = parse_params(p->name, colon + 1, p->params, &n_conv, &n_linear, err);
        if (rc) return rc;
    }
    sbuf_t b = { buf, cap, 0, 0 };
    buf[0] = '\0';
    const int simple = strncmp(p->name, "paper-simplecnn", 15) == 0;
    if (strcmp(p->name, "default") == 0) {
        put(&b, "conv(32,3,pad=1) relu maxpool(2) conv(64,3,pad=1) relu maxpool(2) "
                "flatten linear(128) relu linear(%d)", classes);
    } else if (strcmp(p->name, "lenet5") == 0) {
        put(&b, "conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) flatten "
                "linear(120) relu linear(84) relu linear(%d)", classes);
    } else if (simple) {
        const int relu = strcmp(p->name, "paper-simplecnn") == 0;
        int hh = h, ww = w;
        int64_t filters = c;
        for (int d = 0; d < n_conv; d++) {
            filters *= 3;
            if (hh < 2 || ww < 2) {
                jg_nn_errorf(err, "preset %s: conv=%d makes the feature map vanish for "
                             "%dx%d input (at most conv=%d)", p->name, n_conv, h, w, d);
                return -EINVAL;
            }
            hh /= 2;
            ww /= 2;
            if (filters > 1000000) {
                jg_nn_errorf(err, "preset %s: conv=%d gives too many filters", p->name,
                             n_conv);
                return -EINVAL;
            }
            put(&b, "%sconv(%lld,3,pad=1) batchnorm%s maxpool(2)", d ? " " : "",
                (long long)filters, relu ? " relu" : "");
        }
        put(&b, " flatten");
        if (linear_stack(&b, 1, n_linear, c, h, w, classes, relu)) return -EINVAL;
    } else {
        const int poly = strcmp(p->name, "paper-densepoly") == 0;
        put(&b, "flatten");
        if (linear_stack(&b, poly, n_linear, c, h, w, classes, 1)) return -EINVAL;
    }
    if (b.overflow) {
        jg_nn_errorf(err, "preset %s: spec text longer than %zu bytes", p->name, cap);
        return -ENOSPC;
    }
    return 0;
}
