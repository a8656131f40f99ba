/* SPDX-License-Identifier: MIT */
/*
 * gp.c - Gaussian-process regression on [0,1]^d with a Matern-5/2 ARD
 * kernel: Cholesky with escalating jitter, posterior, log marginal
 * likelihood with its gradient, and a hyperparameter fit (projected gradient
 * ascent with backtracking; chosen over L-BFGS because it is short, needs no
 * curvature bookkeeping at the box bounds, and the problem has d + 2 <= 34
 * parameters).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

#define SQRT5 2.23606797749978969640
#define LOG_2PI 1.83787706640934548356

/* Box bounds (natural logs) and weak log-normal priors N(mean, sd^2). */
#define LOG_LS_LO (-6.907755278982137)   /* ls >= 1e-3 */
#define LOG_LS_HI (4.605170185988092)    /* ls <= 1e2 */
#define LOG_SF2_LO (-6.907755278982137)  /* sf2 >= 1e-3 */
#define LOG_SF2_HI (6.907755278982137)   /* sf2 <= 1e3 */
#define LOG_SN2_LO (-13.815510557964274) /* sn2 >= 1e-6 */
#define LOG_SN2_HI (0.0)                 /* sn2 <= 1 */
#define PRIOR_LS_MEAN (-0.6931471805599453) /* ls ~ 0.5 */
#define PRIOR_LS_SD 1.5
#define PRIOR_SF2_MEAN 0.0
#define PRIOR_SF2_SD 1.5
#define PRIOR_SN2_MEAN (-9.210340371976182) /* sn2 ~ 1e-4 */
#define PRIOR_SN2_SD 3.0

#define FIT_MAX_ITERS 40

struct jg_tune_gp {
    int d, n;
    double *u;       /* (n, d) inputs */
    double *ys;      /* (n) standardised targets */
    double y_mean, y_std;
    jg_tune_gp_hyp_t hyp;
    double jitter;   /* added to the diagonal by the last factorisation */
    int factored;    /* L and alpha match hyp and the data */
    double *L;       /* (n, n) lower Cholesky factor of K + (sn2 + jitter) I */
    double *alpha;   /* (n) (K + sn2 I)^-1 ys */
    double *W;       /* (n, n) scratch: alpha alpha^T - K^-1 (lower half) */
    double *Li;      /* (n, n) scratch: L^-1 (lower half) */
    double *v;       /* (n) scratch */
};

/* Uniform in [lo, hi). */
static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(jg_splitmix64(s) >> 11) * 0x1.0p-53;
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* r = scaled distance, with inv_ls (d) = 1 / length scales. */
static double scaled_dist(const double *a, const double *b, const double *inv_ls,
                          int d)
{
    double r2 = 0.0;
    for (int i = 0; i < d; i++) {
        const double t = (a[i] - b[i]) * inv_ls[i];
        r2 += t * t;
    }
    return sqrt(r2);
}

/* Matern-5/2 correlation (sf2 = 1) at scaled distance r. */
static double matern52(double r)
{
    return (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * exp(-SQRT5 * r);
}

static void inv_lengths(const jg_tune_gp_hyp_t *h, int d, double *inv_ls)
{
    for (int i = 0; i < d; i++) inv_ls[i] = exp(-h->log_ls[i]);
}

/* In-place lower Cholesky of A (n, n); -1 if a pivot is not clearly
 * positive (tol is absolute). Only the lower triangle is read/written. */
static int cholesky(double *A, int n, double tol)
{
    for (int j = 0; j < n; j++) {
        double s = A[j * n + j];
        for (int k = 0; k < j; k++) s -= A[j * n + k] * A[j * n + k];
        if (!(s > tol)) return -1;
        const double ljj = sqrt(s);
        A[j * n + j] = ljj;
        for (int i = j + 1; i < n; i++) {
            double t = A[i * n + j];
            for (int k = 0; k < j; k++) t -= A[i * n + k] * A[j * n + k];
            A[i * n + j] = t / ljj;
        }
    }
    return 0;
}

/* Solves L x = b in place (x overwrites b). */
static void solve_lower(const double *L, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++) t -= L[i * n + k] * b[k];
        b[i] = t / L[i * n + i];
    }
}

/* Solves L^T x = b in place. */
static void solve_upper_t(const double *L, int n, double *b)
{
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++) t -= L[k * n + i] * b[k];
        b[i] = t / L[i * n + i];
    }
}

/* Builds K + sn2 I under h, factorises it with escalating jitter and solves
 * alpha. Returns 0, or -EDOM if even 1e-2 x mean diagonal does not help. */
static int factorise(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *h)
{
    const int n = gp->n, d = gp->d;
    double inv_ls[JG_TUNE_GP_MAX_DIM];
    inv_lengths(h, d, inv_ls);
    const double sf2 = exp(h->log_sf2), sn2 = exp(h->log_sn2);
    const double diag = sf2 + sn2; /* every diagonal entry, so also the mean */
    gp->factored = 0;
    double jitter = 0.0;
    for (int attempt = 0; attempt <= 9; attempt++) {
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < i; j++)
                gp->L[i * n + j] =
                    sf2 * matern52(scaled_dist(gp->u + i * d, gp->u + j * d, inv_ls, d));
            gp->L[i * n + i] = diag + jitter;
        }
        /* A pivot below 1e-12 x diag means (numerically) duplicate points. */
        if (cholesky(gp->L, n, 1e-12 * diag) == 0) {
            gp->jitter = jitter;
            memcpy(gp->alpha, gp->ys, (size_t)n * sizeof *gp->alpha);
            solve_lower(gp->L, n, gp->alpha);
            solve_upper_t(gp->L, n, gp->alpha);
            gp->hyp = *h;
            gp->factored = 1;
            return 0;
        }
        jitter = 1e-10 * diag * pow(10.0, attempt); /* 1e-10 .. 1e-2 */
    }
    return -EDOM;
}

int jg_tune_gp_create(jg_tune_gp_t **out, int d, jg_tune_error_t *err)
{
    if (!out || d < 1 || d > JG_TUNE_GP_MAX_DIM) {
        jg_tune_errorf(err, "gp: dimension %d outside 1..%d", d, JG_TUNE_GP_MAX_DIM);
        return -EINVAL;
    }
    jg_tune_gp_t *gp = calloc(1, sizeof *gp);
    if (!gp) {
        jg_tune_errorf(err, "gp: out of memory");
        return -ENOMEM;
    }
    gp->d = d;
    for (int i = 0; i < d; i++) gp->hyp.log_ls[i] = log(0.5);
    gp->hyp.log_sf2 = 0.0;
    gp->hyp.log_sn2 = log(1e-4);
    gp->y_std = 1.0;
    *out = gp;
    return 0;
}

static void free_data(jg_tune_gp_t *gp)
{
    free(gp->u);
    free(gp->ys);
    free(gp->L);
    free(gp->alpha);
    free(gp->W);
    free(gp->Li);
    free(gp->v);
    gp->u = gp->ys = gp->L = gp->alpha = gp->W = gp->Li = gp->v = NULL;
    gp->n = 0;
    gp->factored = 0;
}

void jg_tune_gp_destroy(jg_tune_gp_t *gp)
{
    if (!gp) return;
    free_data(gp);
    free(gp);
}

/* Copies n points u (n, d) and targets y (n) and standardises y with the
 * given mean and std (> 0), then factorises with the current hyperparameters. */
static int set_data(jg_tune_gp_t *gp, const double *u, const double *y, int n, double mean,
                    double std, jg_tune_error_t *err)
{
    if (!gp || !u || !y || n < 1 || n > 46340 /* n * n fits an int */) {
        jg_tune_errorf(err, "gp: need 1..46340 points, got %d", n);
        return -EINVAL;
    }
    const int d = gp->d;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            jg_tune_errorf(err, "gp: target %d is not finite", i);
            return -EINVAL;
        }
        for (int k = 0; k < d; k++) {
            if (!(u[i * d + k] >= 0.0 && u[i * d + k] <= 1.0)) {
                jg_tune_errorf(err, "gp: point %d coordinate %d outside [0,1]", i, k);
                return -EINVAL;
            }
        }
    }
    free_data(gp);
    const size_t nn = (size_t)n * (size_t)n;
    gp->u = malloc((size_t)n * (size_t)d * sizeof *gp->u);
    gp->ys = malloc((size_t)n * sizeof *gp->ys);
    gp->L = malloc(nn * sizeof *gp->L);
    gp->alpha = malloc((size_t)n * sizeof *gp->alpha);
    gp->W = malloc(nn * sizeof *gp->W);
    gp->Li = malloc(nn * sizeof *gp->Li);
    gp->v = malloc((size_t)n * sizeof *gp->v);
    if (!gp->u || !gp->ys || !gp->L || !gp->alpha || !gp->W || !gp->Li || !gp->v) {
        free_data(gp);
        jg_tune_errorf(err, "gp: out of memory for %d points", n);
        return -ENOMEM;
    }
    gp->n = n;
    memcpy(gp->u, u, (size_t)n * (size_t)d * sizeof *gp->u);
    gp->y_mean = mean;
    gp->y_std = std;
    for (int i = 0; i < n; i++) gp->ys[i] = (y[i] - mean) / gp->y_std;
    if (factorise(gp, &gp->hyp)) {
        jg_tune_errorf(err, "gp: covariance not positive definite even with jitter");
        return -EDOM;
    }
    return 0;
}

int jg_tune_gp_set_data(jg_tune_gp_t *gp, const double *u, const double *y,
                        int n, jg_tune_error_t *err)
{
    double mean = 0.0, var = 0.0;
    for (int i = 0; y && i < n; i++) mean += y[i];
    mean /= n > 0 ? n : 1;
    for (int i = 0; y && i < n; i++) var += (y[i] - mean) * (y[i] - mean);
    var /= n > 0 ? n : 1;
    return set_data(gp, u, y, n, mean, var > 0.0 && isfinite(var) ? sqrt(var) : 1.0, err);
}

int jg_tune_gp_set_data_as(jg_tune_gp_t *gp, const double *u, const double *y, int n,
                           const jg_tune_gp_t *like, jg_tune_error_t *err)
{
    if (!gp || !like || like->d != gp->d)
        return jg_tune_fail(err, -EINVAL, "gp: set_data_as needs two GPs of one dimension");
    gp->hyp = like->hyp;
    return set_data(gp, u, y, n, like->y_mean, like->y_std, err);
}

static int hyp_valid(const jg_tune_gp_hyp_t *h, int d)
{
    for (int i = 0; i < d; i++)
        if (!isfinite(h->log_ls[i])) return 0;
    return isfinite(h->log_sf2) && isfinite(h->log_sn2);
}

int jg_tune_gp_set_hyp(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *hyp,
                       jg_tune_error_t *err)
{
    if (!gp || !hyp || !hyp_valid(hyp, gp->d)) {
        jg_tune_errorf(err, "gp: hyperparameters must be finite logs");
        return -EINVAL;
    }
    gp->hyp = *hyp;
    if (gp->n > 0 && factorise(gp, hyp)) {
        jg_tune_errorf(err, "gp: covariance not positive definite even with jitter");
        return -EDOM;
    }
    return 0;
}

void jg_tune_gp_get_hyp(const jg_tune_gp_t *gp, jg_tune_gp_hyp_t *hyp)
{
    *hyp = gp->hyp;
}

double jg_tune_gp_jitter(const jg_tune_gp_t *gp)
{
    return gp->jitter;
}

/* lml under h (factorises with h); assumes data and a valid h. */
static int lml_value(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *h, double *lml)
{
    const int n = gp->n;
    if (factorise(gp, h)) return -EDOM;
    double quad = 0.0, logdet = 0.0;
    for (int i = 0; i < n; i++) {
        quad += gp->ys[i] * gp->alpha[i];
        logdet += log(gp->L[i * n + i]);
    }
    *lml = -0.5 * quad - logdet - 0.5 * n * LOG_2PI;
    return 0;
}

/* d lml / d (log_ls, log_sf2, log_sn2) into grad (d + 2); needs the current
 * factorisation to be that of h (the last lml_value). */
static void lml_gradient(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *h, double *grad)
{
    const int n = gp->n, d = gp->d;
    /* Li = L^-1 (lower), then W = alpha alpha^T - K^-1 with
     * K^-1_ij = sum_{k >= max(i,j)} Li_ki Li_kj (n^3/3 flops in all). */
    double *Li = gp->Li;
    for (int j = 0; j < n; j++) {
        Li[j * n + j] = 1.0 / gp->L[j * n + j];
        for (int i = j + 1; i < n; i++) {
            double t = 0.0;
            for (int k = j; k < i; k++) t -= gp->L[i * n + k] * Li[k * n + j];
            Li[i * n + j] = t / gp->L[i * n + i];
        }
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
            double t = 0.0;
            for (int k = i; k < n; k++) t += Li[k * n + i] * Li[k * n + j];
            gp->W[i * n + j] = gp->alpha[i] * gp->alpha[j] - t;
        }
    }
    /* d lml / d theta = 1/2 sum_ij W_ij dK_ij / d theta, with
     *   dK/d log ls_k = sf2 5/3 (1 + sqrt5 r) exp(-sqrt5 r) (du_k / ls_k)^2
     *   dK/d log sf2  = K_f,   dK/d log sn2 = sn2 I (jitter held fixed). */
    double inv_ls[JG_TUNE_GP_MAX_DIM];
    inv_lengths(h, d, inv_ls);
    const double sf2 = exp(h->log_sf2), sn2 = exp(h->log_sn2);
    for (int k = 0; k < d + 2; k++) grad[k] = 0.0;
    for (int i = 0; i < n; i++) {
        grad[d] += 0.5 * gp->W[i * n + i] * sf2;
        grad[d + 1] += 0.5 * gp->W[i * n + i] * sn2;
        for (int j = 0; j < i; j++) {
            const double *a = gp->u + i * d, *b = gp->u + j * d;
            const double r = scaled_dist(a, b, inv_ls, d);
            const double e = exp(-SQRT5 * r);
            const double w = gp->W[i * n + j]; /* symmetric pair: 2 x 1/2 */
            grad[d] += w * sf2 * (1.0 + SQRT5 * r + 5.0 / 3.0 * r * r) * e;
            const double g = w * sf2 * 5.0 / 3.0 * (1.0 + SQRT5 * r) * e;
            for (int k = 0; k < d; k++) {
                const double t = (a[k] - b[k]) * inv_ls[k];
                grad[k] += g * t * t;
            }
        }
    }
}

/* lml and (optionally) its gradient; assumes data and a valid h. */
static int lml_grad(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *h, double *lml,
                    double *grad)
{
    if (lml_value(gp, h, lml)) return -EDOM;
    if (grad) lml_gradient(gp, h, grad);
    return 0;
}

int jg_tune_gp_lml(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *hyp, double *lml,
                   double *grad, jg_tune_error_t *err)
{
    if (!gp || !hyp || !lml || !hyp_valid(hyp, gp->d) || gp->n < 1) {
        jg_tune_errorf(err, "gp: lml needs data and finite hyperparameters");
        return -EINVAL;
    }
    gp->hyp = *hyp;
    if (lml_grad(gp, hyp, lml, grad)) {
        jg_tune_errorf(err, "gp: covariance not positive definite even with jitter");
        return -EDOM;
    }
    return 0;
}

/* A flat vector x (d + 2) = (log_ls, log_sf2, log_sn2) to hyperparameters. */
static void x_to_hyp(const double *x, int d, jg_tune_gp_hyp_t *h)
{
    memset(h, 0, sizeof *h);
    for (int k = 0; k < d; k++) h->log_ls[k] = x[k];
    h->log_sf2 = x[d];
    h->log_sn2 = x[d + 1];
}

static void project(double *x, int d)
{
    for (int k = 0; k < d; k++) x[k] = clampd(x[k], LOG_LS_LO, LOG_LS_HI);
    x[d] = clampd(x[d], LOG_SF2_LO, LOG_SF2_HI);
    x[d + 1] = clampd(x[d + 1], LOG_SN2_LO, LOG_SN2_HI);
}

static double prior_mean(int k, int d)
{
    return k < d ? PRIOR_LS_MEAN : (k == d ? PRIOR_SF2_MEAN : PRIOR_SN2_MEAN);
}

static double prior_sd(int k, int d)
{
    return k < d ? PRIOR_LS_SD : (k == d ? PRIOR_SF2_SD : PRIOR_SN2_SD);
}

/* lml + log prior (up to a constant) at x (d + 2); -inf if the covariance
 * cannot be factorised. Leaves the factorisation of x in gp. */
static double objective(jg_tune_gp_t *gp, const double *x)
{
    const int d = gp->d;
    jg_tune_gp_hyp_t h;
    x_to_hyp(x, d, &h);
    double f;
    if (lml_value(gp, &h, &f)) return -INFINITY;
    for (int k = 0; k < d + 2; k++) {
        const double m = prior_mean(k, d), s = prior_sd(k, d);
        f -= 0.5 * (x[k] - m) * (x[k] - m) / (s * s);
    }
    return f;
}

/* Gradient g (d + 2) of the objective at x, the last point evaluated. */
static void objective_grad(jg_tune_gp_t *gp, const double *x, double *g)
{
    const int d = gp->d;
    jg_tune_gp_hyp_t h;
    x_to_hyp(x, d, &h);
    lml_gradient(gp, &h, g);
    for (int k = 0; k < d + 2; k++) {
        const double m = prior_mean(k, d), s = prior_sd(k, d);
        g[k] -= (x[k] - m) / (s * s);
    }
}

/* Projected gradient ascent on x (d + 2) with a step on the unit gradient
 * direction: accept if the objective rises (then double the step), else
 * halve it; stop when the step is below 1e-3 (in log units). The gradient
 * (2/3 of an evaluation's cost) is computed for accepted steps only. */
static double ascend(jg_tune_gp_t *gp, double *x)
{
    const int p = gp->d + 2;
    double g[JG_TUNE_GP_MAX_DIM + 2], xt[JG_TUNE_GP_MAX_DIM + 2];
    double f = objective(gp, x);
    if (!isfinite(f)) return f;
    objective_grad(gp, x, g);
    double step = 0.5;
    for (int it = 0; it < FIT_MAX_ITERS && step > 1e-3; it++) {
        double gn = 0.0;
        for (int k = 0; k < p; k++) gn += g[k] * g[k];
        gn = sqrt(gn);
        if (gn < 1e-8) break;
        for (int k = 0; k < p; k++) xt[k] = x[k] + step * g[k] / gn;
        project(xt, gp->d);
        const double ft = objective(gp, xt);
        if (ft > f) {
            f = ft;
            memcpy(x, xt, (size_t)p * sizeof *x);
            objective_grad(gp, x, g);
            step = fmin(2.0 * step, 2.0);
        } else {
            step *= 0.5;
        }
    }
    return f;
}

int jg_tune_gp_fit(jg_tune_gp_t *gp, uint64_t seed, int restarts,
                   jg_tune_error_t *err)
{
    if (!gp || gp->n < 1 || restarts < 0) {
        jg_tune_errorf(err, "gp: fit needs data and restarts >= 0");
        return -EINVAL;
    }
    const int d = gp->d;
    double x[JG_TUNE_GP_MAX_DIM + 2], best_x[JG_TUNE_GP_MAX_DIM + 2];
    double best_f = -INFINITY;
    uint64_t s = seed ^ 0x6a09e667f3bcc909ull;
    for (int r = -1; r <= restarts; r++) {
        if (r == -1) {
            /* fixed start: the prior means (ls 0.5, sf2 1, sn2 1e-4) */
            for (int k = 0; k < d; k++) x[k] = PRIOR_LS_MEAN;
            x[d] = PRIOR_SF2_MEAN;
            x[d + 1] = PRIOR_SN2_MEAN;
        } else if (r == 0) {
            /* fixed start for noisy data (ls 1, sf2 1, sn2 0.05): from the
             * first one the ascent can stay in a local optimum that
             * interpolates the noise with short length scales */
            for (int k = 0; k < d; k++) x[k] = 0.0;
            x[d] = 0.0;
            x[d + 1] = log(0.05);
        } else {
            for (int k = 0; k < d; k++) x[k] = uniform(&s, log(0.05), log(2.0));
            x[d] = uniform(&s, log(0.3), log(3.0));
            x[d + 1] = uniform(&s, LOG_SN2_LO, log(1e-2));
        }
        const double f = ascend(gp, x);
        if (f > best_f) {
            best_f = f;
            memcpy(best_x, x, sizeof x);
        }
    }
    if (!isfinite(best_f)) {
        jg_tune_errorf(err, "gp: fit failed: covariance not positive definite");
        return -EDOM;
    }
    jg_tune_gp_hyp_t h;
    x_to_hyp(best_x, d, &h);
    if (factorise(gp, &h)) {
        jg_tune_errorf(err, "gp: covariance not positive definite even with jitter");
        return -EDOM;
    }
    return 0;
}

int jg_tune_gp_predict(jg_tune_gp_t *gp, const double *uq, int m, double *mean,
                       double *var, jg_tune_error_t *err)
{
    if (!gp || !uq || !mean || m < 0 || gp->n < 1) {
        jg_tune_errorf(err, "gp: predict needs data, queries and an output");
        return -EINVAL;
    }
    if (!gp->factored && factorise(gp, &gp->hyp)) {
        jg_tune_errorf(err, "gp: covariance not positive definite even with jitter");
        return -EDOM;
    }
    const int n = gp->n, d = gp->d;
    double inv_ls[JG_TUNE_GP_MAX_DIM];
    inv_lengths(&gp->hyp, d, inv_ls);
    const double sf2 = exp(gp->hyp.log_sf2);
    for (int q = 0; q < m; q++) {
        const double *a = uq + (size_t)q * d;
        double mu = 0.0;
        for (int i = 0; i < n; i++) {
            gp->v[i] = sf2 * matern52(scaled_dist(a, gp->u + i * d, inv_ls, d));
            mu += gp->v[i] * gp->alpha[i];
        }
        mean[q] = gp->y_mean + gp->y_std * mu;
        if (var) {
            solve_lower(gp->L, n, gp->v);
            double vv = 0.0;
            for (int i = 0; i < n; i++) vv += gp->v[i] * gp->v[i];
            const double s2 = fmax(sf2 - vv, 0.0);
            var[q] = s2 * gp->y_std * gp->y_std;
        }
    }
    return 0;
}
