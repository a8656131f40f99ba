/* SPDX-License-Identifier: MIT */
/* Internal to jg_tuning: the strategy object shared by grid.c and random.c,
 * and the helpers every tuning file uses. */
#ifndef JG_TUNE_INTERNAL_H
#define JG_TUNE_INTERNAL_H

#include "jg_common.h"
#include "jg_tuning.h"

typedef enum { JG_TUNE_S_GRID, JG_TUNE_S_RANDOM, JG_TUNE_S_SOBOL } jg_tune_s_kind_t;

struct jg_tune_strategy {
    jg_tune_s_kind_t kind;
    jg_tune_space_t space;
    uint64_t seed;
    /* grid: values per dimension and the seeded visiting order */
    int n_vals[JG_TUNE_MAX_DIMS];
    double *vals[JG_TUNE_MAX_DIMS]; /* (n_vals[d]) */
    uint32_t *order;                /* (n_points) enumeration indices */
    int64_t n_points;
    /* sobol: direction numbers and digital shift */
    uint32_t dir[JG_TUNE_MAX_DIMS][32];
    uint32_t shift[JG_TUNE_MAX_DIMS];
};

int jg_tune_grid_init(struct jg_tune_strategy *s, int grid_points, jg_tune_error_t *err);
int jg_tune_grid_propose(const struct jg_tune_strategy *s, int64_t i, jg_tune_point_t *p,
                         jg_tune_error_t *err);
/* gp.c: sets data as jg_tune_gp_set_data does, but with like's
 * standardisation (mean, std of its targets) and hyperparameters, so a GP
 * given extra (simulated) observations keeps the fitted model's units. */
int jg_tune_gp_set_data_as(jg_tune_gp_t *gp, const double *u, const double *y, int n,
                           const jg_tune_gp_t *like, jg_tune_error_t *err);
/* Shortest %.Ng (N <= 17) that reads back as exactly v; buf >= 32 bytes. */
void jg_tune_fmt_double(char *buf, size_t len, double v);
/* printf into err (no-op when err is NULL); jg_tune_fail also returns rc. */
void jg_tune_errorf(jg_tune_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int jg_tune_fail(jg_tune_error_t *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
