/* SPDX-License-Identifier: MIT */
/*
 * flags.h - the one table of the flags that train, tune, profile and
 * reproduce share (model, data, seed, threads, energy, ...), their parsing
 * and the checks between them. Each command adds its own flags beside them.
 * Private to cli/.
 */
#ifndef JG_CLI_FLAGS_H
#define JG_CLI_FLAGS_H

#include <getopt.h>
#include <stdio.h>
#include <stdint.h>

#include "jg_datasets.h"
#include "jg_energy.h"
#include "jg_nn.h"

#define JG_CLI_MAX_EPOCHS 100000
#define JG_CLI_MAX_BATCH 65536
#define JG_CLI_MAX_THREADS 1024

/* Shared flag ids (getopt_long values); a command's own ids stay below. */
enum {
    JG_F_MODEL = 1000, JG_F_EPOCHS, JG_F_BATCH, JG_F_SEED, JG_F_THREADS, JG_F_DATA,
    JG_F_DATA_DIR, JG_F_IMAGE_SIZE, JG_F_CHANNELS, JG_F_TRAIN_LIMIT, JG_F_TEST_LIMIT,
    JG_F_VAL_FRACTION, JG_F_ENERGY, JG_F_ASSUME_WATTS, JG_F_OPTIMIZER, JG_F_END
};
/* The bit of a shared flag in masks and in `given`. */
#define JG_F(id) (1u << ((id) - JG_F_MODEL))

typedef struct {
    const char *model;
    int epochs, batch, threads;     /* threads 0: OpenMP's default */
    uint64_t seed;
    jg_data_source_t data;
    int train_limit, test_limit;
    double val_fraction;
    jg_energy_mode_t energy;
    double assume_w;                /* 0: the estimate's default */
    jg_opt_kind_t optimizer;
    const char *optimizer_name;
    unsigned given;                 /* JG_F(id) of every flag given */
} jg_cli_run_flags_t;

/* A command's own flags beside the shared ones: getopt values in [lo, hi)
 * (below JG_F_MODEL), help the value of its --help. parse returns 0, 2
 * after printing a usage error, or -1 when c is not its flag. */
typedef struct {
    const struct option *opts; /* NULL-terminated */
    int lo, hi, help;
    int (*parse)(void *ctx, int c, const char *arg);
    void (*usage)(FILE *f);
    void *ctx;
} jg_cli_own_t;

/* getopt_long over the shared flags in mask and the command's own: -1 to
 * go on (optind at the first positional argument), 0 after --help, 2
 * after a usage error (printed). */
int jg_cli_getopt(const char *prog, int argc, char **argv, unsigned mask, const jg_cli_own_t *own,
                  jg_cli_run_flags_t *f);

/* opts = the shared flags in mask, then own (NULL-terminated), then the
 * terminator; cap entries at most. 0, or -ENOSPC. */
int jg_cli_flags_table(struct option *opts, int cap, unsigned mask, const struct option *own);
/* Parses shared flag c with its argument into f: 0, 2 after printing the
 * usage error, or -1 when c is not a shared flag. */
int jg_cli_flags_parse(const char *prog, int c, const char *arg, jg_cli_run_flags_t *f);
/* The checks between shared flags (--image-size and --channels need a
 * folder or synthetic source, a folder needs --image-size, --data-dir is
 * not for synthetic, --assume-watts is for the estimate only); then
 * applies --threads. 0 or 2 after printing why. */
int jg_cli_flags_check(const char *prog, const jg_cli_run_flags_t *f);

#endif
