/* SPDX-License-Identifier: MIT */
/*
 * cli_util.h - helpers shared by the train, eval and predict commands:
 * dataset selection (data.c), crash-safe file writes (files.c) and the
 * evaluation report (data.c). Private to cli/.
 */
#ifndef JG_CLI_UTIL_H
#define JG_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

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

/* names[k], or "class k" when names is NULL. buf holds at least 32 bytes. */
const char *jg_cli_class_name(const char *const *names, int k, char *buf, size_t cap);

/* Prints accuracy, loss and the per-class table of ev to f. */
void jg_cli_print_eval(FILE *f, const jg_eval_t *ev, const char *const *names);

/* Adds test_accuracy, test_loss, class_accuracy (name -> fraction, null
 * for a class without examples) and confusion (rows = true class) to obj. */
void jg_cli_eval_json(cJSON *obj, const jg_eval_t *ev, const char *const *names);



/* Parsers for option values: the whole text must be the number. Return 0,
 * or -EINVAL (bad text) / -ERANGE (outside [lo, hi]). */
int jg_cli_parse_int(const char *s, long lo, long hi, long *v);
int jg_cli_parse_double(const char *s, double lo, double hi, double *v);

/* An integer option in [lo, hi] into *v: 0, or 2 (the usage exit code) after
 * printing "<prog>: <flag> must be an integer in [lo, hi], got '<text>'". */
int jg_cli_flag_int(const char *prog, const char *flag, const char *text, long lo, long hi,
                    int *v);
/* jg_kernels_init, or 2 after printing "<prog>: JOULEGRAD_ISA is invalid ...". */
int jg_cli_kernels_init(const char *prog);
/* jg_kernels_set_threads(n), or 2 after printing "<prog>: --threads n: why". */
int jg_cli_use_threads(const char *prog, int n);

/* Largest --seed: 2^53, so a seed is exact in JSON. */
#define JG_CLI_SEED_MAX 9007199254740992.0

/* The same for --seed (an integer in [0, JG_CLI_SEED_MAX]),
 * --data (a known dataset name; d->name is set either way) and --energy. */
int jg_cli_flag_seed(const char *prog, const char *text, uint64_t *seed);
int jg_cli_flag_data(const char *prog, const char *text, jg_data_source_t *d);
int jg_cli_flag_energy(const char *prog, const char *text, jg_energy_mode_t *mode);
/* The nn view of a loaded dataset (no copy: d must outlive it). */
jg_nn_data_t jg_cli_data_view(const jg_dataset_t *d);
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

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_UTIL_H */
