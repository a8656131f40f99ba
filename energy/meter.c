/* SPDX-License-Identifier: MIT */
/*
 * meter.c - the backend-independent half of the meter: the hot-path read
 * with unwrapping and fault tracking, conversion of two samples to a figure,
 * selection (auto -> rapl, else estimate with a reason), and the update
 * period / read cost probes used by `joulegrad energy`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

const char *jg_energy_source_name(jg_energy_source_t source)
{
    switch (source) {
    case JG_ENERGY_SOURCE_RAPL: return "rapl";
    case JG_ENERGY_SOURCE_ESTIMATE: return "estimate";
    case JG_ENERGY_SOURCE_SIM: return "sim";
    case JG_ENERGY_SOURCE_NONE: break;
    }
    return "off";
}

const char *jg_zone_status_name(jg_zone_status_t status)
{
    switch (status) {
    case JG_ZONE_OK: return "ok";
    case JG_ZONE_PERMISSION: return "permission denied";
    case JG_ZONE_READ_ERROR: return "read error";
    case JG_ZONE_GONE: return "zone disappeared";
    case JG_ZONE_STUCK: return "counter stopped changing";
    case JG_ZONE_GAP: return "reads too far apart to unwrap";
    }
    return "unknown";
}

const char *jg_zone_kind_name(jg_zone_kind_t kind)
{
    switch (kind) {
    case JG_ZONE_PACKAGE: return "package";
    case JG_ZONE_CORE: return "core";
    case JG_ZONE_UNCORE: return "uncore";
    case JG_ZONE_DRAM: return "dram";
    case JG_ZONE_PSYS: return "psys";
    case JG_ZONE_CPU: return "cpu";
    case JG_ZONE_OTHER: break;
    }
    return "other";
}

int jg_energy_mode_parse(const char *text, jg_energy_mode_t *mode)
{
    if (!text || !mode) return -EINVAL;
    static const char *const names[] = {"auto", "rapl", "estimate", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcmp(text, names[i])) {
            *mode = (jg_energy_mode_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

void jg_energy_cfg_default(jg_energy_cfg_t *cfg)
{
    if (!cfg) return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = JG_ENERGY_MODE_AUTO;
    cfg->assume_w_per_core = JG_ESTIMATE_DEFAULT_W_PER_CORE;
    cfg->rapl_max_power_w = JG_RAPL_ASSUMED_MAX_POWER_W;
}

void jg_energy_text(char *dst, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, JG_ENERGY_TEXT_MAX, fmt, ap);
    va_end(ap);
}

int64_t jg_energy_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

jg_meter_t *jg_meter_alloc(jg_energy_source_t source, const jg_meter_ops_t *ops)
{
    jg_meter_t *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->source = source;
    m->ops = ops;
    return m;
}

void jg_energy_mark_counted(jg_zone_info_t *zones, int n)
{
    int have_psys = 0;
    for (int i = 0; i < n; i++)
        if (zones[i].kind == JG_ZONE_PSYS && zones[i].parent < 0) have_psys = 1;
    for (int i = 0; i < n; i++) {
        const jg_zone_kind_t k = zones[i].kind;
        if (have_psys)
            zones[i].counted = k == JG_ZONE_PSYS && zones[i].parent < 0;
        else
            // core and uncore are inside package; dram is beside it.
            zones[i].counted = k == JG_ZONE_PACKAGE || k == JG_ZONE_DRAM || k == JG_ZONE_CPU;
    }
}

void jg_energy_zone_window(jg_zone_info_t *info)
{
    // Below this gap at most one wrap fits: range / max power.
    if (info->range_uj > 0 && info->max_power_uw > 0) {
        const double w = (double)info->range_uj / (double)info->max_power_uw * 1e9;
        info->window_ns = w > 9e18 ? INT64_MAX : (int64_t)w;
    } else {
        info->window_ns = 0;
    }
}

void jg_meter_finish_open(jg_meter_t *m)
{
    int64_t period_max = 0;
    for (int z = 0; z < m->nzones; z++) {
        jg_energy_zone_window(&m->info[z]);
        if (m->info[z].update_period_ns > period_max) period_max = m->info[z].update_period_ns;
    }
    if (m->source != JG_ENERGY_SOURCE_ESTIMATE)
        m->stuck_ns = period_max * JG_METER_STUCK_PERIODS;
    jg_energy_mark_counted(m->info, m->nzones);
    jg_meter_poll(m);
}

void jg_meter_close(jg_meter_t *meter)
{
    if (!meter) return;
    if (meter->ops->destroy) meter->ops->destroy(meter);
    free(meter);
}

jg_energy_source_t jg_meter_source(const jg_meter_t *meter)
{
    return meter ? meter->source : JG_ENERGY_SOURCE_NONE;
}

int jg_meter_nzones(const jg_meter_t *meter)
{
    return meter ? meter->nzones : 0;
}

int jg_meter_zone_info(const jg_meter_t *meter, int zone, jg_zone_info_t *info)
{
    if (!meter || !info || zone < 0 || zone >= meter->nzones) return -EINVAL;
    *info = meter->info[zone];
    info->status = meter->st[zone].status;
    info->err = meter->st[zone].err;
    return 0;
}

int64_t jg_meter_poll_interval_ns(const jg_meter_t *meter)
{
    if (!meter) return 0;
    int64_t w = 0;
    for (int z = 0; z < meter->nzones; z++) {
        const int64_t wz = meter->info[z].window_ns;
        if (wz > 0 && (w == 0 || wz < w)) w = wz;
    }
    return w / 2;
}

static jg_zone_status_t status_of_err(int err)
{
    if (err == -ENODEV || err == -ENOENT || err == -ENXIO) return JG_ZONE_GONE;
    if (err == -EACCES || err == -EPERM) return JG_ZONE_PERMISSION;
    return JG_ZONE_READ_ERROR;
}

// A fault: figures spanning it become invalid (their epochs differ).
static void bump(jg_zone_state_t *st, jg_zone_status_t why)
{
    st->epoch++;
    st->last_fault = why;
}

static void update_zone(jg_meter_t *m, int z, int64_t t)
{
    jg_zone_state_t *st = &m->st[z];
    const jg_zone_info_t *info = &m->info[z];
    uint64_t raw = 0;
    int err = st->gone ? -ENODEV : m->ops->read_raw(m, z, t, &raw);
    if (!err && info->range_uj > 0 && raw > info->range_uj) err = -ERANGE;
    if (err) {
        const jg_zone_status_t s = status_of_err(err);
        if (st->status == JG_ZONE_OK || st->status == JG_ZONE_STUCK) bump(st, s);
        st->status = s;
        st->err = err;
        st->primed = 0;
        return;
    }
    if (!st->primed) {
        st->primed = 1;
        st->status = JG_ZONE_OK;
        st->err = 0;
        st->last_raw_uj = raw;
        st->last_read_ns = t;
        st->last_change_ns = t;
        return;
    }
    const int64_t dt = t - st->last_read_ns;
    if (info->window_ns > 0 && dt >= info->window_ns) {
        // More than one wrap may hide in this gap: refuse to guess.
        bump(st, JG_ZONE_GAP);
        st->last_change_ns = t;
        st->status = JG_ZONE_OK;
    } else if (raw != st->last_raw_uj) {
        // The kernel wraps at max_energy_range_uj (at most one counter
        // unit, ~15-61 uJ, off per wrap).
        if (raw > st->last_raw_uj) {
            st->ext_uj += raw - st->last_raw_uj;
        } else if (info->range_uj > 0) {
            st->ext_uj += raw + (info->range_uj - st->last_raw_uj);
        } else {
            // A counter that cannot wrap went backwards.
            bump(st, JG_ZONE_READ_ERROR);
        }
        st->last_change_ns = t;
        if (st->status == JG_ZONE_STUCK) st->status = JG_ZONE_OK;
    } else if (m->stuck_ns > 0 && t - st->last_change_ns >= m->stuck_ns &&
               st->status == JG_ZONE_OK) {
        // Stopped changing: a removed zone still reads its last value on
        // some filesystems, so ask whether it is still there.
        const int exists = m->ops->zone_exists ? m->ops->zone_exists(m, z) : 1;
        if (!exists) {
            st->gone = 1;
            st->err = -ENODEV;
            bump(st, JG_ZONE_GONE);
            st->status = JG_ZONE_GONE;
        } else {
            bump(st, JG_ZONE_STUCK);
            st->status = JG_ZONE_STUCK;
        }
    }
    st->last_raw_uj = raw;
    st->last_read_ns = t;
}

int jg_meter_read(jg_meter_t *meter, jg_energy_sample_t *sample)
{
    if (!meter || !sample) return -EINVAL;
    const int64_t t = meter->ops->now_ns(meter);
    sample->t_ns = t;
    sample->nzones = meter->nzones;
    for (int z = 0; z < meter->nzones; z++) {
        update_zone(meter, z, t);
        const jg_zone_state_t *st = &meter->st[z];
        sample->raw_uj[z] = st->last_raw_uj;
        sample->ext_uj[z] = st->ext_uj;
        sample->epoch[z] = st->epoch;
        sample->status[z] = (uint8_t)st->status;
        sample->last_fault[z] = (uint8_t)st->last_fault;
    }
    return 0;
}

int jg_meter_poll(jg_meter_t *meter)
{
    if (!meter) return -EINVAL;
    return jg_meter_read(meter, &meter->poll_sample);
}

int jg_meter_refresh(jg_meter_t *meter)
{
    if (!meter) return -EINVAL;
    return meter->ops->refresh ? meter->ops->refresh(meter) : 0;
}

static jg_zone_status_t zone_delta(const jg_energy_sample_t *s0, const jg_energy_sample_t *s1,
                                   int z, uint64_t *uj)
{
    if (s0->status[z] != JG_ZONE_OK) return (jg_zone_status_t)s0->status[z];
    if (s1->status[z] != JG_ZONE_OK) return (jg_zone_status_t)s1->status[z];
    if (s0->epoch[z] != s1->epoch[z]) return (jg_zone_status_t)s1->last_fault[z];
    if (s1->ext_uj[z] < s0->ext_uj[z]) return JG_ZONE_READ_ERROR;
    *uj = s1->ext_uj[z] - s0->ext_uj[z];
    return JG_ZONE_OK;
}

int jg_meter_figure(const jg_meter_t *meter, const jg_energy_sample_t *s0,
                    const jg_energy_sample_t *s1, int zone, jg_energy_figure_t *fig)
{
    if (!meter || !s0 || !s1 || !fig) return -EINVAL;
    if (zone < JG_ZONE_TOTAL || zone >= meter->nzones) return -EINVAL;
    if (s0->nzones != meter->nzones || s1->nzones != meter->nzones) return -EINVAL;
    memset(fig, 0, sizeof(*fig));
    fig->source = meter->source;
    fig->zone = zone;
    fig->dt_s = (double)(s1->t_ns - s0->t_ns) * 1e-9;
    uint64_t total = 0;
    int counted = 0;
    for (int z = 0; z < meter->nzones; z++) {
        if (zone == JG_ZONE_TOTAL ? !meter->info[z].counted : z != zone) continue;
        uint64_t uj = 0;
        const jg_zone_status_t why = zone_delta(s0, s1, z, &uj);
        if (why != JG_ZONE_OK) {
            fig->why = why;
            fig->zone = z;
            return 0;
        }
        total += uj;
        counted++;
    }
    if (counted == 0) {
        fig->why = JG_ZONE_GONE;
        return 0;
    }
    fig->valid = 1;
    fig->uj = total;
    fig->j = (double)total * 1e-6;
    return 0;
}

int64_t jg_meter_energy_uj(const jg_meter_t *meter, const jg_energy_sample_t *s0,
                           const jg_energy_sample_t *s1, int zone)
{
    jg_energy_figure_t fig;
    if (jg_meter_figure(meter, s0, s1, zone, &fig) || !fig.valid || fig.uj > INT64_MAX)
        return JG_ENERGY_INVALID_UJ;
    return (int64_t)fig.uj;
}

static int cmp_i64(const void *a, const void *b)
{
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

#define MEASURE_MAX_CHANGES 64

int jg_meter_measure_update_ns(jg_meter_t *meter, int zone, int nchanges,
                               int64_t timeout_ns, int64_t *period_ns)
{
    if (!meter || !period_ns || zone < 0 || zone >= meter->nzones || nchanges < 1 ||
        nchanges > MEASURE_MAX_CHANGES || timeout_ns <= 0)
        return -EINVAL;
    int64_t when[MEASURE_MAX_CHANGES + 1];
    const int64_t start = jg_energy_clock_ns();
    uint64_t last = 0;
    int err = meter->ops->read_raw(meter, zone, meter->ops->now_ns(meter), &last);
    if (err) return err;
    // The first change only aligns us with the counter's update phase.
    int seen = 0, last_err = 0;
    while (seen <= nchanges) {
        const int64_t now = jg_energy_clock_ns();
        if (now - start > timeout_ns) return last_err ? last_err : -ETIMEDOUT;
        uint64_t raw = 0;
        // A failed read is skipped: only a timeout ends the measurement.
        last_err = meter->ops->read_raw(meter, zone, meter->ops->now_ns(meter), &raw);
        if (last_err) continue;
        if (raw != last) {
            when[seen++] = now;
            last = raw;
        }
    }
    for (int i = 0; i < nchanges; i++) when[i] = when[i + 1] - when[i];
    qsort(when, (size_t)nchanges, sizeof(when[0]), cmp_i64);
    *period_ns = when[nchanges / 2];
    return 0;
}

#define READ_BATCH 16

int jg_meter_measure_read_ns(jg_meter_t *meter, int nreads, int64_t *cost_ns)
{
    if (!meter || !cost_ns || nreads < READ_BATCH) return -EINVAL;
    const int nbatch = nreads / READ_BATCH;
    int64_t *t = malloc((size_t)nbatch * sizeof(*t));
    if (!t) return -ENOMEM;
    jg_energy_sample_t s;
    // Batches amortise the clock's own cost over READ_BATCH reads.
    for (int b = 0; b < nbatch; b++) {
        const int64_t t0 = jg_energy_clock_ns();
        for (int i = 0; i < READ_BATCH; i++) jg_meter_read(meter, &s);
        t[b] = jg_energy_clock_ns() - t0;
    }
    qsort(t, (size_t)nbatch, sizeof(t[0]), cmp_i64);
    *cost_ns = t[nbatch / 2] / READ_BATCH;
    free(t);
    return 0;
}

int jg_energy_status_line(const jg_energy_status_t *status, char *buf, int size)
{
    if (!status || !buf || size <= 0) return -EINVAL;
    const char *src = jg_energy_source_name(status->source);
    if (status->fallback)
        snprintf(buf, (size_t)size, "energy: %s, every figure labelled estimate (rapl not "
                 "available: %s; fix: %s)", src, status->reason, status->fix);
    else if (status->reason[0])
        snprintf(buf, (size_t)size, "energy: %s (rapl: %s; fix: %s)", src, status->reason,
                 status->fix);
    else
        snprintf(buf, (size_t)size, "energy: %s", src);
    return 0;
}

int jg_energy_status_brief(const jg_energy_status_t *status, char *buf, int size)
{
    if (!status || !buf || size <= 0) return -EINVAL;
    if (!status->fallback) return jg_energy_status_line(status, buf, size);
    snprintf(buf, (size_t)size, "energy: %s, so labelled on every figure: no RAPL counter is "
             "readable here ('joulegrad energy' says why and how to fix it)",
             jg_energy_source_name(status->source));
    return 0;
}

int jg_meter_open(jg_meter_t **meter, const jg_energy_cfg_t *cfg, jg_energy_status_t *status)
{
    if (!meter || !cfg || !status) return -EINVAL;
    *meter = NULL;
    memset(status, 0, sizeof(*status));
    switch (cfg->mode) {
    case JG_ENERGY_MODE_OFF:
        return 0;
    case JG_ENERGY_MODE_ESTIMATE: {
        const int err = jg_meter_open_estimate(meter, cfg);
        if (!err) status->source = JG_ENERGY_SOURCE_ESTIMATE;
        return err;
    }
    case JG_ENERGY_MODE_RAPL: {
        const int err = jg_meter_open_rapl(meter, cfg, status);
        if (!err) status->source = JG_ENERGY_SOURCE_RAPL;
        return err;
    }
    case JG_ENERGY_MODE_AUTO: {
        int err = jg_meter_open_rapl(meter, cfg, status);
        if (!err) {
            status->source = JG_ENERGY_SOURCE_RAPL;
            return 0;
        }
        status->rapl_err = err;
        if (err == -ENOMEM || err == -EINVAL) return err;
        err = jg_meter_open_estimate(meter, cfg);
        if (err) return err;
        status->source = JG_ENERGY_SOURCE_ESTIMATE;
        status->fallback = 1;
        return 0;
    }
    }
    return -EINVAL;
}
