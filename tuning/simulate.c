/* SPDX-License-Identifier: MIT */
/*
 * simulate.c - yardsticks for the optimisers: the Branin and Hartmann-6 test
 * functions on the unit cube, and Bayesian optimisation run against a
 * function with simulated asynchronous workers (seeded job durations, the
 * earliest to finish reports next), which is how the ways of counting
 * pending points are compared (docs/tuning.md).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

double jg_tune_branin01(const double *u)
{
    const double x1 = 15.0 * u[0] - 5.0, x2 = 15.0 * u[1];
    const double pi = 3.14159265358979323846;
    const double t = x2 - 5.1 / (4 * pi * pi) * x1 * x1 + 5.0 / pi * x1 - 6.0;
    return t * t + 10.0 * (1.0 - 1.0 / (8 * pi)) * cos(x1) + 10.0;
}

double jg_tune_hartmann6(const double *u)
{
    static const double alpha[4] = { 1.0, 1.2, 3.0, 3.2 };
    static const double A[4][6] = { { 10, 3, 17, 3.5, 1.7, 8 },
                                    { 0.05, 10, 17, 0.1, 8, 14 },
                                    { 3, 3.5, 1.7, 10, 17, 8 },
                                    { 17, 8, 0.05, 10, 0.1, 14 } };
    static const double P[4][6] = { { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
                                    { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
                                    { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
                                    { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 } };
    double f = 0.0;
    for (int i = 0; i < 4; i++) {
        double e = 0.0;
        for (int j = 0; j < 6; j++) e += A[i][j] * (u[j] - P[i][j]) * (u[j] - P[i][j]);
        f -= alpha[i] * exp(-e);
    }
    return f;
}

/* A job of the simulation: its point and when it finishes. */
typedef struct {
    double u[JG_TUNE_GP_MAX_DIM];
    double done_s;
} sim_job_t;

/* Proposes the next job with the ones in flight pending and starts it at
 * now_s; its duration is drawn from *s. */
static int sim_submit(jg_tune_bayes_t *bo, int d, sim_job_t *fly, int n_fly, double now_s,
                      uint64_t *s, jg_tune_error_t *err)
{
    double *p = malloc(((size_t)n_fly + 1) * (size_t)d * sizeof *p);
    if (!p) return jg_tune_fail(err, -ENOMEM, "simulate: out of memory");
    for (int i = 0; i < n_fly; i++) memcpy(p + (size_t)i * d, fly[i].u, (size_t)d * sizeof *p);
    const int rc = jg_tune_bayes_propose_pending(bo, p, n_fly, fly[n_fly].u, err);
    free(p);
    fly[n_fly].done_s = now_s + 0.5 + (double)(jg_splitmix64(s) >> 11) * 0x1.0p-53;
    return rc;
}

int jg_tune_bayes_simulate(const jg_tune_bayes_config_t *cfg, const jg_tune_sim_config_t *sim,
                           jg_tune_sim_result_t *res, jg_tune_error_t *err)
{
    if (!cfg || !sim || !res || !sim->f || sim->workers < 1 || sim->workers > 4096 ||
        sim->n_evals < 1 || cfg->d > JG_TUNE_GP_MAX_DIM)
        return jg_tune_fail(err, -EINVAL, "simulate: NULL argument, or workers not in "
                            "1..4096, or n_evals < 1");
    memset(res, 0, sizeof *res);
    res->best = cfg->maximise ? -INFINITY : INFINITY;
    jg_tune_bayes_t *bo = NULL;
    int rc = jg_tune_bayes_create(&bo, cfg, err);
    if (rc) return rc;
    const int d = cfg->d, W = sim->workers;
    sim_job_t *fly = malloc((size_t)W * sizeof *fly);
    if (!fly) rc = jg_tune_fail(err, -ENOMEM, "simulate: out of memory");
    uint64_t s = cfg->seed ^ 0x8bb84b93962eacc9ull; /* job durations */
    int n_fly = 0;
    double now_s = 0.0;
    while (!rc && n_fly < W && n_fly < sim->n_evals)
        rc = sim_submit(bo, d, fly, n_fly++, now_s, &s, err);
    while (!rc && res->evals < sim->n_evals) {
        int f = 0; /* the earliest to finish; ties: the earliest started */
        for (int i = 1; i < n_fly; i++)
            if (fly[i].done_s < fly[f].done_s) f = i;
        const sim_job_t job = fly[f];
        memmove(fly + f, fly + f + 1, (size_t)(n_fly - f - 1) * sizeof *fly);
        n_fly--;
        now_s = job.done_s;
        const double y = sim->f(job.u);
        rc = jg_tune_bayes_observe(bo, job.u, y, err);
        res->evals++;
        res->best = cfg->maximise ? fmax(res->best, y) : fmin(res->best, y);
        if (sim->trace) sim->trace[res->evals - 1] = res->best;
        if (!res->evals_to_target && (cfg->maximise ? y > sim->target : y < sim->target))
            res->evals_to_target = res->evals;
        if (res->evals_to_target && sim->stop_at_target) break;
        if (!rc && res->evals + n_fly < sim->n_evals)
            rc = sim_submit(bo, d, fly, n_fly++, now_s, &s, err);
    }
    res->seconds = now_s;
    free(fly);
    jg_tune_bayes_destroy(bo);
    return rc;
}
