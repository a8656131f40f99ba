/* SPDX-License-Identifier: MIT */
/*
 * rapl.c - RAPL energy counters through libpowercap (Intel; AMD Zen exposes
 * the same "intel-rapl" control type). Discovery walks the nested sysfs tree
 * (intel-rapl/intel-rapl:P/intel-rapl:P:S) with libpowercap's sysfs layer,
 * maps zones by their name file (package-N, core, uncore, dram, psys), keeps
 * one energy_uj descriptor open per zone (powercap_zone_file_open) and reads
 * it with one pread and a strict parse (no allocation).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <powercap/powercap-sysfs.h>
#include <powercap/powercap.h>

#include "internal.h"

#define RAPL_CONTROL_TYPE "intel-rapl"
#define POWERCAP_ROOT "/sys/class/powercap"
#define RAPL_MAX_INDEX 64 /* zone indices scanned per level */

typedef struct {
    powercap_zone pz;  /* only pz.energy_uj is opened */
    uint32_t ids[2];
    uint32_t depth;
} rapl_zone_t;

typedef struct {
    rapl_zone_t z[JG_METER_MAX_ZONES];
    int nzones;
} rapl_t;

static int64_t rapl_now(const jg_meter_t *m)
{
    (void)m;
    return jg_energy_clock_ns();
}

// Strict parse: libpowercap 0.6's reader turns garbage into 0 with success,
// which would look like a wrap; a bad read must be an error instead.
static int read_counter(int fd, uint64_t *raw_uj)
{
    char buf[32];
    const ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    if (n < 0) return -errno;
    if (n == 0) return -ENODATA;
    uint64_t v = 0;
    ssize_t i = 0;
    for (; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
        const uint64_t d = (uint64_t)(buf[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -ERANGE;
        v = v * 10 + d;
    }
    if (i == 0 || (i < n && buf[i] != '\n')) return -EBADMSG;
    *raw_uj = v;
    return 0;
}

static int rapl_read(jg_meter_t *m, int zone, int64_t t_ns, uint64_t *raw_uj)
{
    (void)t_ns;
    const rapl_t *r = m->backend;
    return read_counter(r->z[zone].pz.energy_uj, raw_uj);
}

static int rapl_exists(const jg_meter_t *m, int zone)
{
    const rapl_t *r = m->backend;
    return powercap_sysfs_zone_exists(RAPL_CONTROL_TYPE, r->z[zone].ids, r->z[zone].depth) == 0;
}

static void close_zones(rapl_t *r)
{
    for (int i = 0; i < r->nzones; i++)
        if (r->z[i].pz.energy_uj > 0) close(r->z[i].pz.energy_uj);
    r->nzones = 0;
}

static void rapl_destroy(jg_meter_t *m)
{
    if (m->backend) close_zones(m->backend);
    free(m->backend);
    m->backend = NULL;
}

static const jg_meter_ops_t rapl_ops = {
    .read_raw = rapl_read,
    .now_ns = rapl_now,
    .zone_exists = rapl_exists,
    .destroy = rapl_destroy,
};

static jg_zone_kind_t kind_of(const char *name, int *package)
{
    *package = -1;
    if (!strncmp(name, "package-", 8)) {
        *package = atoi(name + 8);
        return JG_ZONE_PACKAGE;
    }
    if (!strcmp(name, "core")) return JG_ZONE_CORE;
    if (!strcmp(name, "uncore")) return JG_ZONE_UNCORE;
    if (!strcmp(name, "dram")) return JG_ZONE_DRAM;
    if (!strcmp(name, "psys")) return JG_ZONE_PSYS;
    return JG_ZONE_OTHER;
}

static int running_in_vm(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return 0;
    char line[512];
    int vm = 0;
    while (!vm && fgets(line, sizeof(line), f))
        if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor")) vm = 1;
    fclose(f);
    return vm;
}

// Opens and test-reads one zone; info->err says why it is unreadable.
static void probe_zone(rapl_zone_t *rz, jg_zone_info_t *info, double max_power_w)
{
    char name[JG_ZONE_NAME_MAX] = "";
    if (powercap_sysfs_zone_get_name(RAPL_CONTROL_TYPE, rz->ids, rz->depth, name,
                                     sizeof(name)) <= 0)
        snprintf(name, sizeof(name), "zone");
    name[strcspn(name, "\n")] = '\0';
    memcpy(info->name, name, sizeof(name));
    info->kind = kind_of(name, &info->package);
    if (rz->depth == 1)
        snprintf(info->path, sizeof(info->path), RAPL_CONTROL_TYPE "/" RAPL_CONTROL_TYPE ":%u",
                 rz->ids[0]);
    else
        snprintf(info->path, sizeof(info->path),
                 RAPL_CONTROL_TYPE "/" RAPL_CONTROL_TYPE ":%u/" RAPL_CONTROL_TYPE ":%u:%u",
                 rz->ids[0], rz->ids[0], rz->ids[1]);
    info->update_period_ns = JG_RAPL_UPDATE_PERIOD_NS;
    uint64_t uw = 0;
    if (powercap_sysfs_zone_get_max_power_range_uw(RAPL_CONTROL_TYPE, rz->ids, rz->depth, &uw) ||
        uw == 0)
        uw = (uint64_t)(max_power_w * 1e6);
    info->max_power_uw = uw;

    int err = powercap_sysfs_zone_get_max_energy_range_uj(RAPL_CONTROL_TYPE, rz->ids, rz->depth,
                                                          &info->range_uj);
    if (err) {
        info->err = err < -1 ? err : -EIO;
        info->status = JG_ZONE_READ_ERROR;
        return;
    }
    memset(&rz->pz, 0, sizeof(rz->pz));
    errno = 0;
    const int fd = powercap_zone_file_open(&rz->pz, POWERCAP_ZONE_FILE_ENERGY_UJ,
                                           RAPL_CONTROL_TYPE, rz->ids, rz->depth, O_RDONLY);
    if (fd < 0) {
        info->err = fd < -1 ? fd : (errno ? -errno : -EIO);
        rz->pz.energy_uj = 0;
    } else {
        uint64_t v = 0;
        err = read_counter(fd, &v);
        if (err) info->err = err;
    }
    if (info->err) {
        info->status = info->err == -EACCES || info->err == -EPERM ? JG_ZONE_PERMISSION
                                                                     : JG_ZONE_READ_ERROR;
        return;
    }
    info->readable = 1;
    info->status = JG_ZONE_OK;
}

// Walks the tree into r and zones; returns the zone count or negative errno
// with status->reason/fix filled.
static int discover(rapl_t *r, jg_zone_info_t *zones, int max_zones, double max_power_w,
                    jg_energy_status_t *status)
{
    const char *vm = running_in_vm()
                         ? "; this is a virtual machine (cpuid hypervisor flag), which "
                           "normally exposes no RAPL"
                         : "";
    if (access(POWERCAP_ROOT, F_OK)) {
        jg_energy_text(status->reason,
                       "no " POWERCAP_ROOT ": this kernel exposes no powercap energy "
                       "counters%s",
                       vm);
        jg_energy_text(status->fix,
                       "on bare metal load the RAPL driver (sudo modprobe intel_rapl_msr; "
                       "AMD Zen uses it too); in a VM or container use --energy estimate "
                       "(--assume-watts W sets the watts per busy core)");
        return -ENODEV;
    }
    if (powercap_sysfs_control_type_exists(RAPL_CONTROL_TYPE)) {
        jg_energy_text(status->reason,
                       "no " RAPL_CONTROL_TYPE " zones in " POWERCAP_ROOT
                       ": the RAPL driver is not loaded%s",
                       vm);
        jg_energy_text(status->fix, "sudo modprobe intel_rapl_msr, or use --energy estimate");
        return -ENODEV;
    }
    int n = 0;
    for (uint32_t p = 0; p < RAPL_MAX_INDEX && n < max_zones; p++) {
        const uint32_t top[1] = {p};
        if (powercap_sysfs_zone_exists(RAPL_CONTROL_TYPE, top, 1)) continue;
        const int parent = n;
        r->z[n] = (rapl_zone_t){.ids = {p, 0}, .depth = 1};
        memset(&zones[n], 0, sizeof(zones[n]));
        zones[n].parent = -1;
        probe_zone(&r->z[n], &zones[n], max_power_w);
        n++;
        r->nzones = n;
        for (uint32_t s = 0; s < RAPL_MAX_INDEX && n < max_zones; s++) {
            const uint32_t sub[2] = {p, s};
            if (powercap_sysfs_zone_exists(RAPL_CONTROL_TYPE, sub, 2)) continue;
            r->z[n] = (rapl_zone_t){.ids = {p, s}, .depth = 2};
            memset(&zones[n], 0, sizeof(zones[n]));
            zones[n].parent = parent;
            probe_zone(&r->z[n], &zones[n], max_power_w);
            if (zones[n].package < 0) zones[n].package = zones[parent].package;
            n++;
            r->nzones = n;
        }
    }
    if (n == 0) {
        jg_energy_text(status->reason, "no zones under " POWERCAP_ROOT "/" RAPL_CONTROL_TYPE "%s",
                       vm);
        jg_energy_text(status->fix, "use --energy estimate");
        return -ENODEV;
    }
    jg_energy_mark_counted(zones, n);
    for (int i = 0; i < n; i++) {
        if (zones[i].readable) continue;
        if (zones[i].status == JG_ZONE_PERMISSION) {
            jg_energy_text(status->reason,
                           "permission denied on " POWERCAP_ROOT "/%s/energy_uj (RAPL "
                           "energy is root-only since Linux 5.10, CVE-2020-8694)",
                           zones[i].path);
            jg_energy_text(status->fix,
                           "give a group read access: sudo groupadd -f powercap && sudo chgrp "
                           "powercap " POWERCAP_ROOT "/intel-rapl:*/energy_uj && sudo chmod g+r "
                           POWERCAP_ROOT "/intel-rapl:*/energy_uj, then add your user to "
                           "group powercap (a udev rule keeps it across reboots); or run as "
                           "root");
        } else {
            jg_energy_text(status->reason, "cannot read " POWERCAP_ROOT "/%s/energy_uj: %s",
                           zones[i].path, strerror(-zones[i].err));
            jg_energy_text(status->fix, "check the RAPL driver (dmesg), or use --energy estimate");
        }
        return zones[i].err;
    }
    return n;
}

int jg_energy_rapl_probe(jg_zone_info_t *zones, int max_zones, jg_energy_status_t *status)
{
    if (!zones || !status || max_zones <= 0) return -EINVAL;
    memset(status, 0, sizeof(*status));
    rapl_t *r = calloc(1, sizeof(*r));
    if (!r) return -ENOMEM;
    if (max_zones > JG_METER_MAX_ZONES) max_zones = JG_METER_MAX_ZONES;
    int n = discover(r, zones, max_zones, JG_RAPL_ASSUMED_MAX_POWER_W, status);
    if (n < 0 && r->nzones > 0) n = r->nzones; /* list them, readable or not */
    for (int i = 0; i < n; i++) jg_energy_zone_window(&zones[i]);
    close_zones(r);
    free(r);
    return n;
}

int jg_meter_open_rapl(jg_meter_t **meter, const jg_energy_cfg_t *cfg, jg_energy_status_t *status)
{
    if (!meter || !cfg || !status) return -EINVAL;
    *meter = NULL;
    const double max_w = cfg->rapl_max_power_w > 0 ? cfg->rapl_max_power_w
                                                     : JG_RAPL_ASSUMED_MAX_POWER_W;
    rapl_t *r = calloc(1, sizeof(*r));
    jg_meter_t *m = jg_meter_alloc(JG_ENERGY_SOURCE_RAPL, &rapl_ops);
    if (!r || !m) {
        free(r);
        free(m);
        return -ENOMEM;
    }
    const int n = discover(r, m->info, JG_METER_MAX_ZONES, max_w, status);
    if (n < 0) {
        close_zones(r);
        free(r);
        free(m);
        return n;
    }
    m->backend = r;
    m->nzones = n;
    jg_meter_finish_open(m);
    *meter = m;
    return 0;
}
