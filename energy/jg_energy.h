/* SPDX-License-Identifier: MIT */
/*
 * jg_energy.h - the energy meter: one interface, several backends.
 *
 *   rapl      Intel/AMD RAPL counters through libpowercap (energy/rapl.c)
 *   estimate  CPU time of the process's threads x assumed watts per busy core
 *             (energy/estimate.c)
 *   sim       scripted power profile for tests, virtual or real clock (energy/sim.c)
 *
 * Contract:
 *  - Every function that returns int returns 0 on success or a negative errno;
 *    the library never prints and never exits. Reasons meant for people are
 *    returned as text in caller-provided structs.
 *  - Lifecycle: jg_meter_open*() -> jg_meter_read()* -> jg_meter_close().
 *    A meter is used by one thread at a time.
 *  - Hot path: jg_meter_read() does no allocation. It records each zone's raw
 *    counter (microjoules, as the source reports it, wrapping at the zone's
 *    range), the unwrapped counter, a validity epoch, and one timestamp
 *    (CLOCK_MONOTONIC_RAW ns, or the sim's virtual clock) in a caller-owned
 *    sample. Unwrapping needs at most one wrap between two reads of the same
 *    meter, so read (or jg_meter_poll()) at least every
 *    jg_meter_poll_interval_ns(); a longer gap makes every figure spanning it
 *    invalid instead of a guess.
 *  - Conversion happens off the hot path: jg_meter_figure() turns two samples
 *    into microjoules and joules for one zone or for JG_ZONE_TOTAL, labelled
 *    with its source, or an invalid mark with the reason.
 *  - Totals avoid double counting: psys when present (it contains the
 *    packages), otherwise the sum of package + dram per package; core and
 *    uncore are contained in package and never added.
 */
#ifndef JG_ENERGY_H
#define JG_ENERGY_H

#include <stddef.h>
#include <stdint.h>

#include "jg_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define JG_METER_MAX_ZONES 16
#define JG_ZONE_NAME_MAX 32
#define JG_ZONE_PATH_MAX 96
#define JG_ENERGY_TEXT_MAX 512

/* Pseudo zone index for the total without double counting. */
#define JG_ZONE_TOTAL (-1)
/* Returned by jg_meter_energy_uj() when a figure is not valid. */
#define JG_ENERGY_INVALID_UJ (-1)

/* Default assumed power of one busy core for the estimate backend: a
 * conservative desktop/server x86 figure, package TDP / core count (e.g.
 * 120 W / 12 cores). Override with --assume-watts. */
#define JG_ESTIMATE_DEFAULT_W_PER_CORE 10.0
/* Used for the watchdog window when a RAPL zone has no max_power_range_uw:
 * no single RAPL domain draws more, so the window is conservative. */
#define JG_RAPL_ASSUMED_MAX_POWER_W 1000.0
/* A counter that has not changed for this many update periods is stuck. */
#define JG_METER_STUCK_PERIODS 100
/* RAPL updates its counters about every 1 ms (1/1024 s on Intel). */
#define JG_RAPL_UPDATE_PERIOD_NS 1000000

typedef enum {
    JG_ENERGY_SOURCE_NONE = 0, /* energy measurement off */
    JG_ENERGY_SOURCE_RAPL,
    JG_ENERGY_SOURCE_ESTIMATE,
    JG_ENERGY_SOURCE_SIM
} jg_energy_source_t;

typedef enum {
    JG_ENERGY_MODE_AUTO = 0, /* rapl, else estimate with a reason */
    JG_ENERGY_MODE_RAPL,
    JG_ENERGY_MODE_ESTIMATE,
    JG_ENERGY_MODE_OFF
} jg_energy_mode_t;

typedef enum {
    JG_ZONE_PACKAGE = 0,
    JG_ZONE_CORE,
    JG_ZONE_UNCORE,
    JG_ZONE_DRAM,
    JG_ZONE_PSYS,
    JG_ZONE_CPU, /* estimate: busy cores of this process */
    JG_ZONE_OTHER
} jg_zone_kind_t;

/* Why a zone (or a figure) is not valid. */
typedef enum {
    JG_ZONE_OK = 0,
    JG_ZONE_PERMISSION, /* energy_uj not readable (EACCES) */
    JG_ZONE_READ_ERROR, /* a read failed or returned garbage */
    JG_ZONE_GONE,       /* the zone disappeared */
    JG_ZONE_STUCK,      /* counter stopped changing */
    JG_ZONE_GAP         /* reads further apart than the watchdog window */
} jg_zone_status_t;

/* "rapl", "estimate", "sim" or "off". */
const char *jg_energy_source_name(jg_energy_source_t source);
/* "ok", "permission denied", "read error", ... */
const char *jg_zone_status_name(jg_zone_status_t status);
/* "package", "core", "uncore", "dram", "psys", "cpu", "other". */
const char *jg_zone_kind_name(jg_zone_kind_t kind);
/* Parses "auto|rapl|estimate|off". Returns 0 or -EINVAL. */
int jg_energy_mode_parse(const char *text, jg_energy_mode_t *mode);

typedef struct jg_meter jg_meter_t;

typedef struct {
    char name[JG_ZONE_NAME_MAX];  /* as the source names it: "package-0", "dram" */
    char path[JG_ZONE_PATH_MAX];  /* sysfs subpath for rapl, "" otherwise */
    jg_zone_kind_t kind;
    int package;                  /* package instance, -1 when none */
    int parent;                   /* index of the containing zone, -1 at top */
    int counted;                  /* 1 when added into JG_ZONE_TOTAL */
    int readable;                 /* 1 when the counter could be read at open */
    uint64_t range_uj;            /* wrap range (max_energy_range_uj); 0: no wrap */
    uint64_t max_power_uw;        /* bound used for the watchdog window */
    int64_t window_ns;            /* max gap between reads; 0: unbounded */
    int64_t update_period_ns;     /* nominal counter update period */
    jg_zone_status_t status;      /* current state */
    int err;                      /* negative errno behind status, 0 if none */
} jg_zone_info_t;

/* Caller-owned; filled by jg_meter_read(). */
typedef struct {
    int64_t t_ns;                              /* meter clock */
    int nzones;
    uint64_t raw_uj[JG_METER_MAX_ZONES];       /* counter as read */
    uint64_t ext_uj[JG_METER_MAX_ZONES];       /* unwrapped counter */
    uint32_t epoch[JG_METER_MAX_ZONES];        /* bumps on every fault */
    uint8_t status[JG_METER_MAX_ZONES];        /* jg_zone_status_t at this read */
    uint8_t last_fault[JG_METER_MAX_ZONES];    /* cause of the latest epoch bump */
} jg_energy_sample_t;

/* One converted figure: energy between two samples with its source label. */
typedef struct {
    int valid;
    uint64_t uj;
    double j;
    double dt_s;
    jg_energy_source_t source;
    jg_zone_status_t why; /* JG_ZONE_OK when valid */
    int zone;             /* the zone that made it invalid, or the zone asked */
} jg_energy_figure_t;

typedef struct {
    jg_energy_mode_t mode;
    double assume_w_per_core;  /* estimate: watts per busy core; <= 0: default */
    double idle_w;             /* estimate: watts while idle, added per wall second */
    double rapl_max_power_w;   /* rapl: watchdog bound when the zone has none; <= 0: default */
} jg_energy_cfg_t;

/* Outcome of jg_meter_open(); reason/fix are one line each, empty when rapl
 * was used or not tried. */
typedef struct {
    jg_energy_source_t source; /* what was opened */
    int fallback;              /* 1 when auto fell back to estimate */
    int rapl_err;              /* negative errno from the rapl attempt, 0 if none */
    char reason[JG_ENERGY_TEXT_MAX];
    char fix[JG_ENERGY_TEXT_MAX];
} jg_energy_status_t;

/* One line for people about what jg_meter_open() chose and, after a
 * fallback, why and how to fix it, e.g. "energy: estimate (rapl not
 * available: no /sys/class/powercap ...; fix: ...)". Always NUL-terminates.
 * Returns 0 or -EINVAL (NULL, size 0). */
int jg_energy_status_line(const jg_energy_status_t *status, char *buf, int size);

/* The same in one short line for the programs' notes: after a fallback only
 * the source and that `joulegrad energy` explains (the full reason and fix
 * are in status and jg_energy_status_line). 0 or -EINVAL. */
int jg_energy_status_brief(const jg_energy_status_t *status, char *buf, int size);

/* Fills cfg with the defaults (mode auto). */
void jg_energy_cfg_default(jg_energy_cfg_t *cfg);

/* Opens a meter as cfg->mode says. auto tries rapl and falls back to
 * estimate, explaining why in status. off stores NULL in *meter and returns 0.
 * rapl returns the rapl error (status says why). Returns 0 or negative errno. */
int jg_meter_open(jg_meter_t **meter, const jg_energy_cfg_t *cfg, jg_energy_status_t *status);

/* Backend-specific opens. rapl: -ENODEV no powercap/zones, -EACCES energy_uj
 * not readable (status says which and how to fix). */
int jg_meter_open_rapl(jg_meter_t **meter, const jg_energy_cfg_t *cfg, jg_energy_status_t *status);
int jg_meter_open_estimate(jg_meter_t **meter, const jg_energy_cfg_t *cfg);

/* Lists the RAPL zones found, readable or not, without opening a meter.
 * Returns the zone count (>= 0) or negative errno; status says why on error. */
int jg_energy_rapl_probe(jg_zone_info_t *zones, int max_zones, jg_energy_status_t *status);

/* Closes and frees; NULL is a no-op. */
void jg_meter_close(jg_meter_t *meter);

jg_energy_source_t jg_meter_source(const jg_meter_t *meter);
int jg_meter_nzones(const jg_meter_t *meter);
/* Copies zone's description and current status. Returns 0 or -EINVAL. */
int jg_meter_zone_info(const jg_meter_t *meter, int zone, jg_zone_info_t *info);
/* Shortest watchdog window / 2 over the zones: read at least this often.
 * 0 when no zone can wrap. */
int64_t jg_meter_poll_interval_ns(const jg_meter_t *meter);

/* Hot path: one read of every zone into *sample, no allocation. Zone faults
 * are recorded in the sample, not returned: returns 0, or -EINVAL for bad
 * arguments. */
int jg_meter_read(jg_meter_t *meter, jg_energy_sample_t *sample);
/* Watchdog: a read into the meter's own sample, keeping wraps counted.
 * Call it at least every jg_meter_poll_interval_ns() when samples are
 * further apart (e.g. from the training loop between layers). */
int jg_meter_poll(jg_meter_t *meter);
/* Off the hot path, outside any region: brings the meter up to date with
 * the process. For estimate, re-reads the thread list (/proc/self/task):
 * a thread started since the last refresh is counted from here on, and
 * the CPU time it used before is added here, at once; an exited thread is
 * dropped (what was read of it stays). jg_trace_flush calls it. rapl and
 * sim: nothing to do. Returns 0, -EINVAL or -ENOMEM (the thread list is
 * unchanged). */
int jg_meter_refresh(jg_meter_t *meter);

/* E = ext_uj(s1) - ext_uj(s0) for zone, or the sum over counted zones for
 * JG_ZONE_TOTAL. Invalid when the zone faulted in between (epochs differ) or
 * at either read. Returns 0 (figure filled, maybe invalid) or -EINVAL. */
int jg_meter_figure(const jg_meter_t *meter, const jg_energy_sample_t *s0,
                    const jg_energy_sample_t *s1, int zone, jg_energy_figure_t *fig);
/* Same as jg_meter_figure's uj, or JG_ENERGY_INVALID_UJ. */
int64_t jg_meter_energy_uj(const jg_meter_t *meter, const jg_energy_sample_t *s0,
                           const jg_energy_sample_t *s1, int zone);

/* Spins reading zone until its counter changed nchanges times; *period_ns is
 * the median interval between changes. -ETIMEDOUT after timeout_ns of real
 * time (e.g. a sim on a virtual clock, or a stuck counter). */
int jg_meter_measure_update_ns(jg_meter_t *meter, int zone, int nchanges,
                               int64_t timeout_ns, int64_t *period_ns);
/* Median real-time cost of one full jg_meter_read() over nreads reads. */
int jg_meter_measure_read_ns(jg_meter_t *meter, int nreads, int64_t *cost_ns);

/* ---- sim backend ------------------------------------------------------- */

#define JG_SIM_MAX_SEGMENTS 64

/* Power held for duration_ns; after the last segment the profile repeats. */
typedef struct {
    int64_t duration_ns;
    uint64_t power_mw;
} jg_sim_segment_t;

typedef struct {
    const char *name;                  /* e.g. "package-0" */
    jg_zone_kind_t kind;
    int package;                       /* -1 when none */
    int parent;                        /* containing zone index or -1 */
    const jg_sim_segment_t *profile;   /* nsegments entries, copied at open */
    int nsegments;
    uint64_t range_uj;                 /* wrap range; 0: 2^32 counter units */
} jg_sim_zone_cfg_t;

typedef struct {
    int nzones;                        /* 1..JG_METER_MAX_ZONES */
    jg_sim_zone_cfg_t zones[JG_METER_MAX_ZONES];
    int energy_unit_shift;             /* unit = 2^-shift J: 16 -> 15.3 uJ, 14 -> 61 uJ;
                                          12..20 (exact up to ~1e6 J >> (shift - 16)) */
    int64_t update_period_ns;          /* counter update period; 0: 1 ms */
    uint64_t max_power_mw;             /* watchdog bound; 0: the profiles' peak */
    const int64_t *virtual_now_ns;     /* virtual clock owned by the caller; NULL: real */
} jg_sim_cfg_t;

/* Counter value (uJ, before wrapping) that the sim shows at time t_ns for
 * zone: floor(floor(E(t_k) * 2^shift / 1 J) * 1e6 / 2^shift) with t_k the
 * last update tick <= t_ns. Exposed so tests compute exact expectations. */
uint64_t jg_sim_expected_uj(const jg_sim_cfg_t *cfg, int zone, int64_t t_ns);

typedef enum {
    JG_SIM_FAULT_NONE = 0,
    JG_SIM_FAULT_FREEZE,     /* counter stops changing */
    JG_SIM_FAULT_READ_ERROR, /* reads fail with -EIO */
    JG_SIM_FAULT_GONE        /* reads fail with -ENODEV */
} jg_sim_fault_t;

int jg_meter_open_sim(jg_meter_t **meter, const jg_sim_cfg_t *cfg);
/* Injects a fault into one zone of a sim meter. Returns 0 or -EINVAL. */
int jg_meter_sim_inject(jg_meter_t *meter, int zone, jg_sim_fault_t fault);


/* ---- trace and per-region attribution (energy/trace.c, energy/attrib.c) --
 *
 * A trace brackets caller-defined regions (0..nregions-1, e.g. one per layer
 * and phase) and whole steps with meter reads, into a ring of marks
 * allocated once at creation: recording reads the meter straight into the
 * next slot, with no allocation and no formatting. jg_trace_flush() (call it
 * once per batch, outside the step bracket) feeds the marks to the
 * attribution, which keeps only running per-region sums; a mark stays in the
 * ring only until the next counter change after it has been seen, so memory
 * is bounded by the capacity whatever the run length. Regions must not nest
 * (the step bracket may enclose them). A begin within JG_TRACE_SHARE_NS of
 * the previous end reuses that end's reading (one read per boundary between
 * back-to-back regions; the short gap counts to the region that begins).
 * Method and error bound: docs/energy.md. */

/* Region id of the whole-step bracket, beside the caller's regions. */
#define JG_TRACE_STEP (-1)
#define JG_TRACE_MAX_REGIONS 1024
/* A region whose accumulated time spans fewer update periods is flagged
 * `aggregated`: its figure rests on the fit across regions more than on its
 * own counter changes. */
#define JG_ATTRIB_MIN_PERIODS 10

typedef struct jg_energy_trace jg_energy_trace_t;

typedef enum {
    JG_ATTRIB_NONE = 0,   /* nothing attributed yet */
    JG_ATTRIB_EXACT,      /* continuous counter (estimate): E(end) - E(begin) */
    JG_ATTRIB_INTERP,     /* piecewise-linear reconstruction, integrated */
    JG_ATTRIB_FIT         /* per-region power fitted over the change intervals */
} jg_attrib_method_t;

/* "none", "exact", "interp", "fit". */
const char *jg_attrib_method_name(jg_attrib_method_t method);

/* One region's accumulated figures over every flushed step. */
typedef struct {
    uint64_t count;        /* completed [begin, end] intervals */
    double seconds;        /* sum of interval lengths, s */
    double j;              /* attributed energy over counted zones, J */
    double j_interp;       /* the interpolation integral alone, J */
    double zone_j[JG_METER_MAX_ZONES]; /* per zone (not only counted ones), J */
    int aggregated;        /* seconds < JG_ATTRIB_MIN_PERIODS update periods */
    int valid;             /* 0 when a counted zone faulted */
    jg_zone_status_t why;  /* JG_ZONE_OK when valid */
} jg_region_energy_t;

/* Whole-run figures. */
typedef struct {
    jg_energy_source_t source;
    jg_attrib_method_t method;   /* method used for counted zones (the weakest) */
    int valid;
    jg_zone_status_t why;        /* JG_ZONE_OK when valid */
    int zone;                    /* zone behind why, -1 when valid */
    uint64_t steps;              /* completed step brackets */
    uint64_t dropped;            /* marks lost to a full ring (makes it invalid) */
    double step_s;               /* time inside step brackets, s */
    double step_j;               /* energy inside step brackets, bracketed on its own, J */
    double regions_j;            /* sum over regions, J */
    double closure;              /* regions_j / step_j; 0 when step_j is 0 */
    uint64_t total_uj;           /* counter difference first -> last mark, counted zones */
    double total_s;              /* time first -> last mark, s */
    int64_t update_period_ns;    /* longest over counted zones; 0: continuous */
} jg_attrib_summary_t;

/* Creates a trace over meter (borrowed; it must outlive the trace) for
 * nregions regions, keeping at most capacity marks (>= 4) between flushes.
 * Size capacity for two marks per region per step plus the step bracket,
 * times two. Returns 0, -EINVAL or -ENOMEM. */
int jg_trace_create(jg_energy_trace_t **trace, jg_meter_t *meter, int nregions, int capacity);
/* Frees; NULL is a no-op. */
void jg_trace_destroy(jg_energy_trace_t *trace);

/* Hot path: one meter read into the ring. region is 0..nregions-1 or
 * JG_TRACE_STEP. Returns 0, -EINVAL, or -ENOBUFS when the ring is full
 * (the mark is dropped and counted; the figures become invalid). */
int jg_trace_begin(jg_energy_trace_t *trace, int region);
int jg_trace_end(jg_energy_trace_t *trace, int region);

/* Off the hot path: attributes every mark that can be, freeing its slot.
 * A zone whose counter has not changed over half the ring is given up as
 * stuck (its figures invalid) so the ring never fills. Then refreshes the
 * meter (jg_meter_refresh) at the first flush and after that at most once
 * per JG_TRACE_REFRESH_NS, so call it outside every region bracket.
 * Returns 0, -EINVAL or -ENOMEM (from the refresh; the figures are fine). */
#define JG_TRACE_REFRESH_NS 1000000000LL
/* A begin this soon after an end shares its reading (trace.c). */
#define JG_TRACE_SHARE_NS 2000
int jg_trace_flush(jg_energy_trace_t *trace);

/* Current figures (after a flush). regions may be NULL; otherwise it holds
 * nregions entries. Uses scratch held by the trace: not thread-safe.
 * Returns 0 or -EINVAL. */
int jg_trace_result(jg_energy_trace_t *trace, jg_attrib_summary_t *summary,
                    jg_region_energy_t *regions, int nregions);

/* Raw marks for a trace file: calls fn for every mark recorded since the
 * previous call, in order (region, 0 begin / 1 end, the meter sample). Call
 * it before jg_trace_flush(), which may free them (marks already freed are
 * skipped). Off the hot path. Returns the number visited, or -EINVAL. */
typedef void (*jg_trace_visit_fn)(void *ctx, int region, int end,
                                  const jg_energy_sample_t *sample);
int jg_trace_visit(jg_energy_trace_t *trace, jg_trace_visit_fn fn, void *ctx);

/* ---- per-region breakdown (energy/breakdown.c, energy/breakdown_out.c) ---
 *
 * A breakdown traces caller-defined regions (e.g. every layer's forward and
 * backward pass) inside repeated steps on one meter, and turns them into
 * per-region and per-type figures: text tables, CSVs, a JSON object, gnuplot
 * figures, the raw per-step trace file, a power series over the steps and an
 * optional idle baseline. It knows nothing of models: the caller describes
 * its regions (run/ does it for nn's layers). Hot path: begin/end are one
 * jg_trace_begin/end each (one meter read, no allocation, no formatting).
 * docs/energy.md has the method and the file formats. */

#define JG_BREAKDOWN_MAX_TYPES 32
struct cJSON;
/* Idle baseline slices and the settle time before them (s). */
#define JG_IDLE_SLICE_S 0.1
#define JG_IDLE_SETTLE_S 0.2

typedef struct {
    int layer;              /* the caller's index, reported (-1: none) */
    int backward;           /* 0 forward (phaseless regions too), 1 backward */
    const char *kind;       /* e.g. "conv2d", "optimizer" (must outlive the breakdown) */
    int type;               /* index into the config's types */
    double flops_per_image; /* 0 when not counted */
} jg_region_desc_t;

typedef struct {
    const jg_region_desc_t *regions; /* (nregions) copied; at most JG_TRACE_MAX_REGIONS */
    int nregions;
    const char *const *types; /* (ntypes) names in report order, borrowed */
    int ntypes;               /* 1..JG_BREAKDOWN_MAX_TYPES */
    const char *trace_path;   /* raw trace (JSON lines), written as PATH.part and
                                 renamed at finish; NULL: none */
    double w_per_core;        /* the estimate's assumption (reported only) */
    const char *scope;        /* what a step brackets, for the JSON (borrowed) */
    const char *type_notes;   /* appended to the JSON notes (borrowed, may be NULL) */
    int invocation;           /* which invocation of a resumed run this is (1, 2, ...);
                                 0: the one after the parts added */
    int ranks;                /* an MPI job's size; 0 or 1: not a job */
    int rank, node;           /* in a job: the rank and node measuring this part
                                 (the other ranks' parts are added to rank 0's) */
    const char *host;         /* its host, reported (copied; may be NULL) */
} jg_breakdown_config_t;

/* One row of the per-type table: a type's regions of one phase. */
typedef struct {
    uint64_t count;
    double j, s, flops;
    double zone_j[JG_METER_MAX_ZONES];
    int valid;
} jg_breakdown_row_t;

typedef struct jg_breakdown jg_breakdown_t;

/* A breakdown of cfg's regions on meter (borrowed: it must outlive the
 * breakdown). Returns 0, -EINVAL, -E2BIG (too many regions), -ENOMEM or an
 * errno from creating the trace file. */
int jg_breakdown_create(jg_breakdown_t **bd, jg_meter_t *meter, const jg_breakdown_config_t *cfg);
/* Frees; a trace file not finished is deleted. NULL is a no-op. */
void jg_breakdown_destroy(jg_breakdown_t *bd);

/* Hot path: brackets a region (0..nregions-1) or the whole step
 * (JG_TRACE_STEP). Regions must not nest; the step encloses them. */
void jg_breakdown_begin(jg_breakdown_t *bd, int region);
void jg_breakdown_end(jg_breakdown_t *bd, int region);

/* After each step (outside its bracket): writes its raw marks to the trace
 * file, adds it to the power series and flushes the trace into the
 * attribution. images: the step's batch size. 0 or a negative errno (a
 * write error, also returned by finish). */
int jg_breakdown_step_done(jg_breakdown_t *bd, int images);

/* Idle baseline, before the first step: sleeps JG_IDLE_SETTLE_S (not
 * counted: worker threads stop spin-waiting, cores reach idle states), then
 * seconds (in (0, 3600]) in slices of JG_IDLE_SLICE_S, reading the meter
 * after each.
 *   idle_w = E(window) / t(window)            (counted zones, W)
 *   noise  = standard deviation of the per-slice powers (W), with min, max
 * For `estimate` the process is asleep, so idle_w is the estimate's own
 * modelled idle power (0 unless configured) plus the wake-ups' CPU time:
 * not a measurement. Afterwards every figure also has a net-of-idle twin,
 * net_j = j - idle_w * seconds. Returns 0, -EINVAL, or -EIO when a zone
 * faulted during the window (no baseline is kept). */
int jg_breakdown_idle(jg_breakdown_t *bd, double seconds);

/* A run over several invocations (a resume): the invocation's figures so
 * far (after step_done, before finish) as a JSON object, its raw trace file
 * named (may be NULL) with the bytes written so far ("trace_bytes": the
 * trace is flushed); the caller keeps every invocation's part and hands the
 * earlier ones to the next invocation. NULL when out of memory. */
#define JG_BREAKDOWN_MAX_PARTS 10000
struct cJSON *jg_breakdown_part_json(jg_breakdown_t *bd, const char *trace_file);
/* Before finish: parts to add into the totals (a JSON array of
 * jg_breakdown_part_json objects): earlier invocations of a resumed run, and
 * the other ranks of an MPI job. A part may carry "invocation", "rank",
 * "node" and "host" (numbers, the host a string); the JSON then lists each
 * invocation and, in a job, each rank of this invocation. -EINVAL with
 * why[cap] when a part is malformed, describes other regions or another
 * source. */
int jg_breakdown_add_parts(jg_breakdown_t *bd, const struct cJSON *parts, char *why, size_t cap);

/* Once, after the last step: computes the figures and completes the trace
 * file. 0 or a negative errno. */
int jg_breakdown_finish(jg_breakdown_t *bd);

/* After finish: the whole-run summary (total inside the step brackets, its
 * seconds, validity, closure, ...), earlier invocations included. */
const jg_attrib_summary_t *jg_breakdown_summary(const jg_breakdown_t *bd);
/* After finish: images over every step. */
int64_t jg_breakdown_images(const jg_breakdown_t *bd);
/* After finish: type t's row for phase backward (0/1); -EINVAL when out of range. */
int jg_breakdown_type_row(const jg_breakdown_t *bd, int t, int backward, jg_breakdown_row_t *row);
/* After finish: region r's figures; -EINVAL when out of range. */
int jg_breakdown_region(const jg_breakdown_t *bd, int r, jg_region_energy_t *re);

/* After finish: appends the per-type table, the per-layer table and a bar
 * chart of the types to out, each headed by the source label. */
void jg_breakdown_text(const jg_breakdown_t *bd, jg_sbuf_t *out);
/* After finish: dir/energy_layers.csv and dir/energy_types.csv, atomically.
 * 0 or a negative errno. */
int jg_breakdown_write_csv(const jg_breakdown_t *bd, const char *dir);
/* After finish: gnuplot figures in dir: energy_types.{dat,gp,png,svg}
 * (stacked bars by type, forward vs backward, J) and power.{dat,gp,png,svg}
 * (average W per traced interval of steps vs time). The data and scripts
 * are always written; gnuplot (found on PATH) is run on each script when
 * present. msg receives one line for people: what was written, or why the
 * images are missing. Returns 0 when the images were made, 1 when only data
 * and scripts were (no gnuplot, or it failed), or a negative errno when they
 * could not be written. */
int jg_breakdown_write_figures(const jg_breakdown_t *bd, const char *dir, char *msg,
                               size_t cap);
/* After finish: the `energy` object of summary.json and `profile --json`
 * (docs/energy.md lists its fields); the caller owns it (cJSON_Delete).
 * NULL when out of memory. */
struct cJSON *jg_breakdown_json(const jg_breakdown_t *bd);

#ifdef __cplusplus
}
#endif

#endif /* JG_ENERGY_H */
