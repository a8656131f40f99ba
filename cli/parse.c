/* SPDX-License-Identifier: MIT */
/* parse.c - flag value parsers and the one-line usage errors shared by every
 * command (cli_util.h). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "jg_run.h"
#include "jg_kernels.h"

int jg_cli_parse_int(const char *s, long lo, long hi, long *v)
{
    char *end = NULL;
    errno = 0;
    const long x = strtol(s, &end, 10);
    if (errno == ERANGE) return -ERANGE;
    if (errno || end == s || *end) return -EINVAL;
    if (x < lo || x > hi) return -ERANGE;
    *v = x;
    return 0;
}

int jg_cli_flag_int(const char *prog, const char *flag, const char *text, long lo, long hi,
                    int *v)
{
    long x;
    if (jg_cli_parse_int(text, lo, hi, &x)) {
        fprintf(stderr, "%s: %s must be an integer in [%ld, %ld], got '%s'\n", prog, flag, lo,
                hi, text);
        return 2;
    }
    *v = (int)x;
    return 0;
}

int jg_cli_exit_code(int rc)
{
    return rc == 0 ? 0 : rc == -EINVAL ? 2 : rc == -ECANCELED ? 130 : 1;
}

int jg_cli_kernels_init(const char *prog)
{
    const int rc = jg_kernels_init();
    if (!rc) return 0;
    const char *env = getenv("JOULEGRAD_ISA");
    char here[64] = "";
    for (int i = 0; i < JG_ISA_COUNT; i++)
        if (jg_kernels_isa_supported((jg_isa_t)i))
            snprintf(here + strlen(here), sizeof here - strlen(here), "%s%s", here[0] ? ", " : "",
                     jg_isa_name((jg_isa_t)i));
    if (rc == -ENOTSUP)
        fprintf(stderr, "%s: JOULEGRAD_ISA=%s cannot run on this CPU; it runs %s "
                        "('joulegrad info' lists them)\n", prog, env ? env : "", here);
    else
        fprintf(stderr, "%s: JOULEGRAD_ISA=%s is not an ISA: use ref, avx2, avx512 or neon (this "
                        "CPU runs %s)\n", prog, env ? env : "", here);
    return 2;
}

int jg_cli_use_threads(const char *prog, int n)
{
    const int e = jg_kernels_set_threads(n);
    if (!e) return 0;
    fprintf(stderr, "%s: --threads %d: %s\n", prog, n,
            e == -ENOTSUP ? "not built with OpenMP (only 1 thread)" : strerror(-e));
    return 2;
}

int jg_cli_flag_seed(const char *prog, const char *text, uint64_t *seed)
{
    // Digits only, so "1e3", "-1", " 5" and "0x10" are refused, and no
    // rounding through double: 2^53 + 1 is out of range, not 2^53.
    char *end = NULL;
    errno = 0;
    const unsigned long long v = strtoull(text, &end, 10);
    if (!*text || strspn(text, "0123456789") != strlen(text) || errno || *end ||
        v > JG_CLI_SEED_MAX) {
        fprintf(stderr, "%s: --seed must be an integer in [0, 2^53], got '%s'\n", prog, text);
        return 2;
    }
    *seed = (uint64_t)v;
    return 0;
}

int jg_cli_flag_data(const char *prog, const char *text, jg_data_source_t *d)
{
    d->name = text;
    if (jg_data_source_known(text)) return 0;
    fprintf(stderr, "%s: --data must be " JG_DATA_SOURCE_NAMES ", got '%s'\n", prog, text);
    return 2;
}

int jg_cli_flag_energy(const char *prog, const char *text, jg_energy_mode_t *mode)
{
    if (!jg_energy_mode_parse(text, mode)) return 0;
    fprintf(stderr, "%s: --energy must be auto, rapl, estimate or off, got '%s'\n", prog, text);
    return 2;
}

int jg_cli_option_error(const char *prog, char *const *argv, int needs_value)
{
    fprintf(stderr, needs_value ? "%s: %s needs a value; run '%s --help'\n"
                                : "%s: unknown option '%s'; run '%s --help'\n",
            prog, argv[optind - 1], prog);
    return 2;
}

int jg_cli_flag_choice(const char *prog, const char *flag, const char *text,
                       const char *const *choices, int *index)
{
    int n = 0;
    while (choices[n] && strcmp(choices[n], text)) n++;
    if (choices[n]) {
        *index = n;
        return 0;
    }
    fprintf(stderr, "%s: %s must be ", prog, flag);
    for (int k = 0; choices[k]; k++)
        fprintf(stderr, "%s%s", k == 0 ? "" : choices[k + 1] ? ", " : " or ", choices[k]);
    fprintf(stderr, ", got '%s'\n", text);
    return 2;
}

int jg_cli_flag_watts(const char *prog, const char *flag, const char *text, int zero_ok,
                      double *w)
{
    if (!jg_cli_parse_double(text, 0, 1e6, w) && (zero_ok || *w > 0)) return 0;
    fprintf(stderr, "%s: %s must be a number of watts in %s0, 1e6], got '%s'\n", prog, flag,
            zero_ok ? "[" : "(", text);
    return 2;
}

int jg_cli_parse_double(const char *s, double lo, double hi, double *v)
{
    char *end = NULL;
    errno = 0;
    const double x = strtod(s, &end);
    if (errno == ERANGE) return -ERANGE;
    if (errno || end == s || *end || !isfinite(x)) return -EINVAL;
    if (x < lo || x > hi) return -ERANGE;
    *v = x;
    return 0;
}

int jg_cli_parse_size(const char *s, int *h, int *w)
{
    const char *x = strchr(s, 'x');
    if (!x || x == s || strchr(x + 1, 'x')) return -EINVAL;
    char hs[32];
    const size_t n = (size_t)(x - s);
    if (n >= sizeof hs) return -EINVAL;
    memcpy(hs, s, n);
    hs[n] = '\0';
    long hv, wv;
    if (jg_cli_parse_int(hs, 1, JG_CLI_MAX_SIDE, &hv) ||
        jg_cli_parse_int(x + 1, 1, JG_CLI_MAX_SIDE, &wv))
        return -EINVAL;
    *h = (int)hv;
    *w = (int)wv;
    return 0;
}


void jg_cli_print_line(void *ctx, int stream, const char *line)
{
    (void)ctx;
    if (jg_run_cluster()->rank != 0) return; // rank 0 speaks for an MPI job
    FILE *f = stream == JG_LOG_OUT ? stdout : stderr;
    fprintf(f, "%s\n", line);
    fflush(f);
}

static volatile sig_atomic_t g_interrupted;
static struct sigaction g_old_sa;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

void jg_cli_catch_sigint(void)
{
    // In an MPI job Ctrl-C goes to mpirun, which ends every rank together
    // (a rank stopping alone would leave the others waiting in a sum):
    // the checkpoints and logs written so far are what a resume continues.
    if (jg_run_cluster()->size > 1) return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; // a second Ctrl-C kills at once
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &g_old_sa);
}

void jg_cli_release_sigint(void)
{
    if (jg_run_cluster()->size > 1) return;
    sigaction(SIGINT, &g_old_sa, NULL);
}

int jg_cli_interrupted(void)
{
    return g_interrupted != 0;
}

void jg_cli_error(const char *prog, const char *msg)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    if (cl->size > 1) fprintf(stderr, "%s: rank %d of %d: %s\n", prog, cl->rank, cl->size, msg);
    else fprintf(stderr, "%s: %s\n", prog, msg);
}
