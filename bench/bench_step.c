/* SPDX-License-Identifier: MIT */
/*
 * bench_step.c - `joulegrad bench step`: whole training steps of a preset
 * (forward, loss, backward, Adam) on synthetic 1x28x28 batches, through the
 * engine's C API exactly as `joulegrad train` runs them, against this
 * machine's FMA peak measured in the same process. FLOPs per step are the
 * model's own count (jg_model_fwd_flops + jg_model_bwd_flops, per image,
 * times the batch: what `joulegrad profile` divides by its bracketed
 * seconds).
 *
 * --probe measures what the per-layer energy probe costs: steps with the
 * probe of a measured run (jg_run_probe on the meter `train` would open:
 * rapl, else estimate; its raw trace written and flushed after each step)
 * and steps without it, interleaved A B B A so that a drift of the machine
 * falls on both, each with the same batch gather the trainer does.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bench_common.h"
#include "jg_bench.h"
#include "jg_nn.h"
#include "jg_run.h"

#define BATCHES 8 /* synthetic batches, used in turn */
#define WARMUP 5

static void usage(FILE *f)
{
    fputs("usage: joulegrad bench step [--model PRESET] [--batch B] [--steps S] [--threads T]\n"
          "                            [--probe] [--json]\n"
          "  S training steps (default 100) of the preset (default 'default') at batch B\n"
          "  (default 64) on synthetic data: median and fastest step, GFLOPS by the\n"
          "  model's FLOP count, and that rate over this machine's measured FMA peak.\n"
          "  --probe  S steps with the energy probe of a measured run (every layer's\n"
          "           forward and backward bracketed on the meter 'train' opens, the\n"
          "           trace written after each step) and S without, interleaved: the\n"
          "           probe's overhead as the ratio of the medians.\n"
          "  --aa     as --probe, but the probe's half runs without it too: the noise\n"
          "           floor of that ratio on this machine.\n",
          f);
}

typedef struct {
    const char *model;
    int batch, steps, threads, probe, aa, json;
} step_opts_t;

static int parse(int argc, char **argv, step_opts_t *o)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"batch", required_argument, NULL, 'b'},
        {"steps", required_argument, NULL, 's'}, {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},        {"help", no_argument, NULL, 'h'},
        {"probe", no_argument, NULL, 'p'},       {"aa", no_argument, NULL, 'a'},
        {NULL, 0, NULL, 0},
    };
    *o = (step_opts_t){"default", 64, 100, 0, 0, 0, 0};
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
        case 'p': o->probe = 1; break;
        case 'a': o->probe = o->aa = 1; break;
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

/* One step as jg_train runs it: the batch gathered into xb, forward, loss,
 * backward, optimizer; with hooks (the probe's), bracketed as jg_train does
 * and the step handed to the breakdown, as jg_run_train does. */
static int step(jg_model_t *m, jg_optim_t *opt, const jg_nn_probe_t *hooks,
                jg_breakdown_t *bd, float *xb, const float *x, const int32_t *y, int batch,
                float *loss, double *done_s)
{
    *done_s = 0;
    jg_model_set_probe(m, hooks);
    if (hooks) hooks->begin(hooks->ctx, -1, JG_NN_PHASE_DATA);
    memcpy(xb, x, (size_t)batch * 28 * 28 * sizeof(float));
    if (hooks) hooks->end(hooks->ctx, -1, JG_NN_PHASE_DATA);
    int err = jg_model_forward(m, xb, batch, 1, NULL);
    if (!err) err = jg_model_loss(m, y, loss);
    if (!err) err = jg_model_backward(m);
    if (hooks) hooks->begin(hooks->ctx, -1, JG_NN_PHASE_OPTIMIZER);
    if (!err) err = jg_optim_step(opt, jg_model_params(m), jg_model_grads(m), 1e-3f);
    if (hooks) hooks->end(hooks->ctx, -1, JG_NN_PHASE_OPTIMIZER);
    if (!err && hooks) {
        const double t0 = jg_bench_now_s();
        err = jg_breakdown_step_done(bd, batch);
        *done_s = jg_bench_now_s() - t0;
    }
    return err;
}

/* Counts the probe calls of a step on their way to the probe's hooks; the
 * step's meter reads (marks) are two more (the step bracket opens with the
 * data region and closes with the optimizer's). */
typedef struct {
    jg_nn_probe_t inner;
    int marks;
} mark_counter_t;

static void count_begin(void *ctx, int layer, int phase)
{
    mark_counter_t *c = ctx;
    c->marks++;
    c->inner.begin(c->inner.ctx, layer, phase);
}

static void count_end(void *ctx, int layer, int phase)
{
    mark_counter_t *c = ctx;
    c->marks++;
    c->inner.end(c->inner.ctx, layer, phase);
}

/* Microseconds per mark timed alone (median of MARK_REPS steps of MARK_PAIRS
 * begin/end pairs on the first layer's forward region): a lower bound, as
 * no kernel runs on the other threads meanwhile. */
#define MARK_REPS 50
#define MARK_PAIRS 16
static double mark_us(const jg_nn_probe_t *h, jg_breakdown_t *bd)
{
    double t[MARK_REPS];
    for (int r = 0; r < MARK_REPS; r++) {
        h->begin(h->ctx, -1, JG_NN_PHASE_DATA);
        h->end(h->ctx, -1, JG_NN_PHASE_DATA);
        const double t0 = jg_bench_now_s();
        for (int i = 0; i < MARK_PAIRS; i++) {
            h->begin(h->ctx, 0, JG_NN_PHASE_FORWARD);
            h->end(h->ctx, 0, JG_NN_PHASE_FORWARD);
        }
        t[r] = (jg_bench_now_s() - t0) / (2 * MARK_PAIRS);
        h->begin(h->ctx, -1, JG_NN_PHASE_OPTIMIZER);
        h->end(h->ctx, -1, JG_NN_PHASE_OPTIMIZER);
        if (jg_breakdown_step_done(bd, 1)) return 0.0;
    }
    return jg_bench_median(t, MARK_REPS) * 1e6;
}

/* The probe of a measured run on m: the meter `train` opens by default, its
 * trace in a new directory under TMPDIR (removed by probe_close). */
typedef struct {
    jg_meter_t *meter;
    jg_run_probe_t *probe;
    jg_nn_probe_t hooks;
    char dir[256], trace[300];
    const char *source;
} bench_probe_t;

static int probe_open(bench_probe_t *bp, jg_model_t *m)
{
    memset(bp, 0, sizeof *bp);
    const char *tmp = getenv("TMPDIR");
    snprintf(bp->dir, sizeof bp->dir, "%s/jg-bench-step-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(bp->dir)) return -errno;
    snprintf(bp->trace, sizeof bp->trace, "%s/trace.jsonl", bp->dir);
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    jg_energy_status_t st;
    int err = jg_meter_open(&bp->meter, &ecfg, &st);
    if (err) return err;
    bp->source = jg_energy_source_name(jg_meter_source(bp->meter));
    const jg_run_probe_config_t pc = {.trace_path = bp->trace, .ranks = 1};
    err = jg_run_probe_create(&bp->probe, m, bp->meter, &pc);
    if (err) return err;
    bp->hooks = jg_run_probe_hooks(bp->probe);
    jg_model_set_probe(m, NULL);
    return 0;
}

static void probe_close(bench_probe_t *bp)
{
    jg_run_probe_destroy(bp->probe); /* deletes the unfinished trace */
    jg_meter_close(bp->meter);
    unlink(bp->trace);
    if (bp->dir[0]) rmdir(bp->dir);
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
    const int nt = o.probe ? 2 * o.steps : o.steps; /* timed steps */
    float *x = malloc(nx * sizeof(float));
    float *xb = malloc((size_t)o.batch * 28 * 28 * sizeof(float));
    int32_t *y = malloc((size_t)BATCHES * o.batch * sizeof(int32_t));
    double *t = malloc((size_t)o.steps * sizeof(double)), *tp = malloc((size_t)o.steps * sizeof(double));
    bench_probe_t bp = {0};
    int rc = 1;
    if (!x || !xb || !y || !t || !tp || jg_optim_create(&opt, &cfg, jg_model_n_params(m))) {
        fprintf(stderr, "joulegrad: bench step: out of memory\n");
        goto out;
    }
    if (o.probe && (err = probe_open(&bp, m))) {
        fprintf(stderr, "joulegrad: bench step: cannot set up the probe: %s\n", strerror(-err));
        goto out;
    }
    jg_bench_fill(x, nx, 7);
    for (int i = 0; i < BATCHES * o.batch; i++) y[i] = (int32_t)((i * 7 + 3) % 10);
    float loss = 0;
    int np = 0, nu = 0;
    double done_s = 0, *td = malloc((size_t)o.steps * sizeof(double)); /* step_done's time */
    if (!td) {
        fprintf(stderr, "joulegrad: bench step: out of memory\n");
        goto out;
    }
    for (int s = 0; s < WARMUP + nt && !err; s++) {
        const int b = s % BATCHES;
        /* with --probe: A B B A from the first timed step, A without the
         * probe; any 2 S timed steps then split S and S */
        const int ph = (s - WARMUP + 4 * WARMUP) % 4;
        const int probed = o.probe && (ph == 1 || ph == 2);
        const double t0 = jg_bench_now_s();
        const jg_nn_probe_t *h = probed && !o.aa ? &bp.hooks : NULL;
        err = step(m, opt, h, jg_run_probe_breakdown(bp.probe), xb,
                   x + (size_t)b * o.batch * 28 * 28, y + (size_t)b * o.batch, o.batch, &loss,
                   &done_s);
        const double dt = jg_bench_now_s() - t0;
        if (s >= WARMUP && probed) td[np] = done_s, tp[np++] = dt;
        else if (s >= WARMUP) t[nu++] = dt;
    }
    /* the marks of one step, and one mark's cost alone */
    mark_counter_t mc = {bp.hooks, 0};
    const jg_nn_probe_t counting = {&mc, count_begin, count_end};
    if (o.probe && !err)
        err = step(m, opt, &counting, jg_run_probe_breakdown(bp.probe), xb, x, y, o.batch, &loss,
                   &done_s);
    jg_model_set_probe(m, NULL);
    const double us_mark = o.probe && !err ? mark_us(&bp.hooks, jg_run_probe_breakdown(bp.probe)) : 0;
    const double done_med = np ? jg_bench_median(td, np) : 0;
    free(td);
    if (err || !isfinite(loss)) {
        fprintf(stderr, "joulegrad: bench step: the step failed (%s)\n",
                err ? strerror(-err) : "non-finite loss");
        goto out;
    }
    double best = t[0];
    for (int s = 1; s < nu; s++) best = t[s] < best ? t[s] : best;
    const double med = jg_bench_median(t, nu);
    const double med_p = np ? jg_bench_median(tp, np) : 0;
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
        if (o.probe) {
            cJSON_AddStringToObject(j, "probe_source", bp.source);
            cJSON_AddBoolToObject(j, "aa", o.aa);
            cJSON_AddNumberToObject(j, "probed_median_ms", med_p * 1e3);
            cJSON_AddNumberToObject(j, "probe_overhead", med_p / med - 1.0);
            cJSON_AddNumberToObject(j, "marks_per_step", mc.marks + 2);
            cJSON_AddNumberToObject(j, "us_per_mark", us_mark);
            cJSON_AddNumberToObject(j, "step_done_median_us", done_med * 1e6);
        }
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
        if (o.probe)
            printf("  %s (%s, trace written each step): median %.3f ms, "
                   "%+.2f%% against the %d steps without it (interleaved)\n",
                   o.aa ? "A/A: the probe's half without the probe" : "with the energy probe",
                   bp.source, med_p * 1e3, 100 * (med_p / med - 1.0), nu);
        if (o.probe && !o.aa)
            printf("  its parts: %d marks per step at %.2f us each (timed alone) and the trace "
                   "written after the step in %.1f us (median): %.2f%% of the step without it\n",
                   mc.marks + 2, us_mark, done_med * 1e6,
                   100 * ((mc.marks + 2) * us_mark * 1e-6 + done_med) / med);
    }
    rc = 0;
out:
    if (o.probe) probe_close(&bp);
    jg_optim_destroy(opt);
    jg_model_destroy(m);
    free(x), free(xb), free(y), free(t), free(tp);
    return rc;
}
