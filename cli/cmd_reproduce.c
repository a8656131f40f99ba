/* SPDX-License-Identifier: MIT */
/*
 * cmd_reproduce.c - `joulegrad reproduce rq1|rq2|all`: the two experiments of
 * Yarally et al., "Uncovering Energy-Efficient Practices in Deep Learning
 * Training: Preliminary Steps Towards Green AI" (CAIN 2023), in one command.
 *
 * RQ1 runs `joulegrad tune` (in process) for every network x lr space x
 * strategy x seed; RQ2 runs `joulegrad train` with the per-layer energy
 * breakdown for every network of the 2x2x2 design, the 1..4 conv sweep and
 * the two dense networks, once per repetition. Each sub-run has its own
 * directory under --out (rq1/<net>/<space>/<strategy>/seed-<s>,
 * rq2/<config>/rep-<r>) and its console output in log.txt there. Afterwards
 * the sub-runs' files are read back (summary.json, best_vs_energy.csv) and
 * turned into CSV tables, gnuplot figures and DIR/report.md + report.html
 * (docs/reproduction.md describes every output).
 *
 * --resume skips sub-runs whose summary says they finished, continues an
 * unfinished tune study with tune's own --resume and re-runs an unfinished
 * train run from the start (its energy breakdown covers one invocation, so
 * a resumed run would report only part of its joules).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_common.h"
#include "../run/report.h"
#include "jg_run.h"

#ifndef JG_VERSION
#define JG_VERSION "0.1.0"
#endif

#define PROG "joulegrad reproduce"
#define MAX_SEEDS 100
#define MAX_THREADS 1024
#define MAX_FILE (64 << 20) /* largest summary or CSV read back */
#define ALPHA 0.05          /* family-wise error after Holm */
#define MIN_PAIRS 6         /* below it no two-sided p can reach ALPHA */

/* ---- the experiments ---------------------------------------------------- */

typedef struct {
    const char *name;
    /* RQ1: each tune trial. 0 = all images. */
    int train_limit, test_limit, trials, epochs, batch;
    /* RQ2: each train run. */
    int rq2_train_limit, rq2_test_limit, rq2_epochs, rq2_batch;
    int seeds; /* default --seeds: RQ1 seeds and RQ2 repetitions */
} scale_t;

static const scale_t SCALES[] = {
    {"tiny", 300, 200, 2, 1, 64, 300, 200, 1, 64, 2},
    {"quick", 6000, 2000, 16, 1, 512, 0, 0, 2, 512, 3},
    {"full", 0, 0, 64, 5, 512, 0, 0, 10, 512, 5},
};
#define N_SCALES (int)(sizeof SCALES / sizeof *SCALES)

#define N_NETS 3
static const char *const NETS[N_NETS] = {"paper-densepoly", "paper-denselinear",
                                         "paper-simplecnn"};

#define N_SPACES 2
static const struct {
    const char *name, *space, *what;
} SPACES[N_SPACES] = {
    {"lr-uniform", "lr=1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999", "uniform lr (the study's)"},
    {"lr-log", "lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999", "log-uniform lr"},
};

#define N_STRATS 4
static const struct {
    const char *name, *strategy, *acq;
} STRATS[N_STRATS] = {
    {"grid", "grid", NULL},
    {"random", "random", NULL},
    {"bayes-pi", "bayes", "pi"},
    {"bayes-ei", "bayes", "ei"},
};

/* RQ2 networks. The first 8 are the 2x2x2 design, index = (conv == 4) |
 * (linear == 7) << 1 | relu << 2 (factor bits 0, 1, 2); then the rest of the
 * 1..4 conv sweep (linear 3, ReLU) and RQ1's two dense networks. */
#define N_CFGS 12
#define N_DESIGN 8
static const struct {
    const char *name, *model;
    int conv, linear, relu;
} CFGS[N_CFGS] = {
    {"conv1-lin3-norelu", "paper-simplecnn-norelu:conv=1,linear=3", 1, 3, 0},
    {"conv4-lin3-norelu", "paper-simplecnn-norelu:conv=4,linear=3", 4, 3, 0},
    {"conv1-lin7-norelu", "paper-simplecnn-norelu:conv=1,linear=7", 1, 7, 0},
    {"conv4-lin7-norelu", "paper-simplecnn-norelu:conv=4,linear=7", 4, 7, 0},
    {"conv1-lin3-relu", "paper-simplecnn:conv=1,linear=3", 1, 3, 1},
    {"conv4-lin3-relu", "paper-simplecnn:conv=4,linear=3", 4, 3, 1},
    {"conv1-lin7-relu", "paper-simplecnn:conv=1,linear=7", 1, 7, 1},
    {"conv4-lin7-relu", "paper-simplecnn:conv=4,linear=7", 4, 7, 1},
    {"conv2-lin3-relu", "paper-simplecnn:conv=2,linear=3", 2, 3, 1},
    {"conv3-lin3-relu", "paper-simplecnn:conv=3,linear=3", 3, 3, 1},
    {"densepoly", "paper-densepoly", 0, 3, 1},
    {"denselinear", "paper-denselinear", 0, 3, 1},
};
/* The sweep's configurations for 1, 2, 3, 4 conv layers. */
static const int SWEEP[4] = {4, 8, 9, 5};

/* Layer types of the breakdown; everything else (loss, optimizer, data,
 * other, unattributed) is "rest". */
#define N_TYPES 5
static const char *const TYPES[N_TYPES] = {"conv", "linear", "relu", "pool", "batchnorm"};

/* ---- options ------------------------------------------------------------ */

typedef struct {
    int rq1, rq2;
    const char *what; /* rq1, rq2 or all */
    const scale_t *scale;
    int seeds, threads, resume, stop_after;
    jg_data_source_t data;
    const char *energy; /* auto, rapl or estimate, passed on as given */
    const char *out;
} opts_t;

/* ---- sub-runs ----------------------------------------------------------- */

typedef struct {
    int n;                                /* trials */
    double *cum_j, *best_val, *test_best; /* (n) per trial, from best_vs_energy.csv */
    double total_j;
    char source[32];
} tune_res_t;

typedef struct {
    double total_j;          /* inside the training steps */
    double type_j[N_TYPES];  /* forward + backward */
    double test_acc, seconds, w_per_core;
    char source[32];
} train_res_t;

typedef struct {
    int rq;                      /* 1 or 2 */
    int net, space, strat, seed; /* RQ1 */
    int cfg, rep;                /* RQ2 (rep is the seed) */
    char dir[160];               /* under --out */
    int group;                   /* for the time estimate: net, or N_NETS + cfg */
    tune_res_t t;
    train_res_t r;
} sub_t;

typedef struct {
    opts_t o;
    sub_t *subs;
    int n_subs, n_rq1;      /* RQ1 sub-runs come first */
    double t0;              /* start of this invocation (s) */
    double grp_s[N_NETS + N_CFGS];
    int grp_n[N_NETS + N_CFGS];
    int executed;           /* sub-runs run (or continued) in this invocation */
    char source[64];        /* energy source of every figure, or "mixed: a, b" */
    double w_per_core;      /* estimate's assumption, 0 unknown */
} ctx_t;

static void usage(FILE *f)
{
    fprintf(f,
"usage: joulegrad reproduce rq1|rq2|all --out DIR [options]\n"
"\n"
"Reproduces the experiments of Yarally et al., CAIN 2023 (docs/reproduction.md):\n"
"  rq1  grid, random and Bayesian optimisation (PI as in the study, and EI) over\n"
"       Adam's lr, beta1, beta2 (uniform lr as in the study, and log lr) on\n"
"       paper-densepoly, paper-denselinear and paper-simplecnn, several seeds\n"
"  rq2  the 2x2x2 design (1/4 conv, 3/7 linear, ReLU on/off), a 1..4 conv sweep\n"
"       and the dense networks, with the energy of every layer type measured\n"
"and writes DIR/report.md, DIR/report.html, figures and CSV tables.\n"
"\n"
"  --scale S       tiny (CI, seconds), quick (about 10 minutes on 2 cores) or\n"
"                  full (the study's 64 trials, full data) (default quick)\n"
"  --seeds N       RQ1 seeds and RQ2 repetitions, 1..%d (default: the scale's)\n"
"  --data D        fashion-mnist, cifar10 or synthetic (default fashion-mnist)\n"
"  --data-dir DIR  where the dataset is (cifar10: the binary batches)\n"
"  --threads T     kernel threads, 1..%d (default: 1 when the energy source\n"
"                  is estimate, see docs/reproduction.md; else OpenMP's)\n"
"  --energy MODE   auto, rapl or estimate (default auto)\n"
"  --out DIR       output directory (required; refused when it exists and is\n"
"                  not empty, unless --resume)\n"
"  --resume        continue DIR: finished sub-runs are kept, unfinished ones\n"
"                  continued; needs the same --scale, --seeds, --data, --energy\n"
"  --stop-after N  stop after N sub-runs have run (split a long run into\n"
"                  sittings; continue with --resume)\n"
"  --help          this text\n",
            MAX_SEEDS, MAX_THREADS);
}

enum { O_SCALE = 256, O_SEEDS, O_DATA, O_DATA_DIR, O_THREADS, O_ENERGY, O_OUT, O_RESUME,
       O_STOP, O_HELP, O_END };

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    static const struct option opts[] = {
        {"scale", required_argument, NULL, O_SCALE},
        {"seeds", required_argument, NULL, O_SEEDS},
        {"data", required_argument, NULL, O_DATA},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"threads", required_argument, NULL, O_THREADS},
        {"energy", required_argument, NULL, O_ENERGY},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"stop-after", required_argument, NULL, O_STOP},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        int rc = 0;
        jg_energy_mode_t mode;
        switch (c) {
        case O_SCALE:
            o->scale = NULL;
            for (int i = 0; i < N_SCALES; i++)
                if (!strcmp(optarg, SCALES[i].name)) o->scale = &SCALES[i];
            if (!o->scale) {
                fprintf(stderr, PROG ": --scale must be tiny, quick or full, got '%s'\n", optarg);
                rc = 2;
            }
            break;
        case O_SEEDS: rc = jg_cli_flag_int(PROG, "--seeds", optarg, 1, MAX_SEEDS, &o->seeds); break;
        case O_DATA:
            rc = jg_cli_flag_data(PROG, optarg, &o->data);
            if (!rc && !strcmp(optarg, "folder")) {
                fprintf(stderr, PROG ": --data must be fashion-mnist, cifar10 or synthetic (the "
                                "study's networks need fixed-size images)\n");
                rc = 2;
            }
            break;
        case O_DATA_DIR: o->data.dir = optarg; break;
        case O_THREADS:
            rc = jg_cli_flag_int(PROG, "--threads", optarg, 1, MAX_THREADS, &o->threads);
            break;
        case O_ENERGY:
            rc = jg_cli_flag_energy(PROG, optarg, &mode);
            if (!rc && mode == JG_ENERGY_MODE_OFF) {
                fprintf(stderr, PROG ": --energy off leaves nothing to compare: use auto, rapl "
                                "or estimate\n");
                rc = 2;
            }
            o->energy = optarg;
            break;
        case O_OUT: o->out = optarg; break;
        case O_RESUME: o->resume = 1; break;
        case O_STOP:
            rc = jg_cli_flag_int(PROG, "--stop-after", optarg, 1, 1000000, &o->stop_after);
            break;
        case O_HELP: usage(stdout); return 0;
        default:
            return jg_cli_option_error(PROG, argv, optopt >= O_SCALE && optopt < O_END);
        }
        if (rc) return rc;
    }
    if (optind + 1 != argc || (strcmp(argv[optind], "rq1") && strcmp(argv[optind], "rq2") &&
                               strcmp(argv[optind], "all"))) {
        fprintf(stderr, PROG ": say which experiment: rq1, rq2 or all; run '" PROG
                        " --help'\n");
        return 2;
    }
    o->what = argv[optind];
    o->rq1 = strcmp(o->what, "rq2") != 0;
    o->rq2 = strcmp(o->what, "rq1") != 0;
    if (!o->out) {
        fprintf(stderr, PROG ": --out is required; run '" PROG " --help'\n");
        return 2;
    }
    if (!strcmp(o->data.name, "cifar10") && !o->data.dir) {
        fprintf(stderr, PROG ": --data cifar10 needs --data-dir DIR (data_batch_*.bin and "
                        "test_batch.bin)\n");
        return 2;
    }
    if (!o->seeds) o->seeds = o->scale->seeds;
    return -1;
}

/* ---- files -------------------------------------------------------------- */

/* The whole file (NUL-terminated, at most MAX_FILE bytes) or NULL. */
static char *read_text(const char *path)
{
    return jg_read_file(path, MAX_FILE, NULL);
}

static cJSON *read_json(const char *path)
{
    char *t = read_text(path);
    cJSON *j = t ? cJSON_Parse(t) : NULL;
    free(t);
    return j;
}

/* Number member or NaN. */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void sub_path(const ctx_t *c, const sub_t *s, const char *file, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s%s%s", c->o.out, s->dir, file ? "/" : "", file ? file : "");
}

/* ---- reading the sub-runs back ------------------------------------------- */

/* RQ1: summary.json says finished (1), unfinished (0) or is missing (-1). */
static int tune_state(const ctx_t *c, const sub_t *s)
{
    char path[4400];
    sub_path(c, s, "summary.json", path, sizeof path);
    cJSON *j = read_json(path);
    if (!j) return -1;
    const double n = jnum(j, "trials"), req = jnum(j, "trials_requested");
    cJSON_Delete(j);
    return n >= c->o.scale->trials && req == c->o.scale->trials;
}

/* Column of name in a CSV header line, or -1. */
static int csv_col(const char *header, const char *name)
{
    const size_t len = strlen(name);
    int col = 0;
    for (const char *p = header; *p && *p != '\n'; col++) {
        const char *end = p + strcspn(p, ",\n");
        if ((size_t)(end - p) == len && !strncmp(p, name, len)) return col;
        p = *end == ',' ? end + 1 : end;
    }
    return -1;
}

/* The next line of a CSV that is neither empty nor a '#' comment, or NULL. */
static char *csv_next(char *p)
{
    while (p && (*p == '#' || *p == '\n')) {
        p = strchr(p, '\n');
        if (p) p++;
    }
    return p && *p ? p : NULL;
}

/* Reads summary.json and best_vs_energy.csv of a finished study (columns
 * found by name; '#' lines skipped). 0, or -1 with why[] set. */
static int load_tune(const ctx_t *c, sub_t *s, char *why, size_t cap)
{
    char path[4400];
    sub_path(c, s, "summary.json", path, sizeof path);
    cJSON *j = read_json(path);
    if (!j) {
        snprintf(why, cap, "%s is missing or not JSON", path);
        return -1;
    }
    // One row per record; without early stopping a record is a trial.
    double n = jnum(j, "records");
    if (isnan(n)) n = jnum(j, "trials");
    s->t.total_j = jnum(j, "total_energy_j");
    snprintf(s->t.source, sizeof s->t.source, "%s", jstr(j, "energy_source"));
    cJSON_Delete(j);
    if (!(n >= 1 && n <= 100000) || !isfinite(s->t.total_j) || !s->t.source[0]) {
        snprintf(why, cap, "%s lacks trials, total_energy_j or energy_source", path);
        return -1;
    }
    sub_path(c, s, "best_vs_energy.csv", path, sizeof path);
    char *csv = read_text(path);
    char *row = csv_next(csv);
    int col[3] = {-1, -1, -1};
    static const char *const names[3] = {"cumulative_j", "best_val_accuracy",
                                         "test_accuracy_of_best"};
    for (int k = 0; row && k < 3; k++) col[k] = csv_col(row, names[k]);
    if (col[0] < 0 || col[1] < 0 || col[2] < 0) {
        snprintf(why, cap, "%s is missing or lacks cumulative_j, best_val_accuracy or "
                           "test_accuracy_of_best", path);
        free(csv);
        return -1;
    }
    free(s->t.cum_j);
    free(s->t.best_val);
    free(s->t.test_best);
    s->t.n = (int)n;
    double *dst[3] = {s->t.cum_j = malloc(sizeof(double) * (size_t)n),
                      s->t.best_val = malloc(sizeof(double) * (size_t)n),
                      s->t.test_best = malloc(sizeof(double) * (size_t)n)};
    int rows = 0, bad = !dst[0] || !dst[1] || !dst[2];
    while (!bad && (row = csv_next(strchr(row, '\n')))) {
        if (rows == s->t.n) {
            bad = 1;
            break;
        }
        char line[1024];
        const size_t len = strcspn(row, "\n");
        if (len >= sizeof line) {
            bad = 1;
            break;
        }
        memcpy(line, row, len);
        line[len] = '\0';
        double v[3] = {NAN, NAN, NAN};
        int f = 0;
        for (char *p = line;; f++) {
            char *end;
            const double x = strtod(p, &end);
            for (int k = 0; k < 3; k++)
                if (f == col[k] && end != p && (*end == ',' || !*end)) v[k] = x;
            p = strchr(p, ',');
            if (!p) break;
            p++;
        }
        for (int k = 0; k < 3; k++) {
            if (!isfinite(v[k])) bad = 1;
            dst[k][rows] = v[k];
        }
        if (!(dst[1][rows] >= 0 && dst[1][rows] <= 1)) bad = 1;
        rows++;
    }
    free(csv);
    if (bad || rows != s->t.n) {
        snprintf(why, cap, "%s: a bad row, or %d rows for %d in summary.json", path, rows,
                 s->t.n);
        return -1;
    }
    return 0;
}

/* RQ2: the finished run's summary.json. 1 read, 0 not finished, -1 bad
 * (why[] set). */
static int load_train(const ctx_t *c, sub_t *s, char *why, size_t cap)
{
    char path[4400];
    sub_path(c, s, "summary.json", path, sizeof path);
    cJSON *j = read_json(path);
    if (!j) return 0;
    int rc = 1;
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(j, "energy");
    const cJSON *bt = cJSON_GetObjectItemCaseSensitive(en, "by_type");
    train_res_t *r = &s->r;
    r->test_acc = jnum(j, "test_accuracy");
    r->seconds = jnum(j, "train_seconds");
    r->total_j = jnum(en, "total_j");
    r->w_per_core = jnum(en, "assumed_w_per_core");
    snprintf(r->source, sizeof r->source, "%s", jstr(en, "source"));
    double sum = 0;
    for (int t = 0; t < N_TYPES; t++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(bt, TYPES[t]);
        r->type_j[t] = o ? jnum(o, "forward_j") + jnum(o, "backward_j") : 0;
        sum += r->type_j[t];
    }
    if (jnum(j, "epochs") != jnum(j, "epochs_planned")) {
        rc = 0; // stopped before its last epoch: not a finished run
    } else if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(en, "valid")) ||
               !isfinite(r->total_j) || !isfinite(sum) || !(r->test_acc >= 0)) {
        if (snprintf(why, cap, "%s: no valid energy breakdown (energy.status '%.64s'); delete "
                               "that directory and run again with --resume", path,
                     jstr(en, "status")) < 0)
            why[0] = '\0';
        rc = -1;
    }
    cJSON_Delete(j);
    return rc;
}

/* ---- running one sub-run ------------------------------------------------ */

typedef struct {
    char *v[64];
    int n;
    char buf[16384];
    size_t used;
} args_t;

static void arg(args_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(args_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(a->buf + a->used, sizeof a->buf - a->used, fmt, ap);
    va_end(ap);
    // Our own strings, --out and --data-dir (each < 4096): always fits.
    if (n < 0 || a->used + (size_t)n + 1 > sizeof a->buf || a->n + 1 >= 64) abort();
    a->v[a->n++] = a->buf + a->used;
    a->v[a->n] = NULL;
    a->used += (size_t)n + 1;
}

/* Flags every sub-run shares. */
static void common_args(const ctx_t *c, args_t *a, int train_limit, int test_limit)
{
    const opts_t *o = &c->o;
    arg(a, "--data");
    arg(a, "%s", o->data.name);
    if (o->data.dir) {
        arg(a, "--data-dir");
        arg(a, "%s", o->data.dir);
    }
    if (train_limit) {
        arg(a, "--train-limit");
        arg(a, "%d", train_limit);
    }
    if (test_limit) {
        arg(a, "--test-limit");
        arg(a, "%d", test_limit);
    }
    arg(a, "--energy");
    arg(a, "%s", o->energy);
    if (o->threads) {
        arg(a, "--threads");
        arg(a, "%d", o->threads);
    }
}

/* Runs fn(argv) with stdout and stderr appended to log (the command line
 * first). Returns its exit code, or -errno when the log cannot be set up. */
static int call_logged(int (*fn)(int, char **), args_t *a, const char *log)
{
    fflush(stdout);
    fflush(stderr);
    const int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    dprintf(fd, "$ joulegrad");
    for (int i = 0; i < a->n; i++) dprintf(fd, " '%s'", a->v[i]);
    dprintf(fd, "\n");
    const int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
    if (so < 0 || se < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
        const int e = -errno;
        if (so >= 0) dup2(so, STDOUT_FILENO), close(so);
        if (se >= 0) dup2(se, STDERR_FILENO), close(se);
        close(fd);
        return e;
    }
    close(fd);
    const int rc = fn(a->n, a->v);
    fflush(stdout);
    fflush(stderr);
    dup2(so, STDOUT_FILENO);
    dup2(se, STDERR_FILENO);
    close(so);
    close(se);
    return rc;
}

/* The last non-empty line of a log, for the error message. */
static void last_line(const char *log, char *buf, size_t cap)
{
    char *t = read_text(log);
    buf[0] = '\0';
    if (!t) return;
    size_t n = strlen(t);
    while (n && t[n - 1] == '\n') t[--n] = '\0';
    const char *nl = strrchr(t, '\n');
    snprintf(buf, cap, "%s", nl ? nl + 1 : t);
    free(t);
}

static void fmt_time(double s, char *buf, size_t cap)
{
    const long t = s < 0 ? 0 : lround(s);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

/* Seconds the sub-runs after i will take, from this invocation's means per
 * group (then per experiment, then overall); -1 while nothing was timed. */
static double time_left(const ctx_t *c, int i)
{
    double all_s = 0, rq_s[2] = {0, 0};
    int all_n = 0, rq_n[2] = {0, 0};
    for (int g = 0; g < N_NETS + N_CFGS; g++) {
        all_s += c->grp_s[g];
        all_n += c->grp_n[g];
        rq_s[g >= N_NETS] += c->grp_s[g];
        rq_n[g >= N_NETS] += c->grp_n[g];
    }
    if (!all_n) return -1;
    double left = 0;
    for (int k = i + 1; k < c->n_subs; k++) {
        const int g = c->subs[k].group, q = g >= N_NETS;
        left += c->grp_n[g] ? c->grp_s[g] / c->grp_n[g]
                : rq_n[q]   ? rq_s[q] / rq_n[q]
                            : all_s / all_n;
    }
    return left;
}

static void describe(const sub_t *s, char *buf, size_t cap)
{
    if (s->rq == 1)
        snprintf(buf, cap, "rq1 %s %s %s seed %d", NETS[s->net], SPACES[s->space].name,
                 STRATS[s->strat].name, s->seed);
    else
        snprintf(buf, cap, "rq2 %s rep %d", CFGS[s->cfg].name, s->rep);
}

static void progress(ctx_t *c, int i, const char *action, double secs)
{
    const sub_t *s = &c->subs[i];
    char what[128], res[160], el[32], left[32] = "?";
    describe(s, what, sizeof what);
    if (s->rq == 1)
        snprintf(res, sizeof res, "%d trials, best val %.4f, %.2f J (%s)", s->t.n,
                 s->t.best_val[s->t.n - 1], s->t.total_j, s->t.source);
    else
        snprintf(res, sizeof res, "test acc %.4f, %.2f J (%s), conv %.0f%% of it", s->r.test_acc,
                 s->r.total_j, s->r.source,
                 s->r.total_j > 0 ? 100 * s->r.type_j[0] / s->r.total_j : 0.0);
    fmt_time(jg_now_s() - c->t0, el, sizeof el);
    const double l = time_left(c, i);
    if (l >= 0) fmt_time(l, left, sizeof left);
    printf("[%*d/%d] %s: %s; %s%s%.1f s | elapsed %s, about %s left\n",
           c->n_subs >= 100 ? 3 : 2, i + 1, c->n_subs, what, res, action, *action ? ", " : "",
           secs, el, left);
    fflush(stdout);
}

/* The 1-minute load average, NaN when unknown. */
static double load1(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double v = NAN;
    if (f && fscanf(f, "%lf", &v) != 1) v = NAN;
    if (f) fclose(f);
    return v;
}

/* Appends "dir,action,seconds,load1" to DIR/progress.csv (the run's time
 * record; load1 = the 1-minute load average when the sub-run ended). */
static void record_time(const ctx_t *c, const sub_t *s, const char *action, double secs)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/progress.csv", c->o.out);
    FILE *f = fopen(path, "a");
    if (!f) return;
    if (ftell(f) == 0) fprintf(f, "dir,action,seconds,load1\n");
    fprintf(f, "%s,%s,%.3f,%.2f\n", s->dir, action, secs, load1());
    fclose(f);
}

/* Runs, continues or skips sub-run i. 0, or the exit code to stop with. */
static int run_sub(ctx_t *c, int i)
{
    sub_t *s = &c->subs[i];
    const scale_t *sc = c->o.scale;
    char dir[4400], log[4400], why[4600] = "";
    sub_path(c, s, NULL, dir, sizeof dir);
    sub_path(c, s, "log.txt", log, sizeof log);
    int state, resume = 0;
    if (s->rq == 1) {
        state = tune_state(c, s);
        char path[4400];
        sub_path(c, s, "trials.jsonl", path, sizeof path);
        resume = state == 0 || (state < 0 && access(path, F_OK) == 0);
        state = state > 0;
    } else {
        state = load_train(c, s, why, sizeof why);
        if (state < 0) goto bad;
        if (!state) { // never finished: start again from nothing
            char path[4400];
            sub_path(c, s, "checkpoint.jgc", path, sizeof path);
            unlink(path);
        }
    }
    if (state) {
        if (s->rq == 1 && load_tune(c, s, why, sizeof why)) goto bad;
        progress(c, i, "done before: skipped", 0);
        return 0;
    }
    if (c->o.stop_after && c->executed >= c->o.stop_after) {
        printf("reproduce: stopped after %d sub-runs as asked (--stop-after); continue with "
               "--resume\n", c->executed);
        return 3;
    }
    int rc = jg_mkdir_p(dir);
    if (rc) {
        fprintf(stderr, PROG ": cannot create %s: %s\n", dir, strerror(-rc));
        return 1;
    }
    args_t a = {.n = 0};
    if (s->rq == 1) {
        arg(&a, "tune");
        arg(&a, "--strategy");
        arg(&a, "%s", STRATS[s->strat].strategy);
        if (STRATS[s->strat].acq) {
            arg(&a, "--acquisition");
            arg(&a, "%s", STRATS[s->strat].acq);
        }
        arg(&a, "--space");
        arg(&a, "%s", SPACES[s->space].space);
        arg(&a, "--trials");
        arg(&a, "%d", sc->trials);
        arg(&a, "--model");
        arg(&a, "%s", NETS[s->net]);
        arg(&a, "--epochs");
        arg(&a, "%d", sc->epochs);
        arg(&a, "--batch");
        arg(&a, "%d", sc->batch);
        arg(&a, "--seed");
        arg(&a, "%d", s->seed);
        common_args(c, &a, sc->train_limit, sc->test_limit);
        arg(&a, "--out");
        arg(&a, "%s", dir);
        if (resume) arg(&a, "--resume");
    } else {
        arg(&a, "train");
        arg(&a, "--model");
        arg(&a, "%s", CFGS[s->cfg].model);
        arg(&a, "--epochs");
        arg(&a, "%d", sc->rq2_epochs);
        arg(&a, "--batch");
        arg(&a, "%d", sc->rq2_batch);
        arg(&a, "--seed");
        arg(&a, "%d", s->rep);
        common_args(c, &a, sc->rq2_train_limit, sc->rq2_test_limit);
        arg(&a, "--quiet");
        arg(&a, "--out");
        arg(&a, "%s", dir);
    }
    const double t0 = jg_now_s();
    rc = call_logged(s->rq == 1 ? jg_cli_tune : jg_cli_train, &a, log);
    const double secs = jg_now_s() - t0;
    if (rc < 0) {
        fprintf(stderr, PROG ": cannot write %s: %s\n", log, strerror(-rc));
        return 1;
    }
    if (rc) {
        char line[1024], what[128];
        last_line(log, line, sizeof line);
        describe(s, what, sizeof what);
        fprintf(stderr, PROG ": %s: %s %s (exit %d): %s; the whole output is in %s\n", what,
                a.v[0], rc == 130 ? "interrupted" : "failed", rc, line, log);
        if (rc == 130) fprintf(stderr, PROG ": continue with the same options plus --resume\n");
        return rc == 130 ? 130 : 1;
    }
    c->executed++;
    c->grp_s[s->group] += secs;
    c->grp_n[s->group]++;
    record_time(c, s, resume ? "continued" : "ran", secs);
    if (s->rq == 1 ? load_tune(c, s, why, sizeof why) : load_train(c, s, why, sizeof why) != 1) {
        if (!why[0]) snprintf(why, sizeof why, "%s/summary.json says the run did not finish", dir);
        goto bad;
    }
    progress(c, i, resume ? "continued" : "", secs);
    return 0;
bad:
    fprintf(stderr, PROG ": %s\n", why);
    return 1;
}

/* ---- settings file ------------------------------------------------------ */

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int empty = 1;
    for (struct dirent *e; empty && (e = readdir(d));)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* DIR/reproduce.json holds what every sub-run depends on; --resume must
 * match it. 0, or the exit code. */
static int check_settings(const ctx_t *c)
{
    const opts_t *o = &c->o;
    char path[4400];
    snprintf(path, sizeof path, "%s/reproduce.json", o->out);
    cJSON *want = cJSON_CreateObject();
    cJSON_AddStringToObject(want, "scale", o->scale->name);
    cJSON_AddNumberToObject(want, "seeds", o->seeds);
    cJSON_AddStringToObject(want, "data", o->data.name);
    cJSON_AddStringToObject(want, "data_dir", o->data.dir ? o->data.dir : "");
    cJSON_AddStringToObject(want, "energy", o->energy);
    int rc = 0;
    if (o->resume) {
        cJSON *have = read_json(path);
        if (!have) {
            fprintf(stderr, PROG ": cannot resume: %s is missing or not JSON (was %s made by "
                            "'joulegrad reproduce'?)\n", path, o->out);
            rc = 2;
        }
        const char *keys[] = {"scale", "data", "data_dir", "energy"};
        for (size_t k = 0; !rc && k < sizeof keys / sizeof *keys; k++)
            if (strcmp(jstr(have, keys[k]), jstr(want, keys[k]))) {
                fprintf(stderr, PROG ": cannot resume: %s was made with %s '%s', not '%s'\n",
                        o->out, keys[k], jstr(have, keys[k]), jstr(want, keys[k]));
                rc = 2;
            }
        if (!rc && jnum(have, "seeds") != o->seeds) {
            fprintf(stderr, PROG ": cannot resume: %s was made with --seeds %g, not %d\n", o->out,
                    jnum(have, "seeds"), o->seeds);
            rc = 2;
        }
        cJSON_Delete(have);
    } else {
        struct stat st;
        if (stat(o->out, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(o->out))) {
            fprintf(stderr, PROG ": %s already exists and is not empty: add --resume to "
                            "continue it, or choose another --out\n", o->out);
            rc = 2;
        }
        if (!rc && (rc = jg_mkdir_p(o->out))) {
            fprintf(stderr, PROG ": cannot create --out %s: %s\n", o->out, strerror(-rc));
            rc = 1;
        }
        char *text = rc ? NULL : cJSON_Print(want);
        if (!rc && (!text || jg_write_atomic(path, text, strlen(text)))) {
            fprintf(stderr, PROG ": cannot write %s\n", path);
            rc = 1;
        }
        free(text);
    }
    cJSON_Delete(want);
    return rc;
}

/* ---- tests and claims --------------------------------------------------- */

typedef struct {
    char name[64];
    int n;         /* pairs used */
    int ratio;     /* effect is the median of ln x - ln y: shown as exp(effect) */
    double effect; /* median paired difference */
    jg_stats_wilcoxon_t w;
    double p_holm;
} test_t;

/* Paired Wilcoxon (Pratt zeros) of x against y over n pairs; with ratio, of
 * ln x - ln y (pairs with a value <= 0 are left out). */
static int paired(test_t *t, const char *name, const double *x, const double *y, int n,
                  int ratio)
{
    double *d = malloc(sizeof *d * (size_t)(n ? n : 1));
    if (!d) return -ENOMEM;
    int m = 0;
    for (int i = 0; i < n; i++) {
        const double v = !ratio ? x[i] - y[i] : x[i] > 0 && y[i] > 0 ? log(x[i] / y[i]) : NAN;
        if (isfinite(v)) d[m++] = v;
    }
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n = m;
    t->ratio = ratio;
    t->w.p = t->p_holm = t->effect = NAN;
    jg_stats_summary_t s;
    int rc = jg_stats_summary(d, m, &s);
    if (!rc) t->effect = s.median;
    if (!rc && m) rc = jg_stats_wilcoxon(d, NULL, m, JG_STATS_ZERO_PRATT, &t->w);
    free(d);
    return rc;
}

/* Holm over one family of tests (a test without pairs counts as p = 1). */
static void holm(test_t *t, int m)
{
    double p[8], adj[8];
    for (int i = 0; i < m; i++) p[i] = isnan(t[i].w.p) ? 1 : t[i].w.p;
    if (!jg_stats_holm(p, m, adj))
        for (int i = 0; i < m; i++) t[i].p_holm = adj[i];
}

/* A directional claim: confirmed when the effect has the claimed sign and
 * Holm p <= ALPHA, refuted when it has the other sign with Holm p <= ALPHA,
 * else inconclusive; not testable with fewer than MIN_PAIRS pairs. */
static const char *direction_verdict(const test_t *t, int want_negative)
{
    if (t->n < MIN_PAIRS) return "not testable here";
    if (!(t->p_holm <= ALPHA)) return "inconclusive";
    return (t->effect < 0) == want_negative ? "confirmed" : "refuted";
}

static void effect_text(const test_t *t, const char *unit, char *buf, size_t cap)
{
    if (isnan(t->effect)) snprintf(buf, cap, "-");
    else if (t->ratio) snprintf(buf, cap, "x%.3f", exp(t->effect));
    else snprintf(buf, cap, "%+.3g%s", t->effect, unit);
}

static void test_text(const test_t *t, char *buf, size_t cap)
{
    if (!t->n) snprintf(buf, cap, "no pairs");
    else snprintf(buf, cap, "Wilcoxon signed-rank, n = %d pairs, W = %g, p = %.3g %s, Holm p = %.3g",
                  t->n, t->w.statistic, t->w.p, t->w.exact ? "(exact)" : "(normal approx.)",
                  t->p_holm);
}

static void tests_table(jg_report_t *r, const test_t *t, int m, const char *unit)
{
    jg_report_table_begin(r);
    jg_report_row(r, "comparison\tpairs\tmedian paired effect\tW+\tW = min(W+, W-)\tp\tHolm p");
    for (int i = 0; i < m; i++) {
        char e[48];
        effect_text(&t[i], unit, e, sizeof e);
        jg_report_row(r, "%s\t%d\t%s\t%g\t%g\t%.3g%s\t%.3g", t[i].name, t[i].n, e, t[i].w.w_plus,
                      t[i].w.statistic, t[i].w.p, t[i].w.exact ? " (exact)" : "", t[i].p_holm);
    }
    jg_report_table_end(r);
}

static int tests_csv(const char *dir, const char *name, const test_t *t, int m)
{
    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "comparison,pairs,median_effect,effect_is_log_ratio,w_plus,statistic,p,"
                     "exact,p_holm\n");
    for (int i = 0; i < m; i++)
        jg_sb_printf(&b, "%s,%d,%.9g,%d,%.9g,%.9g,%.9g,%d,%.9g\n", t[i].name, t[i].n,
                     t[i].effect, t[i].ratio, t[i].w.w_plus, t[i].w.statistic, t[i].w.p,
                     t[i].w.exact, t[i].p_holm);
    return jg_sb_write(dir, name, &b);
}

#define MAX_CLAIMS 8
typedef struct {
    char id[48];
    const char *verdict;
    char text[2048];
} claim_t;

typedef struct {
    claim_t c[MAX_CLAIMS];
    int n;
} claims_t;

static void claim(claims_t *cl, const char *id, const char *verdict, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void claim(claims_t *cl, const char *id, const char *verdict, const char *fmt, ...)
{
    if (cl->n == MAX_CLAIMS) return;
    claim_t *c = &cl->c[cl->n++];
    snprintf(c->id, sizeof c->id, "%s", id);
    c->verdict = verdict;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->text, sizeof c->text, fmt, ap);
    va_end(ap);
}

static double median_of(const double *v, int n)
{
    jg_stats_summary_t s;
    return jg_stats_summary(v, n, &s) ? NAN : s.median;
}

/* A number or "-" for NaN. */
static const char *num(char *buf, size_t cap, const char *fmt, double v)
{
    if (isnan(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, fmt, v);
    return buf;
}

/* ---- RQ1 ---------------------------------------------------------------- */

static int rq1_index(int seed, int net, int space, int strat)
{
    return (((seed - 1) * N_NETS + net) * N_SPACES + space) * N_STRATS + strat;
}

typedef struct {
    double best, test, total_j, common, j_common, t_common, j98, t98, j99, t99;
} rq1_m_t;

/* The first trial whose best-so-far validation accuracy reaches target:
 * cumulative joules and trials (1-based); NaN when none does. */
static void reach(const tune_res_t *t, double target, double *j, double *trials)
{
    *j = *trials = NAN;
    for (int i = 0; i < t->n; i++)
        if (t->best_val[i] >= target) {
            *j = t->cum_j[i];
            *trials = i + 1;
            return;
        }
}

/* Best validation accuracy against cumulative joules, one panel per network,
 * median over seeds at each trial: NAME.dat (index net * N_STRATS + strat),
 * NAME.gp, NAME.png/svg. Returns what jg_gp_run returns, or -errno. */
static int rq1_figure(const ctx_t *c, int space, char *msg, size_t cap)
{
    const int S = c->o.seeds;
    char name[64], absdir[PATH_MAX];
    snprintf(name, sizeof name, "rq1_%s", SPACES[space].name);
    if (!realpath(c->o.out, absdir)) return -errno;
    double *x = malloc(sizeof *x * (size_t)S), *y = malloc(sizeof *y * (size_t)S);
    jg_sbuf_t d = {0}, g = {0}, body = {0};
    int rc = x && y ? 0 : -ENOMEM;
    jg_sb_printf(&d, "# joulegrad reproduce RQ1, %s: per network and strategy, median over %d "
                     "seeds at each trial [energy source: %s]\n# trial cumulative_j "
                     "best_val_accuracy\n", SPACES[space].what, S, c->source);
    for (int net = 0; !rc && net < N_NETS; net++)
        for (int st = 0; st < N_STRATS; st++) {
            int n = c->o.scale->trials;
            for (int seed = 1; seed <= S; seed++) {
                const int k = c->subs[rq1_index(seed, net, space, st)].t.n;
                if (k < n) n = k;
            }
            jg_sb_printf(&d, "# %s %s\n", NETS[net], STRATS[st].name);
            for (int k = 0; k < n; k++) {
                for (int seed = 1; seed <= S; seed++) {
                    const tune_res_t *t = &c->subs[rq1_index(seed, net, space, st)].t;
                    x[seed - 1] = t->cum_j[k];
                    y[seed - 1] = t->best_val[k];
                }
                jg_sb_printf(&d, "%d %.9g %.9g\n", k + 1, median_of(x, S), median_of(y, S));
            }
            jg_sb_printf(&d, "\n\n");
        }
    free(x);
    free(y);
    char file[96];
    snprintf(file, sizeof file, "%s.dat", name);
    if (!rc) rc = jg_sb_write(c->o.out, file, &d);
    else free(d.p);

    jg_sb_printf(&body, "set multiplot layout 1,%d title \"RQ1, %s: best validation accuracy "
                        "against cumulative training energy [source: %s]; median over %d "
                        "seed(s)\"\n"
                        "set xlabel 'cumulative energy (J, %s)'\n"
                        "set ylabel 'best validation accuracy so far'\n"
                        "set grid\nset key bottom right\nset yrange [0:1]\n",
                 N_NETS, SPACES[space].what, c->source, S, c->source);
    for (int net = 0; net < N_NETS; net++)
        jg_sb_printf(&body, "set title '%s'\n"
                            "plot for [s=0:%d] dir.'/%s.dat' index (%d + s) using 2:3 with steps "
                            "lw 2 title word('grid random bayes-pi bayes-ei', s + 1)\n",
                     NETS[net], N_STRATS - 1, name, net * N_STRATS);
    jg_sb_printf(&body, "unset multiplot\n");
    char what[160];
    snprintf(what, sizeof what, "RQ1 %s, best accuracy vs joules per strategy", SPACES[space].what);
    jg_gp_head(&g, absdir, what, name);
    // Three panels: wider than the helper's 960x540, in PNG and in SVG.
    jg_sb_printf(&g, "set terminal @GPVAL_TERM size 1500,540 noenhanced\n%s"
                     "set terminal svg size 1500,540 noenhanced\nset output dir.'/%s.svg'\n%s"
                     "unset output\n", body.p ? body.p : "", name, body.p ? body.p : "");
    if (body.err) g.err = body.err;
    free(body.p);
    snprintf(file, sizeof file, "%s.gp", name);
    if (!rc) rc = jg_sb_write(c->o.out, file, &g);
    else free(g.p);
    if (rc) return rc;
    const char *names[1] = {name};
    return jg_gp_run(absdir, names, 1, msg, cap);
}

static int rq1_report(const ctx_t *c, jg_report_t *r, claims_t *cl)
{
    const opts_t *o = &c->o;
    const int S = o->seeds, T = o->scale->trials;
    const char *src = c->source;
    rq1_m_t *m = calloc((size_t)c->n_rq1, sizeof *m);
    if (!m) return -ENOMEM;
    // Per block (seed, net, space): the best common accuracy and 98/99% of the top.
    for (int seed = 1; seed <= S; seed++)
        for (int net = 0; net < N_NETS; net++)
            for (int sp = 0; sp < N_SPACES; sp++) {
                double top = -1, common = 2;
                for (int st = 0; st < N_STRATS; st++) {
                    const tune_res_t *t = &c->subs[rq1_index(seed, net, sp, st)].t;
                    const double b = t->best_val[t->n - 1];
                    top = b > top ? b : top;
                    common = b < common ? b : common;
                }
                for (int st = 0; st < N_STRATS; st++) {
                    const int i = rq1_index(seed, net, sp, st);
                    const tune_res_t *t = &c->subs[i].t;
                    rq1_m_t *x = &m[i];
                    x->best = t->best_val[t->n - 1];
                    x->test = t->test_best[t->n - 1];
                    x->total_j = t->total_j;
                    x->common = common;
                    reach(t, common, &x->j_common, &x->t_common);
                    reach(t, 0.98 * top, &x->j98, &x->t98);
                    reach(t, 0.99 * top, &x->j99, &x->t99);
                }
            }

    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "network,space,strategy,seed,trials,best_val_accuracy,test_accuracy_of_best,"
                     "total_j,common_accuracy,j_to_common,trials_to_common,j_to_98pct,"
                     "trials_to_98pct,j_to_99pct,trials_to_99pct,energy_source,dir\n");
    for (int i = 0; i < c->n_rq1; i++) {
        const sub_t *s = &c->subs[i];
        const rq1_m_t *x = &m[i];
        jg_sb_printf(&b, "%s,%s,%s,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%g,%.6f,%g,%.6f,%g,%s,%s\n",
                     NETS[s->net], SPACES[s->space].name, STRATS[s->strat].name, s->seed, s->t.n,
                     x->best, x->test, x->total_j, x->common, x->j_common, x->t_common, x->j98,
                     x->t98, x->j99, x->t99, s->t.source, s->dir);
    }
    int rc = jg_sb_write(o->out, "rq1_runs.csv", &b);

    jg_report_h(r, 2, "RQ1: tuning strategies");
    jg_report_p(r, "Each strategy searched Adam's lr, beta1 and beta2 for %d trial(s) per network, "
                   "lr space and seed (%d seed(s)); every trial trained a fresh model for %d "
                   "epoch(s) and was ranked by its validation accuracy. A trial's energy is the "
                   "meter's joules around its training (`%s`); the curves add them up in trial "
                   "order.", T, S, o->scale->epochs, src);
    char msg[4600];
    for (int sp = 0; sp < N_SPACES; sp++) {
        const int frc = rq1_figure(c, sp, msg, sizeof msg);
        if (frc < 0 && !rc) rc = frc;
        if (frc > 0) printf("reproduce: %s\n", msg);
        char name[64], cap[512];
        snprintf(name, sizeof name, "rq1_%s", SPACES[sp].name);
        snprintf(cap, sizeof cap, "RQ1 with %s: best validation accuracy so far against the "
                 "cumulative training energy (J, `%s`), one panel per network, one line per "
                 "strategy; median over %d seed(s) at each trial.", SPACES[sp].what, src, S);
        jg_report_figure(r, name, cap);
    }

    // Medians over seeds per (network, space, strategy).
    jg_report_p(r, "Medians over seeds. The best common accuracy of a network, lr space and seed "
                   "is the highest validation accuracy that every strategy reached; \"98%%\" and "
                   "\"99%%\" are of the best accuracy any strategy found there. Joules and trials "
                   "count until a strategy's best-so-far first reached the level (medians over "
                   "the seeds that reached it; runs = how many did).");
    jg_report_table_begin(r);
    jg_report_row(r, "network\tlr\tstrategy\tbest val acc\ttest acc of best\ttotal J (%s)\tJ to "
                     "common acc\treached 98%%\ttrials to 98%%\tJ to 98%%\treached 99%%\tJ to "
                     "99%%", src);
    jg_sbuf_t sm = {0};
    jg_sb_printf(&sm, "network,space,strategy,seeds,median_best_val_accuracy,"
                      "median_test_accuracy_of_best,median_total_j,median_j_to_common,"
                      "reached_98pct,median_trials_to_98pct,median_j_to_98pct,reached_99pct,"
                      "median_trials_to_99pct,median_j_to_99pct,energy_source\n");
    double *v = malloc(sizeof *v * 9 * (size_t)S);
    if (!v) rc = -ENOMEM;
    for (int net = 0; v && net < N_NETS; net++)
        for (int sp = 0; sp < N_SPACES; sp++)
            for (int st = 0; st < N_STRATS; st++) {
                jg_stats_summary_t q[9];
                for (int seed = 1; seed <= S; seed++) {
                    const rq1_m_t *x = &m[rq1_index(seed, net, sp, st)];
                    const double f[9] = {x->best, x->test, x->total_j, x->j_common, x->t98,
                                         x->j98, x->t99, x->j99, 0};
                    for (int k = 0; k < 9; k++) v[k * S + seed - 1] = f[k];
                }
                for (int k = 0; k < 9; k++) jg_stats_summary(v + k * S, S, &q[k]);
                char a[9][32];
                jg_report_row(r, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%d/%d\t%s",
                              NETS[net], SPACES[sp].name, STRATS[st].name,
                              num(a[0], 32, "%.4f", q[0].median), num(a[1], 32, "%.4f", q[1].median),
                              num(a[2], 32, "%.2f", q[2].median), num(a[3], 32, "%.2f", q[3].median),
                              q[4].n, S, num(a[4], 32, "%.1f", q[4].median),
                              num(a[5], 32, "%.2f", q[5].median), q[6].n, S,
                              num(a[7], 32, "%.2f", q[7].median));
                jg_sb_printf(&sm, "%s,%s,%s,%d,%.6f,%.6f,%.6f,%.6f,%d,%g,%.6f,%d,%g,%.6f,%s\n",
                             NETS[net], SPACES[sp].name, STRATS[st].name, S, q[0].median,
                             q[1].median, q[2].median, q[3].median, q[4].n, q[4].median,
                             q[5].median, q[6].n, q[6].median, q[7].median, src);
            }
    jg_report_table_end(r);
    free(v);
    const int rc2 = jg_sb_write(o->out, "rq1_summary.csv", &sm);
    if (!rc) rc = rc2;

    // Paired tests over (seed, network, space): joules to the best common accuracy.
    const int n = S * N_NETS * N_SPACES;
    double *x = malloc(sizeof *x * (size_t)n), *y = malloc(sizeof *y * (size_t)n);
    test_t t[4];
    int nt = 0;
    for (int a = 2; x && y && a < N_STRATS; a++)
        for (int bb = 0; bb < 2; bb++) {
            int k = 0;
            for (int seed = 1; seed <= S; seed++)
                for (int net = 0; net < N_NETS; net++)
                    for (int sp = 0; sp < N_SPACES; sp++) {
                        x[k] = m[rq1_index(seed, net, sp, a)].j_common;
                        y[k++] = m[rq1_index(seed, net, sp, bb)].j_common;
                    }
            char name[64];
            snprintf(name, sizeof name, "%s / %s", STRATS[a].name, STRATS[bb].name);
            if (paired(&t[nt++], name, x, y, n, 1) && !rc) rc = -ENOMEM;
        }
    free(x);
    free(y);
    if (nt == 4) {
        holm(t, 4);
        const int r2 = tests_csv(o->out, "rq1_tests.csv", t, 4);
        if (!rc) rc = r2;
        jg_report_p(r, "Joules to the best common accuracy, paired by network, lr space and seed "
                       "(%d pairs per comparison): the effect is the median ratio of the two "
                       "strategies' joules (below 1: the first needed fewer); Wilcoxon "
                       "signed-rank on the log ratios, zero differences ranked (Pratt), "
                       "two-sided, Holm-corrected over the four comparisons.", n);
        tests_table(r, t, 4, "");
        for (int a = 0; a < 2; a++) {
            const test_t *g = &t[2 * a], *rd = &t[2 * a + 1];
            const char *vg = direction_verdict(g, 1), *vr = direction_verdict(rd, 1);
            const char *v2 = !strcmp(vg, "refuted") || !strcmp(vr, "refuted") ? "refuted"
                           : !strcmp(vg, "confirmed") && !strcmp(vr, "confirmed") ? "confirmed"
                           : g->n < MIN_PAIRS ? "not testable here" : "inconclusive";
            char eg[48], er[48], tg[256], tr[256], id[48];
            effect_text(g, "", eg, sizeof eg);
            effect_text(rd, "", er, sizeof er);
            test_text(g, tg, sizeof tg);
            test_text(rd, tr, sizeof tr);
            snprintf(id, sizeof id, "RQ1 %s", a ? "BO-EI" : "BO-PI");
            claim(cl, id, v2,
                  "Bayesian optimisation with %s reached the best common accuracy with fewer "
                  "joules than grid and random (the study: BO \"significantly dominates\"). "
                  "Median joules ratio %s/grid %s (%s), %s/random %s (%s); joules are `%s`.%s",
                  a ? "EI (not in the study)" : "PI (the study's)", STRATS[2 + a].name, eg, tg,
                  STRATS[2 + a].name, er, tr, src,
                  g->n < MIN_PAIRS ? " Fewer than 6 pairs: no two-sided test can reach p <= "
                                     "0.05; use more seeds."
                  : T <= 5 ? " With 5 trials or fewer every Bayesian proposal is one of its "
                             "random initial points: this scale tests the pipeline, not BO."
                           : "");
        }
    }
    free(m);
    return rc;
}

/* ---- RQ2 ---------------------------------------------------------------- */

static const sub_t *rq2_sub(const ctx_t *c, int cfg, int rep)
{
    return &c->subs[c->n_rq1 + (rep - 1) * N_CFGS + cfg];
}

/* Stacked bars of mean joules per layer type per configuration, and the
 * conv sweep (energy and accuracy against conv layers). */
static int rq2_figures(const ctx_t *c, double (*mean_type)[N_TYPES + 1],
                       const double *mean_e, const double *min_e, const double *max_e,
                       const double *mean_acc, char *msg, size_t cap)
{
    char absdir[PATH_MAX];
    if (!realpath(c->o.out, absdir)) return -errno;
    const char *src = c->source;
    jg_sbuf_t d = {0}, g = {0}, d2 = {0}, g2 = {0};
    jg_sb_printf(&d, "# joulegrad reproduce RQ2: mean J per training run by layer type over %d "
                     "repetition(s) [energy source: %s]\n# config conv linear relu pool "
                     "batchnorm rest\n", c->o.seeds, src);
    for (int k = 0; k < N_CFGS; k++) {
        jg_sb_printf(&d, "%s", CFGS[k].name);
        for (int t = 0; t <= N_TYPES; t++) jg_sb_printf(&d, " %.9g", mean_type[k][t]);
        jg_sb_printf(&d, "\n");
    }
    int rc = jg_sb_write(c->o.out, "rq2_energy_by_type.dat", &d);
    jg_gp_head(&g, absdir, "RQ2 joules per training run by layer type", "rq2_energy_by_type");
    jg_sb_printf(&g, "set title \"RQ2: energy of one training run by layer type [source: %s]; "
                     "mean over %d repetition(s)\"\n"
                     "set style data histograms\nset style histogram rowstacked\n"
                     "set style fill solid 0.85 border -1\nset boxwidth 0.7\n"
                     "set ylabel 'energy (J, %s)'\nset yrange [0:*]\nset grid ytics\n"
                     "set xtics rotate by -35\nset bmargin 7\nset key outside right top\n"
                     "plot for [t=2:7] dir.'/rq2_energy_by_type.dat' using t:xtic(1) "
                     "title word('conv linear relu pool batchnorm rest', t - 1)\n",
                 src, c->o.seeds, src);
    jg_gp_tail(&g, "rq2_energy_by_type");
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_energy_by_type.gp", &g);
    else free(g.p);

    jg_sb_printf(&d2, "# joulegrad reproduce RQ2 conv sweep (linear 3, ReLU) over %d "
                      "repetition(s) [energy source: %s]\n# conv mean_j min_j max_j "
                      "mean_test_accuracy_pct\n", c->o.seeds, src);
    for (int k = 0; k < 4; k++) {
        const int i = SWEEP[k];
        jg_sb_printf(&d2, "%d %.9g %.9g %.9g %.9g\n", k + 1, mean_e[i], min_e[i], max_e[i],
                     100 * mean_acc[i]);
    }
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_conv_sweep.dat", &d2);
    else free(d2.p);
    jg_gp_head(&g2, absdir, "RQ2 conv sweep: energy and accuracy", "rq2_conv_sweep");
    jg_sb_printf(&g2, "set title \"RQ2: 1 to 4 conv layers (linear 3, ReLU): energy [source: %s] "
                      "and test accuracy; mean over %d repetition(s)\"\n"
                      "set xlabel 'conv layers'\nset xtics 1\nset xrange [0.5:4.5]\n"
                      "set ylabel 'energy per training run (J, %s)'\nset yrange [0:*]\n"
                      "set y2label 'test accuracy (%%)'\nset y2tics\nset ytics nomirror\n"
                      "set grid\nset key below\n"
                      "plot dir.'/rq2_conv_sweep.dat' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
                      "title 'energy (min-max)', %.9g with lines dt 2 title 'half of 4 conv', "
                      "dir.'/rq2_conv_sweep.dat' using 1:5 axes x1y2 with linespoints lw 2 pt 5 "
                      "title 'test accuracy'\n",
                 src, c->o.seeds, src, 0.5 * mean_e[SWEEP[3]]);
    jg_gp_tail(&g2, "rq2_conv_sweep");
    if (!rc) rc = jg_sb_write(c->o.out, "rq2_conv_sweep.gp", &g2);
    else free(g2.p);
    if (rc) return rc;
    static const char *const names[2] = {"rq2_energy_by_type", "rq2_conv_sweep"};
    return jg_gp_run(absdir, names, 2, msg, cap);
}

/* Claim thresholds: the study's "about" made explicit (docs/reproduction.md). */
#define CONV_VAR_MIN 0.90   /* conv share of variance, the study 99% (98% CIFAR-10) */
#define LINEAR_VAR_MAX 0.05 /* linear share, the study about 1% */
#define RELU_VAR_MAX 0.01   /* ReLU share, the study about 0.2% */
#define CUT_TOL 0.10        /* energy cut 4 -> 1 conv: within 10 points of the study's */
#define ACC_TOL 2.0         /* accuracy change 4 -> 1 conv: within 2 points */

/* Share of layer type t in the joules of the design cells c with
 * (c & mask) == want (mean joules per cell summed). */
static double design_share(double (*mean_type)[N_TYPES + 1], const double *mean_e, int t,
                           int mask, int want)
{
    double part = 0, all = 0;
    for (int c = 0; c < N_DESIGN; c++)
        if ((c & mask) == want) {
            part += mean_type[c][t];
            all += mean_e[c];
        }
    return all > 0 ? part / all : NAN;
}

static int rq2_report(const ctx_t *c, jg_report_t *r, claims_t *cl)
{
    const opts_t *o = &c->o;
    const int R = o->seeds;
    const char *src = c->source;
    const int cifar = !strcmp(o->data.name, "cifar10"), synthetic = !strcmp(o->data.name, "synthetic");
    // The study's figures for this dataset (CIFAR-10, else Fashion-MNIST).
    const double study_var = cifar ? 0.98 : 0.99, study_cut = cifar ? 0.40 : 0.49,
                 study_acc = cifar ? -6.7 : -0.7;
    double mean_type[N_CFGS][N_TYPES + 1], mean_e[N_CFGS], min_e[N_CFGS], max_e[N_CFGS],
        mean_acc[N_CFGS], sd_e[N_CFGS], sd_acc[N_CFGS];
    double *e = malloc(sizeof *e * (size_t)R), *acc = malloc(sizeof *acc * (size_t)R);
    double *y = malloc(sizeof *y * (size_t)(N_DESIGN * R));
    double *px = malloc(sizeof *px * (size_t)(4 * R)), *py = malloc(sizeof *py * (size_t)(4 * R));
    int rc = e && acc && y && px && py ? 0 : -ENOMEM;

    jg_sbuf_t b = {0};
    jg_sb_printf(&b, "config,conv,linear,relu,rep,seed,total_j,conv_j,linear_j,relu_j,"
                     "pool_j,batchnorm_j,rest_j,conv_share,test_accuracy,train_seconds,"
                     "energy_source,dir\n");
    for (int k = 0; !rc && k < N_CFGS; k++) {
        memset(mean_type[k], 0, sizeof mean_type[k]);
        for (int rep = 1; rep <= R; rep++) {
            const sub_t *s = rq2_sub(c, k, rep);
            const train_res_t *x = &s->r;
            double rest = x->total_j;
            for (int t = 0; t < N_TYPES; t++) {
                mean_type[k][t] += x->type_j[t] / R;
                rest -= x->type_j[t];
            }
            mean_type[k][N_TYPES] += rest / R;
            e[rep - 1] = x->total_j;
            acc[rep - 1] = x->test_acc;
            if (k < N_DESIGN) y[k * R + rep - 1] = x->total_j;
            jg_sb_printf(&b, "%s,%d,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                             "%.3f,%s,%s\n", CFGS[k].name, CFGS[k].conv,
                         CFGS[k].linear, CFGS[k].relu, rep, rep, x->total_j, x->type_j[0],
                         x->type_j[1], x->type_j[2], x->type_j[3], x->type_j[4], rest,
                         x->total_j > 0 ? x->type_j[0] / x->total_j : NAN, x->test_acc,
                         x->seconds, x->source, s->dir);
        }
        jg_stats_summary_t se, sa;
        jg_stats_summary(e, R, &se);
        jg_stats_summary(acc, R, &sa);
        mean_e[k] = se.mean;
        sd_e[k] = se.sd;
        min_e[k] = se.min;
        max_e[k] = se.max;
        mean_acc[k] = sa.mean;
        sd_acc[k] = sa.sd;
    }
    const int rcw = jg_sb_write(o->out, "rq2_runs.csv", &b);
    if (!rc) rc = rcw;
    if (rc) goto done;

    jg_report_h(r, 2, "RQ2: layer types");
    jg_report_p(r, "Every network trained %d epoch(s) with Adam (lr 0.001) at batch %d, %d "
                   "repetition(s) with seeds 1..%d; `joulegrad train --energy %s` bracketed "
                   "every layer's forward and backward pass, so each run's joules are split by "
                   "layer type directly (the study inferred the split from an ANOVA over whole "
                   "runs). Energy is the joules inside the training steps (`%s`); rest = loss, "
                   "optimizer, data gathering and unattributed time. A network convC-linL-relu "
                   "is the preset `paper-simplecnn:conv=C,linear=L` (`-norelu`: "
                   "`paper-simplecnn-norelu`, no ReLU at all); densepoly and denselinear are "
                   "`paper-densepoly` and `paper-denselinear`.",
                o->scale->rq2_epochs, o->scale->rq2_batch, R, R, o->energy, src);
    jg_report_table_begin(r);
    jg_report_row(r, "network\tconv\tlinear\tReLU\tenergy J (%s), mean +- sd\tconv\tlinear\trelu"
                     "\tbatchnorm\tpool\trest\ttest acc, mean +- sd", src);
    jg_sbuf_t cs = {0};
    jg_sb_printf(&cs, "config,conv,linear,relu,repetitions,mean_total_j,sd_total_j,"
                      "conv_share,linear_share,relu_share,batchnorm_share,pool_share,rest_share,"
                      "mean_test_accuracy,sd_test_accuracy,energy_source\n");
    for (int k = 0; k < N_CFGS; k++) {
        double sh[N_TYPES + 1];
        for (int t = 0; t <= N_TYPES; t++) sh[t] = mean_e[k] > 0 ? mean_type[k][t] / mean_e[k] : NAN;
        jg_report_row(r, "%s%s\t%d\t%d\t%s\t%.2f +- %.2f\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t%.1f%%\t"
                         "%.1f%%\t%.4f +- %.4f", CFGS[k].name,
                      k == 8 ? " (RQ1 paper-simplecnn)" : k >= 10 ? " (RQ1 network)" : "",
                      CFGS[k].conv, CFGS[k].linear, CFGS[k].relu ? "on" : "off", mean_e[k],
                      sd_e[k], 100 * sh[0], 100 * sh[1], 100 * sh[2], 100 * sh[4], 100 * sh[3],
                      100 * sh[5], mean_acc[k], sd_acc[k]);
        jg_sb_printf(&cs, "%s,%d,%d,%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,"
                          "%s\n", CFGS[k].name, CFGS[k].conv, CFGS[k].linear,
                     CFGS[k].relu, R, mean_e[k], sd_e[k], sh[0], sh[1], sh[2], sh[4], sh[3], sh[5],
                     mean_acc[k], sd_acc[k], src);
    }
    jg_report_table_end(r);
    char spread[512] = "";
    for (int k = 0; k < N_CFGS; k++) // the repetitions of one network should agree
        if (max_e[k] - min_e[k] > 0.5 * mean_e[k] && strlen(spread) + 40 < sizeof spread)
            snprintf(spread + strlen(spread), sizeof spread - strlen(spread), "%s%s (%.0f to "
                     "%.0f J)", spread[0] ? ", " : "", CFGS[k].name, min_e[k], max_e[k]);
    if (spread[0])
        jg_report_p(r, "**Warning:** the repetitions of %s differ by more than half their mean "
                       "energy. The same network on the same data should not: the machine was "
                       "probably busy during some of them (see the warning above), and their "
                       "joules are not comparable.", spread);
    rc = jg_sb_write(o->out, "rq2_configs.csv", &cs);
    char msg[4600];
    const int frc = rq2_figures(c, mean_type, mean_e, min_e, max_e,
                                mean_acc, msg, sizeof msg);
    if (frc < 0 && !rc) rc = frc;
    if (frc > 0) printf("reproduce: %s\n", msg);
    char cap[512];
    snprintf(cap, sizeof cap, "Energy of one training run by layer type (J, `%s`), mean over "
             "%d repetition(s): the 2x2x2 design, the rest of the conv sweep and RQ1's dense "
             "networks.", src, R);
    jg_report_figure(r, "rq2_energy_by_type", cap);

    // Factorial analysis of the energy over the 8 cells.
    double ss[N_DESIGN];
    if (!rc) rc = jg_stats_factorial(y, 3, R, ss);
    if (rc) goto done;
    const double tot = ss[0] > 0 ? ss[0] : NAN;
    const double inter = ss[3] + ss[5] + ss[6] + ss[7];
    const double resid = ss[0] - ss[1] - ss[2] - ss[4] - inter;
    jg_report_p(r, "Share of the energy variance explained by each factor of the 2x2x2 design "
                   "(sum of squares of its main effect over the total sum of squares of the "
                   "%d runs' joules; the study's ANOVA figures beside them):", N_DESIGN * R);
    jg_report_table_begin(r);
    jg_report_row(r, "factor\tsum of squares (J^2)\tshare of variance\tthe study (%s)",
                  cifar ? "CIFAR-10" : "Fashion-MNIST");
    jg_report_row(r, "conv layers (1 vs 4)\t%.4g\t%.2f%%\t%.0f%%", ss[1], 100 * ss[1] / tot,
                  100 * study_var);
    jg_report_row(r, "linear layers (3 vs 7)\t%.4g\t%.2f%%\tabout 1%%", ss[2], 100 * ss[2] / tot);
    jg_report_row(r, "ReLU (off vs on)\t%.4g\t%.2f%%\tabout 0.2%%", ss[4], 100 * ss[4] / tot);
    jg_report_row(r, "interactions\t%.4g\t%.2f%%\t-", inter, 100 * inter / tot);
    jg_report_row(r, "between repetitions\t%.4g\t%.2f%%\t-", resid, 100 * resid / tot);
    jg_report_table_end(r);
    jg_sbuf_t ef = {0};
    jg_sb_printf(&ef, "effect,sum_of_squares_j2,share\nconv,%.9g,%.9g\nlinear,%.9g,%.9g\n"
                      "relu,%.9g,%.9g\nconv:linear,%.9g,%.9g\nconv:relu,%.9g,%.9g\n"
                      "linear:relu,%.9g,%.9g\nconv:linear:relu,%.9g,%.9g\nresidual,%.9g,%.9g\n"
                      "total,%.9g,1\n", ss[1], ss[1] / tot, ss[2], ss[2] / tot, ss[4],
                 ss[4] / tot, ss[3], ss[3] / tot, ss[5], ss[5] / tot, ss[6], ss[6] / tot,
                 ss[7], ss[7] / tot, resid, resid / tot, ss[0]);
    rc = jg_sb_write(o->out, "rq2_effects.csv", &ef);

    // Paired tests: each factor's effect on energy, conv's on accuracy.
    test_t t[4];
    static const char *const fname[3] = {"energy conv4 / conv1", "energy lin7 / lin3",
                                         "energy relu on / off"};
    for (int f = 0; !rc && f < 4; f++) {
        const int bit = f < 3 ? 1 << f : 1;
        int k = 0;
        for (int cell = 0; cell < N_DESIGN; cell++) {
            if (!(cell & bit)) continue;
            for (int rep = 1; rep <= R; rep++) {
                const train_res_t *hi = &rq2_sub(c, cell, rep)->r, *lo = &rq2_sub(c, cell ^ bit, rep)->r;
                px[k] = f < 3 ? hi->total_j : 100 * lo->test_acc; // accuracy: conv1 - conv4
                py[k++] = f < 3 ? lo->total_j : 100 * hi->test_acc;
            }
        }
        rc = paired(&t[f], f < 3 ? fname[f] : "test accuracy conv1 - conv4", px, py, k, f < 3);
    }
    if (rc) goto done;
    holm(t, 4);
    rc = tests_csv(o->out, "rq2_tests.csv", t, 4);
    jg_report_p(r, "Paired tests over the other two factors and the repetitions (%d pairs "
                   "each): energy effects as the median ratio of the two levels' joules, "
                   "accuracy as the median difference in points; Wilcoxon signed-rank (Pratt "
                   "zeros), two-sided, Holm-corrected over the four tests.", 4 * R);
    tests_table(r, t, 4, " points");

    // The sweep: where is the energy of 4 conv layers halved?
    jg_report_figure(r, "rq2_conv_sweep", "Energy per training run (mean, bars min to max) and "
                     "test accuracy against the number of conv layers (linear 3, ReLU on); the "
                     "dashed line is half the energy of 4 conv layers.");
    jg_report_table_begin(r);
    jg_report_row(r, "conv layers\tenergy J (%s)\tof 4 conv\ttest acc\tvs 4 conv (points)", src);
    jg_sbuf_t sw = {0};
    jg_sb_printf(&sw, "conv,mean_total_j,j_vs_conv4,mean_test_accuracy,points_vs_conv4,"
                      "energy_source\n");
    int halved = 0;
    const double e4 = mean_e[SWEEP[3]], a4 = mean_acc[SWEEP[3]];
    for (int k = 0; k < 4; k++) {
        const int i = SWEEP[k];
        jg_report_row(r, "%d\t%.2f\t%.0f%%\t%.4f\t%+.2f", k + 1, mean_e[i], 100 * mean_e[i] / e4,
                      mean_acc[i], 100 * (mean_acc[i] - a4));
        jg_sb_printf(&sw, "%d,%.6f,%.6f,%.6f,%.4f,%s\n", k + 1, mean_e[i], mean_e[i] / e4,
                     mean_acc[i], 100 * (mean_acc[i] - a4), src);
        if (k < 3 && mean_e[i] <= 0.5 * e4) halved = k + 1;
    }
    jg_report_table_end(r);
    const int rcs = jg_sb_write(o->out, "rq2_sweep.csv", &sw);
    if (!rc) rc = rcs;
    if (halved)
        jg_report_p(r, "The energy of 4 conv layers is halved (or better) with %d conv layer(s): "
                       "%.0f%% of the joules for %+.2f points of test accuracy.", halved,
                    100 * mean_e[SWEEP[halved - 1]] / e4,
                    100 * (mean_acc[SWEEP[halved - 1]] - a4));
    else
        jg_report_p(r, "No conv count below 4 halves the energy here: 1 conv uses %.0f%% of the "
                       "joules of 4.", 100 * mean_e[SWEEP[0]] / e4);

    // Claims.
    char tx[256], eff[48];
    const double conv_var = ss[1] / tot, lin_var = ss[2] / tot, relu_var = ss[4] / tot;
    double m1 = 0, m4 = 0, a1 = 0, a4d = 0; // means over the design's conv1 / conv4 cells
    for (int cell = 0; cell < N_DESIGN; cell++) {
        *(cell & 1 ? &m4 : &m1) += mean_e[cell] / 4;
        *(cell & 1 ? &a4d : &a1) += mean_acc[cell] / 4;
    }
    const double cut = 1 - m1 / m4, dacc = 100 * (a1 - a4d);
    test_text(&t[0], tx, sizeof tx);
    effect_text(&t[0], "", eff, sizeof eff);
    const char *v = t[0].n < MIN_PAIRS          ? "not testable here"
                  : conv_var >= CONV_VAR_MIN && !strcmp(direction_verdict(&t[0], 0), "confirmed")
                      ? "confirmed"
                      : "refuted";
    claim(cl, "RQ2 conv dominates", v,
          "Conv layers explain most of the training energy's variance (the study: about %.0f%%): "
          "here %.1f%% (linear %.2f%%, ReLU %.2f%%; confirmed means at least %.0f%% and a "
          "significant effect). Energy conv4 / conv1 %s (%s). Measured directly, conv layers "
          "take %.0f%% of the joules of the 4-conv networks and %.0f%% of the 1-conv ones "
          "(`%s`).", 100 * study_var, 100 * conv_var, 100 * lin_var, 100 * relu_var,
          100 * CONV_VAR_MIN, eff, tx, 100 * design_share(mean_type, mean_e, 0, 1, 1),
          100 * design_share(mean_type, mean_e, 0, 1, 0), src);
    char ta[256];
    test_text(&t[3], ta, sizeof ta);
    const int cut_ok = fabs(cut - study_cut) <= CUT_TOL, acc_ok = fabs(dacc - study_acc) <= ACC_TOL;
    const int cut_sig = !strcmp(direction_verdict(&t[0], 0), "confirmed");
    v = t[0].n < MIN_PAIRS                          ? "not testable here"
      : cut_sig && cut_ok && (synthetic || acc_ok) ? "confirmed"
                                                    : "refuted";
    char why[160] = "";
    if (!strcmp(v, "refuted"))
        snprintf(why, sizeof why, " Refuted because %s%s%s.",
                 !cut_sig ? "the cut is not significant" : !cut_ok ? "the cut is outside the "
                                                                      "tolerance" : "",
                 (!cut_sig || !cut_ok) && !synthetic && !acc_ok ? " and " : "",
                 !synthetic && !acc_ok ? "the accuracy change is outside the tolerance" : "");
    claim(cl, "RQ2 4 -> 1 conv", v,
          "Going from 4 conv layers to 1 cuts the training energy by about %.0f%% for %+.1f "
          "points of accuracy (the study, %s): here %.1f%% less energy (`%s`, means over the "
          "design's cells; %s) and %+.2f points of test accuracy (%s)%s. Confirmed means a "
          "significant cut within %.0f points of %.0f%% and an accuracy change within %.0f "
          "points of %+.1f.%s", 100 * study_cut, study_acc, cifar ? "CIFAR-10" : "Fashion-MNIST",
          100 * cut, src, tx, dacc, ta,
          synthetic ? "; synthetic data: the accuracy part is not testable here" : "",
          100 * CUT_TOL, 100 * study_cut, ACC_TOL, study_acc, why);
    test_text(&t[1], tx, sizeof tx);
    effect_text(&t[1], "", eff, sizeof eff);
    v = t[1].n < MIN_PAIRS ? "not testable here" : lin_var <= LINEAR_VAR_MAX ? "confirmed" : "refuted";
    claim(cl, "RQ2 linear small", v,
          "Linear layers explain about 1%% of the energy variance (the study): here %.2f%% "
          "(confirmed means at most %.0f%%); energy lin7 / lin3 %s (%s). Measured directly, "
          "linear layers take %.1f%% of the joules of the design's networks (`%s`).",
          100 * lin_var, 100 * LINEAR_VAR_MAX, eff, tx,
          100 * design_share(mean_type, mean_e, 1, 0, 0), src);
    test_text(&t[2], tx, sizeof tx);
    effect_text(&t[2], "", eff, sizeof eff);
    v = t[2].n < MIN_PAIRS ? "not testable here" : relu_var <= RELU_VAR_MAX ? "confirmed" : "refuted";
    claim(cl, "RQ2 ReLU negligible", v,
          "ReLU explains about 0.2%% of the energy variance (the study): here %.2f%% (confirmed "
          "means at most %.0f%%); energy ReLU on / off %s (%s). Measured directly, ReLU layers "
          "take %.2f%% of the joules of the design's networks with ReLU (`%s`).",
          100 * relu_var, 100 * RELU_VAR_MAX, eff, tx,
          100 * design_share(mean_type, mean_e, 2, 4, 4), src);
done:
    free(e);
    free(acc);
    free(y);
    free(px);
    free(py);
    return rc;
}

/* ---- the report --------------------------------------------------------- */

/* Training images of the whole split, for the time estimate. */
static double split_images(const char *data)
{
    return !strcmp(data, "cifar10") ? 50000 : !strcmp(data, "synthetic") ? JG_DATA_SYN_TRAIN : 60000;
}

typedef struct {
    double rq1_s, rq2_s; /* seconds of the sub-runs, every invocation */
    int n, busy;         /* records, and those with a load above the cores */
    double max_load;
} times_t;

/* Reads DIR/progress.csv (a continued run counts each part). A sub-run
 * ending with a 1-minute load average above the cores + 0.5 shared the CPU
 * with other work. */
static void recorded_times(const ctx_t *c, times_t *tm)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/progress.csv", c->o.out);
    char *t = read_text(path);
    memset(tm, 0, sizeof *tm);
    const double cores = (double)sysconf(_SC_NPROCESSORS_ONLN);
    for (char *line = t; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        double secs = NAN, load = NAN;
        const char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (c2 && sscanf(c2 + 1, "%lf,%lf", &secs, &load) >= 1 && isfinite(secs) && secs >= 0) {
            *(strncmp(line, "rq1/", 4) ? &tm->rq2_s : &tm->rq1_s) += secs;
            tm->n++;
            if (load > cores + 0.5) tm->busy++;
            if (load > tm->max_load) tm->max_load = load;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(t);
}

static void cpu_model(char *buf, size_t cap)
{
    snprintf(buf, cap, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (colon && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
            snprintf(buf, cap, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
}

/* The energy source of every figure: one name, or "mixed: a, b" (then the
 * report says so). */
static void find_source(ctx_t *c)
{
    c->source[0] = '\0';
    c->w_per_core = 0;
    for (int i = 0; i < c->n_subs; i++) {
        const sub_t *s = &c->subs[i];
        const char *src = s->rq == 1 ? s->t.source : s->r.source;
        if (s->rq == 2 && s->r.w_per_core > 0) c->w_per_core = s->r.w_per_core;
        if (!c->source[0]) snprintf(c->source, sizeof c->source, "%s", src);
        else if (strcmp(c->source, src) && !strstr(c->source, src)) {
            char prev[64];
            snprintf(prev, sizeof prev, "%s", c->source);
            if (snprintf(c->source, sizeof c->source, "%s%.40s, %.10s",
                         strncmp(prev, "mixed: ", 7) ? "mixed: " : "", prev, src) < 0)
                snprintf(c->source, sizeof c->source, "mixed");
        }
    }
}

static void settings_section(const ctx_t *c, jg_report_t *r)
{
    const opts_t *o = &c->o;
    const scale_t *sc = o->scale;
    const double n_split = split_images(o->data.name);
    const int n1 = sc->train_limit ? sc->train_limit : (int)n_split;
    char imgs1[128], imgs2[128], test1[64], test2[64];
    snprintf(imgs1, sizeof imgs1, "%d (%d trained, %d validation)%s", n1,
             n1 - (int)llround(0.1 * n1), (int)llround(0.1 * n1),
             sc->train_limit ? ", a seeded random subset" : "");
    snprintf(imgs2, sizeof imgs2, sc->rq2_train_limit ? "%d (a seeded subset)" : "all",
             sc->rq2_train_limit);
    snprintf(test1, sizeof test1, sc->test_limit ? "first %d" : "all", sc->test_limit);
    snprintf(test2, sizeof test2, sc->rq2_test_limit ? "first %d" : "all", sc->rq2_test_limit);
    jg_report_h(r, 2, "Settings");
    jg_report_p(r, "Scale `%s`, %d seed(s) / repetition(s), data `%s`. Differences from the study "
                   "are stated in the last column.", sc->name, o->seeds, o->data.name);
    jg_report_table_begin(r);
    jg_report_row(r, "setting\tthis run\tthe study\twhy different");
    jg_report_row(r, "dataset\t%s\tFashion-MNIST and CIFAR-10\t%s", o->data.name,
                  !strcmp(o->data.name, "synthetic") ? "synthetic images test the pipeline only"
                                                     : "one dataset per run (--data)");
    jg_report_row(r, "RQ1 training images per trial\t%s\tall\t%s", imgs1,
                  sc->train_limit ? "a subset keeps the scale's time budget" : "-");
    jg_report_row(r, "RQ1 test images\t%s\tall\t%s", test1,
                  sc->test_limit ? "test accuracy is reported, never used for selection" : "-");
    jg_report_row(r, "RQ1 epochs per trial\t%d\tnot stated in the issue\t-", sc->epochs);
    jg_report_row(r, "batch\t%d (RQ2 %d)\t512\t%s", sc->batch, sc->rq2_batch,
                  sc->batch != 512 ? "more steps per epoch on a few hundred images" : "-");
    jg_report_row(r, "trials per strategy\t%d\t64\t%s", sc->trials,
                  sc->trials != 64 ? "the scale's time budget" : "-");
    jg_report_row(r, "seeds\t%d\t1\tseveral seeds allow a paired test", o->seeds);
    jg_report_row(r, "search space\t`%s`, and the same with `lr=log:1e-5:1e-1`\tlr [1e-5, 1e-1] "
                     "uniform, beta1 [0.1, 1], beta2 [0.8, 1]\tbeta < 1: Adam divides by 1 - "
                     "beta^t, so beta = 1 is undefined (0/0); log lr added because uniform lr "
                     "puts 90%% of the trials above 0.01", SPACES[0].space);
    jg_report_row(r, "grid\t5 levels per dimension, the 125 points in a seeded random order, the "
                     "first %d\t5 levels, 64 of the 125 in random order\t-", sc->trials);
    jg_report_row(r, "Bayesian optimisation\tGaussian process (Matern-5/2, fitted length scales) "
                     "on the unit cube; 5 random initial points; PI (xi = 0.01) and EI over 2000 "
                     "random candidates plus local refinement\tsklearn's default GP on raw "
                     "inputs, PI over 10,000 random candidates\tjoulegrad's tuner (docs/tuning.md)");
    jg_report_row(r, "RQ2 training\t%s training images, %s test images, %d epoch(s), Adam lr 0.001, %d "
                     "repetition(s)\tnot stated in the issue, 1 run per cell\trepetitions allow "
                     "a paired test", imgs2, test2, sc->rq2_epochs, o->seeds);
    jg_report_row(r, "energy\tCPU, `%s` (per trial; per layer type in RQ2)\tGPU power from "
                     "nvidia-smi\tthis is a CPU trainer", c->source);
    jg_report_table_end(r);
}

static int write_report(ctx_t *c)
{
    const opts_t *o = &c->o;
    claims_t cl = {.n = 0};
    jg_report_t rep, body;
    memset(&rep, 0, sizeof rep);
    memset(&body, 0, sizeof body);
    find_source(c);
    jg_report_begin(&body, o->out, NULL);
    int rc = o->rq1 ? rq1_report(c, &body, &cl) : 0;
    if (!rc && o->rq2) rc = rq2_report(c, &body, &cl);

    jg_report_begin(&rep, o->out, "Reproducing Yarally et al. (CAIN 2023) with joulegrad");
    jg_report_p(&rep, "Yarally, Cruz, Feitosa, Sallou and van Deursen, \"Uncovering "
                      "Energy-Efficient Practices in Deep Learning Training: Preliminary Steps "
                      "Towards Green AI\" (CAIN 2023), measured GPU power while tuning Adam with "
                      "grid search, random search and Bayesian optimisation (RQ1), and while "
                      "training CNNs with more or fewer conv, linear and ReLU layers (RQ2). This "
                      "report re-runs both experiments with `joulegrad reproduce %s --scale %s` "
                      "on a CPU and checks each claim against the numbers measured here.",
                o->what, o->scale->name);
    jg_report_h(&rep, 2, "Claims at a glance");
    jg_report_p(&rep, "Each claim of the study is **confirmed**, **refuted**, **inconclusive** "
                      "(no significant effect either way after Holm's correction, alpha = 0.05) "
                      "or **not testable here**, with the numbers and the test behind it. Every "
                      "joule figure is labelled with its source (`%s`).", c->source);
    for (int i = 0; i < cl.n; i++)
        jg_report_li(&rep, "**Claim %s: %s.** %s", cl.c[i].id, cl.c[i].verdict, cl.c[i].text);
    if (!o->rq1) jg_report_li(&rep, "RQ1 was not run (`reproduce rq2`).");
    if (!o->rq2) jg_report_li(&rep, "RQ2 was not run (`reproduce rq1`).");

    jg_report_h(&rep, 2, "Machine and energy source");
    char cpu[256], t1[32], t2[32], t3[32];
    cpu_model(cpu, sizeof cpu);
    times_t tm;
    recorded_times(c, &tm);
    const double rq1_s = tm.rq1_s, rq2_s = tm.rq2_s;
    fmt_time(jg_now_s() - c->t0, t1, sizeof t1);
    fmt_time(rq1_s, t2, sizeof t2);
    fmt_time(rq2_s, t3, sizeof t3);
    jg_report_li(&rep, "CPU: %s, %ld logical cores online; kernels `%s`, %d thread(s); joulegrad "
                       "%s.", cpu, sysconf(_SC_NPROCESSORS_ONLN), jg_isa_name(jg_kernels_isa()),
                 jg_kernels_threads(), JG_VERSION);
    jg_report_li(&rep, "Time: sub-runs %s for RQ1 and %s for RQ2 (sum over every invocation, "
                       "from `progress.csv`); this invocation %s in all.", t2, t3, t1);
    if (tm.busy)
        jg_report_li(&rep, "**Warning: the machine was busy.** %d of %d sub-runs ended with a "
                           "1-minute load average above the %ld cores (up to %.1f): other "
                           "processes competed for the CPU. That slows the runs and, with the "
                           "`estimate` source, inflates their joules (OpenMP threads waiting "
                           "for a busy core spin, and spinning is CPU time). Re-run on a quiet "
                           "machine, or with `--threads 1` (or `OMP_WAIT_POLICY=passive`) "
                           "when the machine must be shared.", tm.busy, tm.n,
                     sysconf(_SC_NPROCESSORS_ONLN), tm.max_load);
    if (!strcmp(c->source, "estimate"))
        jg_report_li(&rep, "Energy source `estimate`: no RAPL counters are readable here "
                           "(`joulegrad energy` says why), so every joule figure is this "
                           "process's CPU time x %g W per busy core (an assumption, "
                           "`--assume-watts`): a model of the CPU's power, not a measurement. "
                           "It ranks the work of different layers and runs faithfully but its "
                           "absolute joules are only as good as the assumed watts. Where RAPL "
                           "is readable, `--energy auto` uses it and every figure is labelled "
                           "`rapl`. With this source the runs use 1 kernel thread unless "
                           "`--threads` says otherwise: OpenMP's spin-waiting is CPU time, so "
                           "with 2 threads it entered the joules (repetitions of one run "
                           "+-15%% apart here, against +-2%% with 1 thread).",
                     c->w_per_core > 0 ? c->w_per_core : JG_ESTIMATE_DEFAULT_W_PER_CORE);
    else if (!strcmp(c->source, "rapl"))
        jg_report_li(&rep, "Energy source `rapl`: the CPU package (+ DRAM, or psys) energy "
                           "counters through powercap: measured joules of the whole package, "
                           "including anything else running on the machine at the time.");
    else
        jg_report_li(&rep, "Energy source `%s`: the sub-runs did not all report the same "
                           "source; compare figures only within one source (the raw files "
                           "carry each run's).", c->source);
    if (o->scale != &SCALES[N_SCALES - 1]) {
        // Seconds per trained image x epoch, scaled to the full settings.
        const scale_t *sc = o->scale, *fu = &SCALES[N_SCALES - 1];
        const double n = split_images(o->data.name);
        const double u1 = (double)c->n_rq1 * sc->trials * sc->epochs * 0.9 *
                          (sc->train_limit ? sc->train_limit : n);
        const double u2 = (double)(c->n_subs - c->n_rq1) * sc->rq2_epochs *
                          (sc->rq2_train_limit ? sc->rq2_train_limit : n);
        const double f1 = (double)N_NETS * N_SPACES * N_STRATS * fu->seeds * fu->trials *
                          fu->epochs * 0.9 * n;
        const double f2 = (double)N_CFGS * fu->seeds * fu->rq2_epochs * n;
        char e1[32] = "-", e2[32] = "-";
        if (o->rq1 && u1 > 0 && rq1_s > 0) fmt_time(rq1_s / u1 * f1, e1, sizeof e1);
        if (o->rq2 && u2 > 0 && rq2_s > 0) fmt_time(rq2_s / u2 * f2, e2, sizeof e2);
        jg_report_li(&rep, "`--scale full` (%d trials of %d epochs on all %.0f images, RQ2 %d "
                           "epochs, %d seeds) would take about %s for RQ1 and %s for RQ2 here, "
                           "extrapolated from this run's seconds per trained image (loading "
                           "and evaluation included: a rough figure).", fu->trials, fu->epochs,
                     n, fu->rq2_epochs, fu->seeds, e1, e2);
    }
    settings_section(c, &rep);
    jg_report_append(&rep, &body);
    jg_report_h(&rep, 2, "Files");
    jg_report_p(&rep, "Beside this report: `rq1_runs.csv` (one row per tuning study), "
                      "`rq1_summary.csv` (the medians above), `rq1_tests.csv`, `rq2_runs.csv` "
                      "(one row per training run, joules per layer type), `rq2_configs.csv`, "
                      "`rq2_effects.csv` (sums of squares), `rq2_tests.csv`, `rq2_sweep.csv`, "
                      "the figures (`.png`, `.svg`, with their `.dat` data and `.gp` scripts), "
                      "`reproduce.json` (the settings) and `progress.csv` (time per sub-run). "
                      "Every sub-run keeps its own files and console log (`log.txt`) in "
                      "`rq1/<network>/<lr>/<strategy>/seed-<s>/` and "
                      "`rq2/<network>/rep-<r>/`.");
    const int wrc = jg_report_write(&rep);
    if (!rc) rc = wrc;
    for (int i = 0; !rc && i < cl.n; i++) // the verdicts on the console too
        printf("claim %s: %s\n", cl.c[i].id, cl.c[i].verdict);
    free(body.md.p);
    free(body.html.p);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

/* The sub-runs of the requested experiments, seed (repetition) outermost so
 * every network is reached early and the time estimate settles soon. */
static int plan(ctx_t *c)
{
    const int S = c->o.seeds;
    const int n1 = c->o.rq1 ? S * N_NETS * N_SPACES * N_STRATS : 0;
    const int n2 = c->o.rq2 ? S * N_CFGS : 0;
    c->subs = calloc((size_t)(n1 + n2), sizeof *c->subs);
    if (!c->subs) return -ENOMEM;
    c->n_rq1 = n1;
    c->n_subs = n1 + n2;
    for (int seed = 1; seed <= S && n1; seed++)
        for (int net = 0; net < N_NETS; net++)
            for (int sp = 0; sp < N_SPACES; sp++)
                for (int st = 0; st < N_STRATS; st++) {
                    sub_t *s = &c->subs[rq1_index(seed, net, sp, st)];
                    *s = (sub_t){.rq = 1, .net = net, .space = sp, .strat = st, .seed = seed,
                                 .group = net};
                    snprintf(s->dir, sizeof s->dir, "rq1/%s/%s/%s/seed-%d", NETS[net],
                             SPACES[sp].name, STRATS[st].name, seed);
                }
    for (int rep = 1; rep <= S && n2; rep++)
        for (int k = 0; k < N_CFGS; k++) {
            sub_t *s = &c->subs[n1 + (rep - 1) * N_CFGS + k];
            *s = (sub_t){.rq = 2, .cfg = k, .rep = rep, .group = N_NETS + k};
            snprintf(s->dir, sizeof s->dir, "rq2/%s/rep-%d", CFGS[k].name, rep);
        }
    return 0;
}

/* With the estimate source (CPU time x watts) OpenMP's spin-waiting counts
 * as work: on this 2-core VM, 2 threads gave repetitions of the same run
 * +-15% apart and flipped a verdict, 1 thread +-2%. So without --threads,
 * an estimate study runs single-threaded (said on the console and in the
 * report); RAPL measures the spinning the CPU really does and keeps the
 * default. Returns 1 when the meter would be estimate. */
static int single_thread_estimate(const opts_t *o)
{
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    if (jg_energy_mode_parse(o->energy, &cfg.mode)) return 0; // parse_opts said why
    jg_meter_t *m = NULL;
    jg_energy_status_t st;
    memset(&st, 0, sizeof st);
    const int est = !jg_meter_open(&m, &cfg, &st) && m &&
                    jg_meter_source(m) == JG_ENERGY_SOURCE_ESTIMATE;
    jg_meter_close(m);
    return est;
}

int jg_cli_reproduce(int argc, char **argv)
{
    ctx_t c;
    memset(&c, 0, sizeof c);
    c.o = (opts_t){.scale = &SCALES[1], .data = {.name = "fashion-mnist"}, .energy = "auto"};
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &c.o);
    if (rc >= 0) return rc;
    const int one_thread = !c.o.threads && single_thread_estimate(&c.o);
    if (one_thread) c.o.threads = 1;
    if (c.o.threads && jg_cli_use_threads(PROG, c.o.threads)) return 2;
    rc = check_settings(&c);
    if (rc) return rc;
    if (one_thread)
        printf("reproduce: energy source estimate (CPU time), so 1 kernel thread: OpenMP's "
               "spin-waiting would count as work (--threads overrides)\n");
    if (plan(&c)) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    c.t0 = jg_now_s();
    printf("reproduce: %s at scale %s: %d sub-runs (%d tuning studies, %d training runs), %d "
           "seed(s), data %s, energy %s, out %s%s\n", c.o.what, c.o.scale->name, c.n_subs,
           c.n_rq1, c.n_subs - c.n_rq1, c.o.seeds, c.o.data.name, c.o.energy, c.o.out,
           c.o.resume ? " (resuming)" : "");
    fflush(stdout);
    int exit_code = 0;
    for (int i = 0; i < c.n_subs && !exit_code; i++) exit_code = run_sub(&c, i);
    if (exit_code == 3) {
        exit_code = 0; // --stop-after: a clean stop, no report yet
    } else if (!exit_code) {
        rc = write_report(&c);
        if (rc) {
            fprintf(stderr, PROG ": writing the report in %s: %s\n", c.o.out, strerror(-rc));
            exit_code = 1;
        } else {
            char el[32];
            fmt_time(jg_now_s() - c.t0, el, sizeof el);
            printf("reproduce: wrote %s/report.md and %s/report.html (%s)\n", c.o.out, c.o.out,
                   el);
        }
    }
    for (int i = 0; i < c.n_subs; i++) {
        free(c.subs[i].t.cum_j);
        free(c.subs[i].t.best_val);
        free(c.subs[i].t.test_best);
    }
    free(c.subs);
    return exit_code;
}
