/* SPDX-License-Identifier: MIT */
/*
 * trace_internal.h - what trace.c (the ring of marks) shares with attrib.c
 * (the per-zone reconstruction and fit). Marks are numbered by a sequence
 * number; slot = seq % cap. [tail, head) are live; each zone has examined
 * [.., cursor) and resolved [.., pending).
 */
#ifndef JG_ENERGY_TRACE_INTERNAL_H
#define JG_ENERGY_TRACE_INTERNAL_H

#include <stdint.h>

#include "internal.h"

typedef struct {
    int32_t region;           /* 0..nregions-1 or JG_TRACE_STEP */
    int32_t end;              /* 0: begin, 1: end */
    jg_energy_sample_t s;     /* the meter read, straight into the slot */
} jg_trace_mark_t;

/* One zone's reconstruction E(t) and its running sums. Energies in uJ,
 * times in ns, fitted powers in uJ/s (= uW). */
typedef struct {
    uint64_t cursor, pending;
    int continuous;           /* update period 0: every read is exact */
    int have_knot, seen_change;
    int64_t knot_t, prev_t;   /* last knot; previous mark's time */
    uint64_t knot_v, prev_v;  /* unwrapped counter at them */
    uint32_t epoch;
    int64_t period_ns;        /* nominal update period */
    int have_lock;            /* [lock_lo, lock_hi]: where the last update happened */
    int64_t lock_lo, lock_hi;
    int64_t prev_width;       /* lock width at the previous knot */
    int invalid;
    jg_zone_status_t why;
    double *open_uj;          /* (nregions) E at the open begin, NAN when closed */
    double *interp_uj;        /* (nregions) integral of the reconstruction */
    double step_open_uj, step_uj;
    /* Fit: every interval between two observed changes gives one equation
     * dV = sum_r P_r * overlap_r, index nregions = time in no region. */
    int cur;                  /* region open at cur_t, nregions when none */
    int64_t cur_t;
    double *ov;               /* (nregions + 1) overlaps of this interval, s */
    double *ata;              /* (nregions + 1)^2 normal matrix */
    double *atb;              /* (nregions + 1) */
    uint64_t nequations;
    double eq_uj, eq_s;       /* sums of dV and interval lengths: the mean power */
} jg_zone_attrib_t;

struct jg_energy_trace {
    jg_meter_t *meter;
    int nregions, nzones;
    uint64_t cap, head, tail, dropped;
    jg_trace_mark_t *ring;    /* (cap) */
    /* Zone-independent time accounting, done at flush. */
    uint64_t time_cursor;
    uint64_t visit_cursor;    /* next mark for jg_trace_visit() */
    int64_t *open_t;          /* (nregions) begin time, -1 when closed */
    uint64_t *count;          /* (nregions) */
    double *seconds;          /* (nregions) */
    int64_t step_open_t;
    uint64_t steps;
    double step_s;
    int have_first;
    jg_energy_sample_t prev;  /* the last mark's sample (have_prev) */
    int64_t prev_done_ns;     /* meter time when the last read finished */
    int have_prev, prev_is_begin; /* prev_is_begin: a region's begin */
    int refreshed;            /* the meter was refreshed at refresh_ns */
    int64_t refresh_ns;
    jg_energy_sample_t first, last;
    jg_zone_attrib_t z[JG_METER_MAX_ZONES];
    double *scratch;          /* (nregions + 1)^2 + 2 * (nregions + 1) for the solve */
    int *active;              /* (nregions + 1) */
};

/* attrib.c */
int jg_attrib_init(jg_energy_trace_t *t);
void jg_attrib_free(jg_energy_trace_t *t);
/* Examines zone z's marks [cursor, head), resolving what it can. */
void jg_attrib_advance(jg_energy_trace_t *t, int z);

static inline jg_trace_mark_t *jg_trace_at(const jg_energy_trace_t *t, uint64_t seq)
{
    return &t->ring[seq % t->cap];
}

#endif /* JG_ENERGY_TRACE_INTERNAL_H */
