/* SPDX-License-Identifier: MIT */
/*
 * estimate.c - fallback when no energy counter is readable: a counter
 * synthesised from this process's CPU time,
 *   E = cpu_s * W_per_busy_core + wall_s * W_idle,
 * with W_per_busy_core an assumption (JG_ESTIMATE_DEFAULT_W_PER_CORE or
 * --assume-watts). Every figure from it carries the label "estimate".
 *
 * cpu_s is the sum of the CPU clocks of the process's threads, each read
 * at every meter read. Not CLOCK_PROCESS_CPUTIME_ID: Linux adds a thread
 * that is running on another core into the process sum only at its ticks
 * and context switches, so a short region got another thread's few
 * milliseconds in one lump (35-60 W at 2 x 10 W). A thread's own clock is
 * current (the kernel brings a running task's runtime up to date when it is
 * read). Each thread adds at most the wall time between two reads of the
 * meter: what it shows beyond that (its read came later in this read than
 * in the previous one) is carried to the next read, so no interval shows
 * more than threads x W and nothing is lost.
 *
 * The thread list (/proc/self/task) is read at open and by
 * jg_meter_refresh (jg_trace_flush calls it), never on the hot path. A
 * thread that appears in between counts from the refresh that sees it,
 * plus its CPU time until then added at that refresh; a thread that exits
 * keeps what was read of it. Without /proc the process clock is used,
 * capped at the online CPUs x the wall time between reads.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* One thread's CPU clock. */
typedef struct {
    clockid_t clock;
    long tid;
    int64_t last_ns;   /* clock at the last read */
    int64_t carry_ns;  /* read beyond the wall time, counted at later reads */
    int seen;          /* found by the current refresh */
    int gone;          /* a read failed: the thread exited */
} est_thread_t;

typedef struct {
    double w_per_core;
    double idle_w;
    int64_t wall0_ns;
    int64_t last_t_ns;    /* meter time of the previous read */
    int64_t counted_ns;   /* CPU time counted so far: monotone */
    est_thread_t *th;
    int nth, cap;
    int per_cpu_cap;      /* busy cores one entry may show: 1 per thread, or the CPUs */
} estimate_t;

/* *ns = clock's value; 0 or a negative errno. */
static int clock_ns(clockid_t clock, int64_t *ns)
{
    struct timespec ts;
    if (clock_gettime(clock, &ts)) return -errno;
    *ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return 0;
}

/* The CPU clock of thread tid of this process: the kernel's
 * MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED), as glibc's pthread_getcpuclockid
 * builds it (a thread of another process is refused with EINVAL). */
static clockid_t thread_clock(long tid)
{
    return (clockid_t)((~(unsigned long)tid << 3) | 6u);
}

static est_thread_t *find_thread(estimate_t *e, long tid)
{
    for (int i = 0; i < e->nth; i++)
        if (e->th[i].tid == tid) return &e->th[i];
    return NULL;
}

/* Adds thread tid (refresh only: may allocate). *new_ns gets its CPU time so
 * far. 0, or a negative errno (the thread may have exited: skipped). */
static int add_thread(estimate_t *e, long tid, int64_t *new_ns)
{
    const clockid_t c = thread_clock(tid);
    int64_t now = 0;
    const int err = clock_ns(c, &now);
    if (err) return err;
    if (e->nth == e->cap) {
        const int cap = e->cap ? 2 * e->cap : 8;
        est_thread_t *t = realloc(e->th, (size_t)cap * sizeof *t);
        if (!t) return -ENOMEM;
        e->th = t;
        e->cap = cap;
    }
    e->th[e->nth++] = (est_thread_t){c, tid, now, 0, 1, 0};
    *new_ns = now;
    return 0;
}

/* Reads /proc/self/task: keeps the threads still there, adds new ones
 * (with their CPU time so far counted now unless `baseline`), drops the
 * rest. -ENOENT without /proc, or -ENOMEM. */
static int refresh_threads(estimate_t *e, int baseline)
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -ENOENT;
    for (int i = 0; i < e->nth; i++) e->th[i].seen = 0;
    int rc = 0;
    struct dirent *de;
    while (rc != -ENOMEM && (de = readdir(d)) != NULL) {
        char *end;
        const long tid = strtol(de->d_name, &end, 10);
        if (de->d_name[0] == '.' || *end || tid <= 0) continue;
        est_thread_t *t = find_thread(e, tid);
        if (t) {
            t->seen = 1;
            continue;
        }
        int64_t so_far = 0;
        rc = add_thread(e, tid, &so_far); /* fails when it exited meanwhile: skipped */
        if (!rc && !baseline) e->counted_ns += so_far;
    }
    closedir(d);
    if (rc != -ENOMEM) rc = 0;
    int k = 0;
    for (int i = 0; i < e->nth; i++)
        if (e->th[i].seen && !e->th[i].gone) e->th[k++] = e->th[i];
    e->nth = k;
    return rc;
}

static int64_t est_now(const jg_meter_t *m)
{
    (void)m;
    return jg_energy_clock_ns();
}

static int est_read(jg_meter_t *m, int zone, int64_t t_ns, uint64_t *raw_uj)
{
    (void)zone;
    estimate_t *e = m->backend;
    const int64_t dt = t_ns > e->last_t_ns ? t_ns - e->last_t_ns : 0;
    const int64_t cap = dt * e->per_cpu_cap;
    e->last_t_ns = t_ns;
    for (int i = 0; i < e->nth; i++) {
        est_thread_t *t = &e->th[i];
        int64_t now = 0;
        if (t->gone || clock_ns(t->clock, &now)) {
            t->gone = 1; /* exited: keep what was read of it */
            continue;
        }
        const int64_t d = (now > t->last_ns ? now - t->last_ns : 0) + t->carry_ns;
        t->last_ns = now;
        const int64_t add = d < cap ? d : cap;
        t->carry_ns = d - add;
        e->counted_ns += add;
    }
    // ns * W = nJ; / 1000 -> uJ.
    const double uj = ((double)e->counted_ns * e->w_per_core +
                       (double)(t_ns - e->wall0_ns) * e->idle_w) * 1e-3;
    *raw_uj = uj > 0 ? (uint64_t)uj : 0;
    return 0;
}

static int est_refresh(jg_meter_t *m)
{
    estimate_t *e = m->backend;
    if (e->per_cpu_cap != 1) return 0; /* the process clock: nothing to list */
    return refresh_threads(e, 0);
}

static void est_destroy(jg_meter_t *m)
{
    estimate_t *e = m->backend;
    if (e) free(e->th);
    free(e);
    m->backend = NULL;
}

static const jg_meter_ops_t est_ops = {
    .read_raw = est_read,
    .now_ns = est_now,
    .zone_exists = NULL,
    .refresh = est_refresh,
    .destroy = est_destroy,
};

/* Without /proc/self/task: one entry for the process clock, which may show
 * every online CPU busy. */
static int use_process_clock(estimate_t *e)
{
    const long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int64_t now = 0;
    const int err = clock_ns(CLOCK_PROCESS_CPUTIME_ID, &now);
    if (err) return err;
    e->th = malloc(sizeof *e->th);
    if (!e->th) return -ENOMEM;
    e->th[0] = (est_thread_t){CLOCK_PROCESS_CPUTIME_ID, 0, now, 0, 1, 0};
    e->nth = e->cap = 1;
    e->per_cpu_cap = ncpu > 1 ? (int)ncpu : 1;
    return 0;
}

int jg_meter_open_estimate(jg_meter_t **meter, const jg_energy_cfg_t *cfg)
{
    if (!meter || !cfg) return -EINVAL;
    *meter = NULL;
    if (cfg->idle_w < 0 || cfg->assume_w_per_core != cfg->assume_w_per_core ||
        cfg->idle_w != cfg->idle_w)
        return -EINVAL;
    estimate_t *e = calloc(1, sizeof(*e));
    jg_meter_t *m = jg_meter_alloc(JG_ENERGY_SOURCE_ESTIMATE, &est_ops);
    if (!e || !m) {
        free(e);
        free(m);
        return -ENOMEM;
    }
    e->w_per_core = cfg->assume_w_per_core > 0 ? cfg->assume_w_per_core
                                               : JG_ESTIMATE_DEFAULT_W_PER_CORE;
    e->idle_w = cfg->idle_w;
    e->wall0_ns = jg_energy_clock_ns();
    e->last_t_ns = e->wall0_ns;
    e->per_cpu_cap = 1;
    /* the threads' CPU time so far is the baseline: counting starts now */
    int err = refresh_threads(e, 1);
    if (err == -ENOENT) err = use_process_clock(e);
    if (err) {
        free(e->th);
        free(e);
        free(m);
        return err;
    }
    m->backend = e;
    m->nzones = 1;
    jg_zone_info_t *info = &m->info[0];
    strcpy(info->name, "cpu");
    info->kind = JG_ZONE_CPU;
    info->package = -1;
    info->parent = -1;
    info->readable = 1;
    info->range_uj = 0; /* 64-bit, never wraps in practice */
    info->max_power_uw = 0;
    info->update_period_ns = 0; /* continuous; measured by the CLI */
    jg_meter_finish_open(m);
    *meter = m;
    return 0;
}
