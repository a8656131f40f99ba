/* SPDX-License-Identifier: MIT */
/*
 * jg_run.h - the layer that joins joulegrad's modules into what a user runs:
 * a measured training run with its run directory (jg_run_train), N profiled
 * training steps (jg_run_profile), a checkpoint's test accuracy and
 * predictions (jg_run_eval, jg_run_predict), the bridge that maps nn's
 * layers to energy regions (jg_run_probe_*), the tuning trial evaluator and
 * study (jg_run_tune) and the reproduction of Yarally et al. (CAIN 2023).
 * The `joulegrad` program is a thin front end over these calls.
 *
 * Contract: every function that can fail returns 0 or a negative errno and
 * fills the caller's jg_run_error_t (may be NULL) with one line; nothing
 * prints or exits. Lines for people (progress, notes, warnings) go to the
 * caller's jg_log_t. Error classes: -EINVAL is a configuration that cannot
 * work (bad settings, an unknown model, a resume with other settings, an
 * output directory that already holds a run); -ECANCELED a run stopped by
 * its caller (on_batch); anything else a failure while running.
 */
#ifndef JG_RUN_H
#define JG_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "jg_common.h"
#include "jg_datasets.h"
#include "jg_energy.h"
#include "jg_nn.h"
#include "jg_tuning.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JG_RUN_VERSION "0.1.0"

typedef struct {
    char msg[1200];
} jg_run_error_t;

/* The nn view of a loaded dataset (no copy: d must outlive it). */
jg_nn_data_t jg_run_data_view(const jg_dataset_t *d);

/* ---- nn layers -> energy regions ------------------------------------------
 *
 * Regions, for a model of L layers (the loss is layer L):
 *   2i     layer i forward (i in 0..L-1), 2L the loss forward
 *   2i + 1 layer i backward (i in 0..L), 2L + 1 the loss backward
 *   2L + 2 optimizer step, 2L + 3 data (gathering the batch), and with data
 *   parallelism 2L + 4 comm (summing the gradients over the ranks)
 * A step is bracketed from DATA begin (the first event of a batch) to
 * OPTIMIZER end (the last); probe events outside a step (validation,
 * evaluation) are ignored. Layers are grouped into the types below by their
 * nn group name (conv, linear, relu, pool, batchnorm; anything else other);
 * the comm type exists only in a data-parallel run. */
enum {
    JG_RUN_T_CONV, JG_RUN_T_LINEAR, JG_RUN_T_RELU, JG_RUN_T_POOL, JG_RUN_T_BATCHNORM,
    JG_RUN_T_LOSS, JG_RUN_T_OPTIMIZER, JG_RUN_T_DATA, JG_RUN_T_OTHER, JG_RUN_T_COMM, JG_RUN_NTYPES
};
/* "conv", "linear", ... in the order above. */
extern const char *const jg_run_type_names[JG_RUN_NTYPES];

typedef struct jg_run_probe jg_run_probe_t;

typedef struct {
    const char *trace_path;   /* the raw trace (JSON lines); NULL: none */
    double w_per_core;        /* the estimate's assumption (reported) */
    int data_parallel;        /* 1: the comm region and type */
    int invocation;           /* of a resumed run; 0: after the parts added later */
    int ranks, rank, node;    /* an MPI job's size, and the rank and node measuring */
    const char *host;         /* its host (reported), may be NULL */
} jg_run_probe_config_t;

/* Installs a probe on model that brackets every layer of every training step
 * on meter (both borrowed: they must outlive the probe), with a breakdown
 * over the regions above. 0, -EINVAL, -E2BIG (too many layers), -ENOMEM or
 * an errno from opening the trace file. */
int jg_run_probe_create(jg_run_probe_t **p, jg_model_t *model, jg_meter_t *meter,
                        const jg_run_probe_config_t *cfg);
/* Removes the probe from the model and frees it with its breakdown, unless
 * the breakdown was taken. NULL is a no-op. */
void jg_run_probe_destroy(jg_run_probe_t *p);
/* The probe's breakdown (owned by the probe). */
jg_breakdown_t *jg_run_probe_breakdown(jg_run_probe_t *p);
/* The hooks the probe installed on its model, for a caller that drives the
 * steps itself (or chains a probe of its own and forwards to these): each
 * step opens with begin(-1, JG_NN_PHASE_DATA) and closes with
 * end(-1, JG_NN_PHASE_OPTIMIZER), then jg_breakdown_step_done, as jg_train
 * and jg_run_train do. */
jg_nn_probe_t jg_run_probe_hooks(const jg_run_probe_t *p);
/* Removes the probe from the model and hands over its breakdown (the
 * caller destroys it); the probe is freed. */
jg_breakdown_t *jg_run_probe_take(jg_run_probe_t *p);

/* ---- evaluation reports ---------------------------------------------------- */

/* names[k], or "class k" when names or names[k] is NULL. buf >= 32 bytes. */
const char *jg_run_class_name(const char *const *names, int k, char *buf, size_t cap);
/* Appends accuracy, loss and the per-class table of ev. */
void jg_run_eval_text(jg_sbuf_t *out, const jg_eval_t *ev, const char *const *names);
/* Adds test_accuracy, test_loss, class_accuracy (name -> fraction, null for a
 * class without examples) and confusion (rows = true class) to obj (a cJSON
 * object). */
struct cJSON;
void jg_run_eval_json(struct cJSON *obj, const jg_eval_t *ev, const char *const *names);

/* ---- the measured training run ------------------------------------------- */

/* Data choices are seeded from the run's seed but differ from the shuffling
 * and initialisation streams. */
#define JG_RUN_SEED_TRAIN_SUBSET 0x5b5e7ull
#define JG_RUN_SEED_VAL_SPLIT 0x7a1dull

typedef struct {
    const char *model;        /* preset name or spec text */
    int epochs, batch;
    jg_optim_config_t optim;
    uint64_t seed;            /* initialisation, shuffling, data subsets */
    int patience;             /* early stopping (needs val_fraction > 0); 0 off */
    jg_data_source_t data;
    int train_limit, test_limit;
    double val_fraction;      /* [0, 1) */
    const char *out;          /* the run directory, created when needed */
    int resume;               /* continue the run in out: the settings must match */
    int ckpt_every;           /* 1: checkpoint.jgc after every epoch, 0: at the end */
    jg_energy_mode_t energy;  /* OFF: no meter, no probe */
    double assume_w;          /* estimate: W per busy core; 0: the default */
    double idle_s;            /* idle baseline before training, s; 0: none */
    int quiet;                /* no start, resume and epoch lines in the log */
    /* Called after every batch (may be NULL): non-zero stops the run after
     * this batch (-ECANCELED; the last checkpoint stays). */
    int (*on_batch)(void *ctx, const jg_train_progress_t *p);
    void *ctx;
    const jg_log_t *log;      /* start line, epoch lines, notes (may be NULL) */
} jg_run_train_config_t;

typedef struct {
    char dir[4096];           /* the run directory */
    int nothing_to_do;        /* a resume of a finished run: nothing was rewritten */
    char spec[4096];          /* canonical model spec */
    int epochs_done, stopped_early;
    int saved_epochs;         /* epochs in checkpoint.jgc (0: none written) */
    int resumed_from;         /* a resume: the epochs its checkpoint held */
    int n_train, n_val, n_test;
    jg_eval_t eval;           /* the test set */
    char **class_names;       /* (classes) or NULL */
    int classes;
    /* Energy of the training loop of this invocation (meter around
     * jg_trainer_run): source "off" when not measured. */
    const char *source;
    int energy_valid;
    double energy_j, energy_s;
    const char *energy_status;
    jg_breakdown_t *breakdown; /* per layer and type; NULL with energy off (and on
                                 ranks other than 0: rank 0's covers the job) */
    struct cJSON *cluster;    /* in an MPI job (rank 0): ranks, nodes, who read,
                                 per node its source and joules; else NULL */
    int secondary;            /* a rank other than 0: it trained its shard, rank 0
                                 wrote the files and holds the results */
    char trace_name[64];      /* this invocation's raw trace file in dir */
    int figures_rc;           /* jg_breakdown_write_figures' result */
    char figures_msg[5200];   /* one line about the figures, "" with energy off */
    jg_train_progress_t last; /* the last batch's progress (for an interrupt) */
} jg_run_train_result_t;

/* Trains cfg's model on its data, writing DIR/checkpoint.jgc and
 * DIR/epochs.csv after every epoch (atomically), then evaluates the test set
 * and writes DIR/summary.json and, unless energy is off, the per-layer
 * energy (energy_layers.csv, energy_types.csv, energy_trace.jsonl, figures).
 * A resume continues from DIR/checkpoint.jgc; the result is bit-identical
 * to an uninterrupted run with the same settings and threads, and its energy
 * files cover every invocation (DIR/energy_parts.json keeps each one's part;
 * invocation k >= 2 writes energy_trace.k.jsonl). A resume of a finished run
 * (summary.json written) sets nothing_to_do and rewrites nothing. The run
 * directory is locked (jg_dir_lock): a second process on it gets -EBUSY. Fills res
 * (free it with jg_run_train_result_free, also after an error). Returns 0,
 * -EINVAL (settings, including a resume that does not match), -ECANCELED
 * (stopped by on_batch), -ERANGE (the loss became NaN or infinite) or a
 * failure; err says what in one line. */
int jg_run_train(const jg_run_train_config_t *cfg, jg_run_train_result_t *res,
                 jg_run_error_t *err);
void jg_run_train_result_free(jg_run_train_result_t *res);

/* ---- profile: N training steps with every layer bracketed ----------------- */

#define JG_RUN_SEED_PROFILE_SUBSET 0x9f0full

typedef struct {
    const char *model;
    int steps, batch;         /* steps of batch images, Adam with PyTorch defaults */
    uint64_t seed;
    jg_data_source_t data;    /* a seeded subset of steps x batch images is used */
    jg_energy_mode_t energy;  /* AUTO, RAPL or ESTIMATE */
    double assume_w, idle_w;  /* estimate: W per busy core, modelled idle W */
    double idle_s;            /* idle baseline before the steps, s; 0: none */
    const char *out;          /* NULL: write nothing; else CSVs, trace, figures */
    const jg_log_t *log;      /* the energy source line, warnings */
} jg_run_profile_config_t;

typedef struct {
    char spec[4096];
    double fwd_flops;         /* per image, forward */
    int steps;                /* steps run */
    jg_energy_source_t source;
    jg_breakdown_t *breakdown;
    int figures_rc;
    char figures_msg[5200];   /* "" without out */
} jg_run_profile_result_t;

/* Runs cfg->steps training steps of cfg->model with the per-layer energy
 * breakdown. 0, -EINVAL, -ERANGE (the loss became NaN) or a failure. */
int jg_run_profile(const jg_run_profile_config_t *cfg, jg_run_profile_result_t *res,
                   jg_run_error_t *err);
void jg_run_profile_result_free(jg_run_profile_result_t *res);

/* ---- a checkpoint's test accuracy and predictions ------------------------- */

/* The model a checkpoint describes, with its normalisation checked (1 to
 * JG_DATA_MAX_CHANNELS channels, finite mean, positive finite std). */
int jg_run_open_checkpoint(const char *path, jg_checkpoint_t *ck, jg_model_t **model,
                           jg_run_error_t *err);

typedef struct {
    const char *checkpoint;
    jg_data_source_t data;    /* name NULL: the checkpoint's dataset */
    int test_limit;           /* 0: all */
} jg_run_eval_config_t;

typedef struct {
    jg_checkpoint_t ck;
    jg_data_source_t data;    /* as used (name and shape filled in) */
    int n_test;
    jg_eval_t eval;
    char **class_names;       /* (classes) or NULL */
} jg_run_eval_result_t;

/* Rebuilds the checkpoint's model, normalises the test split with the
 * mean/std stored in it and evaluates it in batches of the run's batch
 * size. 0, -EINVAL (a dataset that does not fit the checkpoint) or a
 * failure. */
int jg_run_eval(const jg_run_eval_config_t *cfg, jg_run_eval_result_t *res,
                jg_run_error_t *err);
void jg_run_eval_result_free(jg_run_eval_result_t *res);

#define JG_RUN_TOP_K 3
typedef struct {
    int n;                    /* min(classes, JG_RUN_TOP_K) */
    int cls[JG_RUN_TOP_K];    /* best first */
    double p[JG_RUN_TOP_K];   /* softmax probability */
} jg_run_top_t;

/* Top classes of one image file for an opened checkpoint model (reserved for
 * at least 1 image): decoded like an image-folder entry, normalised with the
 * checkpoint's mean/std, forward in inference mode, softmax in double. */
int jg_run_predict(jg_model_t *model, const jg_checkpoint_t *ck, const char *image,
                   jg_run_top_t *top, jg_run_error_t *err);

/* ---- scale-out on Open MPI (CMake JG_MPI; docs/scaling.md) -----------------
 *
 * A process started by mpirun or srun is one rank of a job: jg_run_train
 * then trains data-parallel (the global batch split over the ranks, the
 * gradients summed in a fixed order), jg_run_tune evaluates trials on every
 * rank but 0, which coordinates, and jg_run_reproduce spreads its sub-runs.
 * Rank 0 writes every file. Without a launcher a process is a one-rank
 * cluster and MPI is never initialised. */
typedef struct {
    int rank, size;             /* in the job; 0 and 1 without MPI */
    int node, nodes;            /* this rank's node (0..nodes-1) and the node count */
    int node_rank, node_size;   /* among the ranks sharing this node (its RAPL packages) */
    char host[64];
} jg_run_cluster_t;

/* 1 when built with MPI. */
int jg_run_mpi_built(void);
/* Joins the job when the process was launched as one of several ranks
 * (OMPI_COMM_WORLD_SIZE, PMIX_SIZE or PMI_SIZE in the environment): MPI
 * with MPI_THREAD_FUNNELED, the node communicator (MPI_COMM_TYPE_SHARED).
 * Otherwise nothing: a one-rank cluster. Call once, before anything else.
 * 0, -ENOTSUP (launched as several ranks but not built with MPI) or -EIO. */
int jg_run_cluster_init(int *argc, char ***argv, jg_run_error_t *err);
/* MPI_Finalize when jg_run_cluster_init initialised MPI. */
void jg_run_cluster_finalize(void);
/* This process's place in the job. */
const jg_run_cluster_t *jg_run_cluster(void);
/* MPI_Abort of the whole job with code (a program's last resort when one
 * rank fails where the others wait); a no-op without MPI. */
void jg_run_cluster_abort(int code);

/* ---- the reproduction of Yarally et al. (CAIN 2023) -------------------------
 *
 * RQ1: grid, random and Bayesian optimisation (PI as in the study, and EI)
 * over Adam's lr, beta1, beta2 (uniform lr as in the study, and log lr) on
 * paper-densepoly, paper-denselinear and paper-simplecnn, several seeds,
 * each a tuning study (jg_run_tune). RQ2: the 2x2x2 design (1/4 conv, 3/7
 * linear, ReLU on/off), a 1..4 conv sweep and the dense networks, each a
 * measured training run (jg_run_train) with the energy of every layer type.
 * Then out/report.md and a self-contained out/report.html with a verdict per
 * claim, figures and CSV tables (docs/reproduction.md). */
typedef struct {
    const char *what;         /* "rq1", "rq2" or "all" (NULL: all) */
    const char *scale;        /* "tiny", "quick" or "full" (NULL: quick) */
    int seeds;                /* RQ1 seeds and RQ2 repetitions; 0: the scale's */
    int threads;              /* kernel threads; 0: 1 with the estimate source
                                 (spin-waiting would count as work), else OpenMP's */
    jg_data_source_t data;    /* fashion-mnist, cifar10 (with dir) or synthetic */
    jg_energy_mode_t energy;  /* AUTO, RAPL or ESTIMATE */
    const char *out;          /* refused when it exists and is not empty, unless resume */
    int resume;               /* keep finished sub-runs, continue unfinished ones */
    int stop_after;           /* stop cleanly after N sub-runs have run; 0: never */
    /* Polled between training batches (may be NULL): non-zero interrupts
     * the run (-ECANCELED; resume continues it). */
    int (*should_stop)(void *ctx);
    void *ctx;
    const jg_log_t *log;      /* progress and verdicts; each sub-run's lines go
                                 to its own log.txt */
} jg_repro_config_t;

/* Runs (or continues) the reproduction and writes its report. 0 (also after
 * a clean stop_after stop), -EINVAL (settings, or a resume that does not
 * match out/reproduce.json), -EBUSY (out in use), -ECANCELED, or a failure;
 * err says what in one line. */
int jg_run_reproduce(const jg_repro_config_t *cfg, jg_run_error_t *err);

/* ---- statistics of the reproduction -----------------------------------------
 *
 * Summaries (median and quartiles, no bootstrap), the Wilcoxon signed-rank
 * test over paired samples, the Holm-Bonferroni correction and the sums of
 * squares of a two-level factorial design. Every function returns 0 or a
 * negative errno (-EINVAL for bad arguments, -ENOMEM); results are
 * deterministic. */
/* Summary of the finite values of v[0..n-1] (NaN and inf are skipped and not
 * counted). Quantiles interpolate linearly between order statistics
 * (numpy's default, "type 7"); sd uses n - 1 (0 for one value). With no
 * finite value n = 0 and every other field is NaN. */
typedef struct {
    int n;
    double mean, sd, median, q1, q3, min, max;
} jg_stats_summary_t;

int jg_stats_summary(const double *v, int n, jg_stats_summary_t *s);

/* Zero differences: WILCOX drops them before ranking (scipy's default);
 * PRATT ranks them with the others and then leaves their ranks out of both
 * sums (Pratt 1959), with the matching mean/variance correction. */
typedef enum {
    JG_STATS_ZERO_WILCOX = 0,
    JG_STATS_ZERO_PRATT = 1,
} jg_stats_zero_t;

/* Largest number of non-zero differences with an exact p-value. */
#define JG_STATS_WILCOXON_EXACT_MAX 25

typedef struct {
    int n;            /* differences ranked (without zeros for WILCOX) */
    int n_zero;       /* zero differences */
    double w_plus;    /* sum of the ranks of the positive differences */
    double w_minus;   /* sum of the ranks of the negative differences */
    double statistic; /* min(w_plus, w_minus), as scipy reports it */
    double z;         /* normal approximation's z, NaN when exact */
    double p;         /* two-sided p-value; 1 when no difference is non-zero */
    int exact;        /* 1: exact distribution, 0: normal approximation */
} jg_stats_wilcoxon_t;

/* Two-sided Wilcoxon signed-rank test of d_i = x_i - y_i (y NULL: d_i = x_i)
 * against a distribution symmetric about 0. Absolute differences get
 * midranks on ties. With at most JG_STATS_WILCOXON_EXACT_MAX non-zero
 * differences the p-value is exact: the permutation distribution of w_plus
 * over the 2^k sign assignments of the observed ranks (so it stays exact with
 * ties and Pratt zeros), p = min(1, 2 min(P(W <= w_plus), P(W >= w_plus))).
 * Above it, the normal approximation without continuity correction,
 *   z = (statistic - mu) / sigma,  mu = n(n+1)/4,
 *   sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48   (t: sizes of tied groups)
 * (PRATT: mu and sigma^2 also lose n0(n0+1)/4 and n0(n0+1)(2n0+1)/24 for the
 * n0 zeros), p = 2 (1 - Phi(|z|)), as scipy.stats.wilcoxon(method="approx").
 * Non-finite differences are -EINVAL. */
int jg_stats_wilcoxon(const double *x, const double *y, int n, jg_stats_zero_t zero,
                      jg_stats_wilcoxon_t *r);

/* Holm-Bonferroni adjusted p-values for m tests:
 *   adj_(j) = min(1, max_{i <= j} (m - i + 1) p_(i))   over the sorted p_(1) <= ...
 * so rejecting adj[i] <= alpha controls the family-wise error at alpha.
 * adj may alias p. NaN p-values are -EINVAL. */
int jg_stats_holm(const double *p, int m, double *adj);

/* Sums of squares of a 2^k factorial design with reps replicates per cell:
 * y[c * reps + r] is replicate r of cell c, where bit f of c is 1 when factor
 * f is at its high level. ss has 2^k entries: ss[0] is the total sum of
 * squares about the grand mean, ss[e] (e = 1 .. 2^k - 1, a bit mask of the
 * factors) the effect's sum of squares
 *   ss[e] = (sum_c s_e(c) sum_r y[c, r])^2 / (reps 2^k),
 *   s_e(c) = prod_{f in e} (bit f of c ? +1 : -1).
 * The residual (replication error) is ss[0] - sum_{e >= 1} ss[e]; the share
 * of variance a factor explains (eta squared) is ss[e] / ss[0].
 * 1 <= k <= 8, reps >= 1; non-finite y is -EINVAL. */
int jg_stats_factorial(const double *y, int k, int reps, double *ss);

/* Standard normal upper tail 1 - Phi(z), accurate in the far tail. */
double jg_stats_normal_sf(double z);

/* ---- tuning: the trial evaluator and `joulegrad tune` --------------------- */

/*
 * jg_run_tune runs tuning/'s studies (jg_tune_study_*: strategies, trial
 * logs, resume, energy budget, ASHA, files, comparison) with an evaluator
 * that trains each trial: a fresh model with seed + trial, or with ASHA the
 * state its previous rung saved; the optimizer's PyTorch defaults with the
 * knobs the space searches; the training split, with the meter's total
 * joules around jg_trainer_run (source "off" with energy off, "invalid" when
 * a zone faulted); ranked by validation accuracy, test accuracy reported; a
 * NaN or infinite loss finishes the trial ("diverged", accuracy 0).
 *
 * The space's dimensions must be knobs of the optimizer:
 *   lr                    all, float in [1e-30, 1e30]
 *   beta1, beta2          adam, adamw, float in [0, 1)
 *   momentum              sgd, float in [0, 1)
 *   weight_decay          all, float in [0, 1e6]
 *   batch                 all (else cfg.batch), int in [1, 65536]
 * Lines for people go to log exactly as `joulegrad tune` prints them
 * (docs/tuning.md, "The tune command"); messages name its options.
 */
typedef struct {
    const char *strategies;  /* "grid,random,bayes-pi" (jg_tune_strategies_parse) */
    const char *acquisition; /* plain bayes': ei|pi|ucb|ei-per-joule; NULL: ei */
    const char *space;       /* search space text over the knobs above */
    const char *model;       /* preset name or spec */
    const char *out;         /* DIR, or DIR/<strategy> each with several */
    int trials;              /* per strategy, >= 1 */
    int epochs;              /* per trial; with asha the top rung's */
    int batch;               /* images per step when the space has no batch */
    int train_limit, test_limit; /* 0: all */
    int grid_points;         /* grid only; 0: JG_TUNE_GRID_POINTS_DEFAULT */
    jg_tune_objective_t objective;
    double energy_budget_j;  /* per strategy; 0: none */
    int asha, min_epochs, eta; /* early stopping; 0: 1 and 3 (only with asha) */
    jg_opt_kind_t optimizer;
    uint64_t seed;           /* strategies and data subsets; trial i: seed + i */
    double val_fraction;     /* in (0, 1): the split the trials are ranked on */
    jg_data_source_t data;
    jg_energy_mode_t energy;
    double assume_w;         /* estimate: W per busy core; 0: the default */
    int resume;              /* continue the studies in out (same settings) */
} jg_run_tune_config_t;

/* `joulegrad tune`'s defaults: bayes, model default, adam, 1 epoch, batch
 * 64, seed 1, validation fraction 0.1, fashion-mnist, energy auto. */
void jg_run_tune_config_default(jg_run_tune_config_t *cfg);
/* The checks that need no data and no files (strategies, settings, the
 * space and its knobs): 0 or -EINVAL. jg_run_tune makes them again. */
int jg_run_tune_check(const jg_run_tune_config_t *cfg, jg_run_error_t *err);
/* What `joulegrad tune` does: the checks, the study directories, the data
 * (jg_data_prepare), the model, the studies (logs created or replayed), the
 * meter (its fallback line a JG_LOG_NOTE), then every study and the
 * comparison. 0, -EINVAL (settings, or a study on disk that does not fit)
 * or a failure; err says what in one line. Kernel threads are the caller's
 * (jg_kernels_set_threads). In an MPI job every rank calls it: rank 0 runs
 * the studies and writes the files, each other rank trains the trials it is
 * sent (one slot per rank; docs/scaling.md). */
int jg_run_tune(const jg_run_tune_config_t *cfg, const jg_log_t *log, jg_run_error_t *err);

#ifdef __cplusplus
}
#endif

#endif /* JG_RUN_H */
