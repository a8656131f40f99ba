/* SPDX-License-Identifier: MIT */
/*
 * jg_common.h - the few helpers every library of joulegrad shares: crash-safe
 * file writes, bounded file reads, growing text buffers, gnuplot figures, the
 * shortest exact text of a float, a monotonic clock and splitmix64. It
 * depends on libc only; kernels/ does not use it.
 *
 * Contract: functions that can fail return 0 or a negative errno and never
 * print or exit.
 */
#ifndef JG_COMMON_H
#define JG_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- files ---------------------------------------------------------------- */

/* mkdir -p path (mode 0755). 0, -ENOTDIR when path exists and is not a
 * directory, or another negative errno. */
int jg_mkdir_p(const char *path);

/* Replaces path with data[0..len) atomically: a temporary file in the same
 * directory, fsync, rename, fsync of the directory, so a crash at any moment
 * leaves the old file or the new one. 0 or a negative errno. */
int jg_write_atomic(const char *path, const void *data, size_t len);

/* The whole regular file at path into a malloc'd buffer (*buf, *len) with a
 * NUL after its last byte (so *buf is not NULL for an empty file). What is
 * not a regular file is refused without blocking and without reading: the
 * open is O_NONBLOCK (a FIFO would wait for a writer), then fstat, S_ISREG,
 * and O_NONBLOCK is cleared. Returns 0, or -EISDIR, -EINVAL (a FIFO, a
 * device such as /dev/zero, a socket), -EFBIG (longer than cap bytes,
 * checked before reading; *len holds the size), -ENOMEM, -EIO (a read error,
 * or the size changed while reading), or open's errno (-ENOENT, -EACCES). */
int jg_read_regular(const char *path, size_t cap, unsigned char **buf, size_t *len);
/* Why jg_read_regular failed with rc, one phrase for a message such as
 * "not a regular file (a FIFO, device or socket)" or "cannot open: No such
 * file or directory" (written into buf[cap] when it needs the errno text). */
const char *jg_read_regular_why(int rc, char *buf, size_t cap);

/* jg_read_regular as a string: NULL on any failure. */
char *jg_read_file(const char *path, size_t cap, size_t *len);

/* ---- class names ---------------------------------------------------------- */

/* Longest class name in bytes (a file name on Linux; a line of CIFAR's
 * batches.meta.txt). */
#define JG_CLASS_NAME_MAX 255

/* 0 when name[0..len) may name a class: 1..JG_CLASS_NAME_MAX bytes of valid
 * UTF-8 (RFC 3629: no overlong forms, surrogates or code points above
 * U+10FFFF) without control characters (U+0000-001F, U+007F-009F), so it
 * is safe in JSON, CSV and one-line messages. Otherwise -EINVAL with
 * why[cap] saying what is wrong, the name quoted with jg_text_escape. */
int jg_class_name_check(const char *name, size_t len, char *why, size_t cap);
/* 0 when each of names[0..n) passes jg_class_name_check and no two are
 * equal; -EINVAL with why[cap] naming the first bad class ("class 3: 'caf\xff'
 * is not valid UTF-8 ...") or duplicate pair ("classes 0 and 4 are both
 * named 'cat'"); -ENOMEM. */
int jg_class_names_check(const char *const *names, int n, char *why, size_t cap);
/* s[0..len) for a message into buf[cap]: valid UTF-8 as is, a backslash as
 * \\, a control character or an invalid byte as \xNN; what does not fit
 * ends in "...". Returns buf (always NUL-terminated when cap > 0). */
char *jg_text_escape(const char *s, size_t len, char *buf, size_t cap);
/* Replaces, in place, every byte of s that is not part of a valid UTF-8
 * sequence with '?', so text built from user input (paths, specs) is valid
 * UTF-8, as JSON requires. Returns the number of bytes replaced. */
size_t jg_utf8_scrub(char *s);

/* ---- text buffers and gnuplot --------------------------------------------- */

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

/* A figure is a data file plus a .gp script that reads it from a directory
 * (absolute, overridable with gnuplot -e "dir='OTHER'") and writes NAME.png
 * and NAME.svg; the data and scripts are always written, the images only
 * when gnuplot is on PATH. */

/* Script head for figure `name` in absdir: a comment saying what it shows
 * and how to re-run it, the dir variable and the PNG terminal. */
void jg_gp_head(jg_sbuf_t *b, const char *absdir, const char *what, const char *name);
/* Script tail: the same plot again as name.svg. */
void jg_gp_tail(jg_sbuf_t *b, const char *name);
/* Runs gnuplot on absdir/NAME.gp for each of the n names. msg gets one line
 * for people (what was made, or why not). 0 when every image was made, 1
 * when gnuplot is missing or failed (data and scripts stay), -EINVAL. */
int jg_gp_run(const char *absdir, const char *const *names, int n, char *msg, size_t cap);

/* ---- log lines ------------------------------------------------------------ */

/* Libraries hand lines meant for people to their caller instead of printing
 * them: JG_LOG_OUT for progress and results (the program's stdout, a
 * sub-run's log file), JG_LOG_NOTE for notes and warnings (stderr). A line
 * has no trailing newline. fn NULL (or a NULL jg_log_t) drops the line. */
enum { JG_LOG_OUT = 1, JG_LOG_NOTE = 2 };
typedef struct {
    void (*fn)(void *ctx, int stream, const char *line);
    void *ctx;
} jg_log_t;

/* Formats one line (at most 8 KiB, longer is cut) and hands it to log. */
void jg_logf(const jg_log_t *log, int stream, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- numbers, time, random ------------------------------------------------ */

/* The shortest decimal text that reads back as exactly v ("0.001", not
 * "0.00100000005"); buf holds at least 32 bytes. Returns buf. */
char *jg_float_text(float v, char *buf, size_t cap);
/* v widened through that text, for JSON numbers that read like the flag. */
double jg_float_double(float v);

/* CLOCK_MONOTONIC, seconds. */
double jg_now_s(void);

/* splitmix64 (Steele, Lea, Flood 2014): advances *state by the golden-ratio
 * increment and returns a well-mixed 64-bit value. Every seeded stream of
 * joulegrad (initialisation, dropout, shuffling, subsets, strategies) starts
 * from it. */
uint64_t jg_splitmix64(uint64_t *state);

/* ---- one process per output directory ------------------------------------ */

#define JG_DIR_LOCK_NAME ".joulegrad.lock"
/* Takes an exclusive lock on DIR/.joulegrad.lock (created; dir must exist)
 * without waiting and keeps it in *fd until jg_dir_unlock or the process
 * ends (kill -9 included: the kernel drops it). 0, -EBUSY when another
 * process holds it, or a negative errno. */
int jg_dir_lock(const char *dir, int *fd);
/* The pid the lock file names (the holder, when it is held), or 0. */
long jg_dir_lock_holder(const char *dir);
/* Releases a lock taken by jg_dir_lock; fd < 0 is a no-op. */
void jg_dir_unlock(int fd);

#ifdef __cplusplus
}
#endif

#endif /* JG_COMMON_H */
