/* SPDX-License-Identifier: MIT */
/* names.c - what may name a class: UTF-8 validation (RFC 3629), no control
 * characters, distinct names, and escaping of bad bytes for messages. Class
 * names come from folder names, CIFAR's batches.meta.txt and checkpoints,
 * and end up in JSON keys, CSV rows and one-line messages. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_common.h"

/* Length of the UTF-8 sequence at s[0..n) and its code point in *cp, or 0
 * when it is not valid (truncated, a stray continuation byte, an overlong
 * form, a surrogate or above U+10FFFF). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    const unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    uint32_t v, lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) len = 2, v = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef) len = 3, v = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4) len = 4, v = c & 0x07;
    else return 0;
    if (c == 0xe0) lo = 0xa0;      /* overlong */
    else if (c == 0xed) hi = 0x9f; /* surrogates */
    else if (c == 0xf0) lo = 0x90; /* overlong */
    else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    *cp = v;
    return len;
}

/* C0 controls, DEL and C1 controls (terminals act on some of them). */
static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* The escaped form of the character at s[0..n): *out bytes into piece[8];
 * returns how many input bytes it stands for. */
static size_t escape_one(const unsigned char *s, size_t n, char piece[8], size_t *out)
{
    uint32_t cp = 0;
    const size_t in = utf8_next(s, n, &cp);
    if (in && cp == '\\') {
        memcpy(piece, "\\\\", 2);
        *out = 2;
        return 1;
    }
    if (in && !is_control(cp)) {
        memcpy(piece, s, in);
        *out = in;
        return in;
    }
    snprintf(piece, 8, "\\x%02x", s[0]);
    *out = 4;
    return 1;
}

char *jg_text_escape(const char *s, size_t len, char *buf, size_t cap)
{
    if (!cap) return buf;
    const unsigned char *u = (const unsigned char *)s;
    char piece[8];
    size_t total = 0, out;
    for (size_t i = 0; i < len; total += out) i += escape_one(u + i, len - i, piece, &out);
    /* when it does not all fit, stop where "..." still fits after it */
    const size_t room = total < cap ? cap - 1 : (cap >= 4 ? cap - 4 : cap - 1);
    size_t at = 0;
    for (size_t i = 0; i < len;) {
        const size_t in = escape_one(u + i, len - i, piece, &out);
        if (at + out > room) break;
        memcpy(buf + at, piece, out);
        at += out;
        i += in;
    }
    if (total >= cap && cap >= 4) {
        memcpy(buf + at, "...", 3);
        at += 3;
    }
    buf[at] = '\0';
    return buf;
}

int jg_class_name_check(const char *name, size_t len, char *why, size_t cap)
{
    const unsigned char *u = (const unsigned char *)name;
    char shown[96];
    jg_text_escape(name, len, shown, sizeof shown);
    if (len == 0) {
        snprintf(why, cap, "an empty name");
        return -EINVAL;
    }
    if (len > JG_CLASS_NAME_MAX) {
        snprintf(why, cap, "'%s' is %zu bytes long, more than %d", shown, len,
                 JG_CLASS_NAME_MAX);
        return -EINVAL;
    }
    for (size_t i = 0; i < len;) {
        uint32_t cp = 0;
        const size_t k = utf8_next(u + i, len - i, &cp);
        if (!k) {
            snprintf(why, cap, "'%s' is not valid UTF-8 (byte 0x%02x at offset %zu)", shown,
                     u[i], i);
            return -EINVAL;
        }
        if (is_control(cp)) {
            snprintf(why, cap, "'%s' contains the control character U+%04X (offset %zu)",
                     shown, (unsigned)cp, i);
            return -EINVAL;
        }
        i += k;
    }
    return 0;
}

typedef struct {
    const char *s;
    int i;
} name_ref_t;

/* By name, then by index, so equal names sit together in index order. */
static int cmp_ref(const void *a, const void *b)
{
    const name_ref_t *x = a, *y = b;
    const int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int jg_class_names_check(const char *const *names, int n, char *why, size_t cap)
{
    if (!names || n < 0) return -EINVAL;
    char one[160];
    for (int i = 0; i < n; i++) {
        if (!names[i]) {
            snprintf(why, cap, "class %d has no name", i);
            return -EINVAL;
        }
        if (jg_class_name_check(names[i], strlen(names[i]), one, sizeof one)) {
            snprintf(why, cap, "class %d: %s", i, one);
            return -EINVAL;
        }
    }
    if (n < 2) return 0;
    name_ref_t *r = malloc((size_t)n * sizeof *r);
    if (!r) return -ENOMEM;
    for (int i = 0; i < n; i++) r[i] = (name_ref_t){names[i], i};
    qsort(r, (size_t)n, sizeof *r, cmp_ref);
    int rc = 0;
    for (int k = 0; k + 1 < n && !rc; k++)
        if (!strcmp(r[k].s, r[k + 1].s)) {
            snprintf(why, cap, "classes %d and %d are both named '%s'", r[k].i, r[k + 1].i,
                     jg_text_escape(r[k].s, strlen(r[k].s), one, 96));
            rc = -EINVAL;
        }
    free(r);
    return rc;
}

size_t jg_utf8_scrub(char *s)
{
    size_t fixed = 0;
    if (!s) return 0;
    unsigned char *p = (unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        uint32_t cp;
        const size_t k = utf8_next(p, n, &cp);
        if (k) {
            p += k;
            n -= k;
        } else {
            *p++ = '?';
            n--;
            fixed++;
        }
    }
    return fixed;
}
