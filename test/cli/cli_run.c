/* SPDX-License-Identifier: MIT */
#include "cli_run.h"

#include <stdio.h>
#include <sys/wait.h>

#include "harness.h"

int jg_cli_run(const char *env, const char *args, int merge_stderr, char *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s '%s' %s %s", env ? env : "", JG_CLI_PATH, args,
             merge_stderr ? "2>&1" : "2>/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    const size_t len = fread(out, 1, JG_CLI_OUT_MAX - 1, p);
    out[len] = '\0';
    const int status = pclose(p);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int jg_cli_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}
