/* SPDX-License-Identifier: MIT */
/*
 * joulegrad - command-line entry point. Only this file (and bench/) prints
 * and exits; everything below returns error codes.
 *
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_bench.h"
#include "jg_kernels.h"
#include "jg_run.h"

#ifndef JG_VERSION
#define JG_VERSION "0.1.0"
#endif

static void usage(FILE *f)
{
    fputs("usage: joulegrad <command> [options]\n"
          "\n"
          "commands:\n"
          "  bench gemm   time SGEMM against the reference, OpenBLAS and BLIS\n"
          "  bench conv   time conv2d forward+backward (against oneDNN)\n"
          "  bench memory time the memory-bound layers against a copy\n"
          "  bench step   time whole training steps against the FMA peak\n"
          "  energy       energy sources, zones, update period and read cost\n"
          "  eval         test-set accuracy of a checkpoint\n"
          "  info         CPU features, selected ISA, threads\n"
          "  models       model presets with parameters and FLOPs per image\n"
          "  predict      top-3 classes of image files with a checkpoint\n"
          "  profile      N training steps, then where the joules went per layer\n"
          "  reproduce    re-run the Green-AI study (Yarally et al.) with a report\n"
          "  train        train a CNN; checkpoint, epochs.csv and summary.json\n"
          "  tune         search Adam's lr/betas (grid, random, sobol, bayes) with joules\n"
          "  version      print the version\n"
          "\n"
          "Run 'joulegrad <command> --help' for a command's options.\n"
          "Environment: JOULEGRAD_ISA=ref|avx2|avx512|neon overrides the ISA.\n",
          f);
}

static int cmd_info(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: joulegrad info\n\nPrints the CPU's instruction sets, the one the kernels "
             "use (JOULEGRAD_ISA=ref|avx2|avx512|neon overrides it) and the thread count.");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "joulegrad info: unexpected argument '%s'; run 'joulegrad info --help'\n",
                argv[1]);
        return 2;
    }
    if (jg_cli_kernels_init("joulegrad info")) return 2;
    printf("joulegrad %s\n", JG_VERSION);
    printf("isa: %s (selected)\n", jg_isa_name(jg_kernels_isa()));
    for (int i = 0; i < JG_ISA_COUNT; i++)
        printf("  %-7s %s\n", jg_isa_name((jg_isa_t)i),
               jg_kernels_isa_supported((jg_isa_t)i) ? "supported" : "not supported");
    printf("openmp: %s, threads: %d\n", jg_kernels_have_openmp() ? "yes" : "no",
           jg_kernels_threads());
    printf("mpi: %s\n", jg_run_mpi_built() ? "yes (mpirun -n N joulegrad train|tune|reproduce)"
                                            : "no (not built with MPI)");
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs("usage: joulegrad bench gemm|conv|memory|step [options]  (--help after the "
              "benchmark's name lists them)\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "gemm")) return jg_bench_gemm_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "conv")) return jg_bench_conv_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "memory")) return jg_bench_memory_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "step")) return jg_bench_step_main(argc - 1, argv + 1);
    fprintf(stderr, "joulegrad: unknown benchmark '%s' (expected gemm, conv, memory or step)\n",
            argv[1]);
    return 2;
}

/* The command argv[1] names; 2 for an unknown one. */
static int dispatch(int argc, char **argv)
{
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("joulegrad %s\n", JG_VERSION);
        return 0;
    }
    // In an MPI job only the commands that scale out run; the others would
    // do the same work on every rank.
    const int job = jg_run_cluster()->size > 1;
    if (job && strcmp(cmd, "train") && strcmp(cmd, "tune") && strcmp(cmd, "reproduce")) {
        if (jg_run_cluster()->rank == 0)
            fprintf(stderr, "joulegrad %s runs on one process: start it without mpirun (train, "
                            "tune and reproduce scale out)\n", cmd);
        return 2;
    }
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "energy")) return jg_cli_energy(argc - 1, argv + 1);
    if (!strcmp(cmd, "models")) return jg_cli_models(argc - 1, argv + 1);
    if (!strcmp(cmd, "train")) return jg_cli_train(argc - 1, argv + 1);
    if (!strcmp(cmd, "eval")) return jg_cli_eval(argc - 1, argv + 1);
    if (!strcmp(cmd, "predict")) return jg_cli_predict(argc - 1, argv + 1);
    if (!strcmp(cmd, "profile")) return jg_cli_profile(argc - 1, argv + 1);
    if (!strcmp(cmd, "tune")) return jg_cli_tune(argc - 1, argv + 1);
    if (!strcmp(cmd, "reproduce")) return jg_cli_reproduce(argc - 1, argv + 1);
    fprintf(stderr, "joulegrad: unknown command '%s'; run 'joulegrad --help'\n", cmd);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    // One rank of an MPI job when mpirun or srun started it (docs/scaling.md).
    jg_run_error_t err = {{0}};
    if (jg_run_cluster_init(&argc, &argv, &err)) {
        fprintf(stderr, "joulegrad: %s\n", err.msg);
        return 2;
    }
    const int rc = dispatch(argc, argv);
    jg_run_cluster_finalize();
    return rc;
}
