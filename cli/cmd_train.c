/* SPDX-License-Identifier: MIT */
/*
 * cmd_train.c - `joulegrad train`: flags into a jg_run_train_config_t, one
 * call to jg_run_train (run/: data, model, checkpoints, energy, summary),
 * then the report. Ctrl-C stops after the current batch (exit 130).
 *
 * Output: progress (a redrawn bar on a terminal) and notes on stderr; one
 * line per epoch and the test report on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_util.h"
#include "flags.h"
#include "jg_kernels.h"
#include "jg_run.h"

#define PROG "joulegrad train"
#define REDRAW_S 0.1 /* progress bar: at most 10 redraws a second */
#define BAR_WIDTH 24

/* The terminal side of a run: progress bar and Ctrl-C. */
typedef struct {
    int tty, quiet, bar_shown;
    double last_draw_s;
} term_t;

static void usage(FILE *f, int threads);
/* --help's text with this machine's default thread count. */
static void help(FILE *f)
{
    usage(f, jg_kernels_threads());
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
            JG_CLI_MAX_EPOCHS, JG_CLI_MAX_BATCH, JG_CLI_MAX_THREADS, threads, JG_DATA_FASHION_MNIST_DIR,
            JG_CLI_MAX_SIDE, JG_ESTIMATE_DEFAULT_W_PER_CORE);
}

/* Train-only flags: the optimizer's settings, the run's outputs. */
enum {
    O_LR = 256, O_MOMENTUM, O_NESTEROV, O_BETA1, O_BETA2, O_EPS, O_WD, O_SCHEDULE, O_STEP_SIZE,
    O_GAMMA, O_MIN_LR, O_PATIENCE, O_OUT, O_RESUME, O_CKPT, O_NO_CKPT, O_IDLE, O_QUIET, O_HELP,
    O_END
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

/* The optimizer flags given, applied once --optimizer is known (its
 * defaults depend on the kind). */
typedef struct {
    int given[O_END - O_LR];
    float lr, momentum, beta1, beta2, eps, wd, gamma, min_lr;
    int step_size;
    jg_sched_kind_t sched;
} optim_flags_t;
#define GIVEN(x) (of->given[(x) - O_LR])

/* parse_own's context. */
typedef struct {
    optim_flags_t *of;
    jg_run_train_config_t *cfg;
} own_t;

static int parse_own(void *ctx, int c, const char *arg)
{
    optim_flags_t *of = ((own_t *)ctx)->of;
    jg_run_train_config_t *cfg = ((own_t *)ctx)->cfg;
    if (c >= O_LR && c < O_END) of->given[c - O_LR] = 1;
    switch (c) {
    case O_LR: return get_float("--lr", arg, 0, 1e6, 1, 0, "in (0, 1e6]", &of->lr);
    case O_MOMENTUM: return get_float("--momentum", arg, 0, 1, 0, 1, "in [0, 1)", &of->momentum);
    case O_NESTEROV: return 0;
    case O_BETA1: return get_float("--beta1", arg, 0, 1, 0, 1, "in [0, 1)", &of->beta1);
    case O_BETA2: return get_float("--beta2", arg, 0, 1, 0, 1, "in [0, 1)", &of->beta2);
    case O_EPS: return get_float("--eps", arg, 0, 1, 1, 0, "in (0, 1]", &of->eps);
    case O_WD: return get_float("--weight-decay", arg, 0, 1e6, 0, 0, "in [0, 1e6]", &of->wd);
    case O_SCHEDULE:
        if (!jg_sched_kind_parse(arg, &of->sched)) return 0;
        fprintf(stderr, PROG ": --schedule must be constant, step or cosine, got '%s'\n", arg);
        return 2;
    case O_STEP_SIZE:
        return jg_cli_flag_int(PROG, "--step-size", arg, 1, JG_CLI_MAX_EPOCHS, &of->step_size);
    case O_GAMMA: return get_float("--gamma", arg, 0, 1e6, 1, 0, "in (0, 1e6]", &of->gamma);
    case O_MIN_LR: return get_float("--min-lr", arg, 0, 1e6, 0, 0, "in [0, 1e6]", &of->min_lr);
    case O_PATIENCE:
        return jg_cli_flag_int(PROG, "--patience", arg, 0, JG_CLI_MAX_EPOCHS, &cfg->patience);
    case O_OUT: cfg->out = arg; return 0;
    case O_RESUME: cfg->resume = 1; return 0;
    case O_CKPT: cfg->ckpt_every = 1; return 0;
    case O_NO_CKPT: cfg->ckpt_every = 0; return 0;
    case O_IDLE:
        if (!jg_cli_parse_double(arg, 0, 3600, &cfg->idle_s)) return 0;
        fprintf(stderr, PROG ": --idle-seconds must be a number of seconds in [0, 3600], got "
                        "'%s'\n", arg);
        return 2;
    case O_QUIET: cfg->quiet = 1; return 0;
    default: return -1;
    }
}

/* The optimizer config from the flags; flags that do nothing for it are
 * mistakes. 0 or 2. */
static int apply_optim(const optim_flags_t *of, jg_opt_kind_t kind, jg_optim_config_t *oc)
{
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
    if ((GIVEN(O_STEP_SIZE) || GIVEN(O_GAMMA)) && of->sched != JG_SCHED_STEP) {
        fprintf(stderr, PROG ": %s applies to --schedule step only\n",
                GIVEN(O_STEP_SIZE) ? "--step-size" : "--gamma");
        return 2;
    }
    if (GIVEN(O_MIN_LR) && of->sched != JG_SCHED_COSINE) {
        fprintf(stderr, PROG ": --min-lr applies to --schedule cosine only\n");
        return 2;
    }
    jg_optim_defaults(oc, kind);
    oc->schedule = of->sched;
    if (GIVEN(O_LR)) oc->lr = of->lr;
    if (GIVEN(O_MOMENTUM)) oc->momentum = of->momentum;
    oc->nesterov = GIVEN(O_NESTEROV);
    if (GIVEN(O_BETA1)) oc->beta1 = of->beta1;
    if (GIVEN(O_BETA2)) oc->beta2 = of->beta2;
    if (GIVEN(O_EPS)) oc->eps = of->eps;
    if (GIVEN(O_WD)) oc->weight_decay = of->wd;
    if (GIVEN(O_STEP_SIZE)) oc->step_size = of->step_size;
    if (GIVEN(O_GAMMA)) oc->gamma = of->gamma;
    if (GIVEN(O_MIN_LR)) oc->min_lr = of->min_lr;
    if (oc->nesterov && !(oc->momentum > 0.0f)) {
        fprintf(stderr, PROG ": --nesterov needs --momentum in (0, 1)\n");
        return 2;
    }
    if (of->sched == JG_SCHED_COSINE && oc->min_lr > oc->lr) {
        fprintf(stderr, PROG ": --min-lr must be in [0, --lr %g]\n", (double)oc->lr);
        return 2;
    }
    jg_nn_error_t err = {{0}};
    if (jg_optim_check(oc, &err)) {
        fprintf(stderr, PROG ": optimizer: %s\n", err.msg);
        return 2;
    }
    return 0;
}

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, jg_run_train_config_t *cfg, jg_cli_run_flags_t *f)
{
    static const struct option own[] = {
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
        {"patience", required_argument, NULL, O_PATIENCE},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"checkpoint-every-epoch", no_argument, NULL, O_CKPT},
        {"no-checkpoint-every-epoch", no_argument, NULL, O_NO_CKPT},
        {"idle-seconds", required_argument, NULL, O_IDLE},
        {"quiet", no_argument, NULL, O_QUIET},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    optim_flags_t of = {.sched = JG_SCHED_CONSTANT, .step_size = 1};
    own_t ctx = {&of, cfg};
    const jg_cli_own_t cmd = {own, O_LR, O_END, O_HELP, parse_own, help, &ctx};
    const int rc = jg_cli_getopt(PROG, argc, argv, ~0u, &cmd, f);
    if (rc >= 0) return rc;
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    if (apply_optim(&of, f->optimizer, &cfg->optim) || jg_cli_flags_check(PROG, f)) return 2;
    if (cfg->patience > 0 && f->val_fraction <= 0) {
        fprintf(stderr, PROG ": --patience needs a validation set: add --val-fraction F "
                        "(e.g. 0.1)\n");
        return 2;
    }
    if (cfg->idle_s > 0 && f->energy == JG_ENERGY_MODE_OFF) {
        fprintf(stderr, PROG ": --idle-seconds needs an energy source: drop --energy off\n");
        return 2;
    }
    if (cfg->resume && !cfg->out) {
        fprintf(stderr, PROG ": --resume needs --out DIR, the run to continue\n");
        return 2;
    }
    return -1;
}
#undef GIVEN

static void fmt_eta(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 359999) s = 359999;
    const long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, cap, "%ld:%02ld", t / 60, t % 60);
}

/* Progress bar on a terminal; Ctrl-C asks the run to stop. */
static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    term_t *t = ctx;
    const double now = jg_now_s();
    if (t->tty && !t->quiet && p->batches > 0 &&
        (now - t->last_draw_s >= REDRAW_S || p->batch == p->batches)) {
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
        t->last_draw_s = now;
        t->bar_shown = 1;
    }
    return jg_cli_interrupted();
}

/* The run's lines: stdout for results, stderr for notes; the bar is
 * cleared first. */
static void on_line(void *ctx, int stream, const char *line)
{
    term_t *t = ctx;
    if (t->bar_shown) {
        fputs("\r\033[K", stderr);
        t->bar_shown = 0;
    }
    jg_cli_print_line(NULL, stream, line);
}

/* The report after a finished run, on stdout. */
static void report(const jg_run_train_config_t *cfg, const jg_run_train_result_t *r)
{
    if (r->nothing_to_do) {
        printf("train: %s is finished (%d epoch%s): nothing to do; its files are unchanged\n",
               r->dir, r->epochs_done, r->epochs_done == 1 ? "" : "s");
        return;
    }
    const char *const *names = (const char *const *)r->class_names;
    if (r->stopped_early)
        printf("stopped early after epoch %d: no lower validation loss for %d epoch%s\n",
               r->epochs_done, cfg->patience, cfg->patience == 1 ? "" : "s");
    jg_sbuf_t b = {0};
    jg_run_eval_text(&b, &r->eval, names);
    if (r->breakdown && !cfg->quiet) {
        jg_sb_printf(&b, "\n");
        jg_breakdown_text(r->breakdown, &b);
        jg_sb_printf(&b, "\n");
    }
    if (b.p) fputs(b.p, stdout);
    free(b.p);
    if (r->breakdown && r->energy_valid)
        printf("energy: %.1f J (%s) over %.1f s of training\n", r->energy_j, r->source,
               r->energy_s);
    else if (r->breakdown)
        printf("energy: not available (%s: %s)\n", r->source, r->energy_status);
    if (r->breakdown) {
        printf("wrote %s/checkpoint.jgc, %s/epochs.csv, %s/summary.json and "
               "energy_{layers,types}.csv, %s\n", r->dir, r->dir, r->dir, r->trace_name);
        fflush(stdout); // the line lands after the tables, also in a log file
        fprintf(r->figures_rc ? stderr : stdout, "%s\n", r->figures_msg);
    } else {
        printf("wrote %s/checkpoint.jgc, %s/epochs.csv and %s/summary.json\n", r->dir, r->dir,
               r->dir);
    }
}

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
    jg_cli_run_flags_t f = {
        .model = "default", .epochs = 2, .batch = 64, .seed = 1,
        .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO,
        .optimizer = JG_OPT_ADAM,
    };
    jg_run_train_config_t cfg = {.ckpt_every = 1};
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &cfg, &f);
    if (rc >= 0) return rc;
    char dir[4096];
    if (cfg.out) snprintf(dir, sizeof dir, "%s", cfg.out);
    else default_out(dir, sizeof dir, f.model);
    term_t term = {.tty = isatty(STDERR_FILENO), .quiet = cfg.quiet};
    const jg_log_t log = {.fn = on_line, .ctx = &term};
    cfg.model = f.model;
    cfg.epochs = f.epochs;
    cfg.batch = f.batch;
    cfg.seed = f.seed;
    cfg.data = f.data;
    cfg.train_limit = f.train_limit;
    cfg.test_limit = f.test_limit;
    cfg.val_fraction = f.val_fraction;
    cfg.energy = f.energy;
    cfg.assume_w = f.assume_w;
    cfg.out = dir;
    cfg.on_batch = on_batch;
    cfg.ctx = &term;
    cfg.log = &log;

    jg_cli_catch_sigint();
    jg_run_train_result_t res;
    jg_run_error_t err = {{0}};
    rc = jg_run_train(&cfg, &res, &err);
    jg_cli_release_sigint();
    if (term.bar_shown) fputs("\r\033[K", stderr);
    if (rc) jg_cli_error(PROG, err.msg);
    else if (!res.secondary) report(&cfg, &res);
    jg_run_train_result_free(&res);
    return jg_cli_exit_code(rc);
}
