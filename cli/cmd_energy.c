/* SPDX-License-Identifier: MIT */
/*
 * cmd_energy.c - `joulegrad energy [--json]`: the energy sources found, their
 * zones, readable or not and why, units, wrap ranges, and the measured
 * counter update period and read cost of the selected meter.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_energy.h"

#define PROG "joulegrad energy"
#define UPDATE_CHANGES 16          /* counter changes timed per zone */
#define UPDATE_TIMEOUT_NS 500000000 /* per zone: a stuck counter gives up */
#define READ_COST_READS 4096

static void usage(FILE *f)
{
    fputs("usage: joulegrad energy [--json] [--energy auto|rapl|estimate|off]\n"
          "                        [--assume-watts W] [--idle-watts W]\n"
          "\n"
          "Lists the energy sources (rapl, estimate), their zones, whether each is\n"
          "readable and why not, units, wrap ranges, and the selected meter's\n"
          "measured update period and read cost.\n"
          "\n"
          "  --json            print JSON instead of text\n"
          "  --energy MODE     source to select (default auto: rapl, else estimate)\n"
          "  --assume-watts W  estimate: watts per busy core (default 10)\n"
          "  --idle-watts W    estimate: watts added per wall-clock second (default 0)\n",
          f);
}

// Watts >= 0, or > 0 when positive is set.
typedef struct {
    int64_t period_ns; /* measured; -1 when not measured */
    int err;
} zone_meas_t;

static void fmt_range(char *buf, size_t n, uint64_t range_uj)
{
    if (range_uj == 0)
        snprintf(buf, n, "none");
    else
        snprintf(buf, n, "%llu uJ (%.1f J)", (unsigned long long)range_uj,
                 (double)range_uj * 1e-6);
}

static cJSON *zone_json(const jg_zone_info_t *z, const zone_meas_t *meas)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", z->name);
    cJSON_AddStringToObject(o, "kind", jg_zone_kind_name(z->kind));
    cJSON_AddStringToObject(o, "path", z->path);
    cJSON_AddNumberToObject(o, "package", z->package);
    cJSON_AddNumberToObject(o, "parent", z->parent);
    cJSON_AddBoolToObject(o, "counted_in_total", z->counted);
    cJSON_AddBoolToObject(o, "readable", z->readable);
    cJSON_AddStringToObject(o, "status", jg_zone_status_name(z->status));
    if (z->err) cJSON_AddStringToObject(o, "error", strerror(-z->err));
    cJSON_AddStringToObject(o, "units", "uJ");
    cJSON_AddNumberToObject(o, "wrap_range_uj", (double)z->range_uj);
    cJSON_AddNumberToObject(o, "watchdog_window_ns", (double)z->window_ns);
    cJSON_AddNumberToObject(o, "nominal_update_period_ns", (double)z->update_period_ns);
    if (meas && meas->period_ns >= 0)
        cJSON_AddNumberToObject(o, "measured_update_period_ns", (double)meas->period_ns);
    else if (meas && meas->err)
        cJSON_AddStringToObject(o, "measured_update_period_error", strerror(-meas->err));
    return o;
}

// meas is NULL for zones listed but not opened (no period measured).
static void zone_text(const jg_zone_info_t *z, const zone_meas_t *meas)
{
    char range[64], period[96] = "";
    fmt_range(range, sizeof(range), z->range_uj);
    if (meas && meas->period_ns >= 0 && z->kind == JG_ZONE_CPU)
        snprintf(period, sizeof(period),
                 ", changes on every read (CPU time; median %lld ns between changes)",
                 (long long)meas->period_ns);
    else if (meas && meas->period_ns >= 0)
        snprintf(period, sizeof(period), ", update period %lld ns (measured, median of %d)",
                 (long long)meas->period_ns, UPDATE_CHANGES);
    else if (meas)
        snprintf(period, sizeof(period), ", update period not measured: %s",
                 meas->err ? strerror(-meas->err) : "zone not readable");
    printf("    %-10s %-8s %s%s%s, units uJ, wrap range %s, %s%s\n", z->name,
           jg_zone_kind_name(z->kind), z->readable ? "readable" : "NOT readable",
           z->readable ? "" : ": ", z->readable ? "" : jg_zone_status_name(z->status), range,
           z->counted ? "counted in total" : "inside its parent, not added", period);
}

int jg_cli_energy(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"energy", required_argument, NULL, 'e'},
        {"assume-watts", required_argument, NULL, 'w'},
        {"idle-watts", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    int json = 0;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int o = getopt_long(argc, argv, "", opts, NULL);
        if (o == -1) break;
        switch (o) {
        case 'j': json = 1; break;
        case 'e':
            if (jg_energy_mode_parse(optarg, &cfg.mode)) {
                fprintf(stderr, "joulegrad energy: --energy must be auto, rapl, estimate or "
                                "off, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'w':
            if (jg_cli_flag_watts(PROG, "--assume-watts", optarg, 0, &cfg.assume_w_per_core))
                return 2;
            break;
        case 'i':
            if (jg_cli_flag_watts(PROG, "--idle-watts", optarg, 1, &cfg.idle_w)) return 2;
            break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "joulegrad energy: bad option '%s'; run 'joulegrad energy --help'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulegrad energy: unexpected argument '%s'; run 'joulegrad energy "
                        "--help'\n", argv[optind]);
        return 2;
    }

    // Every source, whether or not it gets selected.
    jg_zone_info_t rz[JG_METER_MAX_ZONES];
    jg_energy_status_t rst;
    const int nr = jg_energy_rapl_probe(rz, JG_METER_MAX_ZONES, &rst);
    const int rapl_ok = nr > 0 && rst.reason[0] == '\0';

    jg_energy_status_t st;
    jg_meter_t *m = NULL;
    const int err = jg_meter_open(&m, &cfg, &st);
    if (err && cfg.mode != JG_ENERGY_MODE_RAPL) {
        fprintf(stderr, "joulegrad energy: cannot open the %s meter: %s\n",
                cfg.mode == JG_ENERGY_MODE_ESTIMATE ? "estimate" : "energy", strerror(-err));
        return 1;
    }
    const int nz = jg_meter_nzones(m);
    jg_zone_info_t mz[JG_METER_MAX_ZONES];
    zone_meas_t meas[JG_METER_MAX_ZONES];
    int64_t read_ns = -1;
    for (int z = 0; z < nz; z++) {
        jg_meter_zone_info(m, z, &mz[z]);
        meas[z].period_ns = -1;
        meas[z].err = mz[z].readable ? jg_meter_measure_update_ns(m, z, UPDATE_CHANGES,
                                                                  UPDATE_TIMEOUT_NS,
                                                                  &meas[z].period_ns)
                                     : 0;
        if (meas[z].err) meas[z].period_ns = -1;
    }
    if (m && jg_meter_measure_read_ns(m, READ_COST_READS, &read_ns)) read_ns = -1;
    const char *selected = jg_energy_source_name(jg_meter_source(m));
    const double w_core =
        cfg.assume_w_per_core > 0 ? cfg.assume_w_per_core : JG_ESTIMATE_DEFAULT_W_PER_CORE;
    static const char *const mode_names[] = {"auto", "rapl", "estimate", "off"};

    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "mode", mode_names[cfg.mode]);
        cJSON_AddStringToObject(root, "selected", err ? "none" : selected);
        cJSON_AddBoolToObject(root, "fallback", st.fallback);
        cJSON *srcs = cJSON_AddArrayToObject(root, "sources");
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "name", "rapl");
        cJSON_AddBoolToObject(r, "available", rapl_ok);
        if (!rapl_ok) {
            cJSON_AddStringToObject(r, "reason", rst.reason);
            cJSON_AddStringToObject(r, "fix", rst.fix);
        }
        cJSON *rzones = cJSON_AddArrayToObject(r, "zones");
        for (int z = 0; z < nr; z++) cJSON_AddItemToArray(rzones, zone_json(&rz[z], NULL));
        cJSON_AddItemToArray(srcs, r);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", "estimate");
        cJSON_AddBoolToObject(e, "available", 1);
        cJSON_AddNumberToObject(e, "assumed_w_per_busy_core", w_core);
        cJSON_AddNumberToObject(e, "idle_w", cfg.idle_w);
        cJSON_AddItemToArray(srcs, e);
        if (m) {
            cJSON *sel = cJSON_AddArrayToObject(root, "zones");
            for (int z = 0; z < nz; z++) {
                cJSON *zo = zone_json(&mz[z], &meas[z]);
                cJSON_AddStringToObject(zo, "source", selected);
                cJSON_AddItemToArray(sel, zo);
            }
            cJSON_AddNumberToObject(root, "read_cost_ns", (double)read_ns);
            cJSON_AddNumberToObject(root, "poll_interval_ns",
                                    (double)jg_meter_poll_interval_ns(m));
        }
        char *text = cJSON_Print(root);
        jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
        if (text) puts(text);
        free(text);
        cJSON_Delete(root);
        jg_meter_close(m);
        if (!text) return 1;
        return err ? 1 : 0;
    }

    printf("energy sources:\n");
    if (rapl_ok) {
        printf("  rapl      available, %d zone(s) in /sys/class/powercap/intel-rapl\n", nr);
    } else {
        printf("  rapl      not available: %s\n", rst.reason);
        printf("            fix: %s\n", rst.fix);
    }
    for (int z = 0; z < nr; z++) zone_text(&rz[z], NULL);
    printf("  estimate  available: %.3g W per busy core (assumed; --assume-watts), %.3g W idle "
           "(--idle-watts); every figure labelled estimate\n",
           w_core, cfg.idle_w);
    if (!m) {
        if (err)
            printf("selected: none (--energy rapl failed: %s)\n", strerror(-err));
        else
            printf("selected: none (--energy off)\n");
        return err ? 1 : 0;
    }
    if (st.fallback)
        printf("selected: %s (--energy auto fell back: rapl not available, see above)\n",
               selected);
    else
        printf("selected: %s (--energy %s)\n", selected, mode_names[cfg.mode]);
    printf("  zones:\n");
    for (int z = 0; z < nz; z++) zone_text(&mz[z], &meas[z]);
    if (read_ns >= 0)
        printf("  read cost: %lld ns per full meter read (median of %d batches of 16)\n",
               (long long)read_ns, READ_COST_READS / 16);
    const int64_t poll = jg_meter_poll_interval_ns(m);
    if (poll > 0)
        printf("  watchdog: read at least every %.3f s to unwrap counters\n", (double)poll * 1e-9);
    else
        printf("  watchdog: not needed (counters do not wrap)\n");
    jg_meter_close(m);
    return 0;
}
