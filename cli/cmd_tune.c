/* SPDX-License-Identifier: MIT */
/*
 * cmd_tune.c - `joulegrad tune`: the flags into a jg_run_tune_config_t, one
 * call to jg_run_tune (tune_run.c: the data, the meter and the studies, whose
 * loop is tuning/'s) and its lines printed: progress on stdout, notes and
 * the error on stderr. Exit 0, 1 (failure) or 2 (usage).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "tune.h"

#define PROG "joulegrad tune"
#define MAX_TRIALS 100000
#define MAX_EPOCHS 100000
#define MAX_BATCH 65536
#define MAX_THREADS 1024

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

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, jg_run_tune_config_t *o)
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
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        int rc = 0, k = 0;
        switch (c) {
        case O_STRATEGY: o->strategies = optarg; break;
        case O_SPACE: o->space = optarg; break;
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
            o->objective = k ? JG_TUNE_OBJ_PARETO : JG_TUNE_OBJ_ACCURACY;
            break;
        }
        case O_BUDGET:
            if (jg_cli_parse_double(optarg, 0, 1e15, &o->energy_budget_j) ||
                !(o->energy_budget_j > 0)) {
                fprintf(stderr, PROG ": --energy-budget must be joules in (0, 1e15], got "
                                "'%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_EARLY_STOP: {
            static const char *const c[] = {"none", "asha", NULL};
            rc = jg_cli_flag_choice(PROG, "--early-stop", optarg, c, &k);
            o->asha = k;
            break;
        }
        case O_MIN_EPOCHS:
            rc = jg_cli_flag_int(PROG, "--min-epochs", optarg, 1, MAX_EPOCHS, &o->min_epochs);
            break;
        case O_ETA:
            rc = jg_cli_flag_int(PROG, "--eta", optarg, 2, 100, &o->eta);
            break;
        case O_OPTIMIZER: {
            static const char *const c[] = {"sgd", "adam", "adamw", NULL};
            rc = jg_cli_flag_choice(PROG, "--optimizer", optarg, c, &k);
            if (!rc) jg_optim_kind_parse(optarg, &o->optimizer);
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
    const char *missing = !o->space ? "--space" : !o->trials ? "--trials"
                        : !o->out ? "--out" : NULL;
    if (missing) {
        fprintf(stderr, PROG ": %s is required; run '" PROG " --help'\n", missing);
        return 2;
    }
    return -1;
}

/* Hands the library's lines to stdout (progress) and stderr (notes). */
static void print_line(void *ctx, int stream, const char *line)
{
    (void)ctx;
    FILE *f = stream == JG_LOG_NOTE ? stderr : stdout;
    fprintf(f, "%s\n", line);
    fflush(f);
}

int jg_cli_tune(int argc, char **argv)
{
    jg_run_tune_config_t cfg;
    jg_run_tune_config_default(&cfg);
    if (jg_cli_kernels_init(PROG)) return 2;
    const int code = parse_opts(argc, argv, &cfg);
    if (code >= 0) return code;
    const jg_log_t log = {.fn = print_line};
    jg_tune_error_t err = {{0}};
    const int rc = jg_run_tune(&cfg, &log, &err);
    if (!rc) return 0;
    fprintf(stderr, PROG ": %s\n", err.msg[0] ? err.msg : strerror(-rc));
    return rc == -EINVAL ? 2 : 1;
}
