/* SPDX-License-Identifier: MIT */
/*
 * layer_energy.c - where the energy of training goes, per layer type.
 *
 *   usage: layer_energy [DATA_DIR [STEPS]]
 *
 * Trains joulegrad's `default` CNN (conv, batch norm, ReLU, pooling, linear)
 * on Fashion-MNIST for STEPS training steps (default 50) through the
 * library, with every layer's forward and backward pass bracketed by the
 * energy meter, then prints one line per layer type
 *
 *   TYPE FORWARD_J BACKWARD_J
 *
 * and a last line `total TOTAL_J SOURCE`. SOURCE says where the joules come
 * from: `rapl` (the CPU's energy counters) or `estimate` (CPU time x an
 * assumed power per core, when no counter is readable; the reason is printed
 * on stderr). The type lines add up to the total, up to the little time
 * spent between layers (on a shared machine run it with
 * OMP_WAIT_POLICY=passive: docs/energy.md says why).
 *
 * Build it against an installed joulegrad:
 *   cc -O2 layer_energy.c $(pkg-config --cflags --libs joulegrad) -o layer_energy
 *
 * Exercises: run it with 1 and with 2 threads (OMP_NUM_THREADS); change
 * "default" to "lenet5" or "paper-simplecnn" ('joulegrad models' lists
 * them); which type grows with the batch size?
 */
#include <stdio.h>
#include <stdlib.h>

#include <joulegrad.h>

/* Notes from the library (e.g. why the source is an estimate) go to stderr. */
static void note(void *ctx, int stream, const char *line)
{
    (void)ctx;
    (void)stream;
    fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : JG_DATA_FASHION_MNIST_DIR;
    const int steps = argc > 2 ? atoi(argv[2]) : 50;
    if (argc > 3 || steps < 1) {
        fprintf(stderr, "usage: layer_energy [DATA_DIR [STEPS]]\n");
        return 2;
    }
    if (jg_kernels_init()) {
        fprintf(stderr, "layer_energy: JOULEGRAD_ISA is not valid on this CPU\n");
        return 2;
    }
    const jg_log_t log = {.fn = note};
    const jg_run_profile_config_t cfg = {
        .model = "default",
        .steps = steps,
        .batch = 64,
        .seed = 1,
        .data = {.name = "fashion-mnist", .dir = dir},
        .energy = JG_ENERGY_MODE_AUTO, /* rapl when readable, else a labelled estimate */
        .log = &log,
    };
    jg_run_profile_result_t res;
    jg_run_error_t err;
    if (jg_run_profile(&cfg, &res, &err)) {
        fprintf(stderr, "layer_energy: %s\n", err.msg);
        jg_run_profile_result_free(&res);
        return 1;
    }

    /* One row per layer type that ran: forward and backward joules. */
    for (int t = 0; t < JG_RUN_NTYPES; t++) {
        jg_breakdown_row_t fwd, bwd;
        if (jg_breakdown_type_row(res.breakdown, t, 0, &fwd) ||
            jg_breakdown_type_row(res.breakdown, t, 1, &bwd) || fwd.count + bwd.count == 0)
            continue; /* a type this run does not have (comm: data parallelism) */
        printf("%s %.4f %.4f\n", jg_run_type_names[t], fwd.j, bwd.j);
    }
    /* The total is measured around whole steps, independently of the rows. */
    const jg_attrib_summary_t *sum = jg_breakdown_summary(res.breakdown);
    printf("total %.4f %s\n", sum->step_j, jg_energy_source_name(sum->source));
    const int ok = sum->valid;
    if (!ok) fprintf(stderr, "layer_energy: a meter zone faulted; the figures are not valid\n");
    jg_run_profile_result_free(&res);
    return ok ? 0 : 1;
}
