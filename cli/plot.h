/* SPDX-License-Identifier: MIT */
/*
 * plot.h - text buffers and gnuplot figures for the CLI's output files.
 * A figure is a data file plus a .gp script that reads it from a directory
 * (absolute, overridable with gnuplot -e "dir='OTHER'") and writes NAME.png
 * and NAME.svg; the data and scripts are always written, the images only
 * when gnuplot is on PATH.
 */
#ifndef JG_CLI_PLOT_H
#define JG_CLI_PLOT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A growing text buffer: zero-initialise, append, then write or free(p).
 * err holds the first failure (-ENOMEM/-EIO); appends after it do nothing. */
typedef struct {
    char *p;
    size_t len, cap;
    int err;
} jg_sbuf_t;

void jg_sb_printf(jg_sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes b to dir/name atomically and frees it. 0 or a negative errno (also
 * b->err). */
int jg_sb_write(const char *dir, const char *name, jg_sbuf_t *b);

/* Script head for figure `name` in absdir: a comment saying what it shows
 * and how to re-run it, the dir variable and the PNG terminal. */
void jg_gp_head(jg_sbuf_t *b, const char *absdir, const char *what, const char *name);
/* Script tail: the same plot again as name.svg. */
void jg_gp_tail(jg_sbuf_t *b, const char *name);
/* Runs gnuplot on absdir/NAME.gp for each of the n names. msg gets one line
 * for people (what was made, or why not). 0 when every image was made, 1
 * when gnuplot is missing or failed (data and scripts stay), -EINVAL. */
int jg_gp_run(const char *absdir, const char *const *names, int n, char *msg, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_PLOT_H */
