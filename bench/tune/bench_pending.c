/* SPDX-License-Identifier: MIT */
/*
 * bench_pending - how Bayesian optimisation should count the points other
 * workers are still evaluating: every way (jg_tune_pending_t) on Branin
 * (evaluations until f < 0.3989) and Hartmann-6 (best after N evaluations)
 * with 1, 2, 4 and 8 simulated asynchronous workers
 * (jg_tune_bayes_simulate), over seeds 1..S. Prints the table of
 * docs/tuning.md ("Parallel workers"); takes minutes.
 *
 *   bench_pending [--fn branin|hartmann6|all] [--workers 1,2,4,8]
 *                 [--methods ignore,cl-worst,cl-mean,cl-best,kb,fantasy]
 *                 [--seeds 10] [--branin-cap 100] [--hartmann-evals 100]
 *                 [--per-seed]
 * Hartmann-6 rows give the mean best after 25, 50 and --hartmann-evals.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jg_run.h"
#include "jg_tuning.h"

#define BRANIN_TARGET 0.3989 /* minimum 0.397887 */
#define MAX_SEEDS 100
#define MAX_LIST 8

typedef struct {
    int fn_mask; /* 1 branin, 2 hartmann6 */
    int workers[MAX_LIST], n_workers;
    jg_tune_pending_t methods[MAX_LIST];
    int n_methods;
    int seeds, branin_cap, hartmann_evals, per_seed;
} opts_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One row: the method with W workers on one function over every seed. */
static int row(const opts_t *o, int hartmann, int W, jg_tune_pending_t method)
{
    double v[MAX_SEEDS], at25[MAX_SEEDS] = {0}, at50[MAX_SEEDS] = {0};
    double *trace = malloc((size_t)o->hartmann_evals * sizeof *trace);
    if (!trace) return 1;
    const double t0 = now_s();
    for (int s = 0; s < o->seeds; s++) {
        jg_tune_bayes_config_t cfg;
        jg_tune_bayes_config_default(&cfg, hartmann ? 6 : 2, (uint64_t)s + 1);
        cfg.maximise = 0;
        cfg.pending = method;
        const jg_tune_sim_config_t sim = {
            .f = hartmann ? jg_tune_hartmann6 : jg_tune_branin01, .workers = W,
            .n_evals = hartmann ? o->hartmann_evals : o->branin_cap,
            .target = hartmann ? -INFINITY : BRANIN_TARGET, .stop_at_target = !hartmann,
            .trace = hartmann ? trace : NULL,
        };
        jg_tune_sim_result_t res;
        jg_tune_error_t err;
        const int rc = jg_tune_bayes_simulate(&cfg, &sim, &res, &err);
        if (rc) {
            fprintf(stderr, "bench_pending: %s\n", err.msg);
            free(trace);
            return 1;
        }
        v[s] = hartmann ? res.best : res.evals_to_target ? res.evals_to_target : o->branin_cap + 1;
        if (hartmann) {
            at25[s] = trace[(o->hartmann_evals < 25 ? o->hartmann_evals : 25) - 1];
            at50[s] = trace[(o->hartmann_evals < 50 ? o->hartmann_evals : 50) - 1];
        }
    }
    free(trace);
    const double secs = now_s() - t0;
    char name[32];
    snprintf(name, sizeof name, "%s", W == 1 ? "(serial)" : jg_tune_pending_name(method));
    printf("%-9s  %2d  %-8s", hartmann ? "hartmann6" : "branin", W, name);
    if (o->per_seed) {
        printf("  [");
        for (int s = 0; s < o->seeds; s++) printf(hartmann ? " %.4f" : " %.0f", v[s]);
        printf(" ]");
    }
    // quartiles interpolate between order statistics (numpy's default)
    jg_stats_summary_t sv, s25, s50;
    if (jg_stats_summary(v, o->seeds, &sv) || jg_stats_summary(at25, o->seeds, &s25) ||
        jg_stats_summary(at50, o->seeds, &s50))
        return 1;
    if (hartmann)
        printf("  mean best after 25: %.4f, 50: %.4f, %d: %.4f (median %.4f, worst %.4f)",
               s25.mean, s50.mean, o->hartmann_evals, sv.mean, sv.median, sv.max);
    else
        printf("  evals to f < %g: median %.1f IQR %.1f-%.1f max %.0f%s", BRANIN_TARGET,
               sv.median, sv.q1, sv.q3, sv.max, sv.max > o->branin_cap ? " (not reached)" : "");
    printf("  (%.1f s)\n", secs);
    fflush(stdout);
    return 0;
}

static int parse_methods(const char *text, opts_t *o)
{
    o->n_methods = 0;
    for (const char *p = text; *p && o->n_methods < MAX_LIST;) {
        const size_t n = strcspn(p, ",");
        int found = 0;
        for (int m = JG_TUNE_PENDING_IGNORE; m <= JG_TUNE_PENDING_FANTASY; m++)
            if (strlen(jg_tune_pending_name((jg_tune_pending_t)m)) == n &&
                !strncmp(p, jg_tune_pending_name((jg_tune_pending_t)m), n)) {
                o->methods[o->n_methods++] = (jg_tune_pending_t)m;
                found = 1;
            }
        if (!found) return -1;
        p += n + (p[n] == ',');
    }
    return o->n_methods ? 0 : -1;
}

static int parse_ints(const char *text, int *out, int *n)
{
    *n = 0;
    for (const char *p = text; *p && *n < MAX_LIST;) {
        char *end;
        const long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || (*end && *end != ',')) return -1;
        out[(*n)++] = (int)v;
        p = end + (*end == ',');
    }
    return *n ? 0 : -1;
}

static int parse(int argc, char **argv, opts_t *o)
{
    const opts_t d = { .fn_mask = 3, .workers = { 1, 2, 4, 8 }, .n_workers = 4,
                       .seeds = 10, .branin_cap = 100, .hartmann_evals = 100 };
    *o = d;
    parse_methods("ignore,cl-worst,cl-mean,cl-best,kb,fantasy", o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--per-seed")) {
            o->per_seed = 1;
            continue;
        }
        if (!v) return -1;
        if (!strcmp(a, "--fn"))
            o->fn_mask = !strcmp(v, "branin") ? 1 : !strcmp(v, "hartmann6") ? 2
                         : !strcmp(v, "all") ? 3 : 0, bad = !o->fn_mask;
        else if (!strcmp(a, "--workers")) bad = parse_ints(v, o->workers, &o->n_workers);
        else if (!strcmp(a, "--methods")) bad = parse_methods(v, o);
        else if (!strcmp(a, "--seeds")) o->seeds = atoi(v), bad = o->seeds < 1 || o->seeds > MAX_SEEDS;
        else if (!strcmp(a, "--branin-cap")) o->branin_cap = atoi(v), bad = o->branin_cap < 1;
        else if (!strcmp(a, "--hartmann-evals"))
            o->hartmann_evals = atoi(v), bad = o->hartmann_evals < 1;
        else bad = 1;
        if (bad) return -1;
        i++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: bench_pending [--fn branin|hartmann6|all] [--workers 1,2,4,8] "
                "[--methods ignore,cl-worst,cl-mean,cl-best,kb,fantasy] [--seeds 1..%d] "
                "[--branin-cap N] [--hartmann-evals N] [--per-seed]\n", MAX_SEEDS);
        return 2;
    }
    printf("bench_pending: seeds 1..%d, simulated job durations uniform in [0.5, 1.5) s, "
           "the earliest to finish observed next\n", o.seeds);
    for (int h = 0; h < 2; h++) {
        if (!(o.fn_mask & (1 << h))) continue;
        for (int w = 0; w < o.n_workers; w++)
            for (int m = 0; m < (o.workers[w] == 1 ? 1 : o.n_methods); m++)
                if (row(&o, h, o.workers[w], o.methods[m])) return 1;
    }
    return 0;
}
