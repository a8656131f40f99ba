/* SPDX-License-Identifier: MIT */
/*
 * cmd_tune.c - `joulegrad tune`: hyperparameter search over Adam's lr, beta1
 * and beta2 with a grid, random, Sobol or Bayesian strategy (tuning/). Each
 * trial trains a fresh model on the training split, is selected by its
 * validation accuracy (the test accuracy is reported, never used) and is
 * charged the joules the meter saw during its training.
 *
 * Outputs in --out DIR: trials.jsonl (the trial log, one fsynced line per
 * finished trial), best_vs_energy.csv and summary.json (both replaced
 * atomically after every trial). --resume reads the log, feeds its trials to
 * the strategy and continues: the proposals equal an uninterrupted run's.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_nn.h"
#include "jg_tuning.h"

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
    const char *strategy, *space_text, *model, *out, *acquisition;
    int trials, epochs, batch, threads, train_limit, test_limit, grid_points, resume;
    uint64_t seed;
    double val_fraction;
    jg_cli_data_t data;
    jg_energy_mode_t energy;
} opts_t;

/* Where each Adam hyperparameter sits in the space (-1: fixed default). */
typedef struct {
    int lr, beta1, beta2;
} dims_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: joulegrad tune --space SPACE --trials N --out DIR [options]\n"
"\n"
"Searches Adam's hyperparameters (space dimensions lr, beta1, beta2; see\n"
"docs/tuning.md for the syntax, e.g. 'lr=log:1e-4:1e-1,beta1=0.5:0.99').\n"
"Every trial trains a fresh model (seed = --seed + trial) for --epochs and is\n"
"ranked by validation accuracy; test accuracy and joules are reported.\n"
"\n"
"  --strategy S          grid, random, sobol or bayes (default bayes)\n"
"  --space SPACE         search space (required)\n"
"  --trials N            trials in the study, 1..%d (required)\n"
"  --grid-points P       grid: points per float dimension, 2..1000 (default 5)\n"
"  --acquisition A       bayes: ei, pi (the study's) or ucb (default ei)\n"
"  --model SPEC          preset name or spec text (default: default)\n"
"  --epochs E            epochs per trial, 1..%d (default 1)\n"
"  --batch B             images per step, 1..%d (default 64)\n"
"  --seed S              strategy, data subsets and trial seeds, 0..2^53 (default 1)\n"
"  --threads T           kernel threads, 1..%d (default: OpenMP default)\n"
"  --data D              " JG_CLI_DATA_NAMES " (default fashion-mnist)\n"
"  --data-dir DIR        where the dataset is (as for 'joulegrad train')\n"
"  --train-limit N       seeded random subset of N training images (default: all)\n"
"  --test-limit N        first N test images (default: all)\n"
"  --val-fraction F      validation fraction in (0, 1), used for selection\n"
"                        (default 0.1)\n"
"  --energy MODE         auto, rapl, estimate or off (default auto)\n"
"  --out DIR             study directory (required): trials.jsonl,\n"
"                        best_vs_energy.csv, summary.json\n"
"  --resume              continue the study in DIR with the same flags\n"
"  --help                this text\n",
            MAX_TRIALS, MAX_EPOCHS, MAX_BATCH, MAX_THREADS);
}

enum {
    O_STRATEGY = 256, O_SPACE, O_TRIALS, O_GRID_POINTS, O_ACQ, O_MODEL, O_EPOCHS, O_BATCH,
    O_SEED, O_THREADS, O_DATA, O_DATA_DIR, O_TRAIN_LIMIT, O_TEST_LIMIT, O_VAL_FRACTION,
    O_ENERGY, O_OUT, O_RESUME, O_HELP, O_END
};

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option opts[] = {
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"space", required_argument, NULL, O_SPACE},
        {"trials", required_argument, NULL, O_TRIALS},
        {"grid-points", required_argument, NULL, O_GRID_POINTS},
        {"acquisition", required_argument, NULL, O_ACQ},
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
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        int rc = 0;
        switch (c) {
        case O_STRATEGY:
            if (strcmp(optarg, "grid") && strcmp(optarg, "random") && strcmp(optarg, "sobol") &&
                strcmp(optarg, "bayes")) {
                fprintf(stderr, PROG ": --strategy must be grid, random, sobol or bayes, got "
                                "'%s'\n", optarg);
                rc = 2;
            }
            o->strategy = optarg;
            break;
        case O_SPACE: o->space_text = optarg; break;
        case O_TRIALS:
            rc = jg_cli_flag_int(PROG, "--trials", optarg, 1, MAX_TRIALS, &o->trials);
            break;
        case O_GRID_POINTS:
            rc = jg_cli_flag_int(PROG, "--grid-points", optarg, 2, 1000, &o->grid_points);
            break;
        case O_ACQ:
            if (strcmp(optarg, "ei") && strcmp(optarg, "pi") && strcmp(optarg, "ucb")) {
                fprintf(stderr, PROG ": --acquisition must be ei, pi or ucb, got '%s'\n",
                        optarg);
                rc = 2;
            }
            o->acquisition = optarg;
            break;
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
        case O_OUT: o->out = optarg; break;
        case O_RESUME: o->resume = 1; break;
        case O_HELP: usage(stdout); return 0;
        default:
            if (optopt >= O_STRATEGY && optopt < O_END)
                fprintf(stderr, PROG ": %s needs a value; run '" PROG " --help'\n",
                        argv[optind - 1]);
            else
                fprintf(stderr, PROG ": unknown option '%s'; run '" PROG " --help'\n",
                        argv[optind - 1]);
            return 2;
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
    if (o->grid_points && strcmp(o->strategy, "grid")) {
        fprintf(stderr, PROG ": --grid-points applies to --strategy grid only\n");
        return 2;
    }
    if (o->acquisition && strcmp(o->strategy, "bayes")) {
        fprintf(stderr, PROG ": --acquisition applies to --strategy bayes only\n");
        return 2;
    }
    return -1;
}

/* Maps the space's dimensions to Adam's hyperparameters; a dimension that is
 * not lr/beta1/beta2, categorical, or with bounds Adam rejects is a usage
 * error naming it. */
static int map_dims(const jg_tune_space_t *sp, dims_t *dm)
{
    dm->lr = dm->beta1 = dm->beta2 = -1;
    for (int i = 0; i < sp->n_dims; i++) {
        const jg_tune_dim_t *x = &sp->dims[i];
        const int is_lr = !strcmp(x->name, "lr");
        if (!is_lr && strcmp(x->name, "beta1") && strcmp(x->name, "beta2")) {
            fprintf(stderr, PROG ": --space: unknown dimension '%s' (tune searches lr, beta1 "
                            "and beta2)\n", x->name);
            return 2;
        }
        if (x->kind == JG_TUNE_CAT || (is_lr && !(x->lo >= LR_MIN && x->hi <= LR_MAX)) ||
            (!is_lr && !(x->lo >= 0 && x->hi < 1))) {
            fprintf(stderr, PROG ": --space: dimension '%s' must be numeric with %s\n", x->name,
                    is_lr ? "bounds in [1e-30, 1e30]" : "bounds in [0, 1)");
            return 2;
        }
        *(is_lr ? &dm->lr : !strcmp(x->name, "beta1") ? &dm->beta1 : &dm->beta2) = i;
    }
    return 0;
}

static jg_nn_data_t view(const jg_dataset_t *d)
{
    const jg_nn_data_t v = {d->n, d->c, d->h, d->w, d->classes, d->x, d->y};
    return v;
}

/* Training, validation and test sets, normalised with the training stats
 * (the same preparation as `joulegrad train`). 0 or the exit code. */
static int load_data(const opts_t *o, jg_dataset_t *train, jg_dataset_t *val,
                     jg_dataset_t *test)
{
    jg_dataset_t full = {0}, sub = {0};
    jg_data_error_t derr = {{0}};
    float mean[4], std[4];
    int rc = jg_cli_data_load(&o->data, 1, &full, &derr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", derr.msg);
        return rc == -EINVAL ? 2 : 1;
    }
    if (o->train_limit && o->train_limit < full.n) {
        rc = jg_cli_random_subset(&sub, &full, o->train_limit, o->seed ^ SEED_TRAIN_SUBSET,
                                  &derr);
        jg_dataset_free(&full);
    } else {
        sub = full;
    }
    int n_val = (int)llround(o->val_fraction * sub.n);
    if (n_val < 1) n_val = 1;
    if (!rc && n_val >= sub.n) {
        fprintf(stderr, PROG ": --val-fraction %g of %d images leaves none for training\n",
                o->val_fraction, sub.n);
        jg_dataset_free(&sub);
        return 2;
    }
    if (!rc) rc = jg_data_split(train, val, &sub, n_val, o->seed ^ SEED_VAL_SPLIT, &derr);
    jg_dataset_free(&sub);
    if (!rc) rc = jg_dataset_stats(mean, std, train);
    if (!rc) rc = jg_dataset_normalize(train, mean, std);
    if (!rc) rc = jg_dataset_normalize(val, mean, std);
    if (!rc) rc = jg_cli_data_load(&o->data, 0, test, &derr);
    if (!rc && (test->c != train->c || test->h != train->h || test->w != train->w ||
                test->classes != train->classes)) {
        fprintf(stderr, PROG ": test images are %dx%dx%d with %d classes, training images "
                        "%dx%dx%d with %d\n", test->c, test->h, test->w, test->classes,
                train->c, train->h, train->w, train->classes);
        return 1;
    }
    if (rc) {
        fprintf(stderr, PROG ": preparing the data: %s\n",
                derr.msg[0] ? derr.msg : strerror(-rc));
        return 1;
    }
    if (o->test_limit) jg_data_limit(test, o->test_limit);
    jg_dataset_normalize(test, mean, std);
    return 0;
}

/* Everything a trial needs besides its hyperparameters. */
typedef struct {
    const opts_t *o;
    const char *spec;      /* canonical model spec */
    jg_nn_data_t train, val, test;
    jg_meter_t *meter;     /* NULL with --energy off */
    double poll_s, last_poll_s;
} study_t;

/* Keeps the meter's wrap counting alive during long trials. */
static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    (void)p;
    study_t *s = ctx;
    const double now = now_s();
    if (s->meter && s->poll_s > 0 && now - s->last_poll_s >= s->poll_s) {
        jg_meter_poll(s->meter);
        s->last_poll_s = now;
    }
    return 0;
}

/* Runs trial t->trial with t->params: fills the accuracies, energy, seconds
 * and status. A NaN loss is a finished trial ("diverged", accuracy 0).
 * Returns 0 or a negative errno with msg set. */
static int run_trial(study_t *s, const dims_t *dm, jg_tune_trial_t *t, char *msg,
                     size_t msg_len)
{
    const opts_t *o = s->o;
    jg_optim_config_t oc;
    jg_optim_defaults(&oc, JG_OPT_ADAM);
    if (dm->lr >= 0) oc.lr = (float)t->params.v[dm->lr];
    if (dm->beta1 >= 0) oc.beta1 = (float)t->params.v[dm->beta1];
    if (dm->beta2 >= 0) oc.beta2 = (float)t->params.v[dm->beta2];

    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_eval_t ev;
    memset(&ev, 0, sizeof ev);
    jg_nn_error_t nerr = {{0}};
    const uint64_t seed = o->seed + (uint64_t)t->trial; // the trial's seed
    int rc = jg_model_create(&model, s->spec, s->train.c, s->train.h, s->train.w,
                             s->train.classes, seed, &nerr);
    if (!rc) rc = jg_model_reserve(model, o->batch);
    const jg_train_config_t tc = {
        .epochs = o->epochs, .batch = o->batch, .seed = seed, .optim = oc,
        .on_batch = on_batch, .ctx = s,
    };
    if (!rc) rc = jg_trainer_create(&tr, model, &tc, &s->train, &s->val, &nerr);
    if (rc) {
        snprintf(msg, msg_len, "%s", nerr.msg[0] ? nerr.msg : strerror(-rc));
        goto done;
    }
    jg_energy_sample_t s0, s1;
    if (s->meter) jg_meter_read(s->meter, &s0);
    const double t0 = now_s();
    rc = jg_trainer_run(tr);
    t->seconds = now_s() - t0;
    if (s->meter) jg_meter_read(s->meter, &s1);

    snprintf(t->energy_source, sizeof t->energy_source, "off");
    t->energy_j = 0;
    if (s->meter) {
        jg_energy_figure_t fig;
        jg_meter_figure(s->meter, &s0, &s1, JG_ZONE_TOTAL, &fig);
        snprintf(t->energy_source, sizeof t->energy_source, "%s",
                 fig.valid ? jg_energy_source_name(jg_meter_source(s->meter)) : "invalid");
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
    rc = jg_evaluate(model, &s->val, &ev);
    t->val_accuracy = ev.accuracy;
    jg_eval_free(&ev);
    if (!rc) rc = jg_evaluate(model, &s->test, &ev);
    t->test_accuracy = ev.accuracy;
    if (rc) {
        snprintf(msg, msg_len, "evaluation failed: %s", strerror(-rc));
        goto done;
    }
    snprintf(t->status, sizeof t->status, "ok");
done:
    jg_eval_free(&ev);
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    return rc;
}

/* best_vs_energy.csv: one row per trial (the study's main figure). */
static int write_csv(const char *dir, const jg_tune_trial_t *t, int64_t n)
{
    size_t cap = 128 + (size_t)n * 96;
    char *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    size_t len = (size_t)snprintf(buf, cap, "trial,cumulative_j,best_val_accuracy,"
                                            "test_accuracy_of_best\n");
    double cum_j = 0;
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++) {
        cum_j += t[i].energy_j;
        if (best < 0 || t[i].val_accuracy > t[best].val_accuracy) best = i;
        len += (size_t)snprintf(buf + len, cap - len, "%lld,%.6f,%.6f,%.6f\n",
                                (long long)t[i].trial, cum_j, t[best].val_accuracy,
                                t[best].test_accuracy);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/best_vs_energy.csv", dir);
    const int rc = jg_cli_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

static cJSON *params_json(const jg_tune_space_t *sp, const jg_tune_point_t *p)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < sp->n_dims; i++)
        cJSON_AddNumberToObject(o, sp->dims[i].name, p->v[i]);
    return o;
}

/* summary.json: the study's outcome so far. */
static int write_summary(const opts_t *o, const char *spec, const jg_tune_space_t *sp,
                         const jg_tune_trial_t *t, int64_t n, const char *source)
{
    char space_text[JG_TUNE_SPACE_TEXT_MAX];
    if (jg_tune_space_format(sp, space_text, sizeof space_text)) return -ENOSPC;
    double cum_j = 0;
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++) {
        cum_j += t[i].energy_j;
        if (best < 0 || t[i].val_accuracy > t[best].val_accuracy) best = i;
    }
    cJSON *j = cJSON_CreateObject();
    if (!j) return -ENOMEM;
    cJSON_AddStringToObject(j, "strategy", o->strategy);
    cJSON_AddStringToObject(j, "space", space_text);
    cJSON_AddStringToObject(j, "model", spec);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "epochs", o->epochs);
    cJSON_AddNumberToObject(j, "trials", (double)n);
    cJSON_AddNumberToObject(j, "trials_requested", o->trials);
    if (best >= 0) {
        cJSON_AddNumberToObject(j, "best_trial", (double)t[best].trial);
        cJSON_AddItemToObject(j, "best_params", params_json(sp, &t[best].params));
        cJSON_AddNumberToObject(j, "best_val_accuracy", t[best].val_accuracy);
        cJSON_AddNumberToObject(j, "best_test_accuracy", t[best].test_accuracy);
    }
    cJSON_AddNumberToObject(j, "total_energy_j", cum_j);
    cJSON_AddStringToObject(j, "energy_source", source);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) return -ENOMEM;
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", o->out);
    const size_t len = strlen(text);
    int rc = jg_cli_write_atomic(path, text, len);
    free(text);
    return rc;
}

static void progress_line(const jg_tune_space_t *sp, const opts_t *o, const jg_tune_trial_t *t,
                          int64_t n)
{
    double cum_j = 0;
    int64_t best = 0;
    for (int64_t i = 0; i < n; i++) {
        cum_j += t[i].energy_j;
        if (t[i].val_accuracy > t[best].val_accuracy) best = i;
    }
    const jg_tune_trial_t *x = &t[n - 1];
    char params[256];
    jg_tune_point_format(sp, &x->params, params, sizeof params);
    printf("trial %lld/%d %s: val %.4f test %.4f%s, %.2f J (%s), %.1f s; best val %.4f "
           "(trial %lld), cumulative %.2f J\n",
           (long long)x->trial + 1, o->trials, params, x->val_accuracy, x->test_accuracy,
           strcmp(x->status, "ok") ? " (diverged)" : "", x->energy_j, x->energy_source,
           x->seconds, t[best].val_accuracy, (long long)t[best].trial + 1, cum_j);
    fflush(stdout);
}

int jg_cli_tune(int argc, char **argv)
{
    opts_t o = {
        .strategy = "bayes", .model = "default", .epochs = 1, .batch = 64, .seed = 1,
        .val_fraction = 0.1, .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO,
    };
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;

    jg_tune_space_t sp;
    jg_tune_error_t terr = {{0}};
    dims_t dm;
    if (jg_tune_space_parse(&sp, o.space_text, &terr)) {
        fprintf(stderr, PROG ": --space: %s\n", terr.msg);
        return 2;
    }
    if (map_dims(&sp, &dm)) return 2;
    if (o.threads && jg_cli_use_threads(PROG, o.threads)) return 2;

    jg_dataset_t train = {0}, val = {0}, test = {0};
    jg_model_t *probe_model = NULL;
    jg_tune_strategy_t *strat = NULL;
    jg_tune_bayes_t *bo = NULL;
    jg_meter_t *meter = NULL;
    jg_tune_trial_t *trials = NULL;
    int64_t n = 0;
    int exit_code = 1;
    char spec[4096], log_model[128], path[4200];
    snprintf(path, sizeof path, "%s/trials.jsonl", o.out);

    rc = load_data(&o, &train, &val, &test);
    if (rc) {
        exit_code = rc;
        goto done;
    }
    // The canonical spec identifies the model in the log.
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
    if (strlen(spec) < sizeof log_model) {
        snprintf(log_model, sizeof log_model, "%s", spec);
    } else { // too long for the log header: its FNV-1a 64
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *c = spec; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
        snprintf(log_model, sizeof log_model, "spec-fnv1a:%016llx", (unsigned long long)h);
    }

    // Strategy or Bayesian optimiser.
    if (!strcmp(o.strategy, "bayes")) {
        jg_tune_bayes_config_t bc;
        jg_tune_bayes_config_default(&bc, sp.n_dims, o.seed);
        const char *a = o.acquisition ? o.acquisition : "ei";
        bc.acq = !strcmp(a, "pi") ? JG_TUNE_ACQ_PI : !strcmp(a, "ucb") ? JG_TUNE_ACQ_UCB
                                                                        : JG_TUNE_ACQ_EI;
        if (bc.acq == JG_TUNE_ACQ_PI) bc.xi = 0.01; // PI needs a margin (docs/tuning.md)
        rc = jg_tune_bayes_create(&bo, &bc, &terr);
    } else {
        rc = jg_tune_strategy_create(&strat, o.strategy, &sp, o.seed, o.grid_points, &terr);
    }
    if (rc) {
        fprintf(stderr, PROG ": %s\n", terr.msg);
        exit_code = rc == -EINVAL ? 2 : 1;
        goto done;
    }

    // The log: create it, or read it back and re-feed the finished trials.
    jg_tune_log_meta_t meta;
    memset(&meta, 0, sizeof meta);
    snprintf(meta.model, sizeof meta.model, "%s", log_model);
    snprintf(meta.strategy, sizeof meta.strategy, "%s", o.strategy);
    meta.seed = o.seed;
    meta.created_s = (int64_t)time(NULL);
    if (o.resume) {
        jg_tune_log_meta_t lm;
        char warning[512] = "";
        rc = jg_tune_log_read(path, &sp, log_model, 1, &lm, &trials, &n, warning,
                              sizeof warning, &terr);
        if (rc) {
            fprintf(stderr, PROG ": cannot resume: %s\n", rc == -ENOENT && !terr.msg[0]
                                                              ? strerror(-rc) : terr.msg);
            exit_code = rc == -EINVAL || rc == -ENOENT ? 2 : 1;
            goto done;
        }
        if (warning[0]) fprintf(stderr, PROG ": %s\n", warning);
        if (strcmp(lm.strategy, o.strategy) || lm.seed != o.seed) {
            fprintf(stderr, PROG ": cannot resume: the log was written with --strategy %s "
                            "--seed %llu\n", lm.strategy, (unsigned long long)lm.seed);
            exit_code = 2;
            goto done;
        }
        for (int64_t i = 0; i < n; i++) {
            if (trials[i].trial != i) {
                fprintf(stderr, PROG ": cannot resume: %s line %lld holds trial %lld\n", path,
                        (long long)i + 2, (long long)trials[i].trial);
                goto done;
            }
            double u[JG_TUNE_MAX_DIMS];
            rc = bo ? jg_tune_space_to_unit(&sp, &trials[i].params, u, &terr) : 0;
            if (!rc && bo) rc = jg_tune_bayes_observe(bo, u, trials[i].val_accuracy, &terr);
            if (rc) {
                fprintf(stderr, PROG ": cannot resume: trial %lld: %s\n", (long long)i,
                        terr.msg);
                goto done;
            }
        }
        printf("tune: resuming %s after %lld trials\n", path, (long long)n);
    } else {
        rc = jg_cli_mkdir_p(o.out);
        if (rc) {
            fprintf(stderr, PROG ": cannot create --out %s: %s\n", o.out, strerror(-rc));
            goto done;
        }
        rc = jg_tune_log_create(path, &sp, &meta, &terr);
        if (rc) {
            if (rc == -EEXIST)
                fprintf(stderr, PROG ": %s already holds a study: add --resume to continue "
                                "it, or choose another --out\n", o.out);
            else
                fprintf(stderr, PROG ": %s\n", terr.msg);
            exit_code = rc == -EEXIST ? 2 : 1;
            goto done;
        }
    }
    // Room for every trial of the study (the log may already hold more).
    const int64_t cap = n > o.trials ? n : o.trials;
    jg_tune_trial_t *grown = realloc(trials, sizeof *trials * (size_t)cap);
    if (!grown) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    trials = grown;

    // Energy meter shared by every trial.
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = o.energy;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    rc = jg_meter_open(&meter, &ecfg, &est);
    if (rc) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, PROG ": --energy: %s\n", line);
        goto done;
    }
    if (est.fallback) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    const char *source = meter ? jg_energy_source_name(jg_meter_source(meter)) : "off";
    study_t st = {
        .o = &o, .spec = spec, .train = view(&train), .val = view(&val), .test = view(&test),
        .meter = meter,
    };
    if (meter) {
        const int64_t poll_ns = jg_meter_poll_interval_ns(meter);
        st.poll_s = poll_ns > 0 ? 0.5e-9 * (double)poll_ns : 0;
    }
    printf("tune: %s over %s, %d trials of %d epochs, model %s, %d train / %d val / %d test "
           "images, energy %s, out %s\n", o.strategy, o.space_text, o.trials, o.epochs, o.model,
           train.n, val.n, test.n, source, o.out);

    for (; n < o.trials; n++) {
        jg_tune_trial_t *t = &trials[n];
        memset(t, 0, sizeof *t);
        t->trial = n;
        snprintf(t->strategy, sizeof t->strategy, "%s", o.strategy);
        double u[JG_TUNE_MAX_DIMS];
        if (bo) {
            rc = jg_tune_bayes_propose(bo, u, &terr);
            if (!rc) rc = jg_tune_space_from_unit(&sp, u, &t->params, &terr);
        } else {
            rc = jg_tune_strategy_propose(strat, n, &t->params, &terr);
            if (rc == -ERANGE) {
                printf("tune: the grid has %lld points; stopping after them\n",
                       (long long)jg_tune_strategy_size(strat));
                break;
            }
        }
        if (rc) {
            fprintf(stderr, PROG ": trial %lld: %s\n", (long long)n + 1, terr.msg);
            goto done;
        }
        char msg[512] = "";
        rc = run_trial(&st, &dm, t, msg, sizeof msg);
        if (rc) {
            fprintf(stderr, PROG ": trial %lld: %s\n", (long long)n + 1, msg);
            goto done;
        }
        // Observe the point as the log stores it, so a resume feeds the same.
        if (bo) {
            rc = jg_tune_space_to_unit(&sp, &t->params, u, &terr);
            if (!rc) rc = jg_tune_bayes_observe(bo, u, t->val_accuracy, &terr);
        }
        if (!rc) rc = jg_tune_log_append(path, &sp, t, &terr);
        if (rc) {
            fprintf(stderr, PROG ": trial %lld: %s\n", (long long)n + 1, terr.msg);
            goto done;
        }
        progress_line(&sp, &o, trials, n + 1);
        rc = write_csv(o.out, trials, n + 1);
        if (!rc) rc = write_summary(&o, spec, &sp, trials, n + 1, source);
        if (rc) {
            fprintf(stderr, PROG ": writing %s: %s\n", o.out, strerror(-rc));
            goto done;
        }
    }
    rc = write_csv(o.out, trials, n);
    if (!rc) rc = write_summary(&o, spec, &sp, trials, n, source);
    if (rc) {
        fprintf(stderr, PROG ": writing %s: %s\n", o.out, strerror(-rc));
        goto done;
    }
    printf("wrote %s, %s/best_vs_energy.csv and %s/summary.json\n", path, o.out, o.out);
    exit_code = 0;

done:
    free(trials);
    jg_meter_close(meter);
    jg_tune_bayes_destroy(bo);
    jg_tune_strategy_destroy(strat);
    jg_model_destroy(probe_model);
    jg_dataset_free(&train);
    jg_dataset_free(&val);
    jg_dataset_free(&test);
    return exit_code;
}
