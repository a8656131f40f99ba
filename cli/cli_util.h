/* SPDX-License-Identifier: MIT */
/*
 * cli_util.h - the parsers and one-line usage errors every command shares
 * (parse.c). Private to cli/: everything else a command does is a library
 * call.
 */
#ifndef JG_CLI_UTIL_H
#define JG_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "jg_common.h"
#include "jg_datasets.h"
#include "jg_energy.h"
#include "jg_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest image side accepted by --image-size. */
#define JG_CLI_MAX_SIDE 1024

/* Parses "HxW" (each side in [1, JG_CLI_MAX_SIDE]). Returns 0 or -EINVAL. */
int jg_cli_parse_size(const char *s, int *h, int *w);

/* Parsers for option values: the whole text must be the number. Return 0,
 * or -EINVAL (bad text) / -ERANGE (outside [lo, hi]). */
int jg_cli_parse_int(const char *s, long lo, long hi, long *v);
int jg_cli_parse_double(const char *s, double lo, double hi, double *v);

/* An integer option in [lo, hi] into *v: 0, or 2 (the usage exit code) after
 * printing "<prog>: <flag> must be an integer in [lo, hi], got '<text>'". */
int jg_cli_flag_int(const char *prog, const char *flag, const char *text, long lo, long hi,
                    int *v);
/* The exit code of a library result: 0, 2 for -EINVAL (settings that cannot
 * work), 130 for -ECANCELED (interrupted), else 1. */
int jg_cli_exit_code(int rc);
/* jg_kernels_init, or 2 after printing "<prog>: JOULEGRAD_ISA is invalid ...". */
int jg_cli_kernels_init(const char *prog);
/* jg_kernels_set_threads(n), or 2 after printing "<prog>: --threads n: why". */
int jg_cli_use_threads(const char *prog, int n);

/* Largest --seed: 2^53, so a seed is exact in JSON. */
#define JG_CLI_SEED_MAX 9007199254740992ull

/* The same for --seed (an integer in [0, JG_CLI_SEED_MAX]),
 * --data (a known dataset name; d->name is set either way) and --energy. */
int jg_cli_flag_seed(const char *prog, const char *text, uint64_t *seed);
int jg_cli_flag_data(const char *prog, const char *text, jg_data_source_t *d);
int jg_cli_flag_energy(const char *prog, const char *text, jg_energy_mode_t *mode);
/* getopt_long's '?' for the option argv[optind - 1]: prints "PROG: --x needs
 * a value" when needs_value (optopt is one of the command's options), else
 * "PROG: unknown option '--x'", both pointing to --help; returns 2. */
int jg_cli_option_error(const char *prog, char *const *argv, int needs_value);
/* A flag with a fixed set of values: *index = the position of text in the
 * NULL-terminated choices, or the usage error "PROG: FLAG must be a, b or c,
 * got 'x'" and 2. */
int jg_cli_flag_choice(const char *prog, const char *flag, const char *text,
                       const char *const *choices, int *index);
/* --assume-watts / --idle-watts: watts in (0, 1e6], or [0, 1e6] with zero_ok. */
int jg_cli_flag_watts(const char *prog, const char *flag, const char *text, int zero_ok,
                      double *w);

/* "PROG: msg" on stderr; in an MPI job "PROG: rank R of N: msg". */
void jg_cli_error(const char *prog, const char *msg);
/* A jg_log_t line to stdout (JG_LOG_OUT) or stderr, flushed; in an MPI job
 * rank 0's only. */
void jg_cli_print_line(void *ctx, int stream, const char *line);

/* Ctrl-C during a long run: the first asks the run to stop after its batch
 * (jg_cli_interrupted turns 1), a second kills at once. release puts the
 * previous handler back. */
void jg_cli_catch_sigint(void);
void jg_cli_release_sigint(void);
int jg_cli_interrupted(void);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_UTIL_H */
