/* SPDX-License-Identifier: MIT */
/* report.c - report.md and the self-contained report.html (report.h). */
#include "report.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_common.h"

void jg_report_base64(jg_sbuf_t *out, const unsigned char *in, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[5] = "";
    for (size_t i = 0; i < n; i += 3) {
        const unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                           (i + 2 < n ? in[i + 2] : 0);
        q[0] = a[v >> 18 & 63];
        q[1] = a[v >> 12 & 63];
        q[2] = i + 1 < n ? a[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? a[v & 63] : '=';
        jg_sb_printf(out, "%s", q);
    }
}

/* text with `code` and **bold** as HTML, everything else escaped. */
static void html_inline(jg_sbuf_t *b, const char *s)
{
    int code = 0, bold = 0;
    for (; *s; s++) {
        if (*s == '`') {
            jg_sb_printf(b, code ? "</code>" : "<code>");
            code = !code;
        } else if (!code && s[0] == '*' && s[1] == '*') {
            jg_sb_printf(b, bold ? "</strong>" : "<strong>");
            bold = !bold;
            s++;
        } else if (*s == '&') {
            jg_sb_printf(b, "&amp;");
        } else if (*s == '<') {
            jg_sb_printf(b, "&lt;");
        } else if (*s == '>') {
            jg_sb_printf(b, "&gt;");
        } else if (*s == '"') {
            jg_sb_printf(b, "&quot;");
        } else {
            jg_sb_printf(b, "%c", *s);
        }
    }
    if (code) jg_sb_printf(b, "</code>");
    if (bold) jg_sb_printf(b, "</strong>");
}

/* Closes an open list or table before another block. */
static void end_blocks(jg_report_t *r)
{
    if (r->in_list) {
        jg_sb_printf(&r->md, "\n");
        jg_sb_printf(&r->html, "</ul>\n");
        r->in_list = 0;
    }
    if (r->in_table) jg_report_table_end(r);
}

/* The formatted text (malloc'd), or NULL with r->md.err = -ENOMEM. */
static char *vformat(jg_report_t *r, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    const int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap);
    else r->md.err = -ENOMEM;
    return p;
}

void jg_report_begin(jg_report_t *r, const char *dir, const char *title)
{
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    if (!title) return;
    jg_sb_printf(&r->md, "# %s\n\n", title);
    jg_sb_printf(&r->html,
                 "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<title>");
    html_inline(&r->html, title);
    jg_sb_printf(&r->html,
                 "</title>\n<style>\n"
                 "body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;"
                 "line-height:1.45}\n"
                 "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}\n"
                 "th,td{border:1px solid #bbb;padding:0.25em 0.6em;text-align:right}\n"
                 "th{background:#eee}td:first-child,th:first-child{text-align:left}\n"
                 "code{background:#f3f3f3;padding:0 0.2em}\n"
                 "figure{margin:1.5em 0}img{max-width:100%%}figcaption{font-size:0.9em}\n"
                 "</style>\n</head>\n<body>\n<h1>");
    html_inline(&r->html, title);
    jg_sb_printf(&r->html, "</h1>\n");
}

void jg_report_h(jg_report_t *r, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(r, fmt, ap);
    va_end(ap);
    if (!t) return;
    if (level < 2) level = 2;
    if (level > 4) level = 4;
    end_blocks(r);
    jg_sb_printf(&r->md, "%.*s %s\n\n", level, "####", t);
    jg_sb_printf(&r->html, "<h%d>", level);
    html_inline(&r->html, t);
    jg_sb_printf(&r->html, "</h%d>\n", level);
    free(t);
}

void jg_report_p(jg_report_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(r, fmt, ap);
    va_end(ap);
    if (!t) return;
    end_blocks(r);
    jg_sb_printf(&r->md, "%s\n\n", t);
    jg_sb_printf(&r->html, "<p>");
    html_inline(&r->html, t);
    jg_sb_printf(&r->html, "</p>\n");
    free(t);
}

void jg_report_li(jg_report_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(r, fmt, ap);
    va_end(ap);
    if (!t) return;
    if (r->in_table) jg_report_table_end(r);
    if (!r->in_list) jg_sb_printf(&r->html, "<ul>\n");
    r->in_list = 1;
    jg_sb_printf(&r->md, "- %s\n", t);
    jg_sb_printf(&r->html, "<li>");
    html_inline(&r->html, t);
    jg_sb_printf(&r->html, "</li>\n");
    free(t);
}

void jg_report_table_begin(jg_report_t *r)
{
    end_blocks(r);
    r->in_table = 1;
    r->table_rows = 0;
    jg_sb_printf(&r->html, "<table>\n");
}

void jg_report_row(jg_report_t *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = vformat(r, fmt, ap);
    va_end(ap);
    if (!t) return;
    const char *cell = r->table_rows ? "td" : "th";
    int cols = 0;
    jg_sb_printf(&r->md, "|");
    jg_sb_printf(&r->html, "<tr>");
    for (char *c = t, *tab; c; c = tab ? tab + 1 : NULL, cols++) {
        tab = strchr(c, '\t');
        if (tab) *tab = '\0';
        jg_sb_printf(&r->md, " %s |", c);
        jg_sb_printf(&r->html, "<%s>", cell);
        html_inline(&r->html, c);
        jg_sb_printf(&r->html, "</%s>", cell);
    }
    jg_sb_printf(&r->md, "\n");
    jg_sb_printf(&r->html, "</tr>\n");
    if (!r->table_rows++) { // the Markdown header rule
        jg_sb_printf(&r->md, "|");
        for (int i = 0; i < cols; i++) jg_sb_printf(&r->md, "---|");
        jg_sb_printf(&r->md, "\n");
    }
    free(t);
}

void jg_report_table_end(jg_report_t *r)
{
    if (!r->in_table) return;
    r->in_table = 0;
    jg_sb_printf(&r->md, "\n");
    jg_sb_printf(&r->html, "</table>\n");
}

void jg_report_figure(jg_report_t *r, const char *name, const char *caption)
{
    end_blocks(r);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.png", r->dir, name);
    size_t n = 0;
    unsigned char *png = (unsigned char *)jg_read_file(path, JG_REPORT_MAX_IMAGE, &n);
    if (png)
        jg_sb_printf(&r->md, "![%s](%s.png)\n\n", name, name);
    else
        jg_sb_printf(&r->md, "(%s.png was not drawn: gnuplot is missing or failed; run "
                             "`gnuplot %s.gp`)\n\n", name, name);
    jg_sb_printf(&r->md, "*Figure %s.* %s (vector: `%s.svg`; data: `%s.dat`; script: "
                         "`%s.gp`)\n\n", name, caption, name, name, name);
    jg_sb_printf(&r->html, "<figure>\n");
    if (png) {
        jg_sb_printf(&r->html, "<img alt=\"%s\" src=\"data:image/png;base64,", name);
        jg_report_base64(&r->html, png, n);
        jg_sb_printf(&r->html, "\">\n");
    } else {
        jg_sb_printf(&r->html, "<p>(%s.png was not drawn: gnuplot is missing or failed)</p>\n",
                     name);
    }
    jg_sb_printf(&r->html, "<figcaption><strong>Figure %s.</strong> ", name);
    html_inline(&r->html, caption);
    jg_sb_printf(&r->html, " (files: <code>%s.svg</code>, <code>%s.dat</code>, "
                           "<code>%s.gp</code>)</figcaption>\n</figure>\n", name, name, name);
    free(png);
}

void jg_report_append(jg_report_t *r, jg_report_t *part)
{
    end_blocks(r);
    end_blocks(part);
    for (int k = 0; k < 2; k++) {
        jg_sbuf_t *to = k ? &r->html : &r->md, *from = k ? &part->html : &part->md;
        if (from->err && !to->err) to->err = from->err;
        if (from->p) jg_sb_printf(to, "%s", from->p);
        free(from->p);
        memset(from, 0, sizeof *from);
    }
}

int jg_report_write(jg_report_t *r)
{
    end_blocks(r);
    jg_sb_printf(&r->html, "</body>\n</html>\n");
    const int err = r->md.err ? r->md.err : r->html.err;
    int rc = jg_sb_write(r->dir, "report.md", &r->md);
    const int rc2 = jg_sb_write(r->dir, "report.html", &r->html);
    if (!rc) rc = rc2;
    return err ? err : rc;
}
