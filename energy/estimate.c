/* SPDX-License-Identifier: MIT */
/*
 * estimate.c - fallback when no energy counter is readable: a counter
 * synthesised from this process's CPU time,
 *   E = cpu_s * W_per_busy_core + wall_s * W_idle,
 * with W_per_busy_core an assumption (JG_ESTIMATE_DEFAULT_W_PER_CORE or
 * --assume-watts). Every figure from it carries the label "estimate".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

typedef struct {
    double w_per_core;
    double idle_w;
    int64_t cpu0_ns, wall0_ns;
} estimate_t;

static int64_t cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return -1;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t est_now(const jg_meter_t *m)
{
    (void)m;
    return jg_energy_clock_ns();
}

static int est_read(jg_meter_t *m, int zone, int64_t t_ns, uint64_t *raw_uj)
{
    (void)zone;
    const estimate_t *e = m->backend;
    const int64_t c = cpu_ns();
    if (c < 0) return -errno;
    // ns * W = nJ; / 1000 -> uJ.
    const double uj = ((double)(c - e->cpu0_ns) * e->w_per_core +
                       (double)(t_ns - e->wall0_ns) * e->idle_w) * 1e-3;
    *raw_uj = uj > 0 ? (uint64_t)uj : 0;
    return 0;
}

static void est_destroy(jg_meter_t *m)
{
    free(m->backend);
    m->backend = NULL;
}

static const jg_meter_ops_t est_ops = {
    .read_raw = est_read,
    .now_ns = est_now,
    .zone_exists = NULL,
    .destroy = est_destroy,
};

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
    e->cpu0_ns = cpu_ns();
    e->wall0_ns = jg_energy_clock_ns();
    if (e->cpu0_ns < 0) {
        const int err = -errno;
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
