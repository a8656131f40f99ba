/* SPDX-License-Identifier: MIT */
/*
 * cmd_tune.c - `joulegrad tune`: hyperparameter search over Adam's lr, beta1
 * and beta2 with grid, random, Sobol or Bayesian strategies (tuning/), one
 * study per strategy with the same seed and budget. Each trial trains a
 * fresh model on the training split, is selected by its validation accuracy
 * (the test accuracy is reported, never used) and is charged the joules the
 * meter saw during its training. Energy first: --energy-budget stops a
 * study before a trial whose predicted joules would exceed it, bayes can
 * weigh expected improvement by predicted joules or search the accuracy vs
 * joules Pareto front (ParEGO), and --early-stop asha stops poor trials
 * early with epochs as the resource (continuing promoted ones from
 * checkpoints), reporting the joules that saved.
 *
 * Files per study (DIR, or DIR/<strategy> with several): trials.jsonl (the
 * trial log, one fsynced line per finished trial or rung), best_vs_energy.csv,
 * pareto.csv, summary.json and the figures (tune_out.c). --resume replays
 * the logs: the proposals equal an uninterrupted run's.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_nn.h"
#include "jg_run.h"
#include "jg_tuning.h"
#include "tune.h"

#define PROG "joulegrad tune"
#define MAX_TRIALS 100000
#define MAX_EPOCHS 100000
#define MAX_BATCH 65536
#define MAX_THREADS 1024
/* lr bounds: finite and non-zero once rounded to float. */
#define LR_MIN 1e-30
#define LR_MAX 1e30
/* Data choices are seeded from --seed but differ from the trial streams. */
#define SEED_TRAIN_SUBSET 0x5b5e7ull
#define SEED_VAL_SPLIT 0x7a1dull

typedef struct {
    const char *strategy_text, *space_text, *model, *out, *acquisition, *objective;
    const char *early_stop, *optimizer_name;
    jg_opt_kind_t optimizer;
    int trials, epochs, batch, threads, train_limit, test_limit, grid_points, resume;
    int min_epochs, eta;
    double energy_budget; /* J, 0: none */
    double assume_w;      /* estimate: watts per busy core, 0: the default */
    uint64_t seed;
    double val_fraction;
    jg_data_source_t data;
    jg_energy_mode_t energy;
    jg_tune_strat_t strats[JG_TUNE_MAX_STRATEGIES];
    int n_strats;
} opts_t;

/* The knobs a space may search (map_dims), and where each sits in the space
 * (-1: fixed: the optimizer's default, or --batch). */
enum { K_LR, K_BETA1, K_BETA2, K_MOMENTUM, K_WEIGHT_DECAY, K_BATCH, N_KNOBS };
typedef struct {
    int idx[N_KNOBS];
} dims_t;

static void usage(FILE *f)
{
    fprintf(f,
"usage: joulegrad tune --space SPACE --trials N --out DIR [options]\n"
"\n"
"Searches the optimizer's hyperparameters and the batch size (space\n"
"dimensions lr, weight_decay, batch, and beta1, beta2 for adam/adamw or\n"
"momentum for sgd; see docs/tuning.md for the syntax, e.g.\n"
"'lr=log:1e-4:1e-1,beta1=0.5:0.99,batch=int:32:512').\n"
"Every trial trains a fresh model (seed = --seed + trial) for --epochs and is\n"
"ranked by validation accuracy; test accuracy and joules are reported.\n"
"\n"
"search\n"
"  --strategy S[,S...]   grid, random, sobol, bayes, or bayes-ei, bayes-pi (the\n"
"                        study's), bayes-ucb, bayes-ei-per-joule; several run one\n"
"                        after another with the same seed and budget, each in\n"
"                        DIR/<S>, with a comparison table (default bayes)\n"
"  --space SPACE         search space (required)\n"
"  --trials N            trials per study, 1..%d (required)\n"
"  --grid-points P       grid: points per float dimension, 2..1000 (default 5)\n"
"  --acquisition A       plain 'bayes': ei, pi, ucb or ei-per-joule (EI divided by\n"
"                        the trial's predicted joules) (default ei)\n"
"  --objective O         accuracy, or pareto: bayes searches the accuracy vs joules\n"
"                        trade-off (ParEGO) (default accuracy); every study\n"
"                        reports its Pareto front\n"
"  --energy-budget J     per study: stop before a trial whose predicted joules\n"
"                        would take the total past J (default: none)\n"
"  --early-stop M        none, or asha: successive halving over epochs (rungs of\n"
"                        --min-epochs * eta^k up to --epochs) (default none)\n"
"  --min-epochs R        asha: epochs of the first rung (default 1)\n"
"  --eta E               asha: keep the best 1/E of each rung, 2..100 (default 3)\n"
"training\n"
"  --optimizer O         adam, adamw or sgd (default adam); dimensions the space\n"
"                        does not name keep PyTorch's defaults\n"
"  --model SPEC          preset name or spec text (default: default)\n"
"  --epochs E            epochs per trial, 1..%d (default 1)\n"
"  --batch B             images per step when the space has no batch, 1..%d\n"
"                        (default 64)\n"
"  --seed S              strategy, data subsets and trial seeds, 0..2^53 (default 1)\n"
"  --threads T           kernel threads, 1..%d (default: OpenMP default)\n"
"  --data D              " JG_DATA_SOURCE_NAMES " (default fashion-mnist)\n"
"  --data-dir DIR        where the dataset is (as for 'joulegrad train')\n"
"  --train-limit N       seeded random subset of N training images (default: all)\n"
"  --test-limit N        first N test images (default: all)\n"
"  --val-fraction F      validation fraction in (0, 1), used for selection\n"
"                        (default 0.1)\n"
"  --energy MODE         auto, rapl, estimate or off (default auto)\n"
"  --assume-watts W      estimate: watts per busy core, in (0, 1e6] (default 10)\n"
"output\n"
"  --out DIR             study directory (required): trials.jsonl,\n"
"                        best_vs_energy.csv, pareto.csv, summary.json, figures\n"
"  --resume              continue the studies in DIR with the same flags (--trials\n"
"                        and --energy-budget may grow)\n"
"  --help                this text\n",
            MAX_TRIALS, MAX_EPOCHS, MAX_BATCH, MAX_THREADS);
}

enum {
    O_STRATEGY = 256, O_SPACE, O_TRIALS, O_GRID_POINTS, O_ACQ, O_OBJECTIVE, O_BUDGET,
    O_EARLY_STOP, O_MIN_EPOCHS, O_ETA, O_OPTIMIZER, O_MODEL, O_EPOCHS, O_BATCH, O_SEED, O_THREADS, O_DATA,
    O_DATA_DIR, O_TRAIN_LIMIT, O_TEST_LIMIT, O_VAL_FRACTION, O_ENERGY, O_WATTS, O_OUT, O_RESUME, O_HELP,
    O_END
};

static int parse_acq(const char *a, jg_tune_acq_t *acq)
{
    if (!strcmp(a, "ei")) *acq = JG_TUNE_ACQ_EI;
    else if (!strcmp(a, "pi")) *acq = JG_TUNE_ACQ_PI;
    else if (!strcmp(a, "ucb")) *acq = JG_TUNE_ACQ_UCB;
    else if (!strcmp(a, "ei-per-joule")) *acq = JG_TUNE_ACQ_EI_PER_J;
    else return -1;
    return 0;
}

/* --strategy's comma list into o->strats; 0 or 2 (usage). */
static int parse_strategies(opts_t *o)
{
    const char *p = o->strategy_text;
    const size_t len = strlen(p);
    if (len && (p[0] == ',' || p[len - 1] == ',' || strstr(p, ",,"))) {
        fprintf(stderr, PROG ": --strategy: empty entry in '%s'\n", p);
        return 2;
    }
    int plain_bayes = 0;
    for (o->n_strats = 0; *p;) {
        const size_t n = strcspn(p, ",");
        jg_tune_strat_t *s = &o->strats[o->n_strats];
        memset(s, 0, sizeof *s);
        if (o->n_strats == JG_TUNE_MAX_STRATEGIES || n == 0 || n >= sizeof s->label) {
            fprintf(stderr, PROG ": --strategy: %s\n", n == 0 ? "empty entry"
                    : n >= sizeof s->label ? "entry too long" : "at most 8 strategies");
            return 2;
        }
        memcpy(s->label, p, n);
        p += n + (p[n] == ',');
        static const char *const plain[] = {"grid", "random", "sobol"};
        for (int k = 0; k < 3; k++)
            if (!strcmp(s->label, plain[k])) snprintf(s->kind, sizeof s->kind, "%s", plain[k]);
        if (s->kind[0]) {
            // grid, random or sobol
        } else if (!strcmp(s->label, "bayes")) {
            snprintf(s->kind, sizeof s->kind, "bayes");
            plain_bayes = 1;
            if (parse_acq(o->acquisition ? o->acquisition : "ei", &s->acq)) {
                fprintf(stderr, PROG ": --acquisition must be ei, pi, ucb or ei-per-joule, "
                                "got '%s'\n", o->acquisition);
                return 2;
            }
        } else if (!strncmp(s->label, "bayes-", 6) && !parse_acq(s->label + 6, &s->acq)) {
            snprintf(s->kind, sizeof s->kind, "bayes");
        } else {
            fprintf(stderr, PROG ": --strategy: unknown strategy '%s' (grid, random, sobol, "
                            "bayes, bayes-ei, bayes-pi, bayes-ucb, bayes-ei-per-joule)\n",
                    s->label);
            return 2;
        }
        for (int k = 0; k < o->n_strats; k++)
            if (!strcmp(o->strats[k].label, s->label)) {
                fprintf(stderr, PROG ": --strategy: '%s' given twice\n", s->label);
                return 2;
            }
        o->n_strats++;
    }
    if (!o->n_strats) {
        fprintf(stderr, PROG ": --strategy: empty\n");
        return 2;
    }
    if (o->acquisition && !plain_bayes) {
        fprintf(stderr, PROG ": --acquisition applies to --strategy bayes only\n");
        return 2;
    }
    return 0;
}

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option opts[] = {
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"space", required_argument, NULL, O_SPACE},
        {"trials", required_argument, NULL, O_TRIALS},
        {"grid-points", required_argument, NULL, O_GRID_POINTS},
        {"acquisition", required_argument, NULL, O_ACQ},
        {"objective", required_argument, NULL, O_OBJECTIVE},
        {"energy-budget", required_argument, NULL, O_BUDGET},
        {"early-stop", required_argument, NULL, O_EARLY_STOP},
        {"min-epochs", required_argument, NULL, O_MIN_EPOCHS},
        {"eta", required_argument, NULL, O_ETA},
        {"optimizer", required_argument, NULL, O_OPTIMIZER},
        {"model", required_argument, NULL, O_MODEL},
        {"epochs", required_argument, NULL, O_EPOCHS},
        {"batch", required_argument, NULL, O_BATCH},
        {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS},
        {"data", required_argument, NULL, O_DATA},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"train-limit", required_argument, NULL, O_TRAIN_LIMIT},
        {"test-limit", required_argument, NULL, O_TEST_LIMIT},
        {"val-fraction", required_argument, NULL, O_VAL_FRACTION},
        {"energy", required_argument, NULL, O_ENERGY},
        {"assume-watts", required_argument, NULL, O_WATTS},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int min_epochs_set = 0, eta_set = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        int rc = 0, k = 0;
        switch (c) {
        case O_STRATEGY: o->strategy_text = optarg; break;
        case O_SPACE: o->space_text = optarg; break;
        case O_TRIALS:
            rc = jg_cli_flag_int(PROG, "--trials", optarg, 1, MAX_TRIALS, &o->trials);
            break;
        case O_GRID_POINTS:
            rc = jg_cli_flag_int(PROG, "--grid-points", optarg, 2, 1000, &o->grid_points);
            break;
        case O_ACQ: o->acquisition = optarg; break;
        case O_OBJECTIVE: {
            static const char *const c[] = {"accuracy", "pareto", NULL};
            rc = jg_cli_flag_choice(PROG, "--objective", optarg, c, &k);
            o->objective = optarg;
            break;
        }
        case O_BUDGET:
            if (jg_cli_parse_double(optarg, 0, 1e15, &o->energy_budget) ||
                !(o->energy_budget > 0)) {
                fprintf(stderr, PROG ": --energy-budget must be joules in (0, 1e15], got "
                                "'%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_EARLY_STOP: {
            static const char *const c[] = {"none", "asha", NULL};
            rc = jg_cli_flag_choice(PROG, "--early-stop", optarg, c, &k);
            o->early_stop = optarg;
            break;
        }
        case O_MIN_EPOCHS:
            rc = jg_cli_flag_int(PROG, "--min-epochs", optarg, 1, MAX_EPOCHS, &o->min_epochs);
            min_epochs_set = 1;
            break;
        case O_ETA:
            rc = jg_cli_flag_int(PROG, "--eta", optarg, 2, 100, &o->eta);
            eta_set = 1;
            break;
        case O_OPTIMIZER: {
            static const char *const c[] = {"sgd", "adam", "adamw", NULL};
            rc = jg_cli_flag_choice(PROG, "--optimizer", optarg, c, &k);
            if (!rc) jg_optim_kind_parse(optarg, &o->optimizer);
            o->optimizer_name = optarg;
            break;
        }
        case O_MODEL: o->model = optarg; break;
        case O_EPOCHS:
            rc = jg_cli_flag_int(PROG, "--epochs", optarg, 1, MAX_EPOCHS, &o->epochs);
            break;
        case O_BATCH: rc = jg_cli_flag_int(PROG, "--batch", optarg, 1, MAX_BATCH, &o->batch); break;
        case O_SEED: rc = jg_cli_flag_seed(PROG, optarg, &o->seed); break;
        case O_THREADS:
            rc = jg_cli_flag_int(PROG, "--threads", optarg, 1, MAX_THREADS, &o->threads);
            break;
        case O_DATA: rc = jg_cli_flag_data(PROG, optarg, &o->data); break;
        case O_DATA_DIR: o->data.dir = optarg; break;
        case O_TRAIN_LIMIT:
            rc = jg_cli_flag_int(PROG, "--train-limit", optarg, 1, 2147483647L, &o->train_limit);
            break;
        case O_TEST_LIMIT:
            rc = jg_cli_flag_int(PROG, "--test-limit", optarg, 1, 2147483647L, &o->test_limit);
            break;
        case O_VAL_FRACTION:
            if (jg_cli_parse_double(optarg, 0, 1, &o->val_fraction) ||
                !(o->val_fraction > 0 && o->val_fraction < 1)) {
                fprintf(stderr, PROG ": --val-fraction must be a number in (0, 1), got '%s'\n",
                        optarg);
                rc = 2;
            }
            break;
        case O_ENERGY: rc = jg_cli_flag_energy(PROG, optarg, &o->energy); break;
        case O_WATTS: rc = jg_cli_flag_watts(PROG, "--assume-watts", optarg, 0, &o->assume_w); break;
        case O_OUT: o->out = optarg; break;
        case O_RESUME: o->resume = 1; break;
        case O_HELP: usage(stdout); return 0;
        default:
            return jg_cli_option_error(PROG, argv, optopt >= O_STRATEGY && optopt < O_END);
        }
        if (rc) return rc;
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    const char *missing = !o->space_text ? "--space" : !o->trials ? "--trials"
                        : !o->out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, PROG ": %s is required; run '" PROG " --help'\n", missing);
        return 2;
    }
    if (parse_strategies(o)) return 2;
    int grid = 0, bayes_other = 0, cost_aware = 0;
    for (int k = 0; k < o->n_strats; k++) {
        grid |= !strcmp(o->strats[k].kind, "grid");
        const int b = !strcmp(o->strats[k].kind, "bayes");
        bayes_other |= b && o->strats[k].acq != JG_TUNE_ACQ_EI;
        cost_aware |= b && o->strats[k].acq == JG_TUNE_ACQ_EI_PER_J;
    }
    const int pareto = !strcmp(o->objective, "pareto");
    const int asha = !strcmp(o->early_stop, "asha");
    if (o->grid_points && !grid) {
        fprintf(stderr, PROG ": --grid-points applies to --strategy grid only\n");
        return 2;
    }
    if (pareto && bayes_other) {
        fprintf(stderr, PROG ": --objective pareto uses ParEGO's expected improvement: give "
                        "bayes (or bayes-ei), not another acquisition\n");
        return 2;
    }
    if (o->energy == JG_ENERGY_MODE_OFF && (pareto || cost_aware || o->energy_budget > 0)) {
        fprintf(stderr, PROG ": --energy off leaves no joules for %s\n",
                pareto ? "--objective pareto" : cost_aware ? "ei-per-joule"
                                                           : "--energy-budget");
        return 2;
    }
    if (o->assume_w > 0 && (o->energy == JG_ENERGY_MODE_RAPL || o->energy == JG_ENERGY_MODE_OFF)) {
        fprintf(stderr, PROG ": --assume-watts applies to the estimate source only\n");
        return 2;
    }
    if ((min_epochs_set || eta_set) && !asha) {
        fprintf(stderr, PROG ": --min-epochs and --eta apply to --early-stop asha only\n");
        return 2;
    }
    if (asha && o->min_epochs > o->epochs) {
        fprintf(stderr, PROG ": --min-epochs %d is more than --epochs %d\n", o->min_epochs,
                o->epochs);
        return 2;
    }
    return -1;
}

/* The knobs a space may search; a dimension must be one of them, of the
 * right kind and within its bounds. mask: optimizers it applies to. */
#define SGD (1 << JG_OPT_SGD)
#define ADAMS ((1 << JG_OPT_ADAM) | (1 << JG_OPT_ADAMW))
static const struct {
    const char *name;
    int is_int, mask;
    double lo, hi, hi_excl; /* bounds: [lo, hi], or [lo, hi_excl) when hi_excl > 0 */
    const char *bounds;
} knobs[N_KNOBS] = {
    {"lr", 0, SGD | ADAMS, LR_MIN, LR_MAX, 0, "numeric with bounds in [1e-30, 1e30]"},
    {"beta1", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"beta2", 0, ADAMS, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"momentum", 0, SGD, 0, 0, 1, "numeric with bounds in [0, 1)"},
    {"weight_decay", 0, SGD | ADAMS, 0, 1e6, 0, "numeric with bounds in [0, 1e6]"},
    {"batch", 1, SGD | ADAMS, 1, MAX_BATCH, 0, "int with bounds in [1, 65536]"},
};

/* Maps the space's dimensions to the knobs of --optimizer (dm[k] = the
 * dimension of knob k, -1: not searched); an unknown dimension, one for
 * another optimizer, or one of the wrong kind or bounds is a usage error
 * naming it. */
static int map_dims(const jg_tune_space_t *sp, jg_opt_kind_t opt, const char *opt_name,
                    dims_t *dm)
{
    for (int k = 0; k < N_KNOBS; k++) dm->idx[k] = -1;
    for (int i = 0; i < sp->n_dims; i++) {
        const jg_tune_dim_t *x = &sp->dims[i];
        int k = 0;
        while (k < N_KNOBS && strcmp(x->name, knobs[k].name)) k++;
        if (k == N_KNOBS || !(knobs[k].mask & (1 << opt))) {
            fprintf(stderr, PROG ": --space: %s dimension '%s' (tune searches lr, batch, "
                            "weight_decay, and beta1, beta2 with adam/adamw or momentum "
                            "with sgd; --optimizer is %s)\n",
                    k == N_KNOBS ? "unknown" : "no", x->name, opt_name);
            return 2;
        }
        const int bad_kind = knobs[k].is_int ? x->kind != JG_TUNE_INT : x->kind == JG_TUNE_CAT;
        const int in_bounds = x->lo >= knobs[k].lo &&
                              (knobs[k].hi_excl > 0 ? x->hi < knobs[k].hi_excl
                                                    : x->hi <= knobs[k].hi);
        if (bad_kind || !in_bounds) {
            fprintf(stderr, PROG ": --space: dimension '%s' must be %s\n", x->name,
                    knobs[k].bounds);
            return 2;
        }
        dm->idx[k] = i;
    }
    return 0;
}

/* Training, validation and test sets, normalised with the training stats
 * (the same preparation as `joulegrad train`), which go to mean and std
 * (4 each; unused channels 0 and 1). 0 or the exit code. */
static int load_data(const opts_t *o, jg_dataset_t *train, jg_dataset_t *val,
                     jg_dataset_t *test, float mean[4], float std[4])
{
    const jg_data_prep_config_t cfg = {
        .source = o->data, .train = 1, .train_limit = o->train_limit,
        .subset_seed = o->seed ^ SEED_TRAIN_SUBSET, .val_fraction = o->val_fraction,
        .split_seed = o->seed ^ SEED_VAL_SPLIT, .test = 1, .test_limit = o->test_limit,
    };
    jg_data_prepared_t dp;
    jg_data_error_t derr = {{0}};
    const int rc = jg_data_prepare(&cfg, &dp, &derr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", derr.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    *train = dp.train;
    *val = dp.val;
    *test = dp.test;
    memcpy(mean, dp.mean, sizeof dp.mean);
    memcpy(std, dp.std, sizeof dp.std);
    return 0;
}

/* Everything a trial needs besides its hyperparameters. */
typedef struct {
    const opts_t *o;
    const jg_tune_space_t *sp;
    dims_t dm;
    const char *spec;      /* canonical model spec */
    jg_nn_data_t train, val, test;
    float mean[4], std[4]; /* input normalisation, kept in checkpoints */
    jg_meter_t *meter;     /* NULL with --energy off */
    const char *source;
    double poll_s, last_poll_s;
} env_t;

/* One strategy's study. */
typedef struct {
    jg_tune_result_t res;
    char log[4200], settings[512];
    jg_tune_strategy_t *strat;
    jg_tune_bayes_t *bo;
    jg_tune_asha_t *asha;
    int64_t max_trials;    /* --trials, or the grid's size when smaller */
    int64_t started;       /* trials started (without asha: finished) */
    jg_tune_trial_t *rec;  /* (cap) records */
    int64_t cap;
    jg_tune_point_t *pts;  /* (max_trials) each started trial's point */
} study_t;

/* Keeps the meter's wrap counting alive during long trials. */
static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    (void)p;
    env_t *e = ctx;
    const double now = jg_now_s();
    if (e->meter && e->poll_s > 0 && now - e->last_poll_s >= e->poll_s) {
        jg_meter_poll(e->meter);
        e->last_poll_s = now;
    }
    return 0;
}

static void ckpt_path(const study_t *st, int64_t trial, int rung, char *buf, size_t len)
{
    snprintf(buf, len, "%s/checkpoints/trial-%06lld-rung-%d.jgc", st->res.dir,
             (long long)trial, rung);
}

/* The study's next job: a new trial (is_new) or, with asha, a promotion.
 * 0, or -ENOENT when the study is complete (res.stopped_by says why). */
static int next_job(study_t *st, jg_tune_asha_job_t *job, jg_tune_error_t *err)
{
    if (st->asha) {
        const int rc = jg_tune_asha_next(st->asha, job, err);
        if (rc == -ENOENT) st->res.stopped_by = "asha";
        return rc;
    }
    if (st->started == st->max_trials) {
        st->res.stopped_by = st->max_trials < st->res.trials_requested ? "grid" : "trials";
        return -ENOENT;
    }
    const jg_tune_asha_job_t j = {
        .trial = st->started, .rung = -1, .epochs = 0, .from_epochs = 0, .is_new = 1,
    };
    *job = j;
    return 0;
}

/* Feeds a finished job's record to the optimiser and the scheduler. */
static int apply_record(study_t *st, const jg_tune_space_t *sp, const jg_tune_asha_job_t *job,
                        const jg_tune_trial_t *t, jg_tune_error_t *err)
{
    int rc = 0;
    if (job->is_new) {
        st->pts[job->trial] = t->params;
        st->started++;
    }
    // bayes sees each trial once, at its first result (rung 0 with asha).
    if (st->bo && job->is_new) {
        double u[JG_TUNE_MAX_DIMS];
        rc = jg_tune_space_to_unit(sp, &t->params, u, err);
        if (!rc)
            rc = t->energy_j > 0
                     ? jg_tune_bayes_observe_cost(st->bo, u, t->val_accuracy, t->energy_j, err)
                     : jg_tune_bayes_observe(st->bo, u, t->val_accuracy, err);
    }
    if (!rc && st->asha)
        rc = jg_tune_asha_report(st->asha, job->trial, job->rung,
                                 strcmp(t->status, "ok") ? -INFINITY : t->val_accuracy,
                                 t->energy_j, err); // a diverged trial is never promoted
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Joules predicted for the job: bayes' cost model at the proposed point for
 * a whole new trial, else the median joules per epoch of the records so far
 * times the job's epochs: finished ("ok") records first, all records with a
 * trained epoch next, and when every trial diverged in its first epoch the
 * median joules of a record. NAN when nothing is known yet. */
static double predict_j(const study_t *st, const jg_tune_asha_job_t *job, const double *u,
                        int epochs)
{
    if (st->bo && !st->asha) {
        double c, hi;
        jg_tune_error_t err;
        if (!jg_tune_bayes_predict_cost(st->bo, u, &c, &hi, &err)) return c;
    }
    const int64_t n = st->res.n;
    double *v = malloc(((size_t)n + 1) * sizeof *v);
    int *reached = malloc(((size_t)st->max_trials + 1) * sizeof *reached);
    double pred = NAN;
    int64_t m = 0;
    for (int pass = 0; v && reached && pass < 3 && m == 0; pass++) {
        memset(reached, 0, ((size_t)st->max_trials + 1) * sizeof *reached);
        for (int64_t i = 0; i < n; i++) {
            const jg_tune_trial_t *t = &st->rec[i];
            const int from = reached[t->trial]; // epochs before this record
            reached[t->trial] = t->epochs;
            if (pass == 2) v[m++] = t->energy_j; // per record
            else if (t->epochs > from && (pass == 1 || !strcmp(t->status, "ok")))
                v[m++] = t->energy_j / (t->epochs - from);
        }
        if (m) {
            qsort(v, (size_t)m, sizeof *v, cmp_double);
            const double med = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
            pred = pass == 2 ? med : med * (epochs - job->from_epochs);
        }
    }
    free(v);
    free(reached);
    return pred;
}

/* Trains job's trial (a new model, or the checkpoint of its previous rung)
 * up to `epochs` with point p and fills t. A NaN loss is a finished trial
 * ("diverged", accuracy 0). 0 or a negative errno with msg set. */
static int run_job(env_t *e, study_t *st, const jg_tune_asha_job_t *job, int epochs,
                   jg_tune_trial_t *t, char *msg, size_t msg_len)
{
    const opts_t *o = e->o;
    jg_optim_config_t oc;
    jg_optim_defaults(&oc, o->optimizer);
    float *const knob_field[N_KNOBS] = {
        &oc.lr, &oc.beta1, &oc.beta2, &oc.momentum, &oc.weight_decay, NULL,
    };
    for (int k = 0; k < K_BATCH; k++)
        if (e->dm.idx[k] >= 0) *knob_field[k] = (float)t->params.v[e->dm.idx[k]];
    const int batch = e->dm.idx[K_BATCH] >= 0 ? (int)t->params.v[e->dm.idx[K_BATCH]] : o->batch;

    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    jg_eval_t ev;
    memset(&ev, 0, sizeof ev);
    jg_nn_error_t nerr = {{0}};
    char path[4400];
    const uint64_t seed = o->seed + (uint64_t)job->trial; // the trial's seed
    int rc = jg_model_create(&model, e->spec, e->train.c, e->train.h, e->train.w,
                             e->train.classes, seed, &nerr);
    if (!rc) rc = jg_model_reserve(model, batch);
    const jg_train_config_t tc = {
        .epochs = epochs, .batch = batch, .seed = seed, .optim = oc,
        .on_batch = on_batch, .ctx = e,
    };
    if (!rc) rc = jg_trainer_create(&tr, model, &tc, &e->train, &e->val, &nerr);
    if (!rc && job->from_epochs > 0) { // a promotion: continue from the previous rung
        ckpt_path(st, job->trial, job->rung - 1, path, sizeof path);
        rc = jg_checkpoint_load(path, &ck, &nerr);
        if (!rc) rc = jg_checkpoint_restore(&ck, model, jg_trainer_optim(tr), &nerr);
        if (!rc && ck.meta.state.epochs_done != job->from_epochs) {
            snprintf(nerr.msg, sizeof nerr.msg, "%.200s holds %d epochs, the scheduler expects %d",
                     path, ck.meta.state.epochs_done, job->from_epochs);
            rc = -EINVAL;
        }
        if (!rc) rc = jg_trainer_set_state(tr, &ck.meta.state, ck.history);
    }
    if (rc) {
        snprintf(msg, msg_len, "%s", nerr.msg[0] ? nerr.msg : strerror(-rc));
        goto done;
    }
    jg_energy_sample_t s0, s1;
    if (e->meter) jg_meter_read(e->meter, &s0);
    const double t0 = jg_now_s();
    rc = jg_trainer_run(tr);
    t->seconds = jg_now_s() - t0;
    if (e->meter) jg_meter_read(e->meter, &s1);
    t->epochs = jg_trainer_epochs_done(tr);

    snprintf(t->energy_source, sizeof t->energy_source, "off");
    t->energy_j = 0;
    if (e->meter) {
        jg_energy_figure_t fig;
        jg_meter_figure(e->meter, &s0, &s1, JG_ZONE_TOTAL, &fig);
        snprintf(t->energy_source, sizeof t->energy_source, "%s",
                 fig.valid ? e->source : "invalid");
        t->energy_j = fig.valid ? fig.j : 0;
    }
    if (rc == -ERANGE) {
        t->val_accuracy = t->test_accuracy = 0;
        snprintf(t->status, sizeof t->status, "diverged");
        rc = 0;
        goto done;
    }
    if (rc) {
        snprintf(msg, msg_len, "training failed: %s", strerror(-rc));
        goto done;
    }
    rc = jg_evaluate(model, &e->val, &ev);
    t->val_accuracy = ev.accuracy;
    jg_eval_free(&ev);
    if (!rc) rc = jg_evaluate(model, &e->test, &ev);
    t->test_accuracy = ev.accuracy;
    if (rc) {
        snprintf(msg, msg_len, "evaluation failed: %s", strerror(-rc));
        goto done;
    }
    snprintf(t->status, sizeof t->status, "ok");
    if (st->asha && epochs < o->epochs) { // may be promoted: keep its state
        jg_checkpoint_meta_t meta;
        memset(&meta, 0, sizeof meta);
        memcpy(meta.mean, e->mean, sizeof meta.mean);
        memcpy(meta.std, e->std, sizeof meta.std);
        jg_trainer_get_state(tr, &meta.state);
        meta.epochs = epochs;
        meta.batch = batch;
        meta.seed = seed;
        snprintf(meta.dataset, sizeof meta.dataset, "%s", o->data.name);
        ckpt_path(st, job->trial, job->rung, path, sizeof path);
        rc = jg_checkpoint_save(path, model, jg_trainer_optim(tr), &meta,
                                jg_trainer_history(tr), &nerr);
        if (rc) snprintf(msg, msg_len, "%s", nerr.msg);
    }
done:
    jg_checkpoint_free(&ck);
    jg_eval_free(&ev);
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    return rc;
}

static void progress_line(const opts_t *o, const jg_tune_space_t *sp, const study_t *st)
{
    int64_t best;
    const double cum_j = jg_tune_best(st->rec, st->res.n, &best);
    const jg_tune_trial_t *x = &st->rec[st->res.n - 1];
    char params[256], rung[48] = "", budget[64] = "";
    jg_tune_point_format(sp, &x->params, params, sizeof params);
    if (x->rung >= 0) snprintf(rung, sizeof rung, " rung %d (%d epochs)", x->rung, x->epochs);
    if (o->energy_budget > 0) snprintf(budget, sizeof budget, " of %.6g J", o->energy_budget);
    printf("[%s] trial %lld/%lld%s %s: val %.4f test %.4f%s, %.2f J (%s), %.1f s; best val "
           "%.4f (trial %lld), cumulative %.2f J%s\n", st->res.s->label,
           (long long)x->trial + 1, (long long)st->max_trials, rung, params, x->val_accuracy,
           x->test_accuracy, strcmp(x->status, "ok") ? " (diverged)" : "", x->energy_j,
           x->energy_source, x->seconds, st->rec[best].val_accuracy,
           (long long)st->rec[best].trial + 1, cum_j, budget);
    fflush(stdout);
}

static int grow(study_t *st)
{
    if (st->res.n < st->cap) return 0;
    const int64_t cap = st->cap ? 2 * st->cap : 64;
    jg_tune_trial_t *r = realloc(st->rec, (size_t)cap * sizeof *r);
    if (!r) return -ENOMEM;
    st->rec = r;
    st->res.rec = r;
    st->cap = cap;
    return 0;
}

/* The settings a study's trials depend on, as its log header keeps them. */
static void format_settings(const opts_t *o, const jg_tune_strat_t *s, char *buf, size_t len)
{
    char acq[32] = "-";
    if (!strcmp(s->kind, "bayes"))
        snprintf(acq, sizeof acq, "%s", s->acq == JG_TUNE_ACQ_EI ? "ei"
                 : s->acq == JG_TUNE_ACQ_PI ? "pi" : s->acq == JG_TUNE_ACQ_UCB ? "ucb"
                 : "ei-per-joule");
    char asha[64] = "none";
    if (!strcmp(o->early_stop, "asha"))
        snprintf(asha, sizeof asha, "asha:%d:%d:%d", o->min_epochs, o->epochs, o->eta);
    snprintf(buf, len, "data=%s data_dir=%s train_limit=%d val_fraction=%.17g test_limit=%d "
             "optimizer=%s epochs=%d batch=%d acquisition=%s objective=%s grid_points=%d "
             "assume_watts=%g early_stop=%s", o->data.name, jg_data_source_dir(&o->data),
             o->train_limit, o->val_fraction, o->test_limit, o->optimizer_name, o->epochs,
             o->batch, acq, o->objective,
             o->grid_points ? o->grid_points : JG_TUNE_GRID_POINTS_DEFAULT, o->assume_w, asha);
}

/* The first key=value token that differs between two settings texts. */
static void settings_diff(const char *a, const char *b, char *buf, size_t len)
{
    while (*a || *b) {
        const size_t na = strcspn(a, " "), nb = strcspn(b, " ");
        if (na != nb || strncmp(a, b, na)) {
            snprintf(buf, len, "'%.*s' in the log, '%.*s' now", (int)na, a, (int)nb, b);
            return;
        }
        a += na + (a[na] == ' ');
        b += nb + (b[nb] == ' ');
    }
    snprintf(buf, len, "(identical)");
}

static int study_open(env_t *e, study_t *st, jg_tune_error_t *err)
{
    const opts_t *o = e->o;
    const jg_tune_strat_t *s = st->res.s;
    int rc;
    if (!strcmp(s->kind, "bayes")) {
        jg_tune_bayes_config_t bc;
        jg_tune_bayes_config_from_space(&bc, e->sp, o->seed);
        bc.acq = s->acq;
        if (bc.acq == JG_TUNE_ACQ_PI) bc.xi = 0.01; // PI needs a margin (docs/tuning.md)
        if (!strcmp(o->objective, "pareto")) bc.objective = JG_TUNE_OBJ_PARETO;
        rc = jg_tune_bayes_create(&st->bo, &bc, err);
    } else {
        rc = jg_tune_strategy_create(&st->strat, s->kind, e->sp, o->seed, o->grid_points, err);
    }
    st->max_trials = o->trials;
    if (!rc && st->strat && jg_tune_strategy_size(st->strat) >= 0 &&
        jg_tune_strategy_size(st->strat) < st->max_trials)
        st->max_trials = jg_tune_strategy_size(st->strat);
    if (!rc && !strcmp(o->early_stop, "asha")) {
        const jg_tune_asha_config_t ac = {
            .min_epochs = o->min_epochs, .max_epochs = o->epochs, .eta = o->eta,
            .max_trials = st->max_trials,
        };
        rc = jg_tune_asha_create(&st->asha, &ac, err);
    }
    if (!rc && !(st->pts = calloc((size_t)st->max_trials, sizeof *st->pts))) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        rc = -ENOMEM;
    }
    return rc;
}

static void study_close(study_t *st)
{
    jg_tune_bayes_destroy(st->bo);
    jg_tune_strategy_destroy(st->strat);
    jg_tune_asha_destroy(st->asha);
    free(st->rec);
    free(st->pts);
}

/* Reads the study's log back and replays it: the optimiser and scheduler end
 * where the interrupted run left them. 0 or the exit code. */
static int study_resume(env_t *e, study_t *st, const char *log_model)
{
    jg_tune_log_meta_t lm;
    jg_tune_error_t terr = {{0}};
    char warning[512] = "";
    int64_t n = 0;
    jg_tune_trial_t *recs = NULL;
    int rc = jg_tune_log_read(st->log, e->sp, log_model, 1, &lm, &recs, &n, warning,
                              sizeof warning, &terr);
    if (rc) {
        fprintf(stderr, PROG ": cannot resume: %s\n", rc == -ENOENT && !terr.msg[0]
                                                          ? strerror(-rc) : terr.msg);
        return rc == -EINVAL || rc == -ENOENT ? 2 : 1;
    }
    if (warning[0]) fprintf(stderr, PROG ": %s\n", warning);
    int code = 0;
    char diff[700];
    if (strcmp(lm.strategy, st->res.s->label) || lm.seed != e->o->seed) {
        fprintf(stderr, PROG ": cannot resume %s: it was written with --strategy %s --seed "
                        "%llu\n", st->log, lm.strategy, (unsigned long long)lm.seed);
        code = 2;
    } else if (lm.run[0] && strcmp(lm.run, st->settings)) {
        settings_diff(lm.run, st->settings, diff, sizeof diff);
        fprintf(stderr, PROG ": cannot resume %s: different settings: %s\n", st->log, diff);
        code = 2;
    } else if (!lm.run[0]) {
        fprintf(stderr, PROG ": %s predates stored settings: make sure the flags match\n",
                st->log);
    }
    for (int64_t i = 0; !code && i < n; i++) {
        jg_tune_asha_job_t job;
        rc = next_job(st, &job, &terr);
        const jg_tune_trial_t *t = &recs[i];
        if (rc == -ENOENT) {
            fprintf(stderr, PROG ": %s:%lld: more records than the study makes (%lld trials); "
                            "give the --trials it was run with\n", st->log, (long long)i + 2,
                    (long long)st->max_trials);
            code = 2;
        } else if (rc) {
            fprintf(stderr, PROG ": cannot resume %s: %s\n", st->log, terr.msg);
            code = 1;
        } else if (t->trial != job.trial || t->rung != job.rung) {
            fprintf(stderr, PROG ": cannot resume: %s line %lld holds trial %lld rung %d, the "
                            "study expects trial %lld rung %d\n", st->log, (long long)i + 2,
                    (long long)t->trial, t->rung, (long long)job.trial, job.rung);
            code = 1;
        } else if (!job.is_new && memcmp(&t->params, &st->pts[t->trial], sizeof t->params)) {
            fprintf(stderr, PROG ": cannot resume: %s line %lld: trial %lld changed its "
                            "parameters\n", st->log, (long long)i + 2, (long long)t->trial);
            code = 1;
        } else if ((rc = grow(st)) || (rc = apply_record(st, e->sp, &job, t, &terr))) {
            fprintf(stderr, PROG ": cannot resume %s: trial %lld: %s\n", st->log,
                    (long long)t->trial, rc == -ENOMEM ? "out of memory" : terr.msg);
            code = 1;
        } else {
            st->rec[st->res.n++] = *t;
        }
    }
    free(recs);
    if (!code) printf("tune: resuming %s after %lld records\n", st->log, (long long)n);
    return code;
}

/* Removes the early-stopping checkpoints once nothing can be promoted. */
static void remove_checkpoints(const study_t *st)
{
    char path[4400];
    for (int64_t i = 0; i < st->res.n; i++) {
        ckpt_path(st, st->rec[i].trial, st->rec[i].rung, path, sizeof path);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/checkpoints", st->res.dir);
    rmdir(path);
}

/* Runs the study to its end (trials, grid, scheduler or energy budget).
 * 0 or the exit code. */
static int study_run(env_t *e, study_t *st)
{
    const opts_t *o = e->o;
    jg_tune_error_t terr = {{0}};
    char path[4400];
    if (st->asha) {
        snprintf(path, sizeof path, "%s/checkpoints", st->res.dir);
        const int rc = jg_mkdir_p(path);
        if (rc) {
            fprintf(stderr, PROG ": cannot create %s: %s\n", path, strerror(-rc));
            return 1;
        }
    }
    for (;;) {
        jg_tune_asha_job_t job;
        int rc = next_job(st, &job, &terr);
        if (rc == -ENOENT) break;
        if (rc || (rc = grow(st))) {
            fprintf(stderr, PROG ": [%s] %s\n", st->res.s->label,
                    rc == -ENOMEM ? "out of memory" : terr.msg);
            return 1;
        }
        jg_tune_trial_t *t = &st->rec[st->res.n];
        memset(t, 0, sizeof *t);
        t->trial = job.trial;
        t->rung = job.rung;
        snprintf(t->strategy, sizeof t->strategy, "%s", st->res.s->label);
        const int epochs = st->asha ? job.epochs : o->epochs;
        double u[JG_TUNE_MAX_DIMS];
        const double p0 = jg_now_s();
        if (!job.is_new) {
            t->params = st->pts[job.trial];
        } else if (st->bo) {
            rc = jg_tune_bayes_propose(st->bo, u, &terr);
            if (!rc) rc = jg_tune_space_from_unit(e->sp, u, &t->params, &terr);
        } else {
            rc = jg_tune_strategy_propose(st->strat, job.trial, &t->params, &terr);
        }
        if (job.is_new) {
            st->res.propose_last_s = jg_now_s() - p0;
            st->res.propose_s += st->res.propose_last_s;
            st->res.proposals++;
        }
        if (!rc && st->bo) rc = jg_tune_space_to_unit(e->sp, &t->params, u, &terr);
        if (rc) {
            fprintf(stderr, PROG ": [%s] trial %lld: %s\n", st->res.s->label,
                    (long long)job.trial + 1, terr.msg);
            return 1;
        }
        if (o->energy_budget > 0) {
            double spent;
            int64_t best;
            spent = jg_tune_best(st->rec, st->res.n, &best);
            const double pred = predict_j(st, &job, u, epochs);
            if (isfinite(pred) && spent + pred > o->energy_budget) {
                printf("[%s] energy budget: stopping before trial %lld: its predicted %.2f J "
                       "would take the total from %.2f J past %.6g J\n", st->res.s->label,
                       (long long)job.trial + 1, pred, spent, o->energy_budget);
                st->res.stopped_by = "energy-budget";
                st->res.next_predicted_j = pred;
                break;
            }
        }
        char msg[512] = "";
        rc = run_job(e, st, &job, epochs, t, msg, sizeof msg);
        if (rc) {
            fprintf(stderr, PROG ": [%s] trial %lld: %s\n", st->res.s->label,
                    (long long)job.trial + 1, msg);
            return 1;
        }
        // Feed the record as the log stores it, so a resume feeds the same.
        rc = jg_tune_log_append(st->log, e->sp, t, &terr);
        if (!rc) rc = apply_record(st, e->sp, &job, t, &terr);
        if (rc) {
            fprintf(stderr, PROG ": [%s] trial %lld: %s\n", st->res.s->label,
                    (long long)job.trial + 1, terr.msg);
            return 1;
        }
        st->res.n++;
        if (!job.is_new) { // its previous rung's state is no longer needed
            ckpt_path(st, job.trial, job.rung - 1, path, sizeof path);
            unlink(path);
        }
        progress_line(o, e->sp, st);
        if (st->asha) jg_tune_asha_stats(st->asha, &st->res.asha);
        rc = jg_tune_write_study(&st->res, e->sp, e->spec, st->settings, e->source);
        if (rc) {
            fprintf(stderr, PROG ": writing %s: %s\n", st->res.dir, strerror(-rc));
            return 1;
        }
    }
    if (st->asha) {
        jg_tune_asha_stats(st->asha, &st->res.asha);
        if (!strcmp(st->res.stopped_by, "asha")) remove_checkpoints(st);
        printf("[%s] early stopping (asha): %lld of %lld epochs trained, estimated %.2f J "
               "saved (%s)%s\n", st->res.s->label, (long long)st->res.asha.epochs_trained,
               (long long)st->res.asha.epochs_full, st->res.asha.joules_saved_est, e->source,
               strcmp(st->res.stopped_by, "asha")
                   ? "; the study is not finished, so this counts trials that may still be "
                     "promoted" : "");
    }
    int rc = jg_tune_write_study(&st->res, e->sp, e->spec, st->settings, e->source);
    char msg[600] = "";
    if (!rc) rc = jg_tune_write_figures(st->res.dir, &st->res, 1, e->source, msg, sizeof msg);
    if (rc < 0) {
        fprintf(stderr, PROG ": writing %s: %s\n", st->res.dir, strerror(-rc));
        return 1;
    }
    printf("[%s] %lld records, stopped by %s; wrote %s, best_vs_energy.csv, pareto.csv, "
           "summary.json\n%s\n", st->res.s->label, (long long)st->res.n, st->res.stopped_by,
           st->log, msg);
    return 0;
}

/* The canonical spec identifies the model in the logs; too long for a log
 * header, its FNV-1a 64. */
static void log_model_name(const char *spec, char *buf, size_t len)
{
    if (strlen(spec) < len) {
        snprintf(buf, len, "%s", spec);
        return;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = spec; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    snprintf(buf, len, "spec-fnv1a:%016llx", (unsigned long long)h);
}

int jg_cli_tune(int argc, char **argv)
{
    opts_t o = {
        .strategy_text = "bayes", .model = "default", .objective = "accuracy",
        .early_stop = "none", .optimizer = JG_OPT_ADAM, .optimizer_name = "adam", .epochs = 1, .batch = 64, .seed = 1, .min_epochs = 1, .eta = 3,
        .val_fraction = 0.1, .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO,
    };
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;

    jg_tune_space_t sp;
    jg_tune_error_t terr = {{0}};
    env_t env = {.o = &o, .sp = &sp};
    if (jg_tune_space_parse(&sp, o.space_text, &terr)) {
        fprintf(stderr, PROG ": --space: %s\n", terr.msg);
        return 2;
    }
    if (map_dims(&sp, o.optimizer, o.optimizer_name, &env.dm)) return 2;
    if (o.threads && jg_cli_use_threads(PROG, o.threads)) return 2;

    jg_dataset_t train = {0}, val = {0}, test = {0};
    jg_model_t *probe_model = NULL;
    jg_meter_t *meter = NULL;
    study_t studies[JG_TUNE_MAX_STRATEGIES];
    memset(studies, 0, sizeof studies);
    jg_tune_result_t results[JG_TUNE_MAX_STRATEGIES];
    int exit_code = 1;
    char spec[4096], log_model[128];

    // Every study's directory and log; without --resume none may exist yet.
    const int several = o.n_strats > 1;
    int logs_found = 0;
    for (int k = 0; k < o.n_strats; k++) {
        study_t *st = &studies[k];
        st->res.s = &o.strats[k];
        st->res.stopped_by = "interrupted";
        st->res.next_predicted_j = NAN;
        st->res.budget_j = o.energy_budget;
        st->res.trials_requested = o.trials;
        st->res.have_asha = !strcmp(o.early_stop, "asha");
        if (snprintf(st->res.dir, sizeof st->res.dir, several ? "%s/%s" : "%s", o.out,
                     o.strats[k].label) >= (int)sizeof st->res.dir) {
            fprintf(stderr, PROG ": --out is too long\n");
            return 2;
        }
        snprintf(st->log, sizeof st->log, "%s/trials.jsonl", st->res.dir);
        format_settings(&o, &o.strats[k], st->settings, sizeof st->settings);
        if (access(st->log, F_OK) == 0) logs_found++;
    }
    if (!o.resume && logs_found) {
        fprintf(stderr, PROG ": %s already holds a study: add --resume to continue it, or "
                        "choose another --out\n", o.out);
        return 2;
    }
    if (o.resume && (several ? !logs_found : access(studies[0].log, F_OK))) {
        fprintf(stderr, PROG ": cannot resume: no trials.jsonl in %s%s\n", o.out,
                several ? " or its strategy directories" : "");
        return 2;
    }

    rc = load_data(&o, &train, &val, &test, env.mean, env.std);
    if (rc) {
        exit_code = rc;
        goto done;
    }
    jg_nn_error_t nerr = {{0}};
    rc = jg_model_create(&probe_model, o.model, train.c, train.h, train.w, train.classes,
                         o.seed, &nerr);
    if (rc) {
        fprintf(stderr, PROG ": --model: %s\n", nerr.msg);
        exit_code = rc == -EINVAL || rc == -ENOENT ? 2 : 1;
        goto done;
    }
    if (jg_model_spec(probe_model, spec, sizeof spec)) {
        fprintf(stderr, PROG ": --model: the spec is longer than %zu bytes\n", sizeof spec);
        goto done;
    }
    log_model_name(spec, log_model, sizeof log_model);
    env.spec = spec;
    env.train = jg_run_data_view(&train);
    env.val = jg_run_data_view(&val);
    env.test = jg_run_data_view(&test);

    // Strategies, schedulers and logs (created, or read back and replayed).
    for (int k = 0; k < o.n_strats; k++) {
        study_t *st = &studies[k];
        rc = study_open(&env, st, &terr);
        if (rc) {
            fprintf(stderr, PROG ": [%s] %s\n", st->res.s->label, terr.msg);
            exit_code = rc == -EINVAL ? 2 : 1;
            goto done;
        }
        if (o.resume && access(st->log, F_OK) == 0) {
            rc = study_resume(&env, st, log_model);
            if (rc) {
                exit_code = rc;
                goto done;
            }
            continue;
        }
        jg_tune_log_meta_t meta;
        memset(&meta, 0, sizeof meta);
        snprintf(meta.model, sizeof meta.model, "%s", log_model);
        snprintf(meta.strategy, sizeof meta.strategy, "%s", st->res.s->label);
        snprintf(meta.run, sizeof meta.run, "%s", st->settings);
        meta.seed = o.seed;
        meta.created_s = (int64_t)time(NULL);
        rc = jg_mkdir_p(st->res.dir);
        if (rc) {
            fprintf(stderr, PROG ": cannot create %s: %s\n", st->res.dir, strerror(-rc));
            goto done;
        }
        rc = jg_tune_log_create(st->log, &sp, &meta, &terr);
        if (rc) {
            fprintf(stderr, PROG ": %s\n", terr.msg);
            goto done;
        }
    }

    // Energy meter shared by every trial.
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = o.energy;
    ecfg.assume_w_per_core = o.assume_w;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    rc = jg_meter_open(&meter, &ecfg, &est);
    if (rc || est.fallback) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, rc ? PROG ": --energy: %s\n" : "%s\n", line);
        if (rc) goto done;
    }
    env.meter = meter;
    env.source = meter ? jg_energy_source_name(jg_meter_source(meter)) : "off";
    if (meter) {
        const int64_t poll_ns = jg_meter_poll_interval_ns(meter);
        env.poll_s = poll_ns > 0 ? 0.5e-9 * (double)poll_ns : 0;
    }
    printf("tune: %s over %s, %d trials of %d epochs%s, model %s, %d train / %d val / %d "
           "test images, energy %s, out %s\n", o.strategy_text, o.space_text, o.trials,
           o.epochs, strcmp(o.early_stop, "asha") ? "" : " at most (asha)", o.model, train.n,
           val.n, test.n, env.source, o.out);

    for (int k = 0; k < o.n_strats; k++) {
        rc = study_run(&env, &studies[k]);
        if (rc) {
            exit_code = rc;
            goto done;
        }
        results[k] = studies[k].res;
    }
    if (several) {
        char msg[600] = "";
        rc = jg_tune_write_comparison(o.out, results, o.n_strats, env.source);
        if (!rc) rc = jg_tune_write_figures(o.out, results, o.n_strats, env.source, msg,
                                            sizeof msg);
        if (rc < 0) {
            fprintf(stderr, PROG ": writing %s: %s\n", o.out, strerror(-rc));
            goto done;
        }
        printf("wrote %s/comparison.csv and %s/summary.json\n%s\n", o.out, o.out, msg);
    }
    exit_code = 0;

done:
    for (int k = 0; k < o.n_strats; k++) study_close(&studies[k]);
    jg_meter_close(meter);
    jg_model_destroy(probe_model);
    jg_dataset_free(&train);
    jg_dataset_free(&val);
    jg_dataset_free(&test);
    return exit_code;
}
