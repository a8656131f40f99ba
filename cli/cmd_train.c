/* SPDX-License-Identifier: MIT */
/*
 * cmd_train.c - `joulegrad train`: load and normalise a dataset, build a
 * model, train it with a checkpoint and a line of epochs.csv after every
 * epoch, evaluate on the test set and write summary.json with the run's
 * energy. --resume continues a run from DIR/checkpoint.jgc; the result is
 * bit-identical to an uninterrupted run with the same flags and threads.
 *
 * Output: progress (a redrawn bar on a terminal) and notes on stderr; one
 * line per epoch and the test report on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "energy_probe.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_nn.h"

#ifndef JG_VERSION
#define JG_VERSION "0.1.0"
#endif

#define PROG "joulegrad train"
#define MAX_EPOCHS 100000
#define MAX_BATCH 65536
#define MAX_THREADS 1024
#define REDRAW_S 0.1                /* progress bar: at most 10 redraws a second */
#define BAR_WIDTH 24
/* Seeds of the data choices, derived from --seed so that they differ from
 * the shuffling and initialisation streams. */
#define SEED_TRAIN_SUBSET 0x5b5e7ull
#define SEED_VAL_SPLIT 0x7a1dull

typedef struct {
    const char *model;
    int epochs, batch;
    jg_optim_config_t optim;
    uint64_t seed;
    int threads;        /* 0: OpenMP default */
    int train_limit;    /* 0: all */
    int test_limit;     /* 0: all */
    double val_fraction;
    int patience;
    jg_cli_data_t data;
    const char *out;
    int resume, ckpt_every, quiet;
    jg_energy_mode_t energy;
    double assume_w;    /* estimate: watts per busy core; 0: the default */
    double idle_s;      /* idle baseline before training, s; 0: none */
} opts_t;

/* Everything the trainer callbacks need. */
typedef struct {
    const opts_t *o;
    char dir[4096], ckpt[4200], csv[4200];
    jg_checkpoint_meta_t meta;  /* template: state is filled at each save */
    jg_model_t *model;
    int tty;
    double last_draw_s;
    jg_meter_t *meter;
    double poll_s, last_poll_s; /* meter watchdog */
    jg_cli_eprobe_t *ep;        /* per-layer energy; NULL with --energy off */
    int n_train;                /* training images, for the last batch's size */
    jg_train_progress_t last;   /* latest progress, for the interrupt message */
    int saved_epochs;           /* epochs in checkpoint.jgc */
    char err[4400];             /* why on_epoch failed */
} run_t;

static volatile sig_atomic_t g_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

static void usage(FILE *f, int threads)
{
    fprintf(f,
"usage: joulegrad train [options]\n"
"\n"
"Trains a CNN, writes DIR/checkpoint.jgc and DIR/epochs.csv after every epoch\n"
"(atomically: a crash or kill -9 leaves the previous complete file), evaluates\n"
"on the test set and writes DIR/summary.json. Ctrl-C stops after the current\n"
"batch (exit 130); continue with the same options plus --resume --out DIR.\n"
"\n"
"model and run\n"
"  --model SPEC          preset name ('joulegrad models') or spec text (default: default)\n"
"  --epochs N            epochs in total, 1..%d (default 2)\n"
"  --batch B             images per step, 1..%d (default 64)\n"
"  --seed S              initialisation, shuffling and data subsets, 0..2^53 (default 1)\n"
"  --threads T           kernel threads, 1..%d (default: OpenMP default, %d here)\n"
"optimizer (PyTorch semantics and defaults)\n"
"  --optimizer O         sgd, adam or adamw (default adam)\n"
"  --lr X                learning rate > 0 (default 0.01 sgd, 0.001 adam/adamw)\n"
"  --momentum M          sgd only, in [0, 1) (default 0)\n"
"  --nesterov            sgd only, needs --momentum > 0 (default off)\n"
"  --beta1 B1            adam/adamw, in [0, 1) (default 0.9)\n"
"  --beta2 B2            adam/adamw, in [0, 1) (default 0.999)\n"
"  --eps E               adam/adamw, > 0 (default 1e-08)\n"
"  --weight-decay W      >= 0; L2 for sgd/adam, decoupled for adamw\n"
"                        (default 0, adamw 0.01)\n"
"  --schedule S          constant, step or cosine, stepped per epoch (default constant)\n"
"  --step-size S         step: epochs between lr *= gamma, >= 1 (default 1)\n"
"  --gamma G             step: factor > 0 (default 0.1)\n"
"  --min-lr L            cosine: lr at the end, in [0, lr] (default 0)\n"
"data\n"
"  --data D              fashion-mnist, cifar10, folder or synthetic (default fashion-mnist)\n"
"  --data-dir DIR        fashion-mnist: default %s (Debian package\n"
"                        dataset-fashion-mnist); cifar10: data_batch_*.bin and\n"
"                        test_batch.bin; folder: DIR/train/<class>/<image> and\n"
"                        DIR/test/<class>/<image>; not used by synthetic\n"
"  --image-size HxW      folder (required) and synthetic (default 28x28), sides 1..%d\n"
"  --channels C          folder (default 3) and synthetic (default 1): 1 or 3\n"
"  --train-limit N       train on a seeded random subset of N training images (drawn\n"
"                        uniformly with --seed, so classes stay balanced in\n"
"                        expectation) (default: all)\n"
"  --test-limit N        evaluate on the first N test images (default: all)\n"
"  --val-fraction F      hold out a seeded random fraction F in [0, 1) of the\n"
"                        training images for validation (default 0: none)\n"
"  --patience P          stop after P epochs without a lower validation loss; needs\n"
"                        --val-fraction > 0 (default 0: off)\n"
"  Inputs are normalised per channel with the mean/std of the training images\n"
"  (after --train-limit and --val-fraction); the same numbers are applied to\n"
"  validation and test images and stored in the checkpoint.\n"
"output\n"
"  --out DIR             run directory, created if needed (default runs/<model>-<time>)\n"
"  --resume              continue the run in --out DIR; the flags must match it\n"
"  --checkpoint-every-epoch / --no-checkpoint-every-epoch\n"
"                        write checkpoint.jgc after every epoch, or only at the\n"
"                        end (default on)\n"
"  --energy MODE         auto, rapl, estimate or off (default auto: rapl, else a\n"
"                        labelled estimate); unless off, every layer is bracketed\n"
"                        and the breakdown goes to DIR/energy_layers.csv,\n"
"                        DIR/energy_types.csv, DIR/energy_trace.jsonl (raw reads)\n"
"                        and summary.json (docs/energy.md), with gnuplot figures\n"
"                        DIR/energy_types.png and DIR/power.png when gnuplot is\n"
"                        installed (the .gp scripts and .dat data always)\n"
"  --assume-watts W      estimate: watts per busy core, in (0, 1e6] (default %g)\n"
"  --idle-seconds S      measure idle power for S seconds in [0, 3600] before\n"
"                        training and report net-of-idle energy beside the gross\n"
"                        figures (default 0: no baseline, every figure gross; a few\n"
"                        seconds on a quiet machine give a usable rapl baseline)\n"
"  --quiet               no progress bar and no per-epoch lines\n"
"  --help                this text\n",
            MAX_EPOCHS, MAX_BATCH, MAX_THREADS, threads, JG_DATA_FASHION_MNIST_DIR,
            JG_CLI_MAX_SIDE, JG_ESTIMATE_DEFAULT_W_PER_CORE);
}

/* ------------------------------------------------------------------ */
/* Option parsing                                                      */
/* ------------------------------------------------------------------ */

enum {
    O_MODEL = 256, O_EPOCHS, O_BATCH, O_OPTIMIZER, O_LR, O_MOMENTUM, O_NESTEROV, O_BETA1,
    O_BETA2, O_EPS, O_WD, O_SCHEDULE, O_STEP_SIZE, O_GAMMA, O_MIN_LR, O_SEED, O_THREADS,
    O_TRAIN_LIMIT, O_TEST_LIMIT, O_VAL_FRACTION, O_PATIENCE, O_DATA, O_DATA_DIR,
    O_IMAGE_SIZE, O_CHANNELS, O_OUT, O_RESUME, O_CKPT, O_NO_CKPT, O_ENERGY, O_WATTS, O_IDLE,
    O_QUIET, O_HELP, O_END
};

/* A float flag in [lo, hi], excluding lo when open_lo and hi when open_hi;
 * range is the text shown in the error. */
static int get_float(const char *flag, const char *text, double lo, double hi, int open_lo,
                     int open_hi, const char *range, float *v)
{
    double x;
    if (jg_cli_parse_double(text, lo, hi, &x) || (open_lo && !((float)x > (float)lo)) ||
        (open_hi && !((float)x < (float)hi)) || !isfinite((float)x)) {
        fprintf(stderr, PROG ": %s must be a number %s, got '%s'\n", flag, range, text);
        return 2;
    }
    *v = (float)x;
    return 0;
}

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"epochs", required_argument, NULL, O_EPOCHS},
        {"batch", required_argument, NULL, O_BATCH},
        {"optimizer", required_argument, NULL, O_OPTIMIZER},
        {"lr", required_argument, NULL, O_LR},
        {"momentum", required_argument, NULL, O_MOMENTUM},
        {"nesterov", no_argument, NULL, O_NESTEROV},
        {"beta1", required_argument, NULL, O_BETA1},
        {"beta2", required_argument, NULL, O_BETA2},
        {"eps", required_argument, NULL, O_EPS},
        {"weight-decay", required_argument, NULL, O_WD},
        {"schedule", required_argument, NULL, O_SCHEDULE},
        {"step-size", required_argument, NULL, O_STEP_SIZE},
        {"gamma", required_argument, NULL, O_GAMMA},
        {"min-lr", required_argument, NULL, O_MIN_LR},
        {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS},
        {"train-limit", required_argument, NULL, O_TRAIN_LIMIT},
        {"test-limit", required_argument, NULL, O_TEST_LIMIT},
        {"val-fraction", required_argument, NULL, O_VAL_FRACTION},
        {"patience", required_argument, NULL, O_PATIENCE},
        {"data", required_argument, NULL, O_DATA},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"image-size", required_argument, NULL, O_IMAGE_SIZE},
        {"channels", required_argument, NULL, O_CHANNELS},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"checkpoint-every-epoch", no_argument, NULL, O_CKPT},
        {"no-checkpoint-every-epoch", no_argument, NULL, O_NO_CKPT},
        {"energy", required_argument, NULL, O_ENERGY},
        {"assume-watts", required_argument, NULL, O_WATTS},
        {"idle-seconds", required_argument, NULL, O_IDLE},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    /* Optimizer values are applied after --optimizer is known, since its
     * defaults depend on the kind. */
    int given[O_END - O_MODEL] = {0};
    float lr = 0, momentum = 0, beta1 = 0, beta2 = 0, eps = 0, wd = 0, gamma = 0, min_lr = 0;
    int step_size = 1;
    jg_opt_kind_t kind = JG_OPT_ADAM;
    jg_sched_kind_t sched = JG_SCHED_CONSTANT;
    long l;

    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c >= O_MODEL && c < O_END) given[c - O_MODEL] = 1;
        int rc = 0;
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_EPOCHS:
            rc = jg_cli_flag_int(PROG, "--epochs", optarg, 1, MAX_EPOCHS, &o->epochs);
            break;
        case O_BATCH: rc = jg_cli_flag_int(PROG, "--batch", optarg, 1, MAX_BATCH, &o->batch); break;
        case O_OPTIMIZER:
            if (jg_optim_kind_parse(optarg, &kind)) {
                fprintf(stderr, PROG ": --optimizer must be sgd, adam or adamw, got '%s'\n",
                        optarg);
                rc = 2;
            }
            break;
        case O_LR: rc = get_float("--lr", optarg, 0, 1e6, 1, 0, "in (0, 1e6]", &lr); break;
        case O_MOMENTUM:
            rc = get_float("--momentum", optarg, 0, 1, 0, 1, "in [0, 1)", &momentum);
            break;
        case O_NESTEROV: break;
        case O_BETA1: rc = get_float("--beta1", optarg, 0, 1, 0, 1, "in [0, 1)", &beta1); break;
        case O_BETA2: rc = get_float("--beta2", optarg, 0, 1, 0, 1, "in [0, 1)", &beta2); break;
        case O_EPS: rc = get_float("--eps", optarg, 0, 1, 1, 0, "in (0, 1]", &eps); break;
        case O_WD:
            rc = get_float("--weight-decay", optarg, 0, 1e6, 0, 0, "in [0, 1e6]", &wd);
            break;
        case O_SCHEDULE:
            if (jg_sched_kind_parse(optarg, &sched)) {
                fprintf(stderr, PROG ": --schedule must be constant, step or cosine, got '%s'\n",
                        optarg);
                rc = 2;
            }
            break;
        case O_STEP_SIZE:
            rc = jg_cli_flag_int(PROG, "--step-size", optarg, 1, MAX_EPOCHS, &step_size);
            break;
        case O_GAMMA: rc = get_float("--gamma", optarg, 0, 1e6, 1, 0, "in (0, 1e6]", &gamma); break;
        case O_MIN_LR:
            rc = get_float("--min-lr", optarg, 0, 1e6, 0, 0, "in [0, 1e6]", &min_lr);
            break;
        case O_SEED: rc = jg_cli_flag_seed(PROG, optarg, &o->seed); break;
        case O_THREADS:
            rc = jg_cli_flag_int(PROG, "--threads", optarg, 1, MAX_THREADS, &o->threads);
            break;
        case O_TRAIN_LIMIT:
            rc = jg_cli_flag_int(PROG, "--train-limit", optarg, 1, 2147483647L, &o->train_limit);
            break;
        case O_TEST_LIMIT:
            rc = jg_cli_flag_int(PROG, "--test-limit", optarg, 1, 2147483647L, &o->test_limit);
            break;
        case O_VAL_FRACTION:
            if (jg_cli_parse_double(optarg, 0, 1, &o->val_fraction) || o->val_fraction >= 1) {
                fprintf(stderr, PROG ": --val-fraction must be a number in [0, 1), got '%s'\n",
                        optarg);
                rc = 2;
            }
            break;
        case O_PATIENCE:
            rc = jg_cli_flag_int(PROG, "--patience", optarg, 0, MAX_EPOCHS, &o->patience);
            break;
        case O_DATA: rc = jg_cli_flag_data(PROG, optarg, &o->data); break;
        case O_DATA_DIR: o->data.dir = optarg; break;
        case O_IMAGE_SIZE:
            if (jg_cli_parse_size(optarg, &o->data.h, &o->data.w)) {
                fprintf(stderr, PROG ": --image-size must be HxW with sides in [1, %d], got "
                                "'%s'\n", JG_CLI_MAX_SIDE, optarg);
                rc = 2;
            }
            break;
        case O_CHANNELS:
            if (jg_cli_parse_int(optarg, 1, 3, &l) || l == 2) {
                fprintf(stderr, PROG ": --channels must be 1 or 3, got '%s'\n", optarg);
                rc = 2;
            }
            o->data.c = (int)l;
            break;
        case O_OUT: o->out = optarg; break;
        case O_RESUME: o->resume = 1; break;
        case O_CKPT: o->ckpt_every = 1; break;
        case O_NO_CKPT: o->ckpt_every = 0; break;
        case O_ENERGY: rc = jg_cli_flag_energy(PROG, optarg, &o->energy); break;
        case O_WATTS: rc = jg_cli_flag_watts(PROG, "--assume-watts", optarg, 0, &o->assume_w); break;
        case O_IDLE:
            if (jg_cli_parse_double(optarg, 0, 3600, &o->idle_s)) {
                fprintf(stderr, PROG ": --idle-seconds must be a number of seconds in [0, 3600], "
                                "got '%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_QUIET: o->quiet = 1; break;
        case O_HELP: usage(stdout, jg_kernels_threads()); return 0;
        default:
            return jg_cli_option_error(PROG, argv, optopt >= O_MODEL && optopt < O_END);
        }
        if (rc) return rc;
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
#define GIVEN(x) given[(x) - O_MODEL]
    /* Flags that do nothing for this configuration are mistakes. */
    static const struct {
        int flag;
        const char *name;
    } sgd_only[] = {{O_MOMENTUM, "--momentum"}, {O_NESTEROV, "--nesterov"}},
      adam_only[] = {{O_BETA1, "--beta1"}, {O_BETA2, "--beta2"}, {O_EPS, "--eps"}};
    for (size_t i = 0; i < sizeof sgd_only / sizeof *sgd_only; i++)
        if (GIVEN(sgd_only[i].flag) && kind != JG_OPT_SGD) {
            fprintf(stderr, PROG ": %s applies to --optimizer sgd only\n", sgd_only[i].name);
            return 2;
        }
    for (size_t i = 0; i < sizeof adam_only / sizeof *adam_only; i++)
        if (GIVEN(adam_only[i].flag) && kind == JG_OPT_SGD) {
            fprintf(stderr, PROG ": %s applies to --optimizer adam or adamw only\n",
                    adam_only[i].name);
            return 2;
        }
    if ((GIVEN(O_STEP_SIZE) || GIVEN(O_GAMMA)) && sched != JG_SCHED_STEP) {
        fprintf(stderr, PROG ": %s applies to --schedule step only\n",
                GIVEN(O_STEP_SIZE) ? "--step-size" : "--gamma");
        return 2;
    }
    if (GIVEN(O_MIN_LR) && sched != JG_SCHED_COSINE) {
        fprintf(stderr, PROG ": --min-lr applies to --schedule cosine only\n");
        return 2;
    }
    jg_optim_defaults(&o->optim, kind);
    o->optim.schedule = sched;
    if (GIVEN(O_LR)) o->optim.lr = lr;
    if (GIVEN(O_MOMENTUM)) o->optim.momentum = momentum;
    o->optim.nesterov = GIVEN(O_NESTEROV);
    if (GIVEN(O_BETA1)) o->optim.beta1 = beta1;
    if (GIVEN(O_BETA2)) o->optim.beta2 = beta2;
    if (GIVEN(O_EPS)) o->optim.eps = eps;
    if (GIVEN(O_WD)) o->optim.weight_decay = wd;
    if (GIVEN(O_STEP_SIZE)) o->optim.step_size = step_size;
    if (GIVEN(O_GAMMA)) o->optim.gamma = gamma;
    if (GIVEN(O_MIN_LR)) o->optim.min_lr = min_lr;
    if (o->optim.nesterov && !(o->optim.momentum > 0.0f)) {
        fprintf(stderr, PROG ": --nesterov needs --momentum in (0, 1)\n");
        return 2;
    }
    if (sched == JG_SCHED_COSINE && o->optim.min_lr > o->optim.lr) {
        fprintf(stderr, PROG ": --min-lr must be in [0, --lr %g]\n", (double)o->optim.lr);
        return 2;
    }
    jg_nn_error_t err = {{0}};
    if (jg_optim_check(&o->optim, &err)) {
        fprintf(stderr, PROG ": optimizer: %s\n", err.msg);
        return 2;
    }

    const char *dn = o->data.name;
    const int shaped = !strcmp(dn, "folder") || !strcmp(dn, "synthetic");
    if ((GIVEN(O_IMAGE_SIZE) || GIVEN(O_CHANNELS)) && !shaped) {
        fprintf(stderr, PROG ": %s applies to --data folder or synthetic only\n",
                GIVEN(O_IMAGE_SIZE) ? "--image-size" : "--channels");
        return 2;
    }
    if (!strcmp(dn, "folder") && !GIVEN(O_IMAGE_SIZE)) {
        fprintf(stderr, PROG ": --data folder needs --image-size HxW (images are resized)\n");
        return 2;
    }
    if (GIVEN(O_DATA_DIR) && !strcmp(dn, "synthetic")) {
        fprintf(stderr, PROG ": --data-dir does not apply to --data synthetic\n");
        return 2;
    }
    if (o->patience > 0 && o->val_fraction <= 0) {
        fprintf(stderr, PROG ": --patience needs a validation set: add --val-fraction F "
                        "(e.g. 0.1)\n");
        return 2;
    }
    if (o->idle_s > 0 && o->energy == JG_ENERGY_MODE_OFF) {
        fprintf(stderr, PROG ": --idle-seconds needs an energy source: drop --energy off\n");
        return 2;
    }
    if (o->assume_w > 0 && (o->energy == JG_ENERGY_MODE_RAPL || o->energy == JG_ENERGY_MODE_OFF)) {
        fprintf(stderr, PROG ": --assume-watts applies to the estimate source only\n");
        return 2;
    }
    if (o->resume && !o->out) {
        fprintf(stderr, PROG ": --resume needs --out DIR, the run to continue\n");
        return 2;
    }
#undef GIVEN
    return -1;
}

/* ------------------------------------------------------------------ */
/* Run outputs                                                         */
/* ------------------------------------------------------------------ */

static void fmt_num(char *buf, size_t cap, double v)
{
    if (isnan(v)) buf[0] = '\0';
    else snprintf(buf, cap, "%.9g", v);
}

/* epochs.csv from the trainer's history: header + one row per epoch
 * (epoch numbered from 1; val_* empty without validation). */
static int write_csv(const char *path, const jg_epoch_stats_t *h, int n)
{
    const size_t cap = 128 + (size_t)n * 192;
    char *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    size_t len = (size_t)snprintf(buf, cap, "epoch,lr,train_loss,train_accuracy,val_loss,"
                                             "val_accuracy,seconds,images\n");
    for (int i = 0; i < n; i++) {
        char vl[32], va[32], lr[32];
        fmt_num(vl, sizeof vl, h[i].val_loss);
        fmt_num(va, sizeof va, h[i].val_accuracy);
        len += (size_t)snprintf(buf + len, cap - len, "%d,%s,%.9g,%.9g,%s,%s,%.6f,%lld\n",
                                h[i].epoch + 1, jg_float_text(h[i].lr, lr, sizeof lr),
                                h[i].train_loss,
                                h[i].train_accuracy, vl, va, h[i].seconds,
                                (long long)h[i].images);
    }
    const int rc = jg_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

static int save_checkpoint(run_t *r, jg_trainer_t *tr)
{
    jg_checkpoint_meta_t meta = r->meta;
    jg_trainer_get_state(tr, &meta.state);
    jg_nn_error_t err = {{0}};
    const int rc = jg_checkpoint_save(r->ckpt, r->model, jg_trainer_optim(tr), &meta,
                                      jg_trainer_history(tr), &err);
    if (rc) snprintf(r->err, sizeof r->err, "%s", err.msg);
    else r->saved_epochs = meta.state.epochs_done;
    return rc;
}

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 359999) s = 359999;
    const long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    run_t *r = ctx;
    r->last = *p;
    if (r->ep) {
        const int b = r->o->batch, left = r->n_train - (p->batch - 1) * b;
        jg_cli_eprobe_step_done(r->ep, left < b ? left : b); /* a write error shows at finish */
    }
    const double now = jg_now_s();
    if (r->meter && r->poll_s > 0 && now - r->last_poll_s >= r->poll_s) {
        jg_meter_poll(r->meter);
        r->last_poll_s = now;
    }
    if (r->tty && !r->o->quiet && p->batches > 0 &&
        (now - r->last_draw_s >= REDRAW_S || p->batch == p->batches)) {
        char bar[BAR_WIDTH + 1], eta[32];
        const int fill = (int)((int64_t)BAR_WIDTH * p->batch / p->batches);
        for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fmt_eta(eta, sizeof eta,
                p->batch > 0 ? p->elapsed_s / p->batch * (p->batches - p->batch) : -1);
        fprintf(stderr, "\repoch %d/%d [%s] %d/%d batches %.0f img/s loss %.4f ETA %s\033[K",
                p->epoch + 1, p->epochs, bar, p->batch, p->batches, p->images_per_s,
                p->running_loss, eta);
        fflush(stderr);
        r->last_draw_s = now;
    }
    return g_interrupted != 0;
}

static int on_epoch(void *ctx, const jg_epoch_stats_t *st, jg_trainer_t *tr)
{
    run_t *r = ctx;
    if (r->tty && !r->o->quiet) fputs("\r\033[K", stderr);
    if (!r->o->quiet) {
        char val[96] = "val -";
        if (!isnan(st->val_loss))
            snprintf(val, sizeof val, "val loss %.4f acc %.2f%%", st->val_loss,
                     100.0 * st->val_accuracy);
        printf("epoch %d/%d lr %.3g train loss %.4f acc %.2f%% %s %.1f s %lld images\n",
               st->epoch + 1, r->o->epochs, (double)st->lr, st->train_loss,
               100.0 * st->train_accuracy, val, st->seconds, (long long)st->images);
        fflush(stdout);
    }
    int rc = 0;
    if (r->o->ckpt_every) rc = save_checkpoint(r, tr);
    if (!rc) {
        rc = write_csv(r->csv, jg_trainer_history(tr), jg_trainer_epochs_done(tr));
        if (rc) snprintf(r->err, sizeof r->err, "%s: %s", r->csv, strerror(-rc));
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Resume checks                                                       */
/* ------------------------------------------------------------------ */

/* 0 when the flags describe the run in the checkpoint; else prints which
 * setting differs and returns 2. */
static int check_resume(const opts_t *o, const jg_checkpoint_meta_t *m, const char *spec,
                        const jg_dataset_t *train, const float *mean, const float *std)
{
    char msg[1024] = "";
    const jg_optim_config_t *a = &o->optim, *b = &m->optim;
    if (strcmp(spec, m->spec))
        snprintf(msg, sizeof msg, "--model gives '%.400s' but the checkpoint holds '%.400s'", spec,
                 m->spec);
    else if (strcmp(o->data.name, m->dataset))
        snprintf(msg, sizeof msg, "--data %s but the checkpoint was trained on '%.63s'",
                 o->data.name, m->dataset);
    else if (train->c != m->c || train->h != m->h || train->w != m->w ||
             train->classes != m->classes)
        snprintf(msg, sizeof msg, "the data is %dx%dx%d with %d classes but the checkpoint "
                 "expects %dx%dx%d with %d", train->c, train->h, train->w, train->classes, m->c,
                 m->h, m->w, m->classes);
    else if (a->kind != b->kind)
        snprintf(msg, sizeof msg, "--optimizer %s but the checkpoint used %s",
                 jg_optim_kind_name(a->kind), jg_optim_kind_name(b->kind));
    else if (a->schedule != b->schedule)
        snprintf(msg, sizeof msg, "--schedule %s but the checkpoint used %s",
                 jg_sched_kind_name(a->schedule), jg_sched_kind_name(b->schedule));
    else if (a->nesterov != b->nesterov)
        snprintf(msg, sizeof msg, "--nesterov is %s but was %s in the checkpoint",
                 a->nesterov ? "on" : "off", b->nesterov ? "on" : "off");
    else if (a->step_size != b->step_size)
        snprintf(msg, sizeof msg, "--step-size %d but the checkpoint used %d", a->step_size,
                 b->step_size);
    else if (a->t_max != b->t_max)
        snprintf(msg, sizeof msg, "the checkpoint's cosine t_max is %d, not the run's epochs",
                 b->t_max);
    if (!msg[0]) {
        const struct {
            const char *flag;
            float mine, theirs;
        } f[] = {{"--lr", a->lr, b->lr},
                 {"--momentum", a->momentum, b->momentum},
                 {"--weight-decay", a->weight_decay, b->weight_decay},
                 {"--beta1", a->beta1, b->beta1},
                 {"--beta2", a->beta2, b->beta2},
                 {"--eps", a->eps, b->eps},
                 {"--gamma", a->gamma, b->gamma},
                 {"--min-lr", a->min_lr, b->min_lr}};
        for (size_t i = 0; i < sizeof f / sizeof *f && !msg[0]; i++)
            if (memcmp(&f[i].mine, &f[i].theirs, sizeof(float)))
                snprintf(msg, sizeof msg, "%s %.9g but the checkpoint used %.9g", f[i].flag,
                         (double)f[i].mine, (double)f[i].theirs);
    }
    if (!msg[0] && o->batch != m->batch)
        snprintf(msg, sizeof msg, "--batch %d but the checkpoint used %d", o->batch, m->batch);
    if (!msg[0] && o->seed != m->seed)
        snprintf(msg, sizeof msg, "--seed %llu but the checkpoint used %llu",
                 (unsigned long long)o->seed, (unsigned long long)m->seed);
    if (!msg[0] && (memcmp(mean, m->mean, sizeof(float) * (size_t)train->c) ||
                    memcmp(std, m->std, sizeof(float) * (size_t)train->c)))
        snprintf(msg, sizeof msg, "the training images differ from the checkpoint's (their "
                 "mean/std do not match): use the same --data, --data-dir, --train-limit, "
                 "--val-fraction and --seed");
    if (!msg[0] && m->state.epochs_done > o->epochs)
        snprintf(msg, sizeof msg, "the checkpoint already has %d epochs, more than --epochs %d",
                 m->state.epochs_done, o->epochs);
    if (!msg[0]) return 0;
    fprintf(stderr, PROG ": cannot resume: %s\n", msg);
    return 2;
}

/* ------------------------------------------------------------------ */
/* Summary                                                             */
/* ------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const char *source;
    int valid;
    double j, s;
    const char *status;
    double w_per_core; /* estimate: the assumed watts per busy core */
    char detail[JG_ENERGY_TEXT_MAX];
} energy_t;

static cJSON *optim_json(const jg_optim_config_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", jg_optim_kind_name(c->kind));
    cJSON_AddNumberToObject(o, "lr", jg_float_double(c->lr));
    cJSON_AddNumberToObject(o, "momentum", jg_float_double(c->momentum));
    cJSON_AddBoolToObject(o, "nesterov", c->nesterov);
    cJSON_AddNumberToObject(o, "weight_decay", jg_float_double(c->weight_decay));
    cJSON_AddNumberToObject(o, "beta1", jg_float_double(c->beta1));
    cJSON_AddNumberToObject(o, "beta2", jg_float_double(c->beta2));
    cJSON_AddNumberToObject(o, "eps", jg_float_double(c->eps));
    cJSON_AddStringToObject(o, "schedule", jg_sched_kind_name(c->schedule));
    cJSON_AddNumberToObject(o, "step_size", c->step_size);
    cJSON_AddNumberToObject(o, "gamma", jg_float_double(c->gamma));
    cJSON_AddNumberToObject(o, "t_max", c->t_max);
    cJSON_AddNumberToObject(o, "min_lr", jg_float_double(c->min_lr));
    return o;
}

static cJSON *floats_json(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(jg_float_double(v[i])));
    return a;
}

typedef struct {
    const opts_t *o;
    const char *spec;
    const jg_eval_t *ev;
    const char *const *names;
    const jg_epoch_stats_t *hist;
    int epochs_done, stopped_early, resumed;
    int n_train, n_val, n_test, c;
    const float *mean, *std;
    const energy_t *energy;
    const jg_cli_eprobe_t *ep; /* NULL with --energy off */
} summary_t;

static char *summary_text(const summary_t *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "joulegrad_version", JG_VERSION);
    cJSON_AddStringToObject(root, "model", s->o->model);
    cJSON_AddStringToObject(root, "spec", s->spec);
    jg_cli_eval_json(root, s->ev, s->names);
    cJSON_AddNumberToObject(root, "epochs", s->epochs_done);
    cJSON_AddNumberToObject(root, "epochs_planned", s->o->epochs);
    cJSON_AddBoolToObject(root, "stopped_early", s->stopped_early);
    cJSON_AddBoolToObject(root, "resumed", s->resumed);
    double total_s = 0, images = 0;
    double *secs = malloc(sizeof(double) * (size_t)(s->epochs_done ? s->epochs_done : 1));
    for (int i = 0; i < s->epochs_done; i++) {
        total_s += s->hist[i].seconds;
        images += (double)s->hist[i].images;
        if (secs) secs[i] = s->hist[i].seconds;
    }
    double median = 0;
    if (secs && s->epochs_done) {
        qsort(secs, (size_t)s->epochs_done, sizeof *secs, cmp_double);
        const int k = s->epochs_done;
        median = k % 2 ? secs[k / 2] : 0.5 * (secs[k / 2 - 1] + secs[k / 2]);
    }
    free(secs);
    cJSON_AddNumberToObject(root, "train_seconds", total_s);
    cJSON_AddNumberToObject(root, "seconds_per_epoch", median);
    cJSON_AddNumberToObject(root, "images_per_second", total_s > 0 ? images / total_s : 0);
    cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
    cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
    cJSON_AddNumberToObject(root, "seed", (double)s->o->seed);
    cJSON_AddItemToObject(root, "optimizer", optim_json(&s->o->optim));
    cJSON_AddNumberToObject(root, "batch", s->o->batch);
    cJSON_AddNumberToObject(root, "patience", s->o->patience);
    cJSON_AddNumberToObject(root, "train_images", s->n_train);
    cJSON_AddNumberToObject(root, "val_images", s->n_val);
    cJSON_AddNumberToObject(root, "test_images", s->n_test);
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "name", s->o->data.name);
    cJSON_AddStringToObject(data, "dir", jg_cli_data_dir(&s->o->data));
    cJSON_AddItemToObject(data, "mean", floats_json(s->mean, s->c));
    cJSON_AddItemToObject(data, "std", floats_json(s->std, s->c));
    cJSON_AddNumberToObject(data, "train_limit", s->o->train_limit);
    cJSON_AddNumberToObject(data, "test_limit", s->o->test_limit);
    cJSON_AddNumberToObject(data, "val_fraction", s->o->val_fraction);
    // The breakdown of the steps (energy_probe.c), plus the whole loop.
    cJSON *en = s->ep ? jg_cli_eprobe_json(s->ep) : cJSON_CreateObject();
    cJSON_AddItemToObject(root, "energy", en);
    if (!s->ep) cJSON_AddStringToObject(en, "source", s->energy->source);
    if (s->ep) {
        if (s->energy->valid) cJSON_AddNumberToObject(en, "loop_j", s->energy->j);
        else cJSON_AddNullToObject(en, "loop_j");
        cJSON_AddNumberToObject(en, "loop_seconds", s->energy->s);
        cJSON_AddStringToObject(en, "loop_scope", "the training loop of this invocation "
                                                  "(epochs run here, validation included; no "
                                                  "data loading, no test evaluation)");
        if (s->energy->detail[0]) cJSON_AddStringToObject(en, "detail", s->energy->detail);
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

/* ------------------------------------------------------------------ */
/* The command                                                         */
/* ------------------------------------------------------------------ */

static void default_out(char *buf, size_t cap, const char *model)
{
    char name[33];
    size_t n = 0;
    for (const char *p = model; *p && n < sizeof name - 1; p++) {
        const int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                       (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.';
        name[n++] = ok ? *p : '_';
    }
    name[n] = '\0';
    char stamp[32];
    const time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(buf, cap, "runs/%s-%s", name, stamp);
}

int jg_cli_train(int argc, char **argv)
{
    opts_t o = {
        .model = "default", .epochs = 2, .batch = 64, .seed = 1,
        .data = {.name = "fashion-mnist"}, .ckpt_every = 1, .energy = JG_ENERGY_MODE_AUTO,
    };
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    if (o.threads && jg_cli_use_threads(PROG, o.threads)) return 2;

    run_t r;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.tty = isatty(STDERR_FILENO);
    if (o.out) snprintf(r.dir, sizeof r.dir, "%s", o.out);
    else default_out(r.dir, sizeof r.dir, o.model);
    snprintf(r.ckpt, sizeof r.ckpt, "%s/checkpoint.jgc", r.dir);
    snprintf(r.csv, sizeof r.csv, "%s/epochs.csv", r.dir);

    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    jg_dataset_t full = {0}, sub = {0}, train = {0}, val = {0}, test = {0};
    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_meter_t *meter = NULL;
    jg_eval_t ev;
    memset(&ev, 0, sizeof ev);
    jg_nn_error_t nerr = {{0}};
    jg_data_error_t derr = {{0}};
    char spec[4096];
    float mean[4], std[4];
    int exit_code = 1;
    char fig_msg[JG_ENERGY_TEXT_MAX * 10] = "";
    int fig_rc = 0;

    if (o.resume) {
        rc = jg_checkpoint_load(r.ckpt, &ck, &nerr);
        if (rc) {
            fprintf(stderr, PROG ": cannot resume: %s\n", nerr.msg);
            goto done;
        }
    } else if (access(r.ckpt, F_OK) == 0) {
        fprintf(stderr, PROG ": %s already holds a run: add --resume to continue it, or "
                        "choose another --out\n", r.dir);
        exit_code = 2;
        goto done;
    }

    // Data: training subset, validation split, normalisation, test set.
    rc = jg_cli_data_load(&o.data, 1, &full, &derr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", derr.msg);
        exit_code = rc == -EINVAL ? 2 : 1;
        goto done;
    }
    if (o.train_limit && o.train_limit < full.n) {
        rc = jg_cli_random_subset(&sub, &full, o.train_limit, o.seed ^ SEED_TRAIN_SUBSET, &derr);
        jg_dataset_free(&full);
    } else {
        sub = full;
        memset(&full, 0, sizeof full);
    }
    int n_val = 0;
    if (!rc && o.val_fraction > 0) {
        n_val = (int)llround(o.val_fraction * sub.n);
        if (n_val < 1) n_val = 1;
        if (n_val >= sub.n) {
            fprintf(stderr, PROG ": --val-fraction %g of %d images leaves none for training\n",
                    o.val_fraction, sub.n);
            exit_code = 2;
            goto done;
        }
    }
    if (!rc && n_val) {
        rc = jg_data_split(&train, &val, &sub, n_val, o.seed ^ SEED_VAL_SPLIT, &derr);
    } else if (!rc) {
        train = sub;
        memset(&sub, 0, sizeof sub);
    }
    if (!rc) rc = jg_dataset_stats(mean, std, &train);
    if (!rc) rc = jg_dataset_normalize(&train, mean, std);
    if (!rc && val.n) rc = jg_dataset_normalize(&val, mean, std);
    if (rc) {
        fprintf(stderr, PROG ": preparing the training data: %s\n",
                derr.msg[0] ? derr.msg : strerror(-rc));
        goto done;
    }
    jg_dataset_free(&sub);
    rc = jg_cli_data_load(&o.data, 0, &test, &derr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", derr.msg);
        goto done;
    }
    if (test.c != train.c || test.h != train.h || test.w != train.w ||
        test.classes != train.classes) {
        fprintf(stderr, PROG ": test images are %dx%dx%d with %d classes, training images "
                         "%dx%dx%d with %d\n", test.c, test.h, test.w, test.classes, train.c,
                train.h, train.w, train.classes);
        goto done;
    }
    for (int k = 0; train.class_names && test.class_names && k < train.classes; k++)
        if (strcmp(train.class_names[k], test.class_names[k])) {
            fprintf(stderr, PROG ": class %d is '%.200s' in the training data but '%.200s' in "
                            "the test data\n", k, train.class_names[k], test.class_names[k]);
            goto done;
        }
    if (o.test_limit) jg_data_limit(&test, o.test_limit);
    jg_dataset_normalize(&test, mean, std);

    // Model, resume checks, trainer.
    rc = jg_model_create(&model, o.model, train.c, train.h, train.w, train.classes, o.seed,
                         &nerr);
    if (rc) {
        fprintf(stderr, PROG ": --model: %s\n", nerr.msg);
        exit_code = rc == -EINVAL || rc == -ENOENT ? 2 : 1;
        goto done;
    }
    r.model = model;
    if (jg_model_spec(model, spec, sizeof spec)) {
        fprintf(stderr, PROG ": --model: the spec is longer than %zu bytes\n", sizeof spec);
        goto done;
    }
    if (o.resume && check_resume(&o, &ck.meta, spec, &train, mean, std)) {
        exit_code = 2;
        goto done;
    }
    rc = jg_model_reserve(model, o.batch);
    if (rc) {
        fprintf(stderr, PROG ": cannot reserve activations for --batch %d: %s\n", o.batch,
                strerror(-rc));
        goto done;
    }
    const jg_nn_data_t tv = jg_cli_data_view(&train), vv = jg_cli_data_view(&val),
                       testv = jg_cli_data_view(&test);
    const jg_train_config_t tc = {
        .epochs = o.epochs, .batch = o.batch, .seed = o.seed, .optim = o.optim,
        .patience = o.patience, .on_batch = on_batch, .on_epoch = on_epoch, .ctx = &r,
    };
    rc = jg_trainer_create(&tr, model, &tc, &tv, val.n ? &vv : NULL, &nerr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", nerr.msg[0] ? nerr.msg : strerror(-rc));
        exit_code = rc == -EINVAL ? 2 : 1;
        goto done;
    }
    if (o.resume) {
        rc = jg_checkpoint_restore(&ck, model, jg_trainer_optim(tr), &nerr);
        if (!rc) rc = jg_trainer_set_state(tr, &ck.meta.state, ck.history);
        if (rc) {
            fprintf(stderr, PROG ": cannot resume from %s: %s\n", r.ckpt,
                    nerr.msg[0] ? nerr.msg : strerror(-rc));
            goto done;
        }
        r.saved_epochs = ck.meta.state.epochs_done;
    }

    memset(&r.meta, 0, sizeof r.meta);
    snprintf(r.meta.spec, sizeof r.meta.spec, "%s", spec);
    r.meta.c = train.c;
    r.meta.h = train.h;
    r.meta.w = train.w;
    r.meta.classes = train.classes;
    memcpy(r.meta.mean, mean, sizeof(float) * (size_t)train.c);
    memcpy(r.meta.std, std, sizeof(float) * (size_t)train.c);
    r.meta.optim = o.optim;
    r.meta.epochs = o.epochs;
    r.meta.batch = o.batch;
    r.meta.seed = o.seed;
    snprintf(r.meta.dataset, sizeof r.meta.dataset, "%s", o.data.name);
    // The checkpoint keeps the class names (train outlives every save).
    r.meta.class_names = train.class_names ? (const char *const *)train.class_names
                                           : jg_cli_known_class_names(o.data.name,
                                                                      train.classes);

    rc = jg_mkdir_p(r.dir);
    if (rc) {
        fprintf(stderr, PROG ": cannot create --out %s: %s\n", r.dir, strerror(-rc));
        goto done;
    }
    if (o.resume) {
        rc = write_csv(r.csv, jg_trainer_history(tr), jg_trainer_epochs_done(tr));
        if (rc) {
            fprintf(stderr, PROG ": %s: %s\n", r.csv, strerror(-rc));
            goto done;
        }
    }

    // Energy meter around the training loop.
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = o.energy;
    ecfg.assume_w_per_core = o.assume_w;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    energy_t en = {.source = "off", .status = "off"};
    rc = jg_meter_open(&meter, &ecfg, &est);
    if (rc) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, PROG ": --energy: %s\n", line);
        goto done;
    }
    if (est.fallback) {
        jg_energy_status_line(&est, en.detail, sizeof en.detail);
        fprintf(stderr, "%s\n", en.detail);
    }
    if (meter) {
        const int64_t poll_ns = jg_meter_poll_interval_ns(meter);
        r.meter = meter;
        r.poll_s = poll_ns > 0 ? 0.5e-9 * (double)poll_ns : 0;
        r.n_train = train.n;
        char tpath[4400];
        snprintf(tpath, sizeof tpath, "%s/energy_trace.jsonl", r.dir);
        rc = jg_cli_eprobe_create(&r.ep, model, meter, tpath,
                                  ecfg.assume_w_per_core > 0 ? ecfg.assume_w_per_core
                                                             : JG_ESTIMATE_DEFAULT_W_PER_CORE);
        if (rc) {
            fprintf(stderr, PROG ": cannot set up the per-layer energy trace (%s): %s\n", tpath,
                    strerror(-rc));
            goto done;
        }
    }

    const int done_before = jg_trainer_epochs_done(tr);
    if (!o.quiet) {
        fprintf(stderr, "train: model %s (%lld params, %.2f MFLOP/image forward), %s: %d train "
                        "/ %d val / %d test images, %s lr %g, batch %d, epochs %d, isa %s, "
                        "threads %d, energy %s, out %s\n",
                o.model, (long long)jg_model_n_params(model), jg_model_fwd_flops(model) * 1e-6,
                o.data.name, train.n, val.n, test.n, jg_optim_kind_name(o.optim.kind),
                (double)o.optim.lr, o.batch, o.epochs, jg_isa_name(jg_kernels_isa()),
                jg_kernels_threads(), jg_energy_source_name(jg_meter_source(meter)), r.dir);
        if (o.resume)
            fprintf(stderr, "train: resuming %s after epoch %d of %d\n", r.ckpt, done_before,
                    o.epochs);
    }
    if (r.ep && o.idle_s > 0) {
        if (!o.quiet)
            fprintf(stderr, "train: measuring idle power for %g s (keep the machine quiet)\n",
                    o.idle_s);
        const int irc = jg_cli_eprobe_idle(r.ep, o.idle_s);
        if (irc)
            fprintf(stderr, PROG ": no idle baseline (%s during the idle window); the figures "
                            "stay gross\n", irc == -EIO ? "a meter zone faulted" : strerror(-irc));
    }

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sa.sa_flags = SA_RESETHAND; // a second Ctrl-C kills at once
    sigemptyset(&sa.sa_mask);
    g_interrupted = 0;
    sigaction(SIGINT, &sa, &old_sa);
    jg_energy_sample_t s0, s1;
    if (meter) jg_meter_read(meter, &s0);
    const double t0 = jg_now_s();
    rc = jg_trainer_run(tr);
    const double t1 = jg_now_s();
    if (meter) jg_meter_read(meter, &s1);
    sigaction(SIGINT, &old_sa, NULL);
    if (r.tty && !o.quiet) fputs("\r\033[K", stderr);

    if (rc == -ECANCELED) {
        if (r.saved_epochs)
            fprintf(stderr, PROG ": interrupted in epoch %d/%d after batch %d/%d; %s keeps "
                            "epoch %d: resume with the same options plus --resume --out %s\n",
                    r.last.epoch + 1, o.epochs, r.last.batch, r.last.batches, r.ckpt,
                    r.saved_epochs, r.dir);
        else
            fprintf(stderr, PROG ": interrupted in epoch %d/%d after batch %d/%d, before any "
                            "checkpoint was written: nothing to resume\n",
                    r.last.epoch + 1, o.epochs, r.last.batch, r.last.batches);
        exit_code = 130;
        goto done;
    }
    if (rc == -ERANGE) {
        fprintf(stderr, PROG ": the training loss became NaN or infinite in epoch %d (try a "
                        "lower --lr); %s keeps epoch %d\n", jg_trainer_epochs_done(tr) + 1,
                r.ckpt, r.saved_epochs);
        goto done;
    }
    if (rc) {
        fprintf(stderr, PROG ": training failed: %s\n", r.err[0] ? r.err : strerror(-rc));
        goto done;
    }
    const int epochs_done = jg_trainer_epochs_done(tr);
    if (!o.ckpt_every || epochs_done == done_before) {
        rc = save_checkpoint(&r, tr);
        if (!rc) rc = write_csv(r.csv, jg_trainer_history(tr), epochs_done);
        if (rc) {
            fprintf(stderr, PROG ": %s\n", r.err[0] ? r.err : strerror(-rc));
            goto done;
        }
    }
    if (meter) {
        jg_energy_figure_t fig;
        jg_meter_figure(meter, &s0, &s1, JG_ZONE_TOTAL, &fig);
        en.source = jg_energy_source_name(jg_meter_source(meter));
        en.w_per_core = ecfg.assume_w_per_core > 0 ? ecfg.assume_w_per_core
                                                   : JG_ESTIMATE_DEFAULT_W_PER_CORE;
        en.valid = fig.valid;
        en.j = fig.j;
        en.s = fig.valid ? fig.dt_s : t1 - t0;
        en.status = fig.valid ? "ok" : jg_zone_status_name(fig.why);
        rc = jg_cli_eprobe_finish(r.ep);
        if (!rc) rc = jg_cli_eprobe_write_csv(r.ep, r.dir);
        if (rc) {
            fprintf(stderr, PROG ": writing the energy breakdown to %s: %s\n", r.dir,
                    strerror(-rc));
            goto done;
        }
        // Figures never fail the run: the line says what is missing.
        fig_rc = jg_cli_eprobe_write_figures(r.ep, r.dir, fig_msg, sizeof fig_msg);
        if (fig_rc < 0)
            snprintf(fig_msg, sizeof fig_msg, "figures: cannot write the data and scripts in "
                                              "%s: %s", r.dir, strerror(-fig_rc));
    }

    // Test set, report, summary.
    rc = jg_evaluate(model, &testv, &ev);
    if (rc) {
        fprintf(stderr, PROG ": evaluating the test set: %s\n", strerror(-rc));
        goto done;
    }
    const char *const *names = (const char *const *)train.class_names;
    if (jg_trainer_stopped_early(tr))
        printf("stopped early after epoch %d: no lower validation loss for %d epochs\n",
               epochs_done, o.patience);
    jg_cli_print_eval(stdout, &ev, names);
    if (r.ep && !o.quiet) {
        putchar('\n');
        jg_cli_eprobe_print(r.ep, stdout);
        putchar('\n');
    }
    if (meter && en.valid)
        printf("energy: %.1f J (%s) over %.1f s of training\n", en.j, en.source, en.s);
    else if (meter)
        printf("energy: not available (%s: %s)\n", en.source, en.status);
    const summary_t sm = {
        .o = &o, .spec = spec, .ev = &ev, .names = names, .hist = jg_trainer_history(tr),
        .epochs_done = epochs_done, .stopped_early = jg_trainer_stopped_early(tr),
        .resumed = o.resume, .n_train = train.n, .n_val = val.n, .n_test = test.n,
        .c = train.c, .mean = mean, .std = std, .energy = &en, .ep = r.ep,
    };
    char *text = summary_text(&sm);
    char path[4300];
    snprintf(path, sizeof path, "%s/summary.json", r.dir);
    rc = text ? jg_write_atomic(path, text, strlen(text)) : -ENOMEM;
    free(text);
    if (rc) {
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(-rc));
        goto done;
    }
    if (r.ep) {
        printf("wrote %s, %s, %s and energy_{layers,types}.csv, energy_trace.jsonl\n", r.ckpt,
               r.csv, path);
        fflush(stdout); // the line lands after the tables, also in a log file
        fprintf(fig_rc ? stderr : stdout, "%s\n", fig_msg);
    } else
        printf("wrote %s, %s and %s\n", r.ckpt, r.csv, path);
    exit_code = 0;

done:
    jg_eval_free(&ev);
    jg_cli_eprobe_destroy(r.ep);
    jg_meter_close(meter);
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    jg_checkpoint_free(&ck);
    jg_dataset_free(&full);
    jg_dataset_free(&sub);
    jg_dataset_free(&train);
    jg_dataset_free(&val);
    jg_dataset_free(&test);
    return exit_code;
}
