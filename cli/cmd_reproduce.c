/* SPDX-License-Identifier: MIT */
/*
 * cmd_reproduce.c - `joulegrad reproduce rq1|rq2|all`: flags into a
 * jg_repro_config_t and one call to jg_run_reproduce (run/repro*.c: the
 * experiments of Yarally et al., CAIN 2023, and their report). Ctrl-C stops
 * after the current batch (exit 130); --resume continues.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "flags.h"
#include "jg_run.h"

#define PROG "joulegrad reproduce"
#define MAX_SEEDS 100

static int should_stop(void *ctx)
{
    (void)ctx;
    return jg_cli_interrupted();
}

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
"  --scale S       tiny (a pipeline check for CI: about 1.5 minutes on 2 cores, its\n"
"                  verdicts rest on 300 images), quick (about 10 minutes on 2\n"
"                  cores) or full (the study's 64 trials, full data; the report of a\n"
"                  smaller run estimates its time) (default quick)\n"
"  --seeds N       RQ1 seeds and RQ2 repetitions, 1..%d (default: the scale's)\n"
"  --data D        fashion-mnist, cifar10 or synthetic (default fashion-mnist)\n"
"  --data-dir DIR  where the dataset is (cifar10: the binary batches)\n"
"  --threads T     kernel threads, 1..%d (default: 1 when the energy source\n"
"                  is estimate, see docs/reproduction.md; else OpenMP's)\n"
"  --energy MODE   auto, rapl or estimate (default auto)\n"
"  --out DIR       output directory (required; refused when it exists and is\n"
"                  not empty, unless --resume)\n"
"  --resume        continue DIR: finished sub-runs are kept, unfinished ones\n"
"                  continued, and the report is written again (with its figures\n"
"                  once gnuplot is installed); needs the same --scale, --seeds,\n"
"                  --data, --energy\n"
"  --stop-after N  stop after N sub-runs have run (split a long run into\n"
"                  sittings; continue with --resume)\n"
"  --help          this text\n",
            MAX_SEEDS, JG_CLI_MAX_THREADS);
}

enum { O_SCALE = 256, O_SEEDS, O_OUT, O_RESUME, O_STOP, O_HELP, O_END };

static int parse_own(void *ctx, int c, const char *arg)
{
    jg_repro_config_t *cfg = ctx;
    static const char *const scales[] = {"tiny", "quick", "full", NULL};
    int k;
    switch (c) {
    case O_SCALE:
        cfg->scale = arg;
        return jg_cli_flag_choice(PROG, "--scale", arg, scales, &k);
    case O_SEEDS: return jg_cli_flag_int(PROG, "--seeds", arg, 1, MAX_SEEDS, &cfg->seeds);
    case O_OUT: cfg->out = arg; return 0;
    case O_RESUME: cfg->resume = 1; return 0;
    case O_STOP: return jg_cli_flag_int(PROG, "--stop-after", arg, 1, 1000000, &cfg->stop_after);
    default: return -1;
    }
}

/* Returns -1 to go on, or the exit code (0 after --help, 2 on bad usage). */
static int parse_opts(int argc, char **argv, jg_repro_config_t *cfg, jg_cli_run_flags_t *f)
{
    static const struct option opts[] = {
        {"scale", required_argument, NULL, O_SCALE},
        {"seeds", required_argument, NULL, O_SEEDS},
        {"out", required_argument, NULL, O_OUT},
        {"resume", no_argument, NULL, O_RESUME},
        {"stop-after", required_argument, NULL, O_STOP},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const unsigned mask = JG_F(JG_F_DATA) | JG_F(JG_F_DATA_DIR) | JG_F(JG_F_THREADS) |
                          JG_F(JG_F_ENERGY);
    const jg_cli_own_t own = {opts, O_SCALE, O_END, O_HELP, parse_own, usage, cfg};
    const int rc = jg_cli_getopt(PROG, argc, argv, mask, &own, f);
    if (rc >= 0) return rc;
    if (f->given & JG_F(JG_F_DATA) && !strcmp(f->data.name, "folder")) {
        fprintf(stderr, PROG ": --data must be fashion-mnist, cifar10 or synthetic (the "
                        "study's networks need fixed-size images)\n");
        return 2;
    }
    if (f->energy == JG_ENERGY_MODE_OFF) {
        fprintf(stderr, PROG ": --energy off leaves nothing to compare: use auto, rapl or "
                        "estimate\n");
        return 2;
    }
    if (optind + 1 != argc || (strcmp(argv[optind], "rq1") && strcmp(argv[optind], "rq2") &&
                               strcmp(argv[optind], "all"))) {
        fprintf(stderr, PROG ": say which experiment: rq1, rq2 or all; run '" PROG
                        " --help'\n");
        return 2;
    }
    cfg->what = argv[optind];
    if (!cfg->out) {
        fprintf(stderr, PROG ": --out is required; run '" PROG " --help'\n");
        return 2;
    }
    if (!strcmp(f->data.name, "cifar10") && !f->data.dir) {
        fprintf(stderr, PROG ": --data cifar10 needs --data-dir DIR (data_batch_*.bin and "
                        "test_batch.bin)\n");
        return 2;
    }
    return -1;
}

int jg_cli_reproduce(int argc, char **argv)
{
    jg_cli_run_flags_t f = {.data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO};
    jg_repro_config_t cfg = {.scale = "quick"};
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &cfg, &f);
    if (rc >= 0) return rc;
    const jg_log_t log = {.fn = jg_cli_print_line};
    cfg.threads = f.threads; // applied by the reproduction (1 by default with estimate)
    cfg.data = f.data;
    cfg.energy = f.energy;
    cfg.should_stop = should_stop;
    cfg.log = &log;
    jg_cli_catch_sigint();
    jg_run_error_t err = {{0}};
    rc = jg_run_reproduce(&cfg, &err);
    jg_cli_release_sigint();
    if (rc) jg_cli_error(PROG, err.msg);
    return jg_cli_exit_code(rc);
}
