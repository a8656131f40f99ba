/* SPDX-License-Identifier: MIT */
/*
 * test_energy_bound.c - the estimate source never shows a region above what
 * its own model allows: E = CPU time x W per busy core, so over any interval
 * of length t a process of n threads gets at most n x W x t. A real profile
 * run in-process (the default model, 2 threads, OpenMP's default spin-wait
 * kept: spinning counts as busy, which is the hardest case), probes mapped
 * to trace regions as joulegrad profile does, 30 training steps; then for
 * every region avg_w = j / seconds must be <= 2 x W. The process CPU clock
 * broke this (35 W on a relu forward, 40 W on a linear backward at 2 x 10 W):
 * it folds other running threads' time in only at ticks, so short regions
 * got other regions' CPU time.
 *
 * A second case isolates the mechanism: a worker thread works 2 ms next to
 * the main thread, spins 30 us after signalling "done" (as libgomp's
 * workers do) and then sleeps; the main thread then runs a 50 us serial
 * region. The worker's pending CPU time entered the process clock when it
 * went to sleep, i.e. inside the serial region: hundreds of watts there.
 *
 * Tolerance: the counter is in whole microjoules, so each bracketed
 * interval may gain up to 1 uJ of rounding (JG_BOUND_UJ_PER_INTERVAL);
 * nothing else (docs/energy.md, "estimate resolution").
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_energy.h"
#include "jg_nn.h"

#define THREADS 2
#define W_PER_CORE 10.0
#define BATCH 64
#define STEPS 30
#define JG_BOUND_UJ_PER_INTERVAL 1.0

typedef struct {
    jg_energy_trace_t *trace;
    int n_layers;
} probe_ctx_t;

/* The CLI's mapping (docs/energy.md): 2i / 2i + 1 layer i forward /
 * backward (the loss is layer L), 2L + 2 the optimizer, 2L + 3 the data
 * gather; a step runs from the DATA begin to the OPTIMIZER end. */
static int region_of(const probe_ctx_t *p, int layer, int phase)
{
    const int L = p->n_layers;
    if (phase == JG_NN_PHASE_OPTIMIZER) return 2 * L + 2;
    if (phase == JG_NN_PHASE_DATA) return 2 * L + 3;
    return 2 * layer + (phase == JG_NN_PHASE_BACKWARD);
}

static void on_begin(void *ctx, int layer, int phase)
{
    probe_ctx_t *p = ctx;
    if (phase == JG_NN_PHASE_DATA) jg_trace_begin(p->trace, JG_TRACE_STEP);
    jg_trace_begin(p->trace, region_of(p, layer, phase));
}

static void on_end(void *ctx, int layer, int phase)
{
    probe_ctx_t *p = ctx;
    jg_trace_end(p->trace, region_of(p, layer, phase));
    if (phase == JG_NN_PHASE_OPTIMIZER) jg_trace_end(p->trace, JG_TRACE_STEP);
}

/* After each step, outside its bracket, as the CLI does. */
static int on_batch(void *ctx, const jg_train_progress_t *pr)
{
    (void)pr;
    probe_ctx_t *p = ctx;
    return jg_trace_flush(p->trace);
}

static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void test_profile_bound(void **state)
{
    (void)state;
    assert_int_equal(jg_kernels_set_threads(THREADS), 0);
    jg_nn_error_t nerr;
    jg_model_t *model = NULL;
    if (jg_model_create(&model, "default", 1, 28, 28, 10, 1, &nerr))
        fail_msg("model: %s", nerr.msg);
    assert_int_equal(jg_model_reserve(model, BATCH), 0);
    const int n = BATCH * STEPS;
    float *x = jg_test_alloc((size_t)n * 28 * 28); /* (N, 1, 28, 28) */
    jg_test_fill_uniform(x, (size_t)n * 28 * 28, -1, 1, 5);
    int32_t *y = jg_test_alloc_bytes((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) y[i] = i % 10;
    const jg_nn_data_t data = {n, 1, 28, 28, 10, x, y};

    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.assume_w_per_core = W_PER_CORE;
    jg_meter_t *meter = NULL;
    assert_int_equal(jg_meter_open_estimate(&meter, &cfg), 0);
    const int L = jg_model_n_layers(model), nregions = 2 * L + 4;
    probe_ctx_t pc = {NULL, L};
    assert_int_equal(jg_trace_create(&pc.trace, meter, nregions, 4 * (2 * nregions + 2)), 0);
    const jg_nn_probe_t probe = {&pc, on_begin, on_end};
    jg_model_set_probe(model, &probe);

    jg_train_config_t tc;
    memset(&tc, 0, sizeof tc);
    tc.epochs = 1;
    tc.batch = BATCH;
    tc.seed = 3;
    jg_optim_defaults(&tc.optim, JG_OPT_ADAM);
    tc.on_batch = on_batch;
    tc.ctx = &pc;
    jg_trainer_t *tr = NULL;
    assert_int_equal(jg_trainer_create(&tr, model, &tc, &data, NULL, &nerr), 0);
    assert_int_equal(jg_trainer_run(tr), 0);
    /* the premise of the bound: the process ran THREADS threads */
    assert_int_equal(count_threads(), THREADS);

    jg_attrib_summary_t sum;
    jg_region_energy_t *reg = calloc((size_t)nregions, sizeof *reg);
    assert_non_null(reg);
    assert_int_equal(jg_trace_flush(pc.trace), 0);
    assert_int_equal(jg_trace_result(pc.trace, &sum, reg, nregions), 0);
    assert_true(sum.valid);
    assert_int_equal(sum.method, JG_ATTRIB_EXACT);
    assert_int_equal(sum.steps, STEPS);
    const double cap_w = THREADS * W_PER_CORE;
    double worst = 0;
    int bad = 0;
    for (int r = 0; r < nregions; r++) {
        const jg_region_energy_t *e = &reg[r];
        if (!e->count) continue; /* flatten has no backward bracket when first */
        assert_true(e->valid);
        const double tol_j = (double)e->count * JG_BOUND_UJ_PER_INTERVAL * 1e-6;
        const double w = e->j / e->seconds;
        if (w > worst) worst = w;
        if (e->j > cap_w * e->seconds + tol_j) {
            print_message("region %d: %.6f J over %.6f s = %.1f W > %.0f W (%llu intervals)\n",
                          r, e->j, e->seconds, w, cap_w, (unsigned long long)e->count);
            bad++;
        }
    }
    print_message("highest region power %.2f W (bound %.0f W); closure %.4f over %llu steps\n",
                  worst, cap_w, sum.closure, (unsigned long long)sum.steps);
    assert_int_equal(bad, 0);
    /* the step total obeys the same bound */
    assert_true(sum.step_j <= cap_w * sum.step_s + (double)sum.steps * 1e-6);

    jg_model_set_probe(model, NULL);
    jg_trainer_destroy(tr);
    jg_trace_destroy(pc.trace);
    jg_meter_close(meter);
    jg_model_destroy(model);
    free(reg);
    free(x);
    free(y);
}

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int go, quit;
    atomic_int done;
} worker_t;

#define WORK_S 2e-3
#define WORKER_SPIN_S 30e-6
#define SERIAL_S 50e-6
#define ROUNDS 200

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->mu);
        while (!w->go && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        const int quit = w->quit;
        w->go = 0;
        pthread_mutex_unlock(&w->mu);
        if (quit) return NULL;
        jg_test_busy(CLOCK_MONOTONIC, WORK_S);
        atomic_store(&w->done, 1);
        jg_test_busy(CLOCK_MONOTONIC, WORKER_SPIN_S);
    }
}

static void test_worker_fold(void **state)
{
    (void)state;
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.assume_w_per_core = W_PER_CORE;
    jg_meter_t *meter = NULL;
    jg_energy_trace_t *trace = NULL;
    worker_t w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, worker_main, &w), 0);
    clockid_t worker_clock;
    assert_int_equal(pthread_getcpuclockid(th, &worker_clock), 0);
    const double cpu0 = jg_test_clock_s(CLOCK_THREAD_CPUTIME_ID) + jg_test_clock_s(worker_clock);
    /* the meter sees the worker from its open (and from any refresh) */
    assert_int_equal(jg_meter_open_estimate(&meter, &cfg), 0);
    assert_int_equal(jg_trace_create(&trace, meter, 2, 64), 0);
    for (int k = 0; k < ROUNDS; k++) {
        jg_trace_begin(trace, 0); /* parallel: both threads work */
        pthread_mutex_lock(&w.mu);
        atomic_store(&w.done, 0);
        w.go = 1;
        pthread_cond_signal(&w.cv);
        pthread_mutex_unlock(&w.mu);
        jg_test_busy(CLOCK_MONOTONIC, WORK_S);
        while (!atomic_load(&w.done)) {
        }
        jg_trace_end(trace, 0);
        jg_trace_begin(trace, 1); /* serial, while the worker spins down */
        jg_test_busy(CLOCK_MONOTONIC, SERIAL_S);
        jg_trace_end(trace, 1);
        jg_trace_flush(trace);
    }
    const double cpu_s = jg_test_clock_s(CLOCK_THREAD_CPUTIME_ID) + jg_test_clock_s(worker_clock) - cpu0;
    pthread_mutex_lock(&w.mu);
    w.quit = 1;
    pthread_cond_signal(&w.cv);
    pthread_mutex_unlock(&w.mu);
    pthread_join(th, NULL);
    jg_attrib_summary_t sum;
    jg_region_energy_t reg[2];
    assert_int_equal(jg_trace_result(trace, &sum, reg, 2), 0);
    const double cap_w = 2 * W_PER_CORE;
    for (int r = 0; r < 2; r++) {
        const double tol_j = (double)reg[r].count * JG_BOUND_UJ_PER_INTERVAL * 1e-6;
        print_message("%s region: %.1f W over %.4f s (bound %.0f W)\n", r ? "serial" : "parallel",
                      reg[r].j / reg[r].seconds, reg[r].seconds, cap_w);
        assert_true(reg[r].valid);
        assert_true(reg[r].j <= cap_w * reg[r].seconds + tol_j);
    }
    /* and nothing is lost: the regions hold the two threads' CPU time (all
     * but the flushes between rounds) */
    print_message("regions %.4f J, threads' CPU time x W %.4f J\n", reg[0].j + reg[1].j,
                  cpu_s * W_PER_CORE);
    assert_true(reg[0].j + reg[1].j >= 0.8 * cpu_s * W_PER_CORE);
    assert_true(reg[0].j + reg[1].j <= 1.05 * cpu_s * W_PER_CORE);
    jg_trace_destroy(trace);
    jg_meter_close(meter);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worker_fold),
        cmocka_unit_test(test_profile_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
