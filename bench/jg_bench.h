/* SPDX-License-Identifier: MIT */
/*
 * jg_bench.h - kernel benchmarks behind `joulegrad bench ...`.
 *
 * Each entry point takes the subcommand's argv (argv[0] is the subcommand
 * name), validates every kernel against its _ref twin before timing it,
 * prints a human table or one JSON object (--json) on stdout and returns a
 * process exit code: 0 ok, 1 failure (validation or runtime), 2 bad usage.
 * Errors go to stderr as one line.
 */
#ifndef JG_BENCH_H
#define JG_BENCH_H

#ifdef __cplusplus
extern "C" {
#endif

int jg_bench_gemm_main(int argc, char **argv);
int jg_bench_conv_main(int argc, char **argv);
int jg_bench_memory_main(int argc, char **argv);
int jg_bench_step_main(int argc, char **argv);

#ifdef __cplusplus
}
#endif

#endif /* JG_BENCH_H */
