/* SPDX-License-Identifier: MIT */
/* cli_run.h - runs the joulegrad program (JG_CLI_PATH) from a CLI test. */
#ifndef JG_TEST_CLI_RUN_H
#define JG_TEST_CLI_RUN_H

#define JG_CLI_OUT_MAX 65536

/* Runs `env joulegrad args` through the shell and returns its exit status
 * (the test fails if it did not exit normally). out (JG_CLI_OUT_MAX bytes)
 * receives stdout, plus stderr when merge_stderr. env may be NULL. */
int jg_cli_run(const char *env, const char *args, int merge_stderr, char *out);

/* Newlines in s. */
int jg_cli_count_lines(const char *s);

#endif
