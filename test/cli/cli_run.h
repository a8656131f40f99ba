/* SPDX-License-Identifier: MIT */
/* cli_run.h - runs the joulegrad program (JG_CLI_PATH) from a CLI test. */
#ifndef JG_TEST_CLI_RUN_H
#define JG_TEST_CLI_RUN_H

#define JG_CLI_OUT_MAX 65536

/* Runs `env joulegrad args` through the shell and returns its exit status
 * (the test fails if it did not exit normally). out (JG_CLI_OUT_MAX bytes)
 * receives stdout, plus stderr when merge_stderr. env may be NULL. */
int jg_cli_run(const char *env, const char *args, int merge_stderr, char *out);

/* jg_cli_run without env, the arguments formatted printf-style (at most 1023
 * characters; the test fails on longer). */
int jg_cli_runf(int merge_stderr, char *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs the shell command (printf-style, at most 2047 characters) and
 * returns its exit status, 128 when it did not exit normally; out
 * (JG_CLI_OUT_MAX bytes) receives its stdout. */
int jg_cli_sh(char *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts `joulegrad args` (printf-style) in the background, its output
 * discarded; returns its pid. */
#include <sys/types.h>
pid_t jg_cli_spawnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Waits until path exists (polling every 0.2 ms); the test fails when pid
 * ends first or after timeout_s (pid is killed then). */
void jg_cli_wait_file(pid_t pid, const char *path, double timeout_s);
/* kill -9 pid and reap it; the test fails unless SIGKILL ended it. */
void jg_cli_kill9(pid_t pid);

/* Newlines in s. */
int jg_cli_count_lines(const char *s);

/* tmpdir/rel, where tmpdir is one mkdtemp directory per test program
 * ($TMPDIR or /tmp, prefix jg_cli_), removed at exit. The result lives in
 * one of 8 rotating buffers. */
const char *jg_cli_path(const char *rel);

/* The whole file, NUL-terminated (free it); the test fails if unreadable. */
char *jg_cli_read_text(const char *path);

/* DIR/FILE (or DIR alone when file is NULL) parsed (cJSON_Delete it); the
 * test fails when it is unreadable or not JSON. */
struct cJSON *jg_cli_read_json(const char *dir, const char *file);

/* Members of a cJSON object; the test fails when the key is missing or of
 * another type. */
struct cJSON;
const struct cJSON *jg_cli_json_get(const struct cJSON *o, const char *key);
double jg_cli_json_num(const struct cJSON *o, const char *key);
const char *jg_cli_json_str(const struct cJSON *o, const char *key);

#endif
