/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the backends share with meter.c: a small ops table and
 * the meter struct. Backends fill zone descriptions at open; meter.c does the
 * unwrapping, fault tracking and conversion for all of them.
 */
#ifndef JG_ENERGY_INTERNAL_H
#define JG_ENERGY_INTERNAL_H

#include <stdint.h>

#include "jg_energy.h"

typedef struct {
    /* Raw counter of zone at meter time t_ns; 0 or negative errno
     * (-ENODEV/-ENOENT: gone, -EACCES: permission, else read error). */
    int (*read_raw)(jg_meter_t *m, int zone, int64_t t_ns, uint64_t *raw_uj);
    /* Meter clock in ns. */
    int64_t (*now_ns)(const jg_meter_t *m);
    /* 1 when zone still exists; NULL when the backend cannot tell. */
    int (*zone_exists)(const jg_meter_t *m, int zone);
    /* Off the hot path: update what the reads cover (the estimate's thread
     * list); 0 or a negative errno. NULL when there is nothing to update. */
    int (*refresh)(jg_meter_t *m);
    /* Frees backend state (not the meter). */
    void (*destroy)(jg_meter_t *m);
} jg_meter_ops_t;

/* Per-zone bookkeeping updated by every read. */
typedef struct {
    uint64_t last_raw_uj;
    uint64_t ext_uj;          /* unwrapped counter */
    int64_t last_read_ns;
    int64_t last_change_ns;
    uint32_t epoch;
    jg_zone_status_t status;
    jg_zone_status_t last_fault;
    int err;
    int primed;               /* last_raw_uj is valid */
    int gone;                 /* sticky: the zone disappeared */
} jg_zone_state_t;

struct jg_meter {
    jg_energy_source_t source;
    const jg_meter_ops_t *ops;
    void *backend;
    int nzones;
    int64_t stuck_ns;         /* 0: no stuck detection */
    jg_zone_info_t info[JG_METER_MAX_ZONES];
    jg_zone_state_t st[JG_METER_MAX_ZONES];
    jg_energy_sample_t poll_sample; /* jg_meter_poll's target */
};

/* CLOCK_MONOTONIC_RAW in ns. */
int64_t jg_energy_clock_ns(void);

/* Allocates a zeroed meter. Returns NULL when out of memory. */
jg_meter_t *jg_meter_alloc(jg_energy_source_t source, const jg_meter_ops_t *ops);
/* After the backend filled info[]: windows, counted flags, first read. */
void jg_meter_finish_open(jg_meter_t *m);
/* window_ns = range_uj / max_power_uw (0 when either is 0). */
void jg_energy_zone_window(jg_zone_info_t *info);
/* Marks which zones enter JG_ZONE_TOTAL (no double counting). */
void jg_energy_mark_counted(jg_zone_info_t *zones, int n);

/* snprintf that truncates silently; the texts are for people. */
void jg_energy_text(char *dst, const char *fmt, ...);

#endif /* JG_ENERGY_INTERNAL_H */
