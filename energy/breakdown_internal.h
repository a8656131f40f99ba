/* SPDX-License-Identifier: MIT */
/* Internal to jg_energy: the breakdown object shared by breakdown.c (tracing,
 * trace file, power series, idle baseline) and breakdown_out.c (tables, CSV,
 * JSON, figures). */
#ifndef JG_ENERGY_BREAKDOWN_INTERNAL_H
#define JG_ENERGY_BREAKDOWN_INTERNAL_H

#include <stdio.h>

#include "jg_energy.h"

/* Points of the power-over-time series: when full, neighbours are merged
 * and each point covers twice as many steps, so memory stays fixed. */
#define JG_PW_MAX_POINTS 4096

/* One point of the power series: consecutive steps merged. */
typedef struct {
    uint64_t step;   /* first step, from 1 */
    double t_s;      /* its begin, s since the first step's begin */
    double busy_s;   /* sum of valid step brackets, s */
    double j;        /* energy inside them, J */
    int steps;       /* steps merged (valid or not) */
} jg_pw_point_t;

/* An earlier invocation's figures (jg_breakdown_add_parts). */
typedef struct {
    int valid;
    uint64_t steps, dropped, total_uj;
    int64_t images;
    double step_s, step_j, regions_j, total_s;
    char trace[256];             /* its raw trace file, "" when none */
    int invocation;              /* the run's invocation it belongs to (1, 2, ...) */
    int rank, node;              /* the MPI rank and node that measured it, -1: none */
    char host[64];
    jg_region_energy_t *reg;     /* (nregions) */
} jg_breakdown_prior_t;

struct jg_breakdown {
    jg_meter_t *meter;
    jg_energy_trace_t *trace;
    int nregions, ntypes, nzones;
    jg_region_desc_t *desc;      /* (nregions) */
    jg_region_energy_t *reg;     /* (nregions) results, filled by finish */
    const char *const *types;    /* (ntypes) borrowed */
    jg_breakdown_row_t (*rows)[2]; /* (ntypes) [forward, backward] */
    const char *scope, *type_notes;
    jg_attrib_summary_t sum;
    jg_zone_info_t zones[JG_METER_MAX_ZONES];
    char zone_col[JG_METER_MAX_ZONES][JG_ZONE_NAME_MAX]; /* CSV-safe zone names */
    double w_per_core;
    int64_t images;
    uint64_t steps;
    int finished;
    /* Idle baseline (jg_breakdown_idle). */
    int have_idle, idle_slices;
    double idle_w, idle_s, idle_noise_w, idle_min_w, idle_max_w;
    /* Power series from each step's own bracket. */
    jg_pw_point_t *pw;           /* (JG_PW_MAX_POINTS) */
    int npw, pw_stride;          /* points used; steps per point */
    int64_t t0_ns;               /* first step's begin */
    jg_energy_sample_t sb, se;   /* this step's bracket */
    int got_sb, got_se;
    /* Earlier invocations, added at finish; cur is this invocation's own
     * summary and images (before the addition). */
    jg_breakdown_prior_t *prior;
    int nprior;
    jg_attrib_summary_t cur;
    int64_t cur_images;
    int invocation;              /* this one's number (config; 0: after the priors') */
    int rank, node;              /* who measured this one (config; -1: not a cluster) */
    char host[64];
    /* Raw trace file. */
    FILE *tf;
    char *tbuf; /* tf's stdio buffer (JG_TRACE_FILE_BUFFER), or NULL */
    char *path, *part;
    int first_mark, werr;
};

/* At finish: adds the earlier invocations into sum, reg and images (and
 * keeps this invocation's own figures in cur). */
void jg_breakdown_add_prior(jg_breakdown_t *bd);

/* Helpers of breakdown_out.c's reports. */
static inline const char *jg_bd_phase(int backward) { return backward ? "backward" : "forward"; }

#endif
