/* SPDX-License-Identifier: MIT */
/*
 * cmd_tune.c - `joulegrad tune`: the flags into a jg_run_tune_config_t, one
 * call to jg_run_tune (run/trial.c: the data, the meter and the studies,
 * whose loop is tuning/'s) and its lines printed: progress on stdout, notes
 * and the error on stderr. Exit 0, 1 (failure) or 2 (usage).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "flags.h"
#include "jg_run.h"

#define PROG "joulegrad tune"
#define MAX_TRIALS 100000
#define MAX_EPOCHS JG_CLI_MAX_EPOCHS
#define MAX_BATCH JG_CLI_MAX_BATCH
#define MAX_THREADS JG_CLI_MAX_THREADS

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
    O_EARLY_STOP, O_MIN_EPOCHS, O_ETA, O_VAL_FRACTION, O_OUT, O_RESUME, O_HELP, O_END
};

/* The shared flags tune takes (flags.h); --val-fraction is its own: (0, 1). */
#define SHARED (JG_F(JG_F_MODEL) | JG_F(JG_F_EPOCHS) | JG_F(JG_F_BATCH) | JG_F(JG_F_SEED) | \
                JG_F(JG_F_THREADS) | JG_F(JG_F_DATA) | JG_F(JG_F_DATA_DIR) |                 \
                JG_F(JG_F_TRAIN_LIMIT) | JG_F(JG_F_TEST_LIMIT) | JG_F(JG_F_ENERGY) |          \
                JG_F(JG_F_ASSUME_WATTS) | JG_F(JG_F_OPTIMIZER))

/* One of tune's own flags into c: 0, 2 after printing the usage error, or
 * -1 when c is not one. */
static int parse_own(void *ctx, int c, const char *arg)
{
    jg_run_tune_config_t *o = ctx;
    int k = 0, rc = 0;
    switch (c) {
    case O_STRATEGY: o->strategies = arg; return 0;
    case O_SPACE: o->space = arg; return 0;
    case O_TRIALS: return jg_cli_flag_int(PROG, "--trials", arg, 1, MAX_TRIALS, &o->trials);
    case O_GRID_POINTS:
        return jg_cli_flag_int(PROG, "--grid-points", arg, 2, 1000, &o->grid_points);
    case O_ACQ: o->acquisition = arg; return 0;
    case O_OBJECTIVE: {
        static const char *const choices[] = {"accuracy", "pareto", NULL};
        rc = jg_cli_flag_choice(PROG, "--objective", arg, choices, &k);
        o->objective = k ? JG_TUNE_OBJ_PARETO : JG_TUNE_OBJ_ACCURACY;
        return rc;
    }
    case O_BUDGET:
        if (!jg_cli_parse_double(arg, 0, 1e15, &o->energy_budget_j) && o->energy_budget_j > 0)
            return 0;
        fprintf(stderr, PROG ": --energy-budget must be joules in (0, 1e15], got '%s'\n", arg);
        return 2;
    case O_EARLY_STOP: {
        static const char *const choices[] = {"none", "asha", NULL};
        rc = jg_cli_flag_choice(PROG, "--early-stop", arg, choices, &k);
        o->asha = k;
        return rc;
    }
    case O_MIN_EPOCHS:
        return jg_cli_flag_int(PROG, "--min-epochs", arg, 1, MAX_EPOCHS, &o->min_epochs);
    case O_ETA: return jg_cli_flag_int(PROG, "--eta", arg, 2, 100, &o->eta);
    case O_VAL_FRACTION:
        if (!jg_cli_parse_double(arg, 0, 1, &o->val_fraction) && o->val_fraction > 0 &&
            o->val_fraction < 1)
            return 0;
        fprintf(stderr, PROG ": --val-fraction must be a number in (0, 1), got '%s'\n", arg);
        return 2;
    case O_OUT: o->out = arg; return 0;
    case O_RESUME: o->resume = 1; return 0;
    default: return -1;
    }
}

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, jg_run_tune_config_t *o, jg_cli_run_flags_t *f)
{
    static const struct option own[] = {
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
        {"val-fraction", required_argument, NULL, O_VAL_FRACTION},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const jg_cli_own_t cmd = {own, O_STRATEGY, O_END, O_HELP, parse_own, usage, o};
    const int rc = jg_cli_getopt(PROG, argc, argv, SHARED, &cmd, f);
    if (rc >= 0) return rc;
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    const char *missing = !o->space ? "--space" : !o->trials ? "--trials"
                        : !o->out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, PROG ": %s is required; run '" PROG " --help'\n", missing);
        return 2;
    }
    return -1;
}

int jg_cli_tune(int argc, char **argv)
{
    jg_run_tune_config_t cfg;
    jg_run_tune_config_default(&cfg);
    jg_cli_run_flags_t f = {
        .model = cfg.model, .epochs = cfg.epochs, .batch = cfg.batch, .seed = cfg.seed,
        .data = cfg.data, .energy = cfg.energy, .optimizer = cfg.optimizer,
    };
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &cfg, &f);
    if (rc >= 0) return rc;
    cfg.model = f.model;
    cfg.epochs = f.epochs;
    cfg.batch = f.batch;
    cfg.seed = f.seed;
    cfg.data = f.data;
    cfg.train_limit = f.train_limit;
    cfg.test_limit = f.test_limit;
    cfg.energy = f.energy;
    cfg.assume_w = f.assume_w;
    cfg.optimizer = f.optimizer;
    const jg_log_t log = {.fn = jg_cli_print_line};
    jg_run_error_t err = {{0}};
    rc = jg_run_tune_check(&cfg, &err);
    if (!rc && f.threads && jg_cli_use_threads(PROG, f.threads)) return 2;
    if (!rc) rc = jg_run_tune(&cfg, &log, &err);
    if (rc) jg_cli_error(PROG, err.msg[0] ? err.msg : strerror(-rc));
    return jg_cli_exit_code(rc);
}
