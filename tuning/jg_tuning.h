/* SPDX-License-Identifier: MIT */
/*
 * jg_tuning.h - hyperparameter tuning with energy as a first-class metric:
 * search spaces, proposal strategies (grid, random/quasi-random, Bayesian
 * optimisation with a Gaussian process, also with points pending for
 * parallel workers), an append-only trial log, ASHA early stopping, test
 * functions with simulated parallel workers, and the study loop that runs
 * strategies against a caller's evaluator, one job at a time or several
 * (last section).
 *
 * Contract: every function that can fail returns 0 or a negative errno and
 * fills a caller-provided jg_tune_error_t (may be NULL) with one line; nothing
 * prints or exits. Every strategy is seeded: the same seed gives the same
 * proposals on every run.
 */
#ifndef JG_TUNING_H
#define JG_TUNING_H

#include <stddef.h>
#include <stdint.h>

#include "jg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char msg[1024]; /* room for a study's messages, which name paths */
} jg_tune_error_t;

/* ---- search spaces, grid and random strategies, trial log ---------------- */

/*
 * Search space: a comma-separated list of dimensions (docs/tuning.md has the
 * grammar), e.g. "lr=log:1e-5:1e-1,beta1=0.1:0.999,batch=int:32:512,
 * opt=cat:adam|sgd". Bounds are inclusive.
 *
 * A point is one double per dimension, in the space's order: the value itself
 * for lin/log/int dimensions (ints hold an exact integer), the 0-based
 * category index for cat dimensions.
 *
 * Unit cube: u in [0,1] per dimension.
 *   lin: u = (x - lo) / (hi - lo)
 *   log: u = (ln x - ln lo) / (ln hi - ln lo)
 *   int: the n = hi - lo + 1 integers own equal cells; x -> cell centre
 *        (x - lo + 0.5) / n, u -> lo + min(floor(u n), n - 1)
 *   cat: same as int over the category indices 0..n-1
 * so to_unit(from_unit(u)) == u exactly only for lin/log; from_unit(to_unit(x))
 * == x for every kind (up to rounding for lin/log).
 */
#define JG_TUNE_MAX_DIMS 20   /* also the Sobol table size */
#define JG_TUNE_MAX_CATS 32
#define JG_TUNE_NAME_MAX 32   /* dimension and category names, incl. NUL */
#define JG_TUNE_SPACE_TEXT_MAX 22528 /* canonical text, incl. NUL (worst case) */

typedef enum {
    JG_TUNE_LIN = 0, /* float, linear scale */
    JG_TUNE_LOG,     /* float, log scale, lo > 0 */
    JG_TUNE_INT,     /* integer, linear scale */
    JG_TUNE_CAT,     /* categorical */
} jg_tune_kind_t;

typedef struct {
    char name[JG_TUNE_NAME_MAX];
    jg_tune_kind_t kind;
    double lo, hi; /* inclusive; cat: 0 and n_cats - 1 */
    int n_cats;    /* cat only */
    char cats[JG_TUNE_MAX_CATS][JG_TUNE_NAME_MAX];
} jg_tune_dim_t;

typedef struct {
    int n_dims;
    jg_tune_dim_t dims[JG_TUNE_MAX_DIMS];
} jg_tune_space_t;

typedef struct {
    double v[JG_TUNE_MAX_DIMS]; /* (n_dims) values; cat = category index */
} jg_tune_point_t;

/* Parses text into *space. Errors say "space:1:COL: what 'token' ..."
 * (COL 1-based, the token's first character): -EINVAL. */
int jg_tune_space_parse(jg_tune_space_t *space, const char *text,
                        jg_tune_error_t *err);
/* Canonical text (parses back to the same space): "name=kind:lo:hi" with
 * kind lin|log|int, shortest round-trip numbers, "name=cat:a|b". -ENOSPC if
 * it does not fit in len bytes. */
int jg_tune_space_format(const jg_tune_space_t *space, char *buf, size_t len);
/* FNV-1a 64 of the canonical text: stable across runs and machines. */
uint64_t jg_tune_space_hash(const jg_tune_space_t *space);
/* Index of the dimension called name, or -1. */
int jg_tune_space_find(const jg_tune_space_t *space, const char *name);

/* 0 if p is inside the space (finite, in bounds, ints integral, valid
 * category index), else -EINVAL naming the dimension. */
int jg_tune_point_check(const jg_tune_space_t *space, const jg_tune_point_t *p,
                        jg_tune_error_t *err);
/* u (n_dims) = unit-cube image of p; -EINVAL if p fails jg_tune_point_check. */
int jg_tune_space_to_unit(const jg_tune_space_t *space, const jg_tune_point_t *p,
                          double *u, jg_tune_error_t *err);
/* p = point for u (n_dims); u is clamped to [0,1]; -EINVAL if u has a NaN. */
int jg_tune_space_from_unit(const jg_tune_space_t *space, const double *u,
                            jg_tune_point_t *p, jg_tune_error_t *err);
/* Writes "lr=0.001,batch=64,opt=adam" (%.6g floats, exact ints) into buf,
 * truncated to len (for progress lines). */
void jg_tune_point_format(const jg_tune_space_t *space, const jg_tune_point_t *p,
                          char *buf, size_t len);

/*
 * Proposal strategies without feedback: proposal i depends only on (space,
 * seed, i) (and grid points), so a resumed study proposes exactly what an
 * uninterrupted one would.
 *   "grid"   - grid_points per float dimension (lin: evenly spaced, log:
 *              geometrically spaced, both bounds included), ints: the rounded
 *              values deduplicated, cats: every category; the full product
 *              enumerated in a seeded Fisher-Yates order. Proposals past the
 *              end return -ERANGE.
 *   "random" - i.i.d. uniform in the unit cube (xoshiro256** seeded from
 *              splitmix64(seed, i)), mapped with from_unit.
 *   "sobol"  - Sobol sequence (Joe-Kuo direction numbers, up to 20 dims) in
 *              Gray-code order with a seeded random digital shift; the first
 *              2^m points stratify every 1-D projection into 2^m cells.
 */
typedef struct jg_tune_strategy jg_tune_strategy_t;

#define JG_TUNE_GRID_POINTS_DEFAULT 5
#define JG_TUNE_GRID_MAX 1000000 /* cap on the enumerated grid */

/* name: "grid" | "random" | "sobol"; grid_points in [2, 1000] (grid only,
 * 0 = default). Copies the space. */
int jg_tune_strategy_create(jg_tune_strategy_t **out, const char *name,
                            const jg_tune_space_t *space, uint64_t seed,
                            int grid_points, jg_tune_error_t *err);
void jg_tune_strategy_destroy(jg_tune_strategy_t *s);
/* p = proposal number i (0-based). -ERANGE past the grid, -EINVAL if i < 0. */
int jg_tune_strategy_propose(jg_tune_strategy_t *s, int64_t i,
                             jg_tune_point_t *p, jg_tune_error_t *err);
/* Number of distinct proposals: grid size, or -1 for unbounded strategies. */
int64_t jg_tune_strategy_size(const jg_tune_strategy_t *s);
const char *jg_tune_strategy_name(const jg_tune_strategy_t *s);

/*
 * Trial log: append-only JSON Lines. Line 1 is the header
 *   {"type":"header","version":2,"space":CANONICAL,"space_hash":"16 hex",
 *    "model":..,"strategy":..,"seed":"decimal u64","created":unix_s,
 *    "run":..,"checksum":"8 hex"}
 * then one line per finished trial
 *   {"type":"trial","trial":n,"strategy":..,"params":{name:value|"category"},
 *    "val_accuracy":..,"test_accuracy":..,"energy_j":..,"energy_source":..,
 *    "seconds":..,"status":..,"epochs":..,["rung":..,]"checksum":"8 hex"}
 * ("run", "epochs" and "rung" are optional when read: logs written before
 * them read as "", 0 and -1). "trial" counts from 1, as every screen line
 * and file of a study does; version 1 logs counted from 0 and are read, and
 * appended to, in their own numbering. In memory (jg_tune_trial_t.trial)
 * a trial is its 0-based index either way. With early stopping a trial has one record
 * per rung it finished, each charged the joules of that rung's training.
 * A study with several jobs in flight (jg_tune_study_run_async, slots > 1)
 * also appends a proposal line when it submits a job, before it runs:
 *   {"type":"proposal","trial":n,"strategy":..,"params":{..},"epochs":..,
 *    ["rung":..,]"checksum":"8 hex"}
 * (epochs: what the job trains to), and the job's result line when it ends,
 * so the lines are in the order of the events and a resume can replay them.
 * A serial study writes no proposal lines (the result follows its proposal
 * at once). Readers before proposal lines existed refuse such a log
 * ("bad record: type is not "trial"").
 * checksum = CRC32 (zlib) of the line's compact JSON without the checksum
 * field (the bytes before ,"checksum": then '}'); it is always the last field.
 * Numbers are written in the shortest form that reads back exactly. Each
 * append opens O_APPEND, writes one line, fsyncs and closes.
 */
#define JG_TUNE_LOG_VERSION 2
#define JG_TUNE_LOG_MAX_BYTES (256u << 20) /* refuse larger logs */

typedef struct {
    char model[128];
    char strategy[32];
    uint64_t seed;
    int64_t created_s; /* unix time */
    /* The settings every trial depends on besides its point (data, subset,
     * epochs, batch, ...), as the caller formats them; "" when a log has
     * none. The reader returns it; the caller compares. */
    char run[512];
    int version;       /* the header's (read: 1 or 2; create writes JG_TUNE_LOG_VERSION) */
} jg_tune_log_meta_t;

typedef struct {
    int64_t trial;
    char strategy[32];
    jg_tune_point_t params;
    double val_accuracy;  /* [0,1] */
    double test_accuracy; /* [0,1]; reported, never used for selection */
    double energy_j;
    char energy_source[32];
    double seconds;
    char status[16];      /* "ok", "failed", ... */
    int epochs;           /* epochs trained so far (0: not recorded) */
    int rung;             /* early-stopping rung of this record, -1: none */
} jg_tune_trial_t;

/* Creates path with its header line (O_EXCL: -EEXIST if it exists). */
int jg_tune_log_create(const char *path, const jg_tune_space_t *space,
                       const jg_tune_log_meta_t *meta, jg_tune_error_t *err);
/* Appends one trial record and fsyncs. Refuses (-EIO) a log whose last byte
 * is not a newline: read it with repair first. */
int jg_tune_log_append(const char *path, const jg_tune_space_t *space,
                       const jg_tune_trial_t *t, jg_tune_error_t *err);
/* Appends a proposal line for the job t describes (trial, strategy, params,
 * epochs it trains to, rung; its metrics are ignored) and fsyncs. The same
 * checks and refusals as jg_tune_log_append. */
int jg_tune_log_append_proposal(const char *path, const jg_tune_space_t *space,
                                const jg_tune_trial_t *t, jg_tune_error_t *err);

/* One line of a log after the header, in file order. */
typedef enum {
    JG_TUNE_EVENT_RESULT = 0,   /* a finished job ("trial" line) */
    JG_TUNE_EVENT_PROPOSAL = 1, /* a submitted job ("proposal" line) */
} jg_tune_event_kind_t;

typedef struct {
    jg_tune_event_kind_t kind;
    jg_tune_trial_t t; /* PROPOSAL: trial, strategy, params, epochs, rung; the rest 0 */
} jg_tune_log_event_t;

/* As jg_tune_log_read, but every line after the header: *events (malloc'd,
 * caller frees; NULL when none) holds the *n results and proposals in file
 * order. */
int jg_tune_log_read_events(const char *path, const jg_tune_space_t *space,
                            const char *model, int repair, jg_tune_log_meta_t *meta,
                            jg_tune_log_event_t **events, int64_t *n, char *warning,
                            size_t warning_len, jg_tune_error_t *err);
/* Reads a log written for space and model (model NULL: not checked).
 * On success *trials (malloc'd, caller frees; NULL when none) holds the *n
 * finished trials (result lines; proposal lines are skipped) in file order
 * and meta (may be NULL) the header. A bad
 * final line (torn: no newline, bad JSON or checksum) is dropped and
 * described in warning (empty when none); with repair != 0 the file is
 * also truncated to its last good line so appends can continue. A bad line
 * before that is an error naming its line (-EINVAL); a log for another
 * space or model is refused (-EINVAL) saying what differs. */
int jg_tune_log_read(const char *path, const jg_tune_space_t *space,
                     const char *model, int repair, jg_tune_log_meta_t *meta,
                     jg_tune_trial_t **trials, int64_t *n, char *warning,
                     size_t warning_len, jg_tune_error_t *err);


/* ---- Gaussian process and Bayesian optimisation -------------------------- */

/*
 * Everything here works in the unit cube [0,1]^d; mapping real search spaces
 * to and from the cube is the search-space code's job.
 *
 * GP regression: y = f(u) + e, f ~ GP(0, k), e ~ N(0, sn2), fitted to the
 * standardised targets ys = (y - mean(y)) / std(y) (std with 1/n; 1 when all
 * y are equal). Kernel, Matern-5/2 with one length scale per dimension:
 *   r = sqrt(sum_i ((u_i - v_i) / ls_i)^2),
 *   k(u, v) = sf2 (1 + sqrt(5) r + 5/3 r^2) exp(-sqrt(5) r).
 * Hyperparameters are stored as logs and are in standardised-y units.
 * The Cholesky factor of K + sn2 I is retried with jitter 1e-10, 1e-9, ...,
 * 1e-2 times the mean diagonal added, so duplicate points never fail.
 */
#define JG_TUNE_GP_MAX_DIM 32

typedef struct {
    double log_ls[JG_TUNE_GP_MAX_DIM]; /* log length scale per dimension */
    double log_sf2;                    /* log signal variance */
    double log_sn2;                    /* log noise variance */
} jg_tune_gp_hyp_t;

typedef struct jg_tune_gp jg_tune_gp_t;

/* A GP on [0,1]^d (1 <= d <= JG_TUNE_GP_MAX_DIM) with default
 * hyperparameters (ls 0.5, sf2 1, sn2 1e-4) and no data. */
int jg_tune_gp_create(jg_tune_gp_t **gp, int d, jg_tune_error_t *err);
void jg_tune_gp_destroy(jg_tune_gp_t *gp);

/* Copies n >= 1 points u (n, d) in [0,1]^d and targets y (n), all finite,
 * standardises y and factorises with the current hyperparameters. */
int jg_tune_gp_set_data(jg_tune_gp_t *gp, const double *u, const double *y,
                        int n, jg_tune_error_t *err);

/* Sets the hyperparameters (logs, finite) and refactorises if data is set. */
int jg_tune_gp_set_hyp(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *hyp,
                       jg_tune_error_t *err);
void jg_tune_gp_get_hyp(const jg_tune_gp_t *gp, jg_tune_gp_hyp_t *hyp);

/* Jitter (absolute, standardised units) the last factorisation added. */
double jg_tune_gp_jitter(const jg_tune_gp_t *gp);

/* Log marginal likelihood of the standardised targets under hyp,
 *   lml = -1/2 ys^T (K + sn2 I)^-1 ys - 1/2 log|K + sn2 I| - n/2 log(2 pi),
 * and, if grad != NULL, d lml / d (log_ls[0..d-1], log_sf2, log_sn2) into
 * grad (d + 2). hyp becomes the current hyperparameters. */
int jg_tune_gp_lml(jg_tune_gp_t *gp, const jg_tune_gp_hyp_t *hyp, double *lml,
                   double *grad, jg_tune_error_t *err);

/* Fits the hyperparameters: maximises lml + log prior by projected gradient
 * ascent with backtracking from two fixed starts (the prior means, and a
 * noisy one) plus `restarts` seeded random starts (see docs/tuning.md for the
 * priors and bounds), keeps the best.
 * The result depends only on the data, seed and restarts. */
int jg_tune_gp_fit(jg_tune_gp_t *gp, uint64_t seed, int restarts,
                   jg_tune_error_t *err);

/* Posterior at m query points uq (m, d), in the units of y: mean (m) and
 * variance of the latent f (m, noise excluded; may be NULL). */
int jg_tune_gp_predict(jg_tune_gp_t *gp, const double *uq, int m, double *mean,
                       double *var, jg_tune_error_t *err);

/*
 * Bayesian optimisation. Convention: the tuner MAXIMISES its objective
 * (validation accuracy); set maximise = 0 to minimise (internally y -> -y).
 * With mu, sigma the posterior of the (sign-adjusted) objective, best the
 * best observation and s = std(y):
 *   EI  = (mu - best - xi s) Phi(z) + sigma phi(z),  z = (mu - best - xi s) / sigma
 *   PI  = Phi(z)                                      (the study's acquisition)
 *   UCB = mu + sqrt(beta) sigma
 *   EI_PER_J = EI / exp(m_c),  m_c = posterior mean of a second GP fitted to
 *              ln(cost) (same kernel): EI per predicted joule (Snoek et al.
 *              2012's "EI per second"). exp(m_c) is the predictive median of
 *              the cost, not E[cost] = exp(m_c + v_c / 2), so uncertainty about
 *              the cost never discourages exploring. Every observation must
 *              carry a cost (jg_tune_bayes_observe_cost): plain observe is
 *              refused with -EINVAL.
 * A proposal depends only on the config and the observations so far (in
 * order): a resumed study makes the same proposals as an uninterrupted one.
 */
typedef enum {
    JG_TUNE_ACQ_EI = 0,
    JG_TUNE_ACQ_PI = 1,
    JG_TUNE_ACQ_UCB = 2,
    JG_TUNE_ACQ_EI_PER_J = 3,
} jg_tune_acq_t;

/*
 * Objective. ACCURACY: the GP models y. PARETO (accuracy up, joules down;
 * ParEGO, Knowles 2006): every observation needs a cost; each proposal draws
 * a weight w = (l/10, 1 - l/10), l in 0..10, from (seed, number of
 * observations), normalises both objectives to [0,1] over the observations
 * (f_1 = (y_max - y) / (y_max - y_min) on the sign-adjusted y, f_2 the same on
 * ln(cost) with lower better; 0 when all are equal), scalarises
 *   g = max_i(w_i f_i) + 0.05 sum_i w_i f_i   (lower is better)
 * and runs the acquisition on -g instead of y.
 */
typedef enum {
    JG_TUNE_OBJ_ACCURACY = 0,
    JG_TUNE_OBJ_PARETO = 1,
} jg_tune_objective_t;

#define JG_TUNE_MAX_LEVELS 1000000 /* more integer values: treat as continuous */

/*
 * Points pending: with parallel workers a proposal is made while other
 * points are still being evaluated (jg_tune_bayes_propose_pending). The
 * GP's hyperparameters are fitted to the observations only; the proposal
 * then scores candidates with the GP given a simulated observation at each
 * pending point (targets sign-adjusted, larger is better):
 *   CL_WORST/CL_MEAN/CL_BEST - constant liar (Ginsbourger et al. 2010): the
 *              worst, mean or best observation (for a minimised y the
 *              literature's CL-max, CL-mean, CL-min);
 *   KB       - kriging believer: the posterior mean at the point;
 *   FANTASY  - n_fantasies draws from the joint posterior (noise included),
 *              the acquisition averaged over them (Snoek et al. 2012);
 *   IGNORE   - none (a baseline: proposals cluster).
 * docs/tuning.md has the measurements behind the default.
 */
typedef enum {
    JG_TUNE_PENDING_IGNORE = 0,
    JG_TUNE_PENDING_CL_WORST = 1,
    JG_TUNE_PENDING_CL_MEAN = 2,
    JG_TUNE_PENDING_CL_BEST = 3,
    JG_TUNE_PENDING_KB = 4,
    JG_TUNE_PENDING_FANTASY = 5,
} jg_tune_pending_t;

#define JG_TUNE_PENDING_DEFAULT JG_TUNE_PENDING_KB

typedef struct {
    int d;            /* dimensions of the unit cube */
    int maximise;     /* 1: maximise y (default), 0: minimise */
    jg_tune_acq_t acq;
    double xi;        /* EI/PI margin in units of std(y); default 0 (PI: try 0.01) */
    double ucb_beta;  /* UCB exploration weight; default 4 */
    int n_init;       /* seeded uniform points before the GP; default max(5, d+1) */
    int n_candidates; /* uniform candidates per proposal; default 2000 */
    int fit_restarts; /* random restarts of the hyperparameter fit; default 2 */
    uint64_t seed;
    jg_tune_objective_t objective; /* default JG_TUNE_OBJ_ACCURACY */
    /* Discrete dimensions (index < JG_TUNE_MAX_DIMS; later ones are
     * continuous). levels[k]: 0 = continuous, L in 1..JG_TUNE_MAX_LEVELS = L
     * values owning equal cells of [0,1] as in the search space (value j at
     * the centre (j + 0.5) / L). categorical[k] = 1: unordered (needs
     * 1 <= L <= JG_TUNE_MAX_CATS), one-hot encoded in the GP input (L inputs
     * instead of 1; the total must stay <= JG_TUNE_GP_MAX_DIM); else ordered:
     * snapped to the cell centre. Proposals put these dimensions at cell
     * centres; observed u may lie anywhere in the cell. Default all 0. */
    int levels[JG_TUNE_MAX_DIMS];
    int categorical[JG_TUNE_MAX_DIMS];
    jg_tune_pending_t pending; /* default JG_TUNE_PENDING_DEFAULT */
    int n_fantasies;  /* FANTASY: posterior draws averaged, 1..64; default 8 */
} jg_tune_bayes_config_t;

typedef struct jg_tune_bayes jg_tune_bayes_t;

void jg_tune_bayes_config_default(jg_tune_bayes_config_t *cfg, int d,
                                  uint64_t seed);
/* The defaults for d = space->n_dims, plus levels/categorical from the space:
 * int -> hi - lo + 1 ordered levels (0 = continuous beyond
 * JG_TUNE_MAX_LEVELS), cat -> n_cats unordered levels. */
void jg_tune_bayes_config_from_space(jg_tune_bayes_config_t *cfg,
                                     const jg_tune_space_t *space, uint64_t seed);
int jg_tune_bayes_create(jg_tune_bayes_t **bo,
                         const jg_tune_bayes_config_t *cfg,
                         jg_tune_error_t *err);
void jg_tune_bayes_destroy(jg_tune_bayes_t *bo);
/* Records y (finite) at u (d) in [0,1]^d, cost unknown. -EINVAL when the
 * config needs costs (EI_PER_J, PARETO). */
int jg_tune_bayes_observe(jg_tune_bayes_t *bo, const double *u, double y,
                          jg_tune_error_t *err);
/* Records y (finite) and its cost (joules, finite, > 0) at u (d). */
int jg_tune_bayes_observe_cost(jg_tune_bayes_t *bo, const double *u, double y,
                               double cost, jg_tune_error_t *err);
/* Predicted cost at u (d) in joules: *cost = exp(m_c), the log-cost GP's
 * median, and *cost_hi = exp(m_c + 1.645 s_c) (may be NULL), its one-sided
 * 95% bound, s_c^2 = latent variance + fitted noise of ln(cost). The log-cost
 * GP is fitted to the observations with a cost (seeded from the seed and
 * their number). -EAGAIN when fewer than 2 costs are known: fall back to
 * e.g. the mean observed cost. */
int jg_tune_bayes_predict_cost(jg_tune_bayes_t *bo, const double *u,
                               double *cost, double *cost_hi,
                               jg_tune_error_t *err);
/* Next point to evaluate, u (d) in [0,1]^d; nothing pending. */
int jg_tune_bayes_propose(jg_tune_bayes_t *bo, double *u,
                          jg_tune_error_t *err);
/* Next point u (d) while the n_pending points pending (n_pending, d), in
 * [0,1]^d, are being evaluated, counted as cfg.pending says. Proposal
 * number n_obs + n_pending keys its random streams, so it depends only on
 * the config, the observations and the pending points, in order; the
 * first n_init proposals are uniform, and so are those made while points
 * are pending and fewer than 2 observations are in. The cost model
 * (EI_PER_J, budget predictions) and ParEGO's normalisation see the
 * observations only. n_pending = 0 is jg_tune_bayes_propose. */
int jg_tune_bayes_propose_pending(jg_tune_bayes_t *bo, const double *pending,
                                  int n_pending, double *u, jg_tune_error_t *err);
/* "ignore", "cl-worst", "cl-mean", "cl-best", "kb" or "fantasy". */
const char *jg_tune_pending_name(jg_tune_pending_t p);
int jg_tune_bayes_n_obs(const jg_tune_bayes_t *bo);

/* ---- yardsticks: test functions, simulated parallel workers -------------- */

/* Branin on [0,1]^2: x1 = 15 u0 - 5, x2 = 15 u1,
 *   f = (x2 - 5.1/(4 pi^2) x1^2 + 5/pi x1 - 6)^2 + 10 (1 - 1/(8 pi)) cos x1 + 10;
 * minimum 0.397887 at three points. */
double jg_tune_branin01(const double *u);
/* Hartmann-6 on [0,1]^6: f = -sum_i alpha_i exp(-sum_j A_ij (u_j - P_ij)^2);
 * minimum -3.32237. */
double jg_tune_hartmann6(const double *u);

typedef struct {
    double (*f)(const double *u); /* the objective on [0,1]^d (cfg.maximise says which way) */
    int workers;        /* simultaneous evaluations, 1..4096 */
    int n_evals;        /* evaluations observed, >= 1 */
    double target;      /* evals_to_target counts up to the first y beyond it */
    int stop_at_target; /* 1: stop there */
    double *trace;      /* (n_evals) the best y after each observation, or NULL */
} jg_tune_sim_config_t;

typedef struct {
    int evals;           /* observed */
    int evals_to_target; /* 0: not reached */
    double best;         /* best y observed */
    double seconds;      /* simulated time at the last observation */
} jg_tune_sim_result_t;

/* Bayesian optimisation (cfg) of sim->f with sim->workers simulated
 * asynchronous workers: each evaluation takes a duration drawn uniformly
 * from [0.5, 1.5) s by a stream seeded from cfg->seed, the earliest to
 * finish (ties: the earliest started) is observed next and its worker gets
 * a proposal made with the others pending. Deterministic for a config. */
int jg_tune_bayes_simulate(const jg_tune_bayes_config_t *cfg, const jg_tune_sim_config_t *sim,
                           jg_tune_sim_result_t *res, jg_tune_error_t *err);

/* ---- Pareto helpers (accuracy up, cost down) ------------------------------ */

/* idx (n) receives the indices of the non-dominated points (no other point
 * has acc >= and cost <= with one strict), sorted by cost ascending (then acc
 * descending); of identical points the first is kept; points with a NaN are
 * skipped. *n_front = their number. -EINVAL on NULL or n < 0. */
int jg_tune_pareto_front(const double *acc, const double *cost, int n, int *idx,
                         int *n_front);
/* Area dominated by the points and bounded by the reference point:
 * measure of {(a, c) : ref_acc <= a <= acc_i, cost_i <= c <= ref_cost for
 * some i}. Points with acc <= ref_acc or cost >= ref_cost (or a NaN) add
 * nothing. NaN on NULL or n < 0. */
double jg_tune_hypervolume2(const double *acc, const double *cost, int n,
                            double ref_acc, double ref_cost);

/* ---- early stopping: asynchronous successive halving (ASHA) -------------- */

/*
 * ASHA (Li et al. 2020) with epochs as the resource, run by one worker or
 * several (max_outstanding jobs out at once); docs/tuning.md ("Early
 * stopping: ASHA") has the details. Pure bookkeeping: the caller trains,
 * keeps a checkpoint per trial and reports.
 *
 * Rungs: rung k trains to min(r eta^k, R) epochs in total; the first rung
 * that reaches R is the top one (r=1, R=9, eta=3: 1 3 9; R=10: 1 3 9 10).
 * Promotion: a trial at rung k < top is promotable when it is among the top
 * floor(n_k / eta) of the n_k results reported at rung k (score descending,
 * ties: earlier report first), did not diverge (score -inf) and was not
 * promoted yet. next() promotes the best promotable trial of the highest
 * rung that has one, else starts a new trial while fewer than max_trials
 * have started, else returns -EAGAIN while jobs are outstanding (a report
 * may make a trial promotable) and -ENOENT when none are: the study ends
 * with a sweep that promotes while anything is promotable. A trial being
 * trained is never promotable.
 * Determinism: the jobs depend only on the config and the sequence of
 * next() and report() calls, so replaying them rebuilds the same state;
 * with one worker a replay is the reports alone (report() without next()),
 * and next() then gives the job that was running.
 */
#define JG_TUNE_ASHA_ETA_DEFAULT 3

typedef struct {
    int min_epochs;  /* r: epochs of rung 0, >= 1 */
    int max_epochs;  /* R: epochs of the top rung, >= min_epochs */
    int eta;         /* reduction factor, >= 2 (0: JG_TUNE_ASHA_ETA_DEFAULT) */
    int64_t max_trials; /* configurations to start, >= 1 */
    int max_outstanding; /* jobs handed out and not reported at most (0: 1) */
} jg_tune_asha_config_t;

typedef struct {
    int64_t trial;   /* configuration id, 0-based, in the order started */
    int rung;        /* rung to train up to */
    int epochs;      /* total epochs at that rung: min(r * eta^rung, R) */
    int from_epochs; /* epochs already trained (0 new, else the previous rung's) */
    int is_new;      /* 1: start configuration `trial` (ask the strategy for a point) */
} jg_tune_asha_job_t;

typedef struct jg_tune_asha jg_tune_asha_t;

/* -EINVAL for min_epochs < 1, max_epochs < min_epochs, eta 1 or < 0,
 * max_trials < 1, max_outstanding < 0. */
int jg_tune_asha_create(jg_tune_asha_t **a, const jg_tune_asha_config_t *cfg,
                        jg_tune_error_t *err);
void jg_tune_asha_destroy(jg_tune_asha_t *a);
/* Number of rungs, 1 + the top rung's index. */
int jg_tune_asha_n_rungs(const jg_tune_asha_t *a);
/* min(r eta^rung, R); -EINVAL outside 0..n_rungs-1. */
int jg_tune_asha_rung_epochs(const jg_tune_asha_t *a, int rung);
/* Next job, handed out (outstanding until reported); -EAGAIN when nothing
 * can be handed out until an outstanding job is reported, -ENOENT when the
 * study is finished (all max_trials started, nothing promotable, nothing
 * outstanding), -EBUSY while max_outstanding jobs are out. Call next,
 * train, report. */
int jg_tune_asha_next(jg_tune_asha_t *a, jg_tune_asha_job_t *job,
                      jg_tune_error_t *err);
/* The job next() would return now, and the same error codes, without
 * handing it out. */
int jg_tune_asha_peek(const jg_tune_asha_t *a, jg_tune_asha_job_t *job,
                      jg_tune_error_t *err);
/* Result of an outstanding job, or (replay, no outstanding job) of the job
 * next() would return now: score, higher is better, finite or -INFINITY for
 * a diverged trial (ranked last, never promoted; NaN and +inf are -EINVAL),
 * and the joules that job spent (finite, >= 0). -EINVAL, changing nothing,
 * when (trial, rung) is not such a job or the study is finished. */
int jg_tune_asha_report(jg_tune_asha_t *a, int64_t trial, int rung, double score,
                        double joules, jg_tune_error_t *err);

/* Over the reported jobs (an outstanding job counts once reported). */
typedef struct {
    int64_t jobs, trials_started;
    int64_t epochs_trained;    /* sum over jobs of (epochs - from_epochs) */
    int64_t epochs_full;       /* trials_started * R: every trial trained to R */
    double joules_spent;       /* sum of reported joules */
    double joules_saved_est;   /* sum over trials below the top rung of
                                  (R - its epochs) * (its joules / its epochs) */
    int64_t best_trial; int best_rung; double best_score; /* best at the highest
                                  rung reached (ties: first); -1, -1, -inf if none */
} jg_tune_asha_stats_t;
void jg_tune_asha_stats(const jg_tune_asha_t *a, jg_tune_asha_stats_t *st);

/* ---- studies: strategies run against the caller's evaluator -------------- */

/*
 * A study runs one or several strategies with the same space, seed, trials
 * and energy budget, each in its own directory: cfg.dir with one strategy,
 * cfg.dir/<label> with several, one after another. Per job it proposes a
 * point (or, with ASHA, promotes a trial), asks the caller's evaluator for
 * the result, appends the record to DIR/trials.jsonl (fsynced) and rewrites
 * best_vs_energy.csv, pareto.csv and summary.json; at the end it draws the
 * figures and, with several strategies, writes the comparison
 * (docs/tuning.md, "Studies"). An asynchronous evaluator runs up to `slots`
 * jobs at once (parallel workers): the study starts jobs while a slot is
 * free and one can start, else waits for one to finish.
 *
 * Lines for people (progress, resume, budget stops, the ASHA summary, the
 * comparison table) go to a jg_log_t: JG_LOG_OUT, or JG_LOG_NOTE for
 * warnings, which start with "cfg.prog: ". Errors return a negative errno
 * with one line in err. -EINVAL means the configuration, or a study on disk
 * written with other settings, does not fit (the program's usage error, exit
 * 2); failures while running are never -EINVAL (an inner -EINVAL becomes
 * -EIO). Messages name the options of `joulegrad tune`, which match the
 * fields below.
 *
 * Resume (cfg.resume): each log is read back (a torn final line is dropped
 * with a note), refused when written for another space, model, strategy,
 * seed or settings text (naming the first difference), and its lines are
 * replayed in order through the strategy, the optimiser and the scheduler,
 * each job required to be the one the study would hand out next (and a
 * proposal line's point the one it would propose). So the proposals and
 * promotions that follow equal an uninterrupted study's, given the order in
 * which jobs finish. Jobs proposed but not finished (several slots) are
 * submitted again first, with their logged points.
 */
#define JG_TUNE_MAX_STRATEGIES 8
#define JG_TUNE_MAX_SLOTS 4096 /* jobs running at once */
#define JG_TUNE_SETTINGS_MAX 512 /* a settings text, incl. NUL (the log's "run") */

typedef struct {
    char label[32];    /* as given, e.g. "bayes-pi"; the directory with several */
    char kind[16];     /* "grid", "random", "sobol" or "bayes" */
    jg_tune_acq_t acq; /* bayes only */
} jg_tune_strat_t;

/* Parses a strategy list "grid,random,bayes-pi" into out
 * (JG_TUNE_MAX_STRATEGIES) and *n: grid, random, sobol, bayes (with
 * acquisition ei|pi|ucb|ei-per-joule; NULL: ei), or bayes-ACQUISITION;
 * -EINVAL naming the bad entry. */
int jg_tune_strategies_parse(const char *text, const char *acquisition,
                             jg_tune_strat_t *out, int *n, jg_tune_error_t *err);
/* "ei", "pi", "ucb" or "ei-per-joule". */
const char *jg_tune_acq_name(jg_tune_acq_t acq);

typedef struct {
    const char *dir;                   /* the study directory */
    const jg_tune_strat_t *strategies; /* (n_strategies) run one after another */
    int n_strategies;                  /* 1..JG_TUNE_MAX_STRATEGIES */
    const jg_tune_space_t *space;      /* needed by open, not by the checks */
    uint64_t seed;
    int64_t trials;        /* per strategy (grid: at most its size), >= 1 */
    int epochs;            /* per trial; with ASHA the top rung's, >= 1 */
    int grid_points;       /* grid only; 0: JG_TUNE_GRID_POINTS_DEFAULT */
    jg_tune_objective_t objective; /* PARETO: bayes runs ParEGO with EI */
    double energy_budget_j; /* per strategy; 0: none */
    int no_energy;         /* 1: the evaluator measures no joules (no budget,
                              Pareto objective or EI per joule then) */
    int asha;              /* 1: early stopping with ASHA over epochs */
    int min_epochs, eta;   /* ASHA's r and eta; 0: 1 and 3 (only with asha) */
    int resume;            /* continue the studies in dir (their logs must exist) */
    const char *model;     /* the model's name in the log headers, < 128 bytes */
    const char *model_spec; /* the model in summary.json */
    const char *const *settings; /* (n_strategies) settings texts the trials
                                    depend on, < JG_TUNE_SETTINGS_MAX bytes each:
                                    the logs keep them, a resume compares them */
    const char *prog;      /* notes start "prog: "; NULL: no prefix */
} jg_tune_study_config_t;

/* One job for the evaluator: train trial `trial` at `params` to `epochs`
 * epochs in total. resume_path NULL: from scratch; else continue from the
 * state saved there after from_epochs epochs. save_path non-NULL: save the
 * trained state there (ASHA may promote it; a diverged trial need not be
 * saved, it is never promoted). The study creates and removes those files'
 * directory and the files. */
typedef struct {
    int64_t trial;                 /* 0-based, in the order started */
    int rung;                      /* ASHA rung, -1 without early stopping */
    int epochs, from_epochs;
    const char *strategy;          /* label */
    const jg_tune_point_t *params;
    const char *resume_path, *save_path;
} jg_tune_job_t;

/* fn fills out's epochs, val_accuracy, test_accuracy, energy_j,
 * energy_source, seconds and status ("ok", or "diverged" with accuracy 0;
 * the study fills trial, rung, strategy and params) and returns 0, or a
 * negative errno with one line in msg. energy_source names the meter for
 * the files ("rapl", "estimate", "off"). */
typedef struct {
    int (*fn)(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *out, char *msg,
              size_t msg_len);
    void *ctx;
    const char *energy_source;
} jg_tune_evaluator_t;

/* An asynchronous evaluator (say a pool of MPI ranks): up to `slots` jobs
 * run at once. submit starts job (copy what you keep: job and what it
 * points to live only during the call) and returns 0 or a negative errno
 * with one line in msg. wait blocks until one running job ends and fills
 * out as jg_tune_evaluator_t's fn does, plus out->trial and out->rung,
 * which name the job (the study fills strategy and params); on failure it
 * returns a negative errno with one line in msg, and out->trial >= 0 names
 * the job if known. The study then returns the error with jobs possibly
 * still running: their proposals are in the log (slots > 1), so open with
 * resume submits them again. slots = 1 is the serial study. */
typedef struct {
    int slots; /* 1..JG_TUNE_MAX_SLOTS */
    int (*submit)(void *ctx, const jg_tune_job_t *job, char *msg, size_t cap);
    int (*wait)(void *ctx, jg_tune_trial_t *out, char *msg, size_t cap);
    void *ctx;
    const char *energy_source;
} jg_tune_async_evaluator_t;

/* What one strategy's study did, for its files and the comparison. */
typedef struct {
    jg_tune_strat_t strat;
    char dir[4096];             /* its directory */
    const jg_tune_trial_t *rec; /* (n) records in log order (one per trial, or
                                   one per finished rung with ASHA) */
    int64_t n;
    int64_t trials_requested;
    const char *stopped_by;     /* "trials", "grid", "energy-budget", "asha",
                                   "interrupted" */
    double budget_j;            /* 0: none */
    double next_predicted_j;    /* the prediction that stopped it, or NAN */
    int have_asha;
    jg_tune_asha_stats_t asha;
    double propose_s, propose_last_s; /* this run's proposals (not replayed ones) */
    int64_t proposals;
} jg_tune_result_t;

typedef struct jg_tune_study jg_tune_study_t;

/* Checks the configuration without touching files: -EINVAL saying what
 * does not fit. */
int jg_tune_study_check(const jg_tune_study_config_t *cfg, jg_tune_error_t *err);
/* Checks the directories: without resume no log may exist yet, with resume
 * one must (-EINVAL). Cheap: call it before preparing expensive inputs. */
int jg_tune_study_check_dir(const jg_tune_study_config_t *cfg, jg_tune_error_t *err);
/* Both checks, then per strategy its optimiser, scheduler and log: created,
 * or read back and replayed (resume). Copies what it keeps from cfg. */
int jg_tune_study_open(jg_tune_study_t **study, const jg_tune_study_config_t *cfg,
                       const jg_log_t *log, jg_tune_error_t *err);
/* Runs every strategy's study to its end (trials, grid, scheduler or
 * budget), then the comparison, one job at a time: jg_tune_study_run_async
 * with one slot. 0 or a negative errno (the logs keep every finished record:
 * open with resume to continue). */
int jg_tune_study_run(jg_tune_study_t *study, const jg_tune_evaluator_t *ev,
                      const jg_log_t *log, jg_tune_error_t *err);
/* The same with up to ev->slots jobs running at once, each strategy's study
 * using every slot. With slots > 1 each job's proposal line is logged
 * before it is submitted and progress lines name the jobs running; with
 * one slot the lines and the log are the serial study's. The energy budget
 * lets a job start only when the joules spent plus the predictions for the
 * running jobs and it fit (else it waits, or with nothing running stops
 * the study); a job with no prediction yet (nothing finished) starts only
 * with nothing running. */
int jg_tune_study_run_async(jg_tune_study_t *study, const jg_tune_async_evaluator_t *ev,
                            const jg_log_t *log, jg_tune_error_t *err);
/* Strategy k's result (valid until close), NULL outside 0..n-1. */
const jg_tune_result_t *jg_tune_study_result(const jg_tune_study_t *study, int k);
void jg_tune_study_close(jg_tune_study_t *study);

#ifdef __cplusplus
}
#endif

#endif /* JG_TUNING_H */
