/* SPDX-License-Identifier: MIT */
/*
 * cmd_profile.c - `joulegrad profile`: N training steps of a model with every
 * layer bracketed by the energy meter (jg_run_profile), then the per-type
 * and per-layer breakdown (the quick demo for a class). Nothing is written
 * to disk unless --out DIR asks for the CSVs, the raw trace and the figures.
 *
 * Output: the tables on stdout, or with --json one object
 * {seconds, energy: {...as in summary.json...}, model, spec, ...}.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "flags.h"
#include "jg_kernels.h"
#include "jg_run.h"

#define PROG "joulegrad profile"
#define MAX_BATCHES 1000000

static void usage(FILE *f)
{
    fprintf(f,
"usage: joulegrad profile [options]\n"
"\n"
"Runs N training steps (Adam, PyTorch defaults) with every layer's forward and\n"
"backward, the loss, the optimizer step and data gathering bracketed by the\n"
"energy meter, and prints where the joules went: per layer type and per layer,\n"
"forward vs backward, with seconds, average watts, FLOPs and J/GFLOP. Writes\n"
"nothing unless --out is given. Every figure is labelled with its source (rapl,\n"
"or estimate when no counter is readable).\n"
"\n"
"  --model SPEC          preset name ('joulegrad models') or spec text (default: default)\n"
"  --batches N           training steps, 1..%d (default 50)\n"
"  --batch B             images per step, 1..%d (default 64)\n"
"  --data D              fashion-mnist, cifar10, folder or synthetic (default fashion-mnist)\n"
"  --data-dir DIR        as for 'joulegrad train'\n"
"  --image-size HxW      folder (required) and synthetic (default 28x28)\n"
"  --channels C          folder (default 3) and synthetic (default 1): 1 or 3\n"
"  --energy MODE         auto, rapl or estimate (default auto: rapl, else a labelled\n"
"                        estimate)\n"
"  --assume-watts W      estimate: watts per busy core (default %g)\n"
"  --idle-watts W        estimate: watts added per wall-clock second, its model of\n"
"                        idle power (default 0)\n"
"  --idle-seconds S      measure idle power for S seconds in [0, 3600] before the\n"
"                        steps and add net-of-idle figures (default 0: none, every\n"
"                        figure gross; use 2 or more on a quiet machine with rapl)\n"
"  --out DIR             also write energy_layers.csv, energy_types.csv,\n"
"                        energy_trace.jsonl and, when gnuplot is installed,\n"
"                        energy_types.png and power.png (+ .svg, .gp, .dat) to DIR\n"
"  --seed S              initialisation, shuffling and the images used (default 1)\n"
"  --threads T           kernel threads, 1..%d\n"
"  --json                one JSON object: seconds (bracketed) and the energy object\n"
"                        of summary.json\n"
"  --help                this text\n",
            MAX_BATCHES, JG_CLI_MAX_BATCH, JG_ESTIMATE_DEFAULT_W_PER_CORE, JG_CLI_MAX_THREADS);
}

enum { O_BATCHES = 256, O_JSON, O_IDLE, O_IDLE_W, O_OUT, O_HELP, O_END };

typedef struct {
    jg_run_profile_config_t *cfg;
    int *json;
} own_t;

static int parse_own(void *ctx, int c, const char *arg)
{
    own_t *o = ctx;
    switch (c) {
    case O_BATCHES: return jg_cli_flag_int(PROG, "--batches", arg, 1, MAX_BATCHES, &o->cfg->steps);
    case O_JSON: *o->json = 1; return 0;
    case O_IDLE:
        if (!jg_cli_parse_double(arg, 0, 3600, &o->cfg->idle_s)) return 0;
        fprintf(stderr, PROG ": --idle-seconds must be a number of seconds in [0, 3600], got "
                        "'%s'\n", arg);
        return 2;
    case O_IDLE_W: return jg_cli_flag_watts(PROG, "--idle-watts", arg, 1, &o->cfg->idle_w);
    case O_OUT: o->cfg->out = arg; return 0;
    default: return -1;
    }
}

/* Returns -1 to go on, or the exit code. */
static int parse_opts(int argc, char **argv, jg_run_profile_config_t *cfg, jg_cli_run_flags_t *f,
                      int *json)
{
    static const struct option opts[] = {
        {"batches", required_argument, NULL, O_BATCHES},
        {"json", no_argument, NULL, O_JSON},
        {"idle-seconds", required_argument, NULL, O_IDLE},
        {"idle-watts", required_argument, NULL, O_IDLE_W},
        {"out", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    const unsigned mask = JG_F(JG_F_MODEL) | JG_F(JG_F_BATCH) | JG_F(JG_F_SEED) |
                          JG_F(JG_F_THREADS) | JG_F(JG_F_DATA) | JG_F(JG_F_DATA_DIR) |
                          JG_F(JG_F_IMAGE_SIZE) | JG_F(JG_F_CHANNELS) | JG_F(JG_F_ENERGY) |
                          JG_F(JG_F_ASSUME_WATTS);
    own_t ctx = {cfg, json};
    const jg_cli_own_t own = {opts, O_BATCHES, O_END, O_HELP, parse_own, usage, &ctx};
    const int rc = jg_cli_getopt(PROG, argc, argv, mask, &own, f);
    if (rc >= 0) return rc;
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    if (f->energy == JG_ENERGY_MODE_OFF) {
        fprintf(stderr, PROG ": --energy must be auto, rapl or estimate (profile measures "
                        "energy), got 'off'\n");
        return 2;
    }
    if (cfg->idle_w > 0 && f->energy == JG_ENERGY_MODE_RAPL) {
        fprintf(stderr, PROG ": --idle-watts applies to the estimate source only\n");
        return 2;
    }
    return jg_cli_flags_check(PROG, f) ? 2 : -1;
}

static int print_json(const jg_run_profile_config_t *cfg, const jg_run_profile_result_t *r)
{
    const jg_attrib_summary_t *s = jg_breakdown_summary(r->breakdown);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "seconds", s->step_s);
    cJSON_AddItemToObject(root, "energy", jg_breakdown_json(r->breakdown));
    cJSON_AddStringToObject(root, "model", cfg->model);
    cJSON_AddStringToObject(root, "spec", r->spec);
    cJSON_AddStringToObject(root, "data", cfg->data.name);
    cJSON_AddNumberToObject(root, "batches", r->steps);
    cJSON_AddNumberToObject(root, "batch", cfg->batch);
    cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
    cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
    char *text = cJSON_Print(root);
    jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    puts(text);
    free(text);
    return 0;
}

static void print_tables(const jg_run_profile_config_t *cfg, const jg_run_profile_result_t *r)
{
    const jg_attrib_summary_t *s = jg_breakdown_summary(r->breakdown);
    printf("profile: model %s (%.2f MFLOP/image forward), %s, %d steps of %d images, "
           "isa %s, threads %d\n\n", cfg->model, r->fwd_flops * 1e-6, cfg->data.name, r->steps,
           cfg->batch, jg_isa_name(jg_kernels_isa()), jg_kernels_threads());
    jg_sbuf_t b = {0};
    jg_breakdown_text(r->breakdown, &b);
    if (b.p) fputs(b.p, stdout);
    free(b.p);
    if (s->valid)
        printf("\n%.3f J (%s) in %.3f s of bracketed steps\n", s->step_j,
               jg_energy_source_name(r->source), s->step_s);
    else
        printf("\nenergy not valid (a zone faulted): see the source line above\n");
    if (cfg->out) printf("wrote %s/energy_{layers,types}.csv and energy_trace.jsonl\n", cfg->out);
}

int jg_cli_profile(int argc, char **argv)
{
    jg_cli_run_flags_t f = {.model = "default", .batch = 64, .seed = 1,
                            .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO};
    jg_run_profile_config_t cfg = {.steps = 50};
    int json = 0;
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &cfg, &f, &json);
    if (rc >= 0) return rc;
    const jg_log_t log = {.fn = jg_cli_print_line};
    cfg.model = f.model;
    cfg.batch = f.batch;
    cfg.seed = f.seed;
    cfg.data = f.data;
    cfg.energy = f.energy;
    cfg.assume_w = f.assume_w;
    cfg.log = &log;
    jg_run_profile_result_t res;
    jg_run_error_t err = {{0}};
    rc = jg_run_profile(&cfg, &res, &err);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", err.msg);
        jg_run_profile_result_free(&res);
        return jg_cli_exit_code(rc);
    }
    const int code = json ? print_json(&cfg, &res) : (print_tables(&cfg, &res), 0);
    // With --json stdout holds only the object: the figures line goes to stderr.
    fflush(stdout); // the line lands after the tables, also in a log file
    if (res.figures_msg[0]) fprintf(res.figures_rc || json ? stderr : stdout, "%s\n", res.figures_msg);
    jg_run_profile_result_free(&res);
    return code;
}
