/* SPDX-License-Identifier: MIT */
#include "cli_run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

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

int jg_cli_sh(char *out, const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof cmd);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    const size_t len = fread(out, 1, JG_CLI_OUT_MAX - 1, p);
    out[len] = '\0';
    const int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int jg_cli_runf(int merge_stderr, char *out, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof args);
    return jg_cli_run(NULL, args, merge_stderr, out);
}

int jg_cli_count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static char scratch_root[256];

static void scratch_cleanup(void)
{
    if (scratch_root[0]) jg_test_rm_rf(scratch_root);
}

const char *jg_cli_path(const char *rel)
{
    static char ring[8][512];
    static int next;
    if (!scratch_root[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch_root, sizeof scratch_root, "%s/jg_cli_XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch_root)) fail_msg("mkdtemp: %s", strerror(errno));
        atexit(scratch_cleanup);
    }
    char *p = ring[next++ % 8];
    snprintf(p, 512, "%s/%s", scratch_root, rel);
    return p;
}

char *jg_cli_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = jg_test_alloc_bytes((size_t)n + 1);
    if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) fail_msg("short read %s", path);
    p[n] = '\0';
    fclose(f);
    return p;
}

const cJSON *jg_cli_json_get(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) fail_msg("no \"%s\"", key);
    return v;
}

double jg_cli_json_num(const cJSON *o, const char *key)
{
    const cJSON *v = jg_cli_json_get(o, key);
    if (!cJSON_IsNumber(v)) fail_msg("\"%s\" is not a number", key);
    return v->valuedouble;
}

const char *jg_cli_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = jg_cli_json_get(o, key);
    if (!cJSON_IsString(v)) fail_msg("\"%s\" is not a string", key);
    return v->valuestring;
}

pid_t jg_cli_spawnf(const char *fmt, ...)
{
    char args[1024], cmd[1200];
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof args);
    snprintf(cmd, sizeof cmd, "exec '%s' %s >/dev/null 2>&1", JG_CLI_PATH, args);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void jg_cli_wait_file(pid_t pid, const char *path, double timeout_s)
{
    const double t0 = mono_s();
    const struct timespec nap = {0, 200000};
    int status;
    while (access(path, F_OK) != 0) {
        if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("the run ended before %s", path);
        if (mono_s() - t0 > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("no %s after %g s", path, timeout_s);
        }
        nanosleep(&nap, NULL);
    }
}

void jg_cli_kill9(pid_t pid)
{
    int status;
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

cJSON *jg_cli_read_json(const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s%s%s", dir, file ? "/" : "", file ? file : "");
    char *text = jg_cli_read_text(path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s is not JSON", path);
    return j;
}
