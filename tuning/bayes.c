/* SPDX-License-Identifier: MIT */
/*
 * bayes.c - Bayesian optimisation on [0,1]^d: seeded uniform initial points,
 * then a GP (gp.c) refitted at every proposal and an acquisition (EI, PI or
 * UCB) maximised over many random candidates plus perturbations of the best
 * observations, followed by coordinate search from the top candidates.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

#define N_PERTURB 60  /* candidates around each of the best observations */
#define N_BEST_OBS 5  /* observations perturbed */
#define N_REFINE 5    /* top candidates refined by coordinate search */
#define REFINE_STEP0 0.05
#define REFINE_STEP_MIN 1e-6

struct jg_tune_bayes {
    jg_tune_bayes_config_t cfg;
    int n, cap;
    double *u;       /* (cap, d) observed points */
    double *y;       /* (cap) observations, sign-adjusted so larger is better */
    jg_tune_gp_t *gp;
    double best, y_std; /* of the sign-adjusted observations */
    double *cand;    /* (ncand, d) candidates */
    double *mu, *var, *acq; /* (ncand) */
    int ncand;
};

/* Uniform in [0, 1). */
static double unit(uint64_t *s)
{
    return (double)(jg_tune_splitmix64(s) >> 11) * 0x1.0p-53;
}

/* Standard normal (Box-Muller, one of the pair). */
static double normal(uint64_t *s)
{
    const double a = 1.0 - unit(s), b = unit(s);
    return sqrt(-2.0 * log(a)) * cos(6.283185307179586 * b);
}

static double clamp01(double x)
{
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

/* A stream that depends only on the seed and the proposal index. */
static uint64_t stream(uint64_t seed, int index)
{
    uint64_t s = seed ^ (0xd1b54a32d192ed03ull * (uint64_t)(index + 1));
    jg_tune_splitmix64(&s);
    return s;
}

void jg_tune_bayes_config_default(jg_tune_bayes_config_t *cfg, int d, uint64_t seed)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->d = d;
    cfg->maximise = 1;
    cfg->acq = JG_TUNE_ACQ_EI;
    cfg->xi = 0.0; /* Branin: xi 0.001 and 0.01 explore too much (docs/tuning.md) */
    cfg->ucb_beta = 4.0;
    cfg->n_init = d + 1 > 5 ? d + 1 : 5;
    cfg->n_candidates = 2000;
    cfg->fit_restarts = 2;
    cfg->seed = seed;
}

int jg_tune_bayes_create(jg_tune_bayes_t **out, const jg_tune_bayes_config_t *cfg,
                         jg_tune_error_t *err)
{
    if (!out || !cfg || cfg->d < 1 || cfg->d > JG_TUNE_GP_MAX_DIM ||
        cfg->n_init < 1 || cfg->n_candidates < 1 || cfg->n_candidates > 1000000 ||
        cfg->fit_restarts < 0 || cfg->fit_restarts > 100 ||
        (unsigned)cfg->acq > JG_TUNE_ACQ_UCB || !(cfg->xi >= 0.0) ||
        !(cfg->ucb_beta >= 0.0) || !isfinite(cfg->xi) || !isfinite(cfg->ucb_beta)) {
        jg_tune_errorf(err, "bayes: invalid config (d 1..%d, n_init >= 1, "
                     "candidates 1..1e6, restarts 0..100, xi, beta >= 0)",
                JG_TUNE_GP_MAX_DIM);
        return -EINVAL;
    }
    jg_tune_bayes_t *bo = calloc(1, sizeof *bo);
    if (!bo) {
        jg_tune_errorf(err, "bayes: out of memory");
        return -ENOMEM;
    }
    bo->cfg = *cfg;
    bo->ncand = cfg->n_candidates + N_BEST_OBS * N_PERTURB;
    const size_t nc = (size_t)bo->ncand;
    bo->cand = malloc(nc * (size_t)cfg->d * sizeof *bo->cand);
    bo->mu = malloc(nc * sizeof *bo->mu);
    bo->var = malloc(nc * sizeof *bo->var);
    bo->acq = malloc(nc * sizeof *bo->acq);
    int rc = (!bo->cand || !bo->mu || !bo->var || !bo->acq) ? -ENOMEM : 0;
    if (rc) jg_tune_errorf(err, "bayes: out of memory");
    else rc = jg_tune_gp_create(&bo->gp, cfg->d, err);
    if (rc) {
        jg_tune_bayes_destroy(bo);
        return rc;
    }
    *out = bo;
    return 0;
}

void jg_tune_bayes_destroy(jg_tune_bayes_t *bo)
{
    if (!bo) return;
    jg_tune_gp_destroy(bo->gp);
    free(bo->u);
    free(bo->y);
    free(bo->cand);
    free(bo->mu);
    free(bo->var);
    free(bo->acq);
    free(bo);
}

int jg_tune_bayes_n_obs(const jg_tune_bayes_t *bo)
{
    return bo->n;
}

int jg_tune_bayes_observe(jg_tune_bayes_t *bo, const double *u, double y,
                          jg_tune_error_t *err)
{
    const int d = bo->cfg.d;
    if (!u || !isfinite(y)) {
        jg_tune_errorf(err, "bayes: observation must be finite");
        return -EINVAL;
    }
    for (int k = 0; k < d; k++) {
        if (!(u[k] >= 0.0 && u[k] <= 1.0)) {
            jg_tune_errorf(err, "bayes: coordinate %d = %g outside [0,1]", k, u[k]);
            return -EINVAL;
        }
    }
    if (bo->n == bo->cap) {
        if (bo->cap >= 40000) {
            jg_tune_errorf(err, "bayes: too many observations (%d)", bo->n);
            return -E2BIG;
        }
        const int cap = bo->cap ? 2 * bo->cap : 64;
        double *nu = realloc(bo->u, (size_t)cap * (size_t)d * sizeof *nu);
        if (!nu) goto oom;
        bo->u = nu;
        double *ny = realloc(bo->y, (size_t)cap * sizeof *ny);
        if (!ny) goto oom;
        bo->y = ny;
        bo->cap = cap;
    }
    memcpy(bo->u + (size_t)bo->n * d, u, (size_t)d * sizeof *u);
    bo->y[bo->n++] = bo->cfg.maximise ? y : -y;
    return 0;
oom:
    jg_tune_errorf(err, "bayes: out of memory");
    return -ENOMEM;
}

/* Acquisition (larger is better) from posterior mean and variance. */
static double acquisition(const jg_tune_bayes_t *bo, double mu, double var)
{
    const double sigma = sqrt(var);
    if (bo->cfg.acq == JG_TUNE_ACQ_UCB) return mu + sqrt(bo->cfg.ucb_beta) * sigma;
    const double imp = mu - bo->best - bo->cfg.xi * bo->y_std;
    if (sigma < 1e-12 * bo->y_std) {
        if (bo->cfg.acq == JG_TUNE_ACQ_PI) return imp > 0.0 ? 1.0 : 0.0;
        return imp > 0.0 ? imp : 0.0;
    }
    const double z = imp / sigma;
    const double cdf = 0.5 * erfc(-z * 0.7071067811865476);
    if (bo->cfg.acq == JG_TUNE_ACQ_PI) return cdf;
    const double pdf = 0.3989422804014327 * exp(-0.5 * z * z);
    return imp * cdf + sigma * pdf;
}

static int acq_at(jg_tune_bayes_t *bo, const double *u, double *a,
                  jg_tune_error_t *err)
{
    double mu, var;
    const int rc = jg_tune_gp_predict(bo->gp, u, 1, &mu, &var, err);
    if (rc) return rc;
    *a = acquisition(bo, mu, var);
    return 0;
}

/* Coordinate search from u (d): try +-step per coordinate, keep any gain,
 * halve the step when no move helps. */
static int refine(jg_tune_bayes_t *bo, double *u, double *a, jg_tune_error_t *err)
{
    const int d = bo->cfg.d;
    double t[JG_TUNE_GP_MAX_DIM];
    for (double step = REFINE_STEP0; step > REFINE_STEP_MIN;) {
        int moved = 0;
        for (int k = 0; k < d; k++) {
            for (int sgn = -1; sgn <= 1; sgn += 2) {
                memcpy(t, u, (size_t)d * sizeof *t);
                t[k] = clamp01(u[k] + sgn * step);
                if (t[k] == u[k]) continue;
                double at;
                const int rc = acq_at(bo, t, &at, err);
                if (rc) return rc;
                if (at > *a) {
                    *a = at;
                    u[k] = t[k];
                    moved = 1;
                    break;
                }
            }
        }
        if (!moved) step *= 0.5;
    }
    return 0;
}

int jg_tune_bayes_propose(jg_tune_bayes_t *bo, double *u, jg_tune_error_t *err)
{
    if (!bo || !u) {
        jg_tune_errorf(err, "bayes: propose needs a state and an output");
        return -EINVAL;
    }
    const int d = bo->cfg.d, n = bo->n;
    uint64_t s = stream(bo->cfg.seed, n);
    if (n < bo->cfg.n_init) {
        for (int k = 0; k < d; k++) u[k] = unit(&s);
        return 0;
    }
    int rc = jg_tune_gp_set_data(bo->gp, bo->u, bo->y, n, err);
    if (!rc) rc = jg_tune_gp_fit(bo->gp, jg_tune_splitmix64(&s), bo->cfg.fit_restarts, err);
    if (rc) return rc;

    int order[N_BEST_OBS] = { 0 }; /* indices of the best observations, best first */
    int nb = 0;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) mean += bo->y[i];
    mean /= n;
    for (int i = 0; i < n; i++) {
        var += (bo->y[i] - mean) * (bo->y[i] - mean);
        int j = nb < N_BEST_OBS ? nb++ : N_BEST_OBS;
        while (j > 0 && bo->y[order[j - 1]] < bo->y[i]) {
            if (j < N_BEST_OBS) order[j] = order[j - 1];
            j--;
        }
        if (j < N_BEST_OBS) order[j] = i;
    }
    bo->best = bo->y[order[0]];
    bo->y_std = var > 0.0 ? sqrt(var / n) : 1.0;

    /* Candidates: uniform, then Gaussian perturbations of the best points at
     * three scales (sd 0.1, 0.01, 0.001). */
    int c = 0;
    for (; c < bo->cfg.n_candidates; c++)
        for (int k = 0; k < d; k++) bo->cand[(size_t)c * d + k] = unit(&s);
    for (int b = 0; b < nb; b++) {
        for (int p = 0; p < N_PERTURB; p++, c++) {
            const double sd = p % 3 == 0 ? 0.1 : (p % 3 == 1 ? 0.01 : 0.001);
            for (int k = 0; k < d; k++)
                bo->cand[(size_t)c * d + k] =
                    clamp01(bo->u[(size_t)order[b] * d + k] + sd * normal(&s));
        }
    }
    rc = jg_tune_gp_predict(bo->gp, bo->cand, c, bo->mu, bo->var, err);
    if (rc) return rc;
    int top[N_REFINE] = { 0 }; /* best candidates by acquisition, best first */
    int nt = 0;
    for (int i = 0; i < c; i++) {
        bo->acq[i] = acquisition(bo, bo->mu[i], bo->var[i]);
        int j = nt < N_REFINE ? nt++ : N_REFINE;
        while (j > 0 && bo->acq[top[j - 1]] < bo->acq[i]) {
            if (j < N_REFINE) top[j] = top[j - 1];
            j--;
        }
        if (j < N_REFINE) top[j] = i;
    }
    double best_a = -INFINITY, t[JG_TUNE_GP_MAX_DIM];
    for (int r = 0; r < nt; r++) {
        memcpy(t, bo->cand + (size_t)top[r] * d, (size_t)d * sizeof *t);
        double a = bo->acq[top[r]];
        rc = refine(bo, t, &a, err);
        if (rc) return rc;
        if (a > best_a) {
            best_a = a;
            memcpy(u, t, (size_t)d * sizeof *u);
        }
    }
    return 0;
}
