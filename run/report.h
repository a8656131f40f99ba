/* SPDX-License-Identifier: MIT */
/*
 * report.h - one document written twice: DIR/report.md (Markdown) and
 * DIR/report.html (one self-contained page: the PNG figures are embedded as
 * base64 data: URIs, so the page can be mailed or opened offline). Used by
 * the reproduction (repro*.c). Internal to jg_run.
 *
 * Text passed to the functions below is plain text with two inline marks,
 * `code` and **bold**, rendered in both outputs; everything else is escaped
 * for HTML. Table cells are separated by tabs and must not contain '|'.
 * Appends never fail on their own: an allocation failure is kept in the
 * buffers and returned by jg_report_write().
 */
#ifndef JG_CLI_REPORT_H
#define JG_CLI_REPORT_H

#include <stddef.h>

#include "jg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest PNG embedded in the HTML page (bytes); a larger one is linked. */
#define JG_REPORT_MAX_IMAGE (32 << 20)

typedef struct {
    jg_sbuf_t md, html;
    char dir[4096]; /* the report's directory: figures are read from it */
    int in_list, in_table, table_rows;
} jg_report_t;

/* Starts a document titled title in dir (zero-initialise r first); a NULL
 * title starts a part for jg_report_append(). */
void jg_report_begin(jg_report_t *r, const char *dir, const char *title);
/* Heading of level 2..4. */
void jg_report_h(jg_report_t *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A paragraph. */
void jg_report_p(jg_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bullet item; consecutive items form one list. */
void jg_report_li(jg_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A table: the first row after begin is the header; cells separated by '\t'. */
void jg_report_table_begin(jg_report_t *r);
void jg_report_row(jg_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jg_report_table_end(jg_report_t *r);
/* Figure dir/name.png (with name.svg, name.dat and name.gp beside it): the
 * Markdown links the files, the HTML embeds the PNG as base64. A missing
 * PNG (no gnuplot) is said in both. */
void jg_report_figure(jg_report_t *r, const char *name, const char *caption);
/* Appends part (begun with jg_report_begin(part, dir, NULL)) to r and frees
 * part's buffers: a section can be composed before the text that precedes it. */
void jg_report_append(jg_report_t *r, jg_report_t *part);
/* Writes dir/report.md and dir/report.html atomically and frees the
 * buffers (also on error). 0 or a negative errno. */
int jg_report_write(jg_report_t *r);

/* Appends the base64 (RFC 4648, padded, no line breaks) of in[0..n-1]. */
void jg_report_base64(jg_sbuf_t *out, const unsigned char *in, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_REPORT_H */
