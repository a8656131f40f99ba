/* SPDX-License-Identifier: MIT */
/*
 * bench_step.c - `joulegrad bench step`: whole training steps of a preset
 * (forward, loss, backward, Adam) on synthetic 1x28x28 batches, through the
 * engine's C API exactly as `joulegrad train` runs them, against this
 * machine's FMA peak measured in the same process. FLOPs per step are the
 * model's own count (jg_model_fwd_flops + jg_model_bwd_flops, per image,
 * times the batch: what `joulegrad profile` divides by its bracketed
 * seconds).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_common.h"
#include "jg_bench.h"
#include "jg_nn.h"

#define BATCHES 8 /* synthetic batches, used in turn */
#define WARMUP 5

static void usage(FILE *f)
{
    fputs("usage: joulegrad bench step [--model PRESET] [--batch B] [--steps S] [--threads T]\n"
          "                            [--json]\n"
          "  S training steps (default 100) of the preset (default 'default') at batch B\n"
          "  (default 64) on synthetic data: median and fastest step, GFLOPS by the\n"
          "  model's FLOP count, and that rate over this machine's measured FMA peak.\n",
          f);
}

typedef struct {
    const char *model;
    int batch, steps, threads, json;
} step_opts_t;

static int parse(int argc, char **argv, step_opts_t *o)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"batch", required_argument, NULL, 'b'},
        {"steps", required_argument, NULL, 's'}, {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (step_opts_t){"default", 64, 100, 0, 0};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'b': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &o->batch); break;
        case 's': bad = jg_bench_parse_int(optarg, 1, 1 << 20, &o->steps); break;
        case 't': bad = jg_bench_parse_int(optarg, 1, 1024, &o->threads); break;
        case 'j': o->json = 1; break;
        case 'h': usage(stdout); return -1;
        default:
            fprintf(stderr, "joulegrad: bench step: bad option '%s'; run 'joulegrad bench step "
                            "--help'\n",
                    argv[optind - 1]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "joulegrad: bench step: bad value '%s' (see --help)\n", optarg);
            return 2;
        }
    }
    return 0;
}

/* One step as jg_trainer_run does it: forward, loss, backward, optimizer. */
static int step(jg_model_t *m, jg_optim_t *opt, const float *x, const int32_t *y, int batch,
                float *loss)
{
    int err = jg_model_forward(m, x, batch, 1, NULL);
    if (!err) err = jg_model_loss(m, y, loss);
    if (!err) err = jg_model_backward(m);
    if (!err) err = jg_optim_step(opt, jg_model_params(m), jg_model_grads(m), 1e-3f);
    return err;
}

int jg_bench_step_main(int argc, char **argv)
{
    step_opts_t o;
    int err = parse(argc, argv, &o);
    if (err) return err < 0 ? 0 : err;
    if (jg_kernels_init() == 0 && o.threads == 0) o.threads = jg_kernels_threads();
    err = jg_bench_setup(o.threads > 0 ? o.threads : 1);
    if (err) return err;
    jg_nn_error_t nerr;
    jg_model_t *m = NULL;
    if (jg_model_create(&m, o.model, 1, 28, 28, 10, 1, &nerr) || jg_model_reserve(m, o.batch)) {
        fprintf(stderr, "joulegrad: bench step: cannot build '%s': %s\n", o.model, nerr.msg);
        jg_model_destroy(m);
        return 2;
    }
    jg_optim_config_t cfg;
    jg_optim_defaults(&cfg, JG_OPT_ADAM);
    jg_optim_t *opt = NULL;
    const size_t nx = (size_t)BATCHES * o.batch * 28 * 28;
    float *x = malloc(nx * sizeof(float));
    int32_t *y = malloc((size_t)BATCHES * o.batch * sizeof(int32_t));
    double *t = malloc((size_t)o.steps * sizeof(double));
    int rc = 1;
    if (!x || !y || !t || jg_optim_create(&opt, &cfg, jg_model_n_params(m))) {
        fprintf(stderr, "joulegrad: bench step: out of memory\n");
        goto out;
    }
    jg_bench_fill(x, nx, 7);
    for (int i = 0; i < BATCHES * o.batch; i++) y[i] = (int32_t)((i * 7 + 3) % 10);
    float loss = 0;
    for (int s = 0; s < WARMUP + o.steps && !err; s++) {
        const int b = s % BATCHES;
        const double t0 = jg_bench_now_s();
        err = step(m, opt, x + (size_t)b * o.batch * 28 * 28, y + (size_t)b * o.batch, o.batch,
                   &loss);
        if (s >= WARMUP) t[s - WARMUP] = jg_bench_now_s() - t0;
    }
    if (err || !isfinite(loss)) {
        fprintf(stderr, "joulegrad: bench step: the step failed (%s)\n",
                err ? strerror(-err) : "non-finite loss");
        goto out;
    }
    double best = t[0];
    for (int s = 1; s < o.steps; s++) best = t[s] < best ? t[s] : best;
    const double med = jg_bench_median(t, o.steps);
    const double flops = (jg_model_fwd_flops(m) + jg_model_bwd_flops(m)) * o.batch;
    jg_bench_peak_t pk;
    jg_bench_peak(jg_kernels_isa(), o.threads, &pk);
    const double gf = flops / med * 1e-9, gf_best = flops / best * 1e-9;
    if (o.json) {
        cJSON *j = cJSON_CreateObject();
        if (!j) goto out;
        cJSON_AddStringToObject(j, "bench", "step");
        cJSON_AddStringToObject(j, "model", o.model);
        cJSON_AddStringToObject(j, "isa", jg_isa_name(jg_kernels_isa()));
        cJSON_AddNumberToObject(j, "threads", o.threads);
        cJSON_AddNumberToObject(j, "batch", o.batch);
        cJSON_AddNumberToObject(j, "steps", o.steps);
        cJSON_AddNumberToObject(j, "flops_per_step", flops);
        cJSON_AddNumberToObject(j, "median_ms", med * 1e3);
        cJSON_AddNumberToObject(j, "min_ms", best * 1e3);
        cJSON_AddNumberToObject(j, "gflops", gf);
        cJSON_AddNumberToObject(j, "gflops_best", gf_best);
        cJSON_AddNumberToObject(j, "clock_ghz", pk.clock_ghz);
        cJSON_AddNumberToObject(j, "lanes", pk.lanes);
        cJSON_AddNumberToObject(j, "fma_per_cycle", pk.fma_per_cycle);
        cJSON_AddNumberToObject(j, "peak_gflops", pk.peak_gflops);
        cJSON_AddNumberToObject(j, "peak_fraction", pk.peak_gflops > 0 ? gf / pk.peak_gflops : 0);
        cJSON_AddNumberToObject(j, "peak_fraction_best",
                                pk.peak_gflops > 0 ? gf_best / pk.peak_gflops : 0);
        char *txt = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        if (!txt) goto out;
        puts(txt);
        cJSON_free(txt);
    } else {
        printf("training step, model %s, batch %d, isa %s, threads %d, %d steps\n", o.model,
               o.batch, jg_isa_name(jg_kernels_isa()), o.threads, o.steps);
        printf("  %.3f GFLOP per step (the model's count)\n", flops * 1e-9);
        printf("  median %.3f ms  %.1f GFLOPS  %.1f%% of peak; fastest %.3f ms  %.1f%% of peak\n",
               med * 1e3, gf, pk.peak_gflops > 0 ? 100 * gf / pk.peak_gflops : 0, best * 1e3,
               pk.peak_gflops > 0 ? 100 * gf_best / pk.peak_gflops : 0);
        printf("  peak %.1f GFLOPS (measured: %.2f GHz x %d lanes x 2 x %.0f FMA/cycle x %d "
               "threads)\n",
               pk.peak_gflops, pk.clock_ghz, pk.lanes, pk.fma_per_cycle, o.threads);
    }
    rc = 0;
out:
    jg_optim_destroy(opt);
    jg_model_destroy(m);
    free(x), free(y), free(t);
    return rc;
}
