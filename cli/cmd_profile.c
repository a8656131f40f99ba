/* SPDX-License-Identifier: MIT */
/*
 * cmd_profile.c - `joulegrad profile`: N training steps of a model with every
 * layer bracketed by the energy meter, then the per-type and per-layer
 * breakdown (the quick demo for a class). Nothing is written to disk unless
 * --out DIR asks for the CSVs, the raw trace and the gnuplot figures.
 *
 * Output: the tables on stdout, or with --json one object
 * {seconds, energy: {...as in summary.json...}, model, spec, ...}.
 */
#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "energy_probe.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_nn.h"

#define PROG "joulegrad profile"
#define MAX_BATCHES 1000000
#define MAX_BATCH 65536
#define MAX_THREADS 1024
#define SEED_SUBSET 0x9f0full /* the subset of images profiled, from --seed */

typedef struct {
    const char *model;
    int batches, batch, threads, json;
    uint64_t seed;
    jg_data_source_t data;
    jg_energy_mode_t energy;
    double assume_w;
    double idle_watts; /* estimate: modelled idle W per wall second */
    double idle_s;   /* idle baseline before the steps, s; 0: none */
    const char *out; /* NULL: write nothing */
} opts_t;

typedef struct {
    jg_cli_eprobe_t *ep;
    int n, batch;     /* training images, images per step */
    int steps, want;  /* done, asked for */
} run_t;

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
            MAX_BATCHES, MAX_BATCH, JG_ESTIMATE_DEFAULT_W_PER_CORE, MAX_THREADS);
}

static int bad(const char *flag, const char *what, const char *text)
{
    fprintf(stderr, PROG ": %s must be %s, got '%s'\n", flag, what, text);
    return 2;
}

/* Returns -1 to go on, or the exit code. */
static int parse_opts(int argc, char **argv, opts_t *o)
{
    enum { O_MODEL = 256, O_BATCHES, O_BATCH, O_DATA, O_DATA_DIR, O_SIZE, O_CHANNELS,
           O_ENERGY, O_WATTS, O_SEED, O_THREADS, O_JSON, O_IDLE, O_IDLE_W, O_OUT, O_HELP };
    static const struct option opts[] = {
        {"model", required_argument, NULL, O_MODEL},
        {"batches", required_argument, NULL, O_BATCHES},
        {"batch", required_argument, NULL, O_BATCH},
        {"data", required_argument, NULL, O_DATA},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"image-size", required_argument, NULL, O_SIZE},
        {"channels", required_argument, NULL, O_CHANNELS},
        {"energy", required_argument, NULL, O_ENERGY},
        {"assume-watts", required_argument, NULL, O_WATTS},
        {"seed", required_argument, NULL, O_SEED},
        {"threads", required_argument, NULL, O_THREADS},
        {"json", no_argument, NULL, O_JSON},
        {"idle-seconds", required_argument, NULL, O_IDLE},
        {"idle-watts", required_argument, NULL, O_IDLE_W},
        {"out", required_argument, NULL, O_OUT},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    long l;
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case O_MODEL: o->model = optarg; break;
        case O_BATCHES:
            if (jg_cli_parse_int(optarg, 1, MAX_BATCHES, &l))
                return bad("--batches", "an integer in [1, 1000000]", optarg);
            o->batches = (int)l;
            break;
        case O_BATCH:
            if (jg_cli_parse_int(optarg, 1, MAX_BATCH, &l))
                return bad("--batch", "an integer in [1, 65536]", optarg);
            o->batch = (int)l;
            break;
        case O_DATA:
            if (!jg_data_source_known(optarg)) return bad("--data", JG_DATA_SOURCE_NAMES, optarg);
            o->data.name = optarg;
            break;
        case O_DATA_DIR: o->data.dir = optarg; break;
        case O_SIZE:
            if (jg_cli_parse_size(optarg, &o->data.h, &o->data.w))
                return bad("--image-size", "HxW with sides in [1, 1024]", optarg);
            break;
        case O_CHANNELS:
            if (jg_cli_parse_int(optarg, 1, 3, &l) || l == 2)
                return bad("--channels", "1 or 3", optarg);
            o->data.c = (int)l;
            break;
        case O_ENERGY:
            if (jg_energy_mode_parse(optarg, &o->energy) || o->energy == JG_ENERGY_MODE_OFF)
                return bad("--energy", "auto, rapl or estimate (profile measures energy)",
                           optarg);
            break;
        case O_WATTS:
            if (jg_cli_flag_watts(PROG, "--assume-watts", optarg, 0, &o->assume_w)) return 2;
            break;
        case O_SEED:
            if (jg_cli_parse_int(optarg, 0, 2147483647L, &l))
                return bad("--seed", "an integer in [0, 2147483647]", optarg);
            o->seed = (uint64_t)l;
            break;
        case O_THREADS: {
            if (jg_cli_parse_int(optarg, 1, MAX_THREADS, &l))
                return bad("--threads", "an integer in [1, 1024]", optarg);
            if (jg_cli_use_threads(PROG, (int)l)) return 2;
            o->threads = (int)l;
            break;
        }
        case O_JSON: o->json = 1; break;
        case O_IDLE:
            if (jg_cli_parse_double(optarg, 0, 3600, &o->idle_s))
                return bad("--idle-seconds", "a number of seconds in [0, 3600]", optarg);
            break;
        case O_IDLE_W:
            if (jg_cli_flag_watts(PROG, "--idle-watts", optarg, 1, &o->idle_watts)) return 2;
            break;
        case O_OUT: o->out = optarg; break;
        case O_HELP: usage(stdout); return 0;
        default:
            fprintf(stderr, PROG ": %s '%s'; run '" PROG " --help'\n",
                    optopt ? "missing value for" : "unknown option", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, PROG ": unexpected argument '%s'; run '" PROG " --help'\n", argv[optind]);
        return 2;
    }
    const int shaped = !strcmp(o->data.name, "folder") || !strcmp(o->data.name, "synthetic");
    if ((o->data.h || o->data.c) && !shaped) {
        fprintf(stderr, PROG ": --image-size and --channels apply to --data folder or "
                        "synthetic only\n");
        return 2;
    }
    if (!strcmp(o->data.name, "folder") && !o->data.h) {
        fprintf(stderr, PROG ": --data folder needs --image-size HxW (images are resized)\n");
        return 2;
    }
    if ((o->assume_w > 0 || o->idle_watts > 0) && o->energy == JG_ENERGY_MODE_RAPL) {
        fprintf(stderr, PROG ": %s applies to the estimate source only\n",
                o->assume_w > 0 ? "--assume-watts" : "--idle-watts");
        return 2;
    }
    return -1;
}

static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    run_t *r = ctx;
    const int left = r->n - (p->batch - 1) * r->batch;
    jg_cli_eprobe_step_done(r->ep, left < r->batch ? left : r->batch);
    return ++r->steps >= r->want;
}

int jg_cli_profile(int argc, char **argv)
{
    opts_t o = {.model = "default", .batches = 50, .batch = 64, .seed = 1,
                .data = {.name = "fashion-mnist"}, .energy = JG_ENERGY_MODE_AUTO};
    if (jg_cli_kernels_init(PROG)) return 2;
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;

    jg_dataset_t train = {0};
    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_meter_t *meter = NULL;
    run_t r = {.batch = o.batch, .want = o.batches};
    jg_nn_error_t nerr = {{0}};
    jg_data_error_t derr = {{0}};
    cJSON *root = NULL;
    int exit_code = 1;

    // Data: a seeded subset of batches x batch images (all when fewer), normalised.
    const int64_t want_n = (int64_t)o.batches * o.batch;
    const jg_data_prep_config_t dcfg = {
        .source = o.data, .train = 1, .train_limit = want_n < INT32_MAX ? (int)want_n : 0,
        .subset_seed = o.seed ^ SEED_SUBSET,
    };
    jg_data_prepared_t dp;
    rc = jg_data_prepare(&dcfg, &dp, &derr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", derr.msg);
        exit_code = rc == -EINVAL ? 2 : 1;
        goto done;
    }
    train = dp.train;
    r.n = train.n;

    rc = jg_model_create(&model, o.model, train.c, train.h, train.w, train.classes, o.seed,
                         &nerr);
    if (rc) {
        fprintf(stderr, PROG ": --model: %s\n", nerr.msg);
        exit_code = rc == -EINVAL || rc == -ENOENT ? 2 : 1;
        goto done;
    }
    rc = jg_model_reserve(model, o.batch);
    if (rc) {
        fprintf(stderr, PROG ": cannot reserve activations for --batch %d: %s\n", o.batch,
                strerror(-rc));
        goto done;
    }
    const int per_epoch = (train.n + o.batch - 1) / o.batch;
    jg_train_config_t tc = {.epochs = (o.batches + per_epoch - 1) / per_epoch, .batch = o.batch,
                            .seed = o.seed, .on_batch = on_batch, .ctx = &r};
    jg_optim_defaults(&tc.optim, JG_OPT_ADAM);
    const jg_nn_data_t tv = jg_cli_data_view(&train);
    rc = jg_trainer_create(&tr, model, &tc, &tv, NULL, &nerr);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", nerr.msg[0] ? nerr.msg : strerror(-rc));
        goto done;
    }

    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = o.energy;
    ecfg.assume_w_per_core = o.assume_w;
    ecfg.idle_w = o.idle_watts;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    char line[JG_ENERGY_TEXT_MAX * 3];
    rc = jg_meter_open(&meter, &ecfg, &est);
    if (rc) {
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, PROG ": --energy: %s\n", line);
        goto done;
    }
    if (est.fallback) {
        jg_energy_status_line(&est, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
    char tpath[4400];
    if (o.out) {
        rc = jg_mkdir_p(o.out);
        if (rc) {
            fprintf(stderr, PROG ": cannot create --out %s: %s\n", o.out, strerror(-rc));
            goto done;
        }
        snprintf(tpath, sizeof tpath, "%s/energy_trace.jsonl", o.out);
    }
    rc = jg_cli_eprobe_create(&r.ep, model, meter, o.out ? tpath : NULL,
                              o.assume_w > 0 ? o.assume_w : JG_ESTIMATE_DEFAULT_W_PER_CORE);
    if (rc) {
        fprintf(stderr, PROG ": cannot set up the energy trace: %s\n", strerror(-rc));
        goto done;
    }
    if (o.idle_s > 0) {
        const int irc = jg_cli_eprobe_idle(r.ep, o.idle_s);
        if (irc)
            fprintf(stderr, PROG ": no idle baseline (%s during the idle window); the figures "
                            "stay gross\n", irc == -EIO ? "a meter zone faulted" : strerror(-irc));
    }

    rc = jg_trainer_run(tr);
    if (rc == -ECANCELED) rc = 0; /* stopped after --batches steps, as asked */
    if (rc == -ERANGE) {
        fprintf(stderr, PROG ": the training loss became NaN or infinite after %d steps\n",
                r.steps);
        goto done;
    }
    if (!rc) rc = jg_cli_eprobe_finish(r.ep);
    if (!rc && o.out) rc = jg_cli_eprobe_write_csv(r.ep, o.out);
    if (rc) {
        fprintf(stderr, PROG ": %s\n", strerror(-rc));
        goto done;
    }
    char fig_msg[JG_ENERGY_TEXT_MAX * 10] = "";
    int fig_rc = 0;
    if (o.out) { // figures never fail the run: the line says what is missing
        fig_rc = jg_cli_eprobe_write_figures(r.ep, o.out, fig_msg, sizeof fig_msg);
        if (fig_rc < 0)
            snprintf(fig_msg, sizeof fig_msg, "figures: cannot write the data and scripts in "
                                              "%s: %s", o.out, strerror(-fig_rc));
    }
    double total_j, seconds;
    int valid;
    jg_cli_eprobe_totals(r.ep, &total_j, &seconds, &valid);
    char spec[4096];
    if (jg_model_spec(model, spec, sizeof spec)) spec[0] = '\0';
    if (o.json) {
        root = cJSON_CreateObject();
        cJSON_AddNumberToObject(root, "seconds", seconds);
        cJSON_AddItemToObject(root, "energy", jg_cli_eprobe_json(r.ep));
        cJSON_AddStringToObject(root, "model", o.model);
        cJSON_AddStringToObject(root, "spec", spec);
        cJSON_AddStringToObject(root, "data", o.data.name);
        cJSON_AddNumberToObject(root, "batches", r.steps);
        cJSON_AddNumberToObject(root, "batch", o.batch);
        cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
        cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
        char *text = cJSON_Print(root);
        if (!text) {
            fprintf(stderr, PROG ": out of memory\n");
            goto done;
        }
        puts(text);
        free(text);
    } else {
        printf("profile: model %s (%.2f MFLOP/image forward), %s, %d steps of %d images, "
               "isa %s, threads %d\n\n", o.model, jg_model_fwd_flops(model) * 1e-6, o.data.name,
               r.steps, o.batch, jg_isa_name(jg_kernels_isa()), jg_kernels_threads());
        jg_cli_eprobe_print(r.ep, stdout);
        if (valid)
            printf("\n%.3f J (%s) in %.3f s of bracketed steps\n", total_j,
                   jg_energy_source_name(jg_meter_source(meter)), seconds);
        else
            printf("\nenergy not valid (a zone faulted): see the source line above\n");
        if (o.out)
            printf("wrote %s/energy_{layers,types}.csv and energy_trace.jsonl\n", o.out);
    }
    // With --json stdout holds only the object: the figures line goes to stderr.
    fflush(stdout); // the line lands after the tables, also in a log file
    if (fig_msg[0]) fprintf(fig_rc || o.json ? stderr : stdout, "%s\n", fig_msg);
    exit_code = 0;

done:
    cJSON_Delete(root);
    jg_cli_eprobe_destroy(r.ep);
    jg_meter_close(meter);
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    jg_dataset_free(&train);
    return exit_code;
}
