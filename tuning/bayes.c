/* SPDX-License-Identifier: MIT */
/*
 * bayes.c - Bayesian optimisation on [0,1]^d: seeded uniform initial points,
 * then a GP (gp.c) refitted at every proposal and an acquisition (EI, PI,
 * UCB or EI per predicted joule) maximised over many random candidates plus
 * perturbations of the best observations, followed by coordinate search from
 * the top candidates. Options: a second GP on ln(cost), the ParEGO
 * scalarisation of (accuracy, cost), integer/categorical dimensions
 * (snapped to cell centres; categoricals one-hot encoded for the GP), and
 * points still being evaluated (parallel workers), counted by simulated
 * observations: a constant lie, the kriging believer, or fantasies.
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
#define PAREGO_S 10       /* ParEGO weights l/S, l = 0..S (11 for 2 objectives) */
#define PAREGO_RHO 0.05   /* augmented Chebyshev weight */
#define Z95 1.6448536269514722 /* one-sided 95% normal quantile */
#define PENDING_MIN_OBS 2 /* observations before a GP proposal with points pending */
#define MAX_FANTASIES 64

struct jg_tune_bayes {
    jg_tune_bayes_config_t cfg;
    int D;           /* GP inputs: d with each categorical replaced by its levels */
    int n, cap, n_cost;
    double *u;       /* (cap, d) observed points as given */
    double *x;       /* (cap, D) their GP inputs */
    double *y;       /* (cap) observations, sign-adjusted so larger is better */
    double *t;       /* (cap) scratch: GP targets (y, or -ParEGO scalar) */
    double *xc;      /* (cap, D) GP inputs of the observations with a cost */
    double *lc;      /* (cap) their ln(cost / J) */
    jg_tune_gp_t *gp, *gp_cost;
    int cost_fit_n;  /* n_cost the cost GP is fitted to; 0 = not fitted */
    double lc_std;   /* std (1/n) of lc[0..cost_fit_n) */
    double best, y_std; /* of the GP targets */
    double *cand;    /* (ncand, d) candidates */
    double *xcand;   /* (ncand, D) their GP inputs */
    double *mu, *var, *acq, *mc; /* (ncand); mc = log-cost mean */
    int ncand;
    /* The models a proposal scores with: the GP, or with points pending the
     * GPs given simulated observations there (1, or n_fantasies). */
    jg_tune_gp_t *sim[MAX_FANTASIES];
    jg_tune_gp_t *const *models;
    double bests[MAX_FANTASIES]; /* (n_models) incumbent per model */
    int n_models;
};

/* Uniform in [0, 1). */
static double unit(uint64_t *s)
{
    return (double)(jg_splitmix64(s) >> 11) * 0x1.0p-53;
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
    jg_splitmix64(&s);
    return s;
}

/* Levels of dimension k (0 = continuous). */
static int levels(const jg_tune_bayes_config_t *cfg, int k)
{
    return k < JG_TUNE_MAX_DIMS ? cfg->levels[k] : 0;
}

static int is_cat(const jg_tune_bayes_config_t *cfg, int k)
{
    return k < JG_TUNE_MAX_DIMS && cfg->categorical[k];
}

/* Cell j of u among L equal cells, as the search space maps ints and cats. */
static int cell(double u, int L)
{
    const int j = (int)floor(u * L);
    return j < 0 ? 0 : (j >= L ? L - 1 : j);
}

static double centre(int j, int L)
{
    return (j + 0.5) / L;
}

/* Puts every discrete coordinate of u (d) at its cell centre. */
static void snap(const jg_tune_bayes_config_t *cfg, double *u)
{
    for (int k = 0; k < cfg->d; k++) {
        const int L = levels(cfg, k);
        if (L > 0) u[k] = centre(cell(u[k], L), L);
    }
}

/* x (D) = GP input for u (d): continuous as is, ordered discrete at the cell
 * centre, categorical one-hot over its L levels (so the kernel sees every
 * pair of categories at the same distance, never a false order). */
static void encode(const jg_tune_bayes_config_t *cfg, const double *u, double *x)
{
    for (int k = 0; k < cfg->d; k++) {
        const int L = levels(cfg, k);
        if (L == 0) {
            *x++ = u[k];
        } else if (!is_cat(cfg, k)) {
            *x++ = centre(cell(u[k], L), L);
        } else {
            const int j = cell(u[k], L);
            for (int c = 0; c < L; c++) *x++ = c == j ? 1.0 : 0.0;
        }
    }
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
    cfg->objective = JG_TUNE_OBJ_ACCURACY;
    cfg->pending = JG_TUNE_PENDING_DEFAULT;
    cfg->n_fantasies = 8;
}

const char *jg_tune_pending_name(jg_tune_pending_t p)
{
    switch (p) {
    case JG_TUNE_PENDING_IGNORE: return "ignore";
    case JG_TUNE_PENDING_CL_WORST: return "cl-worst";
    case JG_TUNE_PENDING_CL_MEAN: return "cl-mean";
    case JG_TUNE_PENDING_CL_BEST: return "cl-best";
    case JG_TUNE_PENDING_KB: return "kb";
    case JG_TUNE_PENDING_FANTASY: return "fantasy";
    }
    return "?";
}

void jg_tune_bayes_config_from_space(jg_tune_bayes_config_t *cfg,
                                     const jg_tune_space_t *space, uint64_t seed)
{
    jg_tune_bayes_config_default(cfg, space->n_dims, seed);
    for (int k = 0; k < space->n_dims && k < JG_TUNE_MAX_DIMS; k++) {
        const jg_tune_dim_t *dm = &space->dims[k];
        if (dm->kind == JG_TUNE_CAT) {
            cfg->levels[k] = dm->n_cats;
            cfg->categorical[k] = 1;
        } else if (dm->kind == JG_TUNE_INT) {
            const double L = dm->hi - dm->lo + 1.0;
            cfg->levels[k] = L <= JG_TUNE_MAX_LEVELS ? (int)L : 0;
        }
    }
}

/* GP inputs for cfg, or -1 if a discrete setting is invalid. */
static int gp_inputs(const jg_tune_bayes_config_t *cfg)
{
    int D = 0;
    for (int k = 0; k < JG_TUNE_MAX_DIMS; k++) {
        const int L = cfg->levels[k], cat = cfg->categorical[k];
        if (L < 0 || L > JG_TUNE_MAX_LEVELS || (cat != 0 && cat != 1) ||
            (cat && (L < 1 || L > JG_TUNE_MAX_CATS)) || (k >= cfg->d && (L || cat)))
            return -1;
    }
    for (int k = 0; k < cfg->d; k++) D += is_cat(cfg, k) ? levels(cfg, k) : 1;
    return D;
}

int jg_tune_bayes_create(jg_tune_bayes_t **out, const jg_tune_bayes_config_t *cfg,
                         jg_tune_error_t *err)
{
    if (!out || !cfg || cfg->d < 1 || cfg->d > JG_TUNE_GP_MAX_DIM ||
        cfg->n_init < 1 || cfg->n_candidates < 1 || cfg->n_candidates > 1000000 ||
        cfg->fit_restarts < 0 || cfg->fit_restarts > 100 ||
        (unsigned)cfg->acq > JG_TUNE_ACQ_EI_PER_J || !(cfg->xi >= 0.0) ||
        !(cfg->ucb_beta >= 0.0) || !isfinite(cfg->xi) || !isfinite(cfg->ucb_beta) ||
        (unsigned)cfg->objective > JG_TUNE_OBJ_PARETO ||
        (unsigned)cfg->pending > JG_TUNE_PENDING_FANTASY || cfg->n_fantasies < 1 ||
        cfg->n_fantasies > MAX_FANTASIES) {
        jg_tune_errorf(err, "bayes: invalid config (d 1..%d, n_init >= 1, "
                     "candidates 1..1e6, restarts 0..100, xi, beta >= 0, acq, objective, "
                     "pending, fantasies 1..%d)", JG_TUNE_GP_MAX_DIM, MAX_FANTASIES);
        return -EINVAL;
    }
    const int D = gp_inputs(cfg);
    if (D < 0)
        return jg_tune_fail(err, -EINVAL, "bayes: invalid levels/categorical (levels 0..%d "
                            "within d, categorical 0|1 with 1..%d levels)",
                            JG_TUNE_MAX_LEVELS, JG_TUNE_MAX_CATS);
    if (D > JG_TUNE_GP_MAX_DIM)
        return jg_tune_fail(err, -EINVAL, "bayes: one-hot encoding needs %d GP inputs, "
                            "more than %d: fewer or smaller categorical dimensions",
                            D, JG_TUNE_GP_MAX_DIM);
    jg_tune_bayes_t *bo = calloc(1, sizeof *bo);
    if (!bo) {
        jg_tune_errorf(err, "bayes: out of memory");
        return -ENOMEM;
    }
    bo->cfg = *cfg;
    bo->D = D;
    bo->ncand = cfg->n_candidates + N_BEST_OBS * N_PERTURB;
    const size_t nc = (size_t)bo->ncand;
    bo->cand = malloc(nc * (size_t)cfg->d * sizeof *bo->cand);
    bo->xcand = malloc(nc * (size_t)D * sizeof *bo->xcand);
    bo->mu = malloc(nc * sizeof *bo->mu);
    bo->var = malloc(nc * sizeof *bo->var);
    bo->acq = malloc(nc * sizeof *bo->acq);
    bo->mc = malloc(nc * sizeof *bo->mc);
    int rc = (!bo->cand || !bo->xcand || !bo->mu || !bo->var || !bo->acq || !bo->mc)
                 ? -ENOMEM : 0;
    if (rc) jg_tune_errorf(err, "bayes: out of memory");
    if (!rc) rc = jg_tune_gp_create(&bo->gp, D, err);
    if (!rc) rc = jg_tune_gp_create(&bo->gp_cost, D, err);
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
    jg_tune_gp_destroy(bo->gp_cost);
    for (int k = 0; k < MAX_FANTASIES; k++) jg_tune_gp_destroy(bo->sim[k]);
    free(bo->u);
    free(bo->x);
    free(bo->y);
    free(bo->t);
    free(bo->xc);
    free(bo->lc);
    free(bo->cand);
    free(bo->xcand);
    free(bo->mu);
    free(bo->var);
    free(bo->acq);
    free(bo->mc);
    free(bo);
}

int jg_tune_bayes_n_obs(const jg_tune_bayes_t *bo)
{
    return bo->n;
}

static int needs_cost(const jg_tune_bayes_config_t *cfg)
{
    return cfg->acq == JG_TUNE_ACQ_EI_PER_J || cfg->objective == JG_TUNE_OBJ_PARETO;
}

/* Grows the observation arrays to hold one more. */
static int reserve(jg_tune_bayes_t *bo, jg_tune_error_t *err)
{
    if (bo->n < bo->cap) return 0;
    if (bo->cap >= 40000)
        return jg_tune_fail(err, -E2BIG, "bayes: too many observations (%d)", bo->n);
    const size_t cap = bo->cap ? 2 * (size_t)bo->cap : 64;
    const size_t d = (size_t)bo->cfg.d, D = (size_t)bo->D;
    double **arr[] = { &bo->u, &bo->x, &bo->y, &bo->t, &bo->xc, &bo->lc };
    const size_t width[] = { d, D, 1, 1, D, 1 };
    for (int a = 0; a < 6; a++) {
        double *p = realloc(*arr[a], cap * width[a] * sizeof *p);
        if (!p) return jg_tune_fail(err, -ENOMEM, "bayes: out of memory");
        *arr[a] = p;
    }
    bo->cap = (int)cap;
    return 0;
}

/* cost: joules, or NAN when unknown. */
static int observe(jg_tune_bayes_t *bo, const double *u, double y, double cost,
                   jg_tune_error_t *err)
{
    if (!bo || !u || !isfinite(y)) {
        jg_tune_errorf(err, "bayes: observation must be finite");
        return -EINVAL;
    }
    const int d = bo->cfg.d;
    for (int k = 0; k < d; k++) {
        if (!(u[k] >= 0.0 && u[k] <= 1.0)) {
            jg_tune_errorf(err, "bayes: coordinate %d = %g outside [0,1]", k, u[k]);
            return -EINVAL;
        }
    }
    const int rc = reserve(bo, err);
    if (rc) return rc;
    memcpy(bo->u + (size_t)bo->n * d, u, (size_t)d * sizeof *u);
    encode(&bo->cfg, u, bo->x + (size_t)bo->n * bo->D);
    bo->y[bo->n] = bo->cfg.maximise ? y : -y;
    if (!isnan(cost)) {
        memcpy(bo->xc + (size_t)bo->n_cost * bo->D, bo->x + (size_t)bo->n * bo->D,
               (size_t)bo->D * sizeof *bo->xc);
        bo->lc[bo->n_cost++] = log(cost);
    }
    bo->n++;
    return 0;
}

int jg_tune_bayes_observe(jg_tune_bayes_t *bo, const double *u, double y,
                          jg_tune_error_t *err)
{
    if (bo && needs_cost(&bo->cfg))
        return jg_tune_fail(err, -EINVAL, "bayes: %s needs a cost for every observation: "
                            "use jg_tune_bayes_observe_cost",
                            bo->cfg.acq == JG_TUNE_ACQ_EI_PER_J ? "ei-per-joule" : "pareto");
    return observe(bo, u, y, NAN, err);
}

int jg_tune_bayes_observe_cost(jg_tune_bayes_t *bo, const double *u, double y,
                               double cost, jg_tune_error_t *err)
{
    if (!(cost > 0.0 && isfinite(cost)))
        return jg_tune_fail(err, -EINVAL, "bayes: cost %g J must be finite and > 0", cost);
    return observe(bo, u, y, cost, err);
}

/* Fits the log-cost GP to the observations with a cost, unless it already is:
 * seeded from (seed, n_cost), so the fit depends only on those. */
static int fit_cost(jg_tune_bayes_t *bo, jg_tune_error_t *err)
{
    const int m = bo->n_cost;
    if (bo->cost_fit_n == m) return 0;
    bo->cost_fit_n = 0;
    uint64_t s = stream(bo->cfg.seed ^ 0x2545f4914f6cdd1dull, m);
    int rc = jg_tune_gp_set_data(bo->gp_cost, bo->xc, bo->lc, m, err);
    if (!rc) rc = jg_tune_gp_fit(bo->gp_cost, jg_splitmix64(&s), bo->cfg.fit_restarts, err);
    if (rc) return rc;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < m; i++) mean += bo->lc[i];
    mean /= m;
    for (int i = 0; i < m; i++) var += (bo->lc[i] - mean) * (bo->lc[i] - mean);
    bo->lc_std = var > 0.0 ? sqrt(var / m) : 1.0; /* as gp.c standardises */
    bo->cost_fit_n = m;
    return 0;
}

int jg_tune_bayes_predict_cost(jg_tune_bayes_t *bo, const double *u, double *cost,
                               double *cost_hi, jg_tune_error_t *err)
{
    if (!bo || !u || !cost) return jg_tune_fail(err, -EINVAL, "bayes: predict_cost: NULL argument");
    for (int k = 0; k < bo->cfg.d; k++)
        if (!(u[k] >= 0.0 && u[k] <= 1.0))
            return jg_tune_fail(err, -EINVAL, "bayes: coordinate %d = %g outside [0,1]", k, u[k]);
    if (bo->n_cost < 2)
        return jg_tune_fail(err, -EAGAIN, "bayes: %d cost(s) known, need 2 to predict",
                            bo->n_cost);
    int rc = fit_cost(bo, err);
    double x[JG_TUNE_GP_MAX_DIM], m, v;
    encode(&bo->cfg, u, x);
    if (!rc) rc = jg_tune_gp_predict(bo->gp_cost, x, 1, &m, &v, err);
    if (rc) return rc;
    jg_tune_gp_hyp_t h;
    jg_tune_gp_get_hyp(bo->gp_cost, &h);
    const double sd = sqrt(v + exp(h.log_sn2) * bo->lc_std * bo->lc_std);
    *cost = exp(m);
    if (cost_hi) *cost_hi = exp(m + Z95 * sd);
    return 0;
}

/* Acquisition (larger is better) from posterior mean and variance of the
 * target, the incumbent best and (EI_PER_J) the log-cost mean mc. */
static double acquisition(const jg_tune_bayes_t *bo, double best, double mu, double var,
                          double mc)
{
    const double sigma = sqrt(var);
    if (bo->cfg.acq == JG_TUNE_ACQ_UCB) return mu + sqrt(bo->cfg.ucb_beta) * sigma;
    const double imp = mu - best - bo->cfg.xi * bo->y_std;
    double a;
    if (sigma < 1e-12 * bo->y_std) {
        if (bo->cfg.acq == JG_TUNE_ACQ_PI) return imp > 0.0 ? 1.0 : 0.0;
        a = imp > 0.0 ? imp : 0.0;
    } else {
        const double z = imp / sigma;
        const double cdf = 0.5 * erfc(-z * 0.7071067811865476);
        if (bo->cfg.acq == JG_TUNE_ACQ_PI) return cdf;
        const double pdf = 0.3989422804014327 * exp(-0.5 * z * z);
        a = imp * cdf + sigma * pdf;
    }
    return bo->cfg.acq == JG_TUNE_ACQ_EI_PER_J ? a * exp(-mc) : a;
}

/* acq (m) for m encoded points x (m, D), averaged over the models (each
 * with its incumbent); mu, var, mc (m) are scratch. */
static int score(jg_tune_bayes_t *bo, const double *x, int m, double *mu, double *var,
                 double *mc, double *acq, jg_tune_error_t *err)
{
    const int per_j = bo->cfg.acq == JG_TUNE_ACQ_EI_PER_J;
    for (int j = 0; j < bo->n_models; j++) {
        int rc = jg_tune_gp_predict(bo->models[j], x, m, mu, var, err);
        if (!rc && per_j && j == 0) rc = jg_tune_gp_predict(bo->gp_cost, x, m, mc, NULL, err);
        if (rc) return rc;
        for (int i = 0; i < m; i++) {
            const double a = acquisition(bo, bo->bests[j], mu[i], var[i], per_j ? mc[i] : 0.0);
            acq[i] = j ? acq[i] + a : a;
        }
    }
    if (bo->n_models > 1)
        for (int i = 0; i < m; i++) acq[i] /= bo->n_models;
    return 0;
}

static int acq_at(jg_tune_bayes_t *bo, const double *u, double *a, jg_tune_error_t *err)
{
    double x[JG_TUNE_GP_MAX_DIM], mu, var, mc;
    encode(&bo->cfg, u, x);
    return score(bo, x, 1, &mu, &var, &mc, a, err);
}

/* Coordinate search from u (d): per coordinate, try the other categories of
 * a categorical, or +-step (at least one cell for an ordered discrete one,
 * then snapped); keep any gain, halve the step when no move helps. */
static int refine(jg_tune_bayes_t *bo, double *u, double *a, jg_tune_error_t *err)
{
    const int d = bo->cfg.d;
    double t[JG_TUNE_GP_MAX_DIM];
    for (double step = REFINE_STEP0; step > REFINE_STEP_MIN;) {
        int moved = 0;
        for (int k = 0; k < d; k++) {
            const int L = levels(&bo->cfg, k), cat = is_cat(&bo->cfg, k);
            const int ntry = cat ? L : 2;
            for (int i = 0; i < ntry; i++) {
                memcpy(t, u, (size_t)d * sizeof *t);
                if (cat) {
                    t[k] = centre(i, L);
                } else {
                    const double h = L > 0 && step < 1.0 / L ? 1.0 / L : step;
                    t[k] = clamp01(u[k] + (i ? h : -h));
                    if (L > 0) t[k] = centre(cell(t[k], L), L);
                }
                if (t[k] == u[k]) continue;
                double at = -INFINITY;
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

/* GP targets t (n), larger is better: y, or for PARETO minus the ParEGO
 * scalarisation under weight (w, 1 - w) of the normalised (y, ln cost). */
static void targets(jg_tune_bayes_t *bo, double w)
{
    const int n = bo->n;
    if (bo->cfg.objective != JG_TUNE_OBJ_PARETO) {
        memcpy(bo->t, bo->y, (size_t)n * sizeof *bo->t);
        return;
    }
    /* every observation has a cost here, so lc is in observation order */
    double ylo = INFINITY, yhi = -INFINITY, clo = INFINITY, chi = -INFINITY;
    for (int i = 0; i < n; i++) {
        ylo = fmin(ylo, bo->y[i]);
        yhi = fmax(yhi, bo->y[i]);
        clo = fmin(clo, bo->lc[i]);
        chi = fmax(chi, bo->lc[i]);
    }
    for (int i = 0; i < n; i++) {
        const double f1 = yhi > ylo ? (yhi - bo->y[i]) / (yhi - ylo) : 0.0;
        const double f2 = chi > clo ? (bo->lc[i] - clo) / (chi - clo) : 0.0;
        const double a = w * f1, b = (1.0 - w) * f2;
        bo->t[i] = -(fmax(a, b) + PAREGO_RHO * (a + b));
    }
}

/* *best = the best posterior mean of gp at its n data points x (n, D). */
static int incumbent(jg_tune_gp_t *gp, const double *x, int n, double *best,
                     jg_tune_error_t *err)
{
    double *mu = malloc((size_t)n * sizeof *mu);
    if (!mu) return jg_tune_fail(err, -ENOMEM, "bayes: out of memory");
    const int rc = jg_tune_gp_predict(gp, x, n, mu, NULL, err);
    *best = -INFINITY;
    for (int i = 0; !rc && i < n; i++) *best = fmax(*best, mu[i]);
    free(mu);
    return rc;
}

/* Points still being evaluated, p (P, d): the models a proposal scores
 * with become GPs with the fitted hyperparameters and standardisation,
 * given the observations plus a simulated one at each pending point: a
 * constant lie (the worst, mean or best target), the kriging believer (the
 * posterior mean there), or (FANTASY) n_fantasies joint posterior samples
 * (with noise) drawn one point at a time from stream sf. Each model's
 * incumbent is its best posterior mean at all its points. */
static int simulate_pending(jg_tune_bayes_t *bo, const double *p, int P, uint64_t *sf,
                            jg_tune_error_t *err)
{
    const jg_tune_pending_t how = bo->cfg.pending;
    const int n = bo->n, d = bo->cfg.d, D = bo->D, N = n + P;
    const int K = how == JG_TUNE_PENDING_FANTASY ? bo->cfg.n_fantasies : 1;
    double *x = malloc((size_t)N * (size_t)D * sizeof *x), *t = malloc((size_t)N * sizeof *t);
    int rc = x && t ? 0 : jg_tune_fail(err, -ENOMEM, "bayes: out of memory");
    if (!rc) {
        memcpy(x, bo->x, (size_t)n * (size_t)D * sizeof *x);
        memcpy(t, bo->t, (size_t)n * sizeof *t);
        for (int j = 0; j < P; j++) encode(&bo->cfg, p + (size_t)j * d, x + (size_t)(n + j) * D);
    }
    double lie = 0.0; /* constant liars */
    for (int i = 0; i < n; i++) {
        const double y = bo->t[i];
        lie = how == JG_TUNE_PENDING_CL_MEAN ? lie + y / n
              : i == 0 ? y : how == JG_TUNE_PENDING_CL_BEST ? fmax(lie, y) : fmin(lie, y);
    }
    if (!rc && how == JG_TUNE_PENDING_KB)
        rc = jg_tune_gp_predict(bo->gp, x + (size_t)n * D, P, t + n, NULL, err);
    else if (how != JG_TUNE_PENDING_FANTASY)
        for (int j = 0; j < P; j++) t[n + j] = lie;
    jg_tune_gp_hyp_t h;
    jg_tune_gp_get_hyp(bo->gp, &h);
    const double noise = exp(h.log_sn2) * bo->y_std * bo->y_std; /* in units of t */
    for (int k = 0; !rc && k < K; k++) {
        if (!bo->sim[k]) rc = jg_tune_gp_create(&bo->sim[k], D, err);
        for (int j = 0; !rc && how == JG_TUNE_PENDING_FANTASY && j < P; j++) {
            double mu, var;
            const double *xj = x + (size_t)(n + j) * D;
            rc = jg_tune_gp_set_data_as(bo->sim[k], x, t, n + j, bo->gp, err);
            if (!rc) rc = jg_tune_gp_predict(bo->sim[k], xj, 1, &mu, &var, err);
            if (!rc) t[n + j] = mu + sqrt(var + noise) * normal(sf);
        }
        if (!rc) rc = jg_tune_gp_set_data_as(bo->sim[k], x, t, N, bo->gp, err);
        if (!rc) rc = incumbent(bo->sim[k], x, N, &bo->bests[k], err);
    }
    free(x);
    free(t);
    if (rc) return rc;
    bo->models = bo->sim;
    bo->n_models = K;
    return 0;
}

int jg_tune_bayes_propose(jg_tune_bayes_t *bo, double *u, jg_tune_error_t *err)
{
    return jg_tune_bayes_propose_pending(bo, NULL, 0, u, err);
}

int jg_tune_bayes_propose_pending(jg_tune_bayes_t *bo, const double *pending, int n_pending,
                                  double *u, jg_tune_error_t *err)
{
    if (!bo || !u || n_pending < 0 || n_pending > 40000 || (n_pending && !pending)) {
        jg_tune_errorf(err, "bayes: propose needs a state, an output and 0..40000 pending "
                       "points");
        return -EINVAL;
    }
    const int d = bo->cfg.d, D = bo->D, n = bo->n;
    for (int k = 0; k < n_pending * d; k++)
        if (!(pending[k] >= 0.0 && pending[k] <= 1.0))
            return jg_tune_fail(err, -EINVAL, "bayes: pending point %d coordinate %d = %g "
                                "outside [0,1]", k / d, k % d, pending[k]);
    /* Proposal number `index` (the observations plus the points pending)
     * keys every stream, so two proposals never share one. */
    const int index = n + n_pending;
    uint64_t s = stream(bo->cfg.seed, index);
    if (index < bo->cfg.n_init || (n_pending && n < PENDING_MIN_OBS)) {
        for (int k = 0; k < d; k++) u[k] = unit(&s);
        snap(&bo->cfg, u);
        return 0;
    }
    /* ParEGO weight from its own stream so the rest matches other modes */
    uint64_t sw = stream(bo->cfg.seed ^ 0x9e3779b97f4a7c15ull, index);
    targets(bo, (double)(int)(unit(&sw) * (PAREGO_S + 1)) / PAREGO_S);
    int rc = jg_tune_gp_set_data(bo->gp, bo->x, bo->t, n, err);
    if (!rc) rc = jg_tune_gp_fit(bo->gp, jg_splitmix64(&s), bo->cfg.fit_restarts, err);
    if (!rc && bo->cfg.acq == JG_TUNE_ACQ_EI_PER_J) rc = fit_cost(bo, err);
    if (rc) return rc;

    /* The incumbent is the best posterior mean at the observed points, not
     * the best observation: with noisy observations (a trial's accuracy
     * varies with its seed) the best observation is an optimistic draw, and
     * improving on it looks likely only where the variance is large, which
     * sends EI and PI to the corners. For noise-free data the two agree. */
    double *fit_mu = malloc((size_t)n * sizeof *fit_mu);
    if (!fit_mu) return jg_tune_fail(err, -ENOMEM, "bayes: out of memory");
    rc = jg_tune_gp_predict(bo->gp, bo->x, n, fit_mu, NULL, err);
    int order[N_BEST_OBS] = { 0 }; /* observations with the best means, best first */
    int nb = 0;
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) mean += bo->t[i];
    mean /= n;
    for (int i = 0; !rc && i < n; i++) {
        var += (bo->t[i] - mean) * (bo->t[i] - mean);
        int j = nb < N_BEST_OBS ? nb++ : N_BEST_OBS;
        while (j > 0 && fit_mu[order[j - 1]] < fit_mu[i]) {
            if (j < N_BEST_OBS) order[j] = order[j - 1];
            j--;
        }
        if (j < N_BEST_OBS) order[j] = i;
    }
    bo->best = fit_mu[order[0]];
    free(fit_mu);
    if (rc) return rc;
    bo->y_std = var > 0.0 ? sqrt(var / n) : 1.0;
    bo->models = &bo->gp;
    bo->bests[0] = bo->best;
    bo->n_models = 1;
    if (n_pending && bo->cfg.pending != JG_TUNE_PENDING_IGNORE) {
        uint64_t sf = stream(bo->cfg.seed ^ 0xbf58476d1ce4e5b9ull, index);
        rc = simulate_pending(bo, pending, n_pending, &sf, err);
        if (rc) return rc;
    }

    /* Candidates: uniform (each category equally likely), then Gaussian
     * perturbations of the best points at three scales (sd 0.1, 0.01, 0.001;
     * at least one cell for ordered discrete dims; categories kept). */
    int c = 0;
    for (; c < bo->cfg.n_candidates; c++) {
        double *cu = bo->cand + (size_t)c * d;
        for (int k = 0; k < d; k++) cu[k] = unit(&s);
        snap(&bo->cfg, cu);
    }
    for (int b = 0; b < nb; b++) {
        const double *ob = bo->u + (size_t)order[b] * d;
        for (int p = 0; p < N_PERTURB; p++, c++) {
            double *cu = bo->cand + (size_t)c * d;
            const double sd = p % 3 == 0 ? 0.1 : (p % 3 == 1 ? 0.01 : 0.001);
            for (int k = 0; k < d; k++) {
                const int L = levels(&bo->cfg, k);
                const double z = normal(&s);
                cu[k] = is_cat(&bo->cfg, k) ? ob[k]
                        : clamp01(ob[k] + (L > 0 && sd < 1.0 / L ? 1.0 / L : sd) * z);
            }
            snap(&bo->cfg, cu);
        }
    }
    for (int i = 0; i < c; i++)
        encode(&bo->cfg, bo->cand + (size_t)i * d, bo->xcand + (size_t)i * D);
    rc = score(bo, bo->xcand, c, bo->mu, bo->var, bo->mc, bo->acq, err);
    if (rc) return rc;
    int top[N_REFINE] = { 0 }; /* best candidates by acquisition, best first */
    int nt = 0;
    for (int i = 0; i < c; i++) {
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
