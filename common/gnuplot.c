/* SPDX-License-Identifier: MIT */
/* gnuplot.c - gnuplot figure scripts and running gnuplot without a shell. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jg_common.h"

extern char **environ;

/* Absolute path of an executable name on PATH into buf; 0 or -ENOENT. */
static int find_on_path(const char *name, char *buf, size_t cap)
{
    const char *p = getenv("PATH");
    while (p && *p) {
        const char *colon = strchr(p, ':');
        const size_t n = colon ? (size_t)(colon - p) : strlen(p);
        if (n > 0 && snprintf(buf, cap, "%.*s/%s", (int)n, p, name) < (int)cap &&
            access(buf, X_OK) == 0)
            return 0;
        p = colon ? colon + 1 : NULL;
    }
    return -ENOENT;
}

/* Runs `gnuplot script` with no shell, stdin/stdout/stderr on /dev/null.
 * Returns its exit status (0 ok), or a negative errno when it did not run. */
static int run_gnuplot(const char *gnuplot, const char *script)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa)) return -ENOMEM;
    for (int fd = 0; fd <= 2; fd++)
        posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd ? O_WRONLY : O_RDONLY, 0);
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = -posix_spawn(&pid, gnuplot, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) return rc;
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -errno;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void jg_gp_head(jg_sbuf_t *b, const char *absdir, const char *what, const char *name)
{
    jg_sb_printf(b, "# joulegrad: %s. Re-run: gnuplot %s/%s.gp\n"
                    "# (gnuplot -e \"dir='OTHER'\" %s.gp reads and writes OTHER instead)\n"
                    "if (!exists(\"dir\")) dir = '", what, absdir, name, name);
    for (const char *c = absdir; *c; c++) // a single-quoted gnuplot string: '' is a quote
        jg_sb_printf(b, *c == '\'' ? "''" : "%c", *c);
    jg_sb_printf(b, "'\n"
                    "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                    "    set terminal pngcairo size 960,540 noenhanced\n"
                    "} else {\n"
                    "    set terminal png size 960,540 noenhanced\n"
                    "}\n"
                    "set output dir.'/%s.png'\n", name);
}

void jg_gp_tail(jg_sbuf_t *b, const char *name)
{
    jg_sb_printf(b, "set terminal svg size 960,540 noenhanced\n"
                    "set output dir.'/%s.svg'\n"
                    "replot\n"
                    "unset output\n", name);
}

int jg_gp_run(const char *absdir, const char *const *names, int n, char *msg, size_t cap)
{
    if (!absdir || !names || n < 1 || !msg || !cap) return -EINVAL;
    char gnuplot[PATH_MAX];
    if (find_on_path("gnuplot", gnuplot, sizeof gnuplot)) {
        snprintf(msg, cap, "figures: gnuplot not found (apt-get install gnuplot-nox); data "
                           "and scripts are in %s", absdir);
        return 1;
    }
    for (int k = 0; k < n; k++) {
        char script[PATH_MAX + 64];
        snprintf(script, sizeof script, "%s/%s.gp", absdir, names[k]);
        const int st = run_gnuplot(gnuplot, script);
        if (st) {
            snprintf(msg, cap, "figures: gnuplot failed on %s (%s %d); run it by hand to see "
                               "why; data and scripts are in %s", script,
                     st < 0 ? "error" : "exit status", st < 0 ? -st : st, absdir);
            return 1;
        }
    }
    snprintf(msg, cap, "figures: %s/%s.png%s (.svg beside; re-run with gnuplot %s/%s.gp)",
             absdir, names[0], n > 1 ? " and more" : "", absdir, names[0]);
    return 0;
}
