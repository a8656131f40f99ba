/* SPDX-License-Identifier: MIT */
/*
 * sim.c - simulated meter for tests: each zone follows a scripted power
 * profile; its counter advances only at update ticks, in units of 2^-shift J
 * as RAPL does (15.3 uJ for shift 16, 61 uJ for shift 14), and wraps at a
 * configurable range. Time comes from a caller-owned virtual clock (exact,
 * fast tests) or from CLOCK_MONOTONIC_RAW relative to open.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SIM_SHIFT_MIN 12
#define SIM_SHIFT_MAX 20
#define SIM_DEFAULT_PERIOD_NS 1000000
#define POW5_12 244140625ull /* 1e12 = 2^12 * 5^12 */

typedef struct {
    jg_sim_cfg_t cfg;                 /* zones[].profile point into seg */
    jg_sim_segment_t seg[JG_METER_MAX_ZONES][JG_SIM_MAX_SEGMENTS];
    char names[JG_METER_MAX_ZONES][JG_ZONE_NAME_MAX];
    jg_sim_fault_t fault[JG_METER_MAX_ZONES];
    uint64_t frozen_uj[JG_METER_MAX_ZONES];
    uint64_t last_uj[JG_METER_MAX_ZONES];
    int64_t t0_ns;                    /* real-clock origin */
} sim_t;

static int64_t sim_period(const jg_sim_cfg_t *cfg)
{
    return cfg->update_period_ns > 0 ? cfg->update_period_ns : SIM_DEFAULT_PERIOD_NS;
}

// E(t) in picojoules (mW * ns = pJ); the profile repeats.
static uint64_t energy_pj(const jg_sim_zone_cfg_t *z, int64_t t)
{
    if (t <= 0) return 0;
    uint64_t cycle_ns = 0, cycle_pj = 0;
    for (int i = 0; i < z->nsegments; i++) {
        cycle_ns += (uint64_t)z->profile[i].duration_ns;
        cycle_pj += (uint64_t)z->profile[i].duration_ns * z->profile[i].power_mw;
    }
    const uint64_t n = (uint64_t)t / cycle_ns;
    uint64_t rem = (uint64_t)t % cycle_ns, e = n * cycle_pj;
    for (int i = 0; i < z->nsegments && rem > 0; i++) {
        const uint64_t d = (uint64_t)z->profile[i].duration_ns;
        const uint64_t part = rem < d ? rem : d;
        e += part * z->profile[i].power_mw;
        rem -= part;
    }
    return e;
}

// count = floor(E * 2^shift / 1e12 pJ); uj = floor(count * 1e6 / 2^shift).
static uint64_t quantise_uj(uint64_t e_pj, int shift)
{
    const uint64_t count = (e_pj << (shift - SIM_SHIFT_MIN)) / POW5_12;
    // 1e6 / 2^shift = 15625 / 2^(shift - 6)
    return count * 15625u >> (shift - 6);
}

static uint64_t range_of(const jg_sim_cfg_t *cfg, int zone)
{
    if (cfg->zones[zone].range_uj) return cfg->zones[zone].range_uj;
    return (uint64_t)15625u << (32 - (cfg->energy_unit_shift - 6)); /* 2^32 units */
}

uint64_t jg_sim_expected_uj(const jg_sim_cfg_t *cfg, int zone, int64_t t_ns)
{
    if (!cfg || zone < 0 || zone >= cfg->nzones) return 0;
    const int64_t p = sim_period(cfg);
    const int64_t tick = t_ns > 0 ? t_ns / p * p : 0;
    return quantise_uj(energy_pj(&cfg->zones[zone], tick), cfg->energy_unit_shift);
}

static int64_t sim_now(const jg_meter_t *m)
{
    const sim_t *s = m->backend;
    if (s->cfg.virtual_now_ns) return *s->cfg.virtual_now_ns;
    return jg_energy_clock_ns();
}

static int sim_read(jg_meter_t *m, int zone, int64_t t_ns, uint64_t *raw_uj)
{
    sim_t *s = m->backend;
    switch (s->fault[zone]) {
    case JG_SIM_FAULT_READ_ERROR: return -EIO;
    case JG_SIM_FAULT_GONE: return -ENODEV;
    case JG_SIM_FAULT_FREEZE:
        *raw_uj = s->frozen_uj[zone];
        return 0;
    case JG_SIM_FAULT_NONE: break;
    }
    const int64_t t = s->cfg.virtual_now_ns ? t_ns : t_ns - s->t0_ns;
    const uint64_t uj = jg_sim_expected_uj(&s->cfg, zone, t) % range_of(&s->cfg, zone);
    s->last_uj[zone] = uj;
    *raw_uj = uj;
    return 0;
}

static void sim_destroy(jg_meter_t *m)
{
    free(m->backend);
    m->backend = NULL;
}

static const jg_meter_ops_t sim_ops = {
    .read_raw = sim_read,
    .now_ns = sim_now,
    .zone_exists = NULL,
    .destroy = sim_destroy,
};

int jg_meter_sim_inject(jg_meter_t *meter, int zone, jg_sim_fault_t fault)
{
    if (!meter || meter->source != JG_ENERGY_SOURCE_SIM || zone < 0 || zone >= meter->nzones ||
        fault < JG_SIM_FAULT_NONE || fault > JG_SIM_FAULT_GONE)
        return -EINVAL;
    sim_t *s = meter->backend;
    s->fault[zone] = fault;
    s->frozen_uj[zone] = s->last_uj[zone];
    return 0;
}

int jg_meter_open_sim(jg_meter_t **meter, const jg_sim_cfg_t *cfg)
{
    if (!meter || !cfg) return -EINVAL;
    *meter = NULL;
    if (cfg->nzones < 1 || cfg->nzones > JG_METER_MAX_ZONES) return -EINVAL;
    if (cfg->energy_unit_shift < SIM_SHIFT_MIN || cfg->energy_unit_shift > SIM_SHIFT_MAX)
        return -EINVAL;
    if (cfg->update_period_ns < 0) return -EINVAL;
    uint64_t peak_mw = 0;
    for (int z = 0; z < cfg->nzones; z++) {
        const jg_sim_zone_cfg_t *zc = &cfg->zones[z];
        if (!zc->profile || zc->nsegments < 1 || zc->nsegments > JG_SIM_MAX_SEGMENTS)
            return -EINVAL;
        if (zc->parent < -1 || zc->parent >= cfg->nzones || zc->parent == z) return -EINVAL;
        for (int i = 0; i < zc->nsegments; i++) {
            if (zc->profile[i].duration_ns <= 0) return -EINVAL;
            if (zc->profile[i].power_mw > peak_mw) peak_mw = zc->profile[i].power_mw;
        }
    }
    sim_t *s = calloc(1, sizeof(*s));
    jg_meter_t *m = jg_meter_alloc(JG_ENERGY_SOURCE_SIM, &sim_ops);
    if (!s || !m) {
        free(s);
        free(m);
        return -ENOMEM;
    }
    s->cfg = *cfg;
    m->backend = s;
    m->nzones = cfg->nzones;
    const uint64_t max_mw = cfg->max_power_mw ? cfg->max_power_mw : peak_mw;
    for (int z = 0; z < cfg->nzones; z++) {
        jg_sim_zone_cfg_t *zc = &s->cfg.zones[z];
        memcpy(s->seg[z], zc->profile, (size_t)zc->nsegments * sizeof(jg_sim_segment_t));
        zc->profile = s->seg[z];
        strncpy(s->names[z], zc->name ? zc->name : "sim", JG_ZONE_NAME_MAX - 1);
        zc->name = s->names[z];
        jg_zone_info_t *info = &m->info[z];
        memcpy(info->name, s->names[z], JG_ZONE_NAME_MAX);
        info->kind = zc->kind;
        info->package = zc->package;
        info->parent = zc->parent;
        info->readable = 1;
        info->range_uj = range_of(cfg, z);
        info->max_power_uw = max_mw * 1000;
        info->update_period_ns = sim_period(cfg);
    }
    s->t0_ns = jg_energy_clock_ns();
    jg_meter_finish_open(m);
    *meter = m;
    return 0;
}
