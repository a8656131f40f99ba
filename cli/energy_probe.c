/* SPDX-License-Identifier: MIT */
/*
 * energy_probe.c - nn probes -> energy trace regions, and the per-layer /
 * per-type breakdown (tables, bar chart, CSVs, the summary.json `energy`
 * object). Region numbering and the step bracket: energy_probe.h. Method
 * and file formats: docs/energy.md.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "energy_probe.h"
#include "jg_common.h"

/* Layer types of the breakdown, in report order. */
enum { T_CONV, T_LINEAR, T_RELU, T_POOL, T_BATCHNORM, T_LOSS, T_OPTIMIZER, T_DATA, T_OTHER,
       NTYPES };
static const char *const type_name[NTYPES] = {"conv", "linear", "relu", "pool", "batchnorm",
                                              "loss", "optimizer", "data", "other"};
static const char *const phase_name[2] = {"forward", "backward"};
#define BAR_WIDTH 40
/* Points of the power-over-time series: when full, neighbours are merged
 * and each point covers twice as many steps, so memory stays fixed. */
#define PW_MAX_POINTS 4096


typedef struct {
    int layer;              /* model layer (n_layers: the loss), -1 optimizer/data */
    int backward;           /* 0 forward (also optimizer and data), 1 backward */
    int type;               /* T_* */
    const char *kind;       /* "conv2d", ..., "softmax_xent", "optimizer", "data" */
    double flops_per_image; /* 0 when not counted (optimizer, data) */
} region_desc_t;

/* One point of the power series: consecutive steps merged. */
typedef struct {
    uint64_t step;   /* first step, from 1 */
    double t_s;      /* its begin, s since the first step's begin */
    double busy_s;   /* sum of valid step brackets, s */
    double j;        /* energy inside them, J */
    int steps;       /* steps merged (valid or not) */
} pw_point_t;

/* Accumulated figures of one table row. */
typedef struct {
    uint64_t count;
    double j, s, flops;
    double zone_j[JG_METER_MAX_ZONES];
    int valid;
} row_t;

struct jg_cli_eprobe {
    jg_model_t *model;
    jg_meter_t *meter;
    jg_energy_trace_t *trace;
    int n_layers, nregions, nzones;
    int in_step;                 /* between DATA begin and OPTIMIZER end */
    region_desc_t *desc;         /* (nregions) */
    jg_region_energy_t *reg;     /* (nregions) results, filled by finish */
    row_t types[NTYPES][2];      /* [type][forward, backward] */
    jg_attrib_summary_t sum;
    jg_zone_info_t zones[JG_METER_MAX_ZONES];
    char zone_col[JG_METER_MAX_ZONES][JG_ZONE_NAME_MAX]; /* CSV-safe zone names */
    double w_per_core;
    int64_t images;
    uint64_t steps;
    int finished;
    /* Idle baseline (jg_cli_eprobe_idle). */
    int have_idle, idle_slices;
    double idle_w, idle_s, idle_noise_w, idle_min_w, idle_max_w;
    /* Power series from each step's own bracket. */
    pw_point_t *pw;              /* (PW_MAX_POINTS) */
    int npw, pw_stride;          /* points used; steps per point */
    int64_t t0_ns;               /* first step's begin */
    jg_energy_sample_t sb, se;   /* this step's bracket */
    int got_sb, got_se;
    /* Raw trace file. */
    FILE *tf;
    char *path, *part;
    int first_mark, werr;
};

static int region_of(const jg_cli_eprobe_t *ep, int layer, int phase)
{
    const int L = ep->n_layers;
    switch (phase) {
    case JG_NN_PHASE_FORWARD: return layer >= 0 && layer < L ? 2 * layer : -1;
    case JG_NN_PHASE_LOSS: return 2 * L;
    case JG_NN_PHASE_BACKWARD: return layer >= 0 && layer <= L ? 2 * layer + 1 : -1;
    case JG_NN_PHASE_OPTIMIZER: return 2 * L + 2;
    case JG_NN_PHASE_DATA: return 2 * L + 3;
    default: return -1;
    }
}

/* Hot path: one meter read each, into the trace's ring. A full ring drops
 * the mark and the trace counts it (the figures become invalid). */
static void on_begin(void *ctx, int layer, int phase)
{
    jg_cli_eprobe_t *ep = ctx;
    if (phase == JG_NN_PHASE_DATA) {
        jg_trace_begin(ep->trace, JG_TRACE_STEP);
        ep->in_step = 1;
    }
    if (!ep->in_step) return; /* validation or evaluation */
    const int r = region_of(ep, layer, phase);
    if (r >= 0) jg_trace_begin(ep->trace, r);
}

static void on_end(void *ctx, int layer, int phase)
{
    jg_cli_eprobe_t *ep = ctx;
    if (!ep->in_step) return;
    const int r = region_of(ep, layer, phase);
    if (r >= 0) jg_trace_end(ep->trace, r);
    if (phase == JG_NN_PHASE_OPTIMIZER) {
        jg_trace_end(ep->trace, JG_TRACE_STEP);
        ep->in_step = 0;
    }
}

static int type_of_group(const char *g)
{
    for (int t = 0; t < NTYPES; t++)
        if (!strcmp(g, type_name[t])) return t;
    return T_OTHER;
}

static char *dup_cat(const char *a, const char *b)
{
    const size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

/* The trace file's first line: everything needed to read the marks. */
static void write_header(jg_cli_eprobe_t *ep)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", "joulegrad-energy-trace");
    cJSON_AddNumberToObject(h, "version", 1);
    cJSON_AddStringToObject(h, "source", jg_energy_source_name(jg_meter_source(ep->meter)));
    if (jg_meter_source(ep->meter) == JG_ENERGY_SOURCE_ESTIMATE)
        cJSON_AddNumberToObject(h, "assumed_w_per_core", ep->w_per_core);
    cJSON_AddStringToObject(h, "energy_unit", "uJ");
    cJSON_AddStringToObject(h, "time_unit", "ns, CLOCK_MONOTONIC_RAW");
    cJSON *zs = cJSON_AddArrayToObject(h, "zones");
    for (int z = 0; z < ep->nzones; z++) {
        const jg_zone_info_t *zi = &ep->zones[z];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "index", z);
        cJSON_AddStringToObject(o, "name", zi->name);
        cJSON_AddStringToObject(o, "kind", jg_zone_kind_name(zi->kind));
        cJSON_AddNumberToObject(o, "package", zi->package);
        cJSON_AddNumberToObject(o, "parent", zi->parent);
        cJSON_AddBoolToObject(o, "counted", zi->counted);
        cJSON_AddNumberToObject(o, "range_uj", (double)zi->range_uj);
        cJSON_AddNumberToObject(o, "update_period_ns", (double)zi->update_period_ns);
        cJSON_AddItemToArray(zs, o);
    }
    cJSON *rs = cJSON_AddArrayToObject(h, "regions");
    for (int r = 0; r < ep->nregions; r++) {
        const region_desc_t *d = &ep->desc[r];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", r);
        cJSON_AddNumberToObject(o, "layer", d->layer);
        cJSON_AddStringToObject(o, "kind", d->kind);
        cJSON_AddStringToObject(o, "type", type_name[d->type]);
        cJSON_AddStringToObject(o, "phase", phase_name[d->backward]);
        cJSON_AddNumberToObject(o, "flops_per_image", d->flops_per_image);
        cJSON_AddItemToArray(rs, o);
    }
    cJSON_AddNumberToObject(h, "step_region", JG_TRACE_STEP);
    cJSON *cols = cJSON_AddArrayToObject(h, "mark_columns");
    cJSON_AddItemToArray(cols, cJSON_CreateString("region"));
    cJSON_AddItemToArray(cols, cJSON_CreateString("end"));
    cJSON_AddItemToArray(cols, cJSON_CreateString("t_ns"));
    for (int z = 0; z < ep->nzones; z++) {
        static const char *const f[4] = {"ext_uj", "raw_uj", "status", "epoch"};
        for (int k = 0; k < 4; k++) {
            char c[JG_ZONE_NAME_MAX + 16];
            snprintf(c, sizeof c, "%s.%s", ep->zones[z].name, f[k]);
            cJSON_AddItemToArray(cols, cJSON_CreateString(c));
        }
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text || fprintf(ep->tf, "%s\n", text) < 0) ep->werr = text ? -EIO : -ENOMEM;
    free(text);
}

int jg_cli_eprobe_create(jg_cli_eprobe_t **out, jg_model_t *model, jg_meter_t *meter,
                         const char *trace_path, double w_per_core)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (!model || !meter) return -EINVAL;
    const int L = jg_model_n_layers(model), nregions = 2 * L + 4;
    if (nregions > JG_TRACE_MAX_REGIONS) return -E2BIG;
    jg_cli_eprobe_t *ep = calloc(1, sizeof *ep);
    if (!ep) return -ENOMEM;
    ep->model = model;
    ep->meter = meter;
    ep->n_layers = L;
    ep->nregions = nregions;
    ep->w_per_core = w_per_core;
    ep->nzones = jg_meter_nzones(meter);
    ep->desc = calloc((size_t)nregions, sizeof *ep->desc);
    ep->reg = calloc((size_t)nregions, sizeof *ep->reg);
    ep->pw = calloc(PW_MAX_POINTS, sizeof *ep->pw);
    ep->pw_stride = 1;
    // Room for four steps of marks: one per flush is needed.
    int rc = ep->desc && ep->reg && ep->pw ? jg_trace_create(&ep->trace, meter, nregions,
                                                    4 * (2 * nregions + 2))
                                 : -ENOMEM;
    for (int z = 0; !rc && z < ep->nzones; z++) {
        rc = jg_meter_zone_info(meter, z, &ep->zones[z]);
        char *c = ep->zone_col[z];
        snprintf(c, JG_ZONE_NAME_MAX, "%s", ep->zones[z].name);
        for (; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-'))
                *c = '_';
    }
    for (int i = 0; !rc && i <= L; i++) {
        jg_layer_info_t li;
        rc = jg_model_layer(model, i, &li);
        const int t = type_of_group(li.group_name);
        ep->desc[2 * i] = (region_desc_t){i, 0, t, li.type_name, li.fwd_flops};
        ep->desc[2 * i + 1] = (region_desc_t){i, 1, t, li.type_name, li.bwd_flops};
    }
    if (!rc) {
        ep->desc[2 * L + 2] = (region_desc_t){-1, 0, T_OPTIMIZER, "optimizer", 0};
        ep->desc[2 * L + 3] = (region_desc_t){-1, 0, T_DATA, "data", 0};
    }
    if (!rc && trace_path) {
        ep->path = dup_cat(trace_path, "");
        ep->part = dup_cat(trace_path, ".part");
        if (!ep->path || !ep->part) rc = -ENOMEM;
        else if (!(ep->tf = fopen(ep->part, "w"))) rc = -errno;
        else write_header(ep);
        if (!rc) rc = ep->werr;
    }
    if (rc) {
        jg_cli_eprobe_destroy(ep);
        return rc;
    }
    const jg_nn_probe_t probe = {.ctx = ep, .begin = on_begin, .end = on_end};
    jg_model_set_probe(model, &probe);
    *out = ep;
    return 0;
}

void jg_cli_eprobe_destroy(jg_cli_eprobe_t *ep)
{
    if (!ep) return;
    if (ep->trace) jg_model_set_probe(ep->model, NULL);
    if (ep->tf) {
        fclose(ep->tf);
        remove(ep->part);
    }
    jg_trace_destroy(ep->trace);
    free(ep->desc);
    free(ep->reg);
    free(ep->pw);
    free(ep->path);
    free(ep->part);
    free(ep);
}

/* Keeps the step bracket's samples for the power series and writes every
 * mark to the trace file when there is one. */
static void visit_mark(void *ctx, int region, int end, const jg_energy_sample_t *s)
{
    jg_cli_eprobe_t *ep = ctx;
    if (region == JG_TRACE_STEP && end) {
        ep->se = *s;
        ep->got_se = 1;
    } else if (region == JG_TRACE_STEP) {
        ep->sb = *s;
        ep->got_sb = 1;
    }
    FILE *f = ep->tf;
    if (!f || ep->werr) return;
    fprintf(f, "%s[%d,%d,%lld", ep->first_mark ? "" : ",", region, end, (long long)s->t_ns);
    for (int z = 0; z < ep->nzones; z++)
        fprintf(f, ",%llu,%llu,%u,%u", (unsigned long long)s->ext_uj[z],
                (unsigned long long)s->raw_uj[z], (unsigned)s->status[z], (unsigned)s->epoch[z]);
    fputc(']', f);
    ep->first_mark = 0;
}

/* Adds this step's bracket (E and t between its two marks) to the power
 * series; a faulted step adds time to the point but no joules. */
static void add_power_point(jg_cli_eprobe_t *ep)
{
    if (!ep->got_sb || !ep->got_se) return; /* a mark was dropped */
    jg_energy_figure_t fig;
    if (jg_meter_figure(ep->meter, &ep->sb, &ep->se, JG_ZONE_TOTAL, &fig)) return;
    if (!ep->npw) ep->t0_ns = ep->sb.t_ns;
    if (ep->npw == PW_MAX_POINTS && ep->pw[ep->npw - 1].steps >= ep->pw_stride) {
        for (int i = 0; i < ep->npw / 2; i++) {
            pw_point_t a = ep->pw[2 * i];
            const pw_point_t *b = &ep->pw[2 * i + 1];
            a.busy_s += b->busy_s;
            a.j += b->j;
            a.steps += b->steps;
            ep->pw[i] = a;
        }
        ep->npw /= 2;
        ep->pw_stride *= 2;
    }
    if (!ep->npw || ep->pw[ep->npw - 1].steps >= ep->pw_stride)
        ep->pw[ep->npw++] = (pw_point_t){ep->steps, 1e-9 * (double)(ep->sb.t_ns - ep->t0_ns),
                                         0, 0, 0};
    pw_point_t *p = &ep->pw[ep->npw - 1];
    p->steps++;
    if (fig.valid) {
        p->busy_s += 1e-9 * (double)(ep->se.t_ns - ep->sb.t_ns);
        p->j += fig.j;
    }
}

int jg_cli_eprobe_step_done(jg_cli_eprobe_t *ep, int images)
{
    if (!ep || images < 0) return -EINVAL;
    ep->steps++;
    ep->images += images;
    ep->got_sb = ep->got_se = 0;
    if (ep->tf && !ep->werr) {
        fprintf(ep->tf, "{\"step\":%llu,\"images\":%d,\"marks\":[",
                (unsigned long long)ep->steps, images);
        ep->first_mark = 1;
    }
    jg_trace_visit(ep->trace, visit_mark, ep);
    if (ep->tf && !ep->werr && fputs("]}\n", ep->tf) < 0) ep->werr = -EIO;
    add_power_point(ep);
    jg_trace_flush(ep->trace);
    return ep->werr;
}

/* Sleeps until CLOCK_MONOTONIC reaches t_ns (a signal resumes the sleep). */
static void sleep_until_ns(int64_t t_ns)
{
    const struct timespec t = {(time_t)(t_ns / 1000000000), (long)(t_ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
    }
}

int jg_cli_eprobe_idle(jg_cli_eprobe_t *ep, double seconds)
{
    if (!ep || !(seconds > 0 && seconds <= 3600) || ep->steps) return -EINVAL;
    const int n = (int)ceil(seconds / JG_CLI_IDLE_SLICE_S - 1e-9);
    const int64_t slice_ns = (int64_t)(seconds / n * 1e9);
    jg_energy_sample_t first, prev, cur;
    jg_energy_figure_t fig;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t due_ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec +
                     (int64_t)(JG_CLI_IDLE_SETTLE_S * 1e9);
    sleep_until_ns(due_ns);
    jg_meter_read(ep->meter, &first);
    prev = first;
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    int ok = 1;
    for (int k = 1; k <= n && ok; k++) {
        due_ns += slice_ns;
        sleep_until_ns(due_ns);
        jg_meter_read(ep->meter, &cur);
        jg_meter_figure(ep->meter, &prev, &cur, JG_ZONE_TOTAL, &fig);
        ok = fig.valid && fig.dt_s > 0;
        const double w = ok ? fig.j / fig.dt_s : 0;
        sum += w;
        sum2 += w * w;
        lo = fmin(lo, w);
        hi = fmax(hi, w);
        prev = cur;
    }
    jg_meter_figure(ep->meter, &first, &cur, JG_ZONE_TOTAL, &fig);
    if (!ok || !fig.valid || !(fig.dt_s > 0)) return -EIO;
    const double mean = sum / n;
    ep->have_idle = 1;
    ep->idle_slices = n;
    ep->idle_s = fig.dt_s;
    ep->idle_w = fig.j / fig.dt_s;
    ep->idle_noise_w = n > 1 ? sqrt(fmax(0, (sum2 - n * mean * mean) / (n - 1))) : 0;
    ep->idle_min_w = lo;
    ep->idle_max_w = hi;
    return 0;
}

static void add_row(row_t *row, const jg_region_energy_t *re, double flops, int nzones)
{
    row->count += re->count;
    row->j += re->j;
    row->s += re->seconds;
    row->flops += flops;
    for (int z = 0; z < nzones; z++) row->zone_j[z] += re->zone_j[z];
    if (!re->valid) row->valid = 0;
}

int jg_cli_eprobe_finish(jg_cli_eprobe_t *ep)
{
    if (!ep || ep->finished) return -EINVAL;
    jg_trace_flush(ep->trace);
    int rc = jg_trace_result(ep->trace, &ep->sum, ep->reg, ep->nregions);
    if (rc) return rc;
    for (int t = 0; t < NTYPES; t++) ep->types[t][0].valid = ep->types[t][1].valid = 1;
    for (int r = 0; r < ep->nregions; r++) {
        const region_desc_t *d = &ep->desc[r];
        add_row(&ep->types[d->type][d->backward], &ep->reg[r],
                d->flops_per_image * (double)ep->images, ep->nzones);
    }
    if (ep->tf) {
        rc = ep->werr;
        if (!rc && (fflush(ep->tf) || fsync(fileno(ep->tf)))) rc = -errno;
        if (fclose(ep->tf) && !rc) rc = -errno;
        ep->tf = NULL;
        if (!rc && rename(ep->part, ep->path)) rc = -errno;
        if (rc) remove(ep->part);
    }
    ep->finished = 1;
    return rc;
}

void jg_cli_eprobe_totals(const jg_cli_eprobe_t *ep, double *total_j, double *seconds,
                          int *valid)
{
    *total_j = ep->sum.step_j;
    *seconds = ep->sum.step_s;
    *valid = ep->sum.valid;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

static int is_estimate(const jg_cli_eprobe_t *ep)
{
    return ep->sum.source == JG_ENERGY_SOURCE_ESTIMATE;
}

static double share(const jg_cli_eprobe_t *ep, double j)
{
    return ep->sum.step_j > 0 ? j / ep->sum.step_j : 0;
}

/* Whether accumulated seconds span fewer than JG_ATTRIB_MIN_PERIODS updates. */
static int aggregated_s(const jg_cli_eprobe_t *ep, double s)
{
    return ep->sum.update_period_ns > 0 &&
           s < JG_ATTRIB_MIN_PERIODS * 1e-9 * (double)ep->sum.update_period_ns;
}

/* Net of idle: j - idle_w * s (J); meaningful only with a baseline. */
static double net(const jg_cli_eprobe_t *ep, double j, double s)
{
    return j - ep->idle_w * s;
}

/* Seconds inside the steps but in no region. */
static double unattributed_s(const jg_cli_eprobe_t *ep)
{
    double region_s = 0;
    for (int r = 0; r < ep->nregions; r++) region_s += ep->reg[r].seconds;
    return ep->sum.step_s - region_s;
}

/* One line about the idle baseline, or that there is none. */
static void idle_line(const jg_cli_eprobe_t *ep, char *buf, size_t cap)
{
    const char *src = jg_energy_source_name(ep->sum.source);
    if (!ep->have_idle) {
        snprintf(buf, cap, "idle: not measured (--idle-seconds S); every figure is gross "
                           "(idle power included)");
        return;
    }
    snprintf(buf, cap, "idle: %.3f W (%s%s) over %.3f s, noise %.3f W (std of %d slices; "
                       "%.3f..%.3f W); net J = J - idle W x seconds",
             ep->idle_w, src, is_estimate(ep) ? ": the estimate's modelled idle, not a "
                                                "measurement" : "",
             ep->idle_s, ep->idle_noise_w, ep->idle_slices, ep->idle_min_w, ep->idle_max_w);
}

/* One line that says where every figure comes from. */
static void source_line(const jg_cli_eprobe_t *ep, char *buf, size_t cap)
{
    const char *src = jg_energy_source_name(ep->sum.source);
    char what[160];
    if (is_estimate(ep))
        snprintf(what, sizeof what, "CPU time x %g W per busy core, an assumption, not a "
                                    "measurement", ep->w_per_core);
    else
        snprintf(what, sizeof what, "counters read around every region");
    snprintf(buf, cap, "source: %s (%s); method %s; %llu steps, %lld images, %.3f s bracketed; "
                       "closure %.3f%s%s",
             src, what, jg_attrib_method_name(ep->sum.method),
             (unsigned long long)ep->sum.steps, (long long)ep->images, ep->sum.step_s,
             ep->sum.closure, ep->sum.valid ? "" : "; INVALID: ",
             ep->sum.valid ? "" : jg_zone_status_name(ep->sum.why));
}

static void fmt_opt(char *buf, size_t cap, const char *fmt, double v, int have)
{
    if (have) snprintf(buf, cap, fmt, v);
    else snprintf(buf, cap, "-");
}

void jg_cli_eprobe_print(const jg_cli_eprobe_t *ep, FILE *f)
{
    char line[512], w[32], jg[32];
    source_line(ep, line, sizeof line);
    const char *src = jg_energy_source_name(ep->sum.source);
    fprintf(f, "energy by layer type [%s]\n  %s\n", src, line);
    idle_line(ep, line, sizeof line);
    fprintf(f, "  %s\n", line);
    const int ni = ep->have_idle; /* adds a "net J" column */
    fprintf(f, "  %-10s %10s %10s %10s", "type", "fwd J", "bwd J", "total J");
    if (ni) fprintf(f, " %10s", "net J");
    fprintf(f, " %7s %9s %8s %10s %9s\n", "share", "seconds", "avg W", "GFLOP", "J/GFLOP");
    for (int t = 0; t < NTYPES; t++) {
        const row_t *a = &ep->types[t][0], *b = &ep->types[t][1];
        if (!a->count && !b->count) continue;
        const double j = a->j + b->j, s = a->s + b->s, fl = a->flops + b->flops;
        fmt_opt(w, sizeof w, "%8.2f", s > 0 ? j / s : 0, s > 0);
        fmt_opt(jg, sizeof jg, "%9.3f", fl > 0 ? j / (fl * 1e-9) : 0, fl > 0);
        fprintf(f, "  %-10s %10.4f %10.4f %10.4f", type_name[t], a->j, b->j, j);
        if (ni) fprintf(f, " %10.4f", net(ep, j, s));
        fprintf(f, " %6.1f%% %9.4f %8s %10.3f %9s%s%s\n", 100 * share(ep, j), s, w, fl * 1e-9,
                jg, aggregated_s(ep, s) ? " aggregated" : "",
                a->valid && b->valid ? "" : " invalid");
    }
    const double un = ep->sum.step_j - ep->sum.regions_j;
    fprintf(f, "  %-10s %10s %10s %10.4f", "unattrib.", "", "", un);
    if (ni) fprintf(f, " %10.4f", net(ep, un, unattributed_s(ep)));
    fprintf(f, " %6.1f%%   (between regions inside the steps)\n", 100 * share(ep, un));
    fprintf(f, "  %-10s %10s %10s %10.4f", "total", "", "", ep->sum.step_j);
    if (ni) fprintf(f, " %10.4f", net(ep, ep->sum.step_j, ep->sum.step_s));
    fprintf(f, " %6.1f%% %9.4f %8.2f\n", ep->sum.step_j > 0 ? 100.0 : 0.0, ep->sum.step_s,
            ep->sum.step_s > 0 ? ep->sum.step_j / ep->sum.step_s : 0);
    if (ep->nzones > 1) {
        fprintf(f, "  per zone (J) [%s]:\n  %-10s", src, "type");
        for (int z = 0; z < ep->nzones; z++) fprintf(f, " %12.12s", ep->zones[z].name);
        fputc('\n', f);
        for (int t = 0; t < NTYPES; t++) {
            if (!ep->types[t][0].count && !ep->types[t][1].count) continue;
            fprintf(f, "  %-10s", type_name[t]);
            for (int z = 0; z < ep->nzones; z++)
                fprintf(f, " %12.4f", ep->types[t][0].zone_j[z] + ep->types[t][1].zone_j[z]);
            fputc('\n', f);
        }
    }

    fprintf(f, "\nenergy by layer [%s]\n", src);
    fprintf(f, "  %5s %-13s %-8s %10s", "layer", "kind", "phase", "J");
    if (ni) fprintf(f, " %10s", "net J");
    fprintf(f, " %7s %9s %8s %10s %9s\n", "share", "seconds", "avg W", "GFLOP", "J/GFLOP");
    for (int r = 0; r < ep->nregions; r++) {
        const region_desc_t *d = &ep->desc[r];
        const jg_region_energy_t *re = &ep->reg[r];
        if (!re->count) continue;
        const double fl = d->flops_per_image * (double)ep->images;
        char idx[16];
        if (d->layer >= 0) snprintf(idx, sizeof idx, "%d", d->layer);
        else snprintf(idx, sizeof idx, "-");
        fmt_opt(w, sizeof w, "%8.2f", re->seconds > 0 ? re->j / re->seconds : 0,
                re->seconds > 0);
        fmt_opt(jg, sizeof jg, "%9.3f", fl > 0 ? re->j / (fl * 1e-9) : 0, fl > 0);
        fprintf(f, "  %5s %-13s %-8s %10.4f", idx, d->kind, phase_name[d->backward], re->j);
        if (ni) fprintf(f, " %10.4f", net(ep, re->j, re->seconds));
        fprintf(f, " %6.1f%% %9.4f %8s %10.3f %9s%s%s\n", 100 * share(ep, re->j), re->seconds,
                w, fl * 1e-9, jg, re->aggregated ? " aggregated" : "",
                re->valid ? "" : " invalid");
    }

    // Bar chart: one bar per type, '#' forward and '=' backward, scaled to the total.
    fprintf(f, "\nshare of step energy by type [%s]  ('#' forward, '=' backward)\n", src);
    for (int t = 0; t < NTYPES; t++) {
        const row_t *a = &ep->types[t][0], *b = &ep->types[t][1];
        if (!a->count && !b->count) continue;
        const int nf = (int)lround(BAR_WIDTH * share(ep, a->j));
        const int nb = (int)lround(BAR_WIDTH * share(ep, a->j + b->j)) - nf;
        char bar[BAR_WIDTH + 1];
        int k = 0;
        for (int i = 0; i < nf && k < BAR_WIDTH; i++) bar[k++] = '#';
        for (int i = 0; i < nb && k < BAR_WIDTH; i++) bar[k++] = '=';
        while (k < BAR_WIDTH) bar[k++] = ' ';
        bar[k] = '\0';
        fprintf(f, "  %-10s |%s| %5.1f%%\n", type_name[t], bar, 100 * share(ep, a->j + b->j));
    }
}

/* "%.9g", or empty when not have. */
static void csv_num(char *buf, size_t cap, double v, int have)
{
    if (have && isfinite(v)) snprintf(buf, cap, "%.9g", v);
    else buf[0] = '\0';
}


/* The figures shared by both CSVs after the identifying columns. */
static void csv_figures(jg_sbuf_t *b, const jg_cli_eprobe_t *ep, uint64_t count, double s,
                        double j, double flops, int aggregated, int valid, const double *zone_j)
{
    char js[32], sh[32], w[32], fl[32], jg[32];
    csv_num(js, sizeof js, j, valid);
    csv_num(sh, sizeof sh, share(ep, j), valid);
    csv_num(w, sizeof w, s > 0 ? j / s : 0, valid && s > 0);
    csv_num(fl, sizeof fl, flops, flops > 0);
    csv_num(jg, sizeof jg, flops > 0 ? j / (flops * 1e-9) : 0, valid && flops > 0);
    jg_sb_printf(b, "%llu,%.9g,%s,%s,%s,%s,%s,%d,%d", (unsigned long long)count, s, js, sh, w, fl,
              jg, aggregated, valid);
    csv_num(js, sizeof js, net(ep, j, s), valid && ep->have_idle);
    jg_sb_printf(b, ",%s", js);
    for (int z = 0; z < ep->nzones; z++) {
        csv_num(js, sizeof js, zone_j ? zone_j[z] : 0, valid && zone_j);
        jg_sb_printf(b, ",%s", js);
    }
    jg_sb_printf(b, "\n");
}

static void csv_header(jg_sbuf_t *b, const jg_cli_eprobe_t *ep, const char *ident)
{
    jg_sb_printf(b, "source,method,%s,count,seconds,joules,share,avg_w,flops,j_per_gflop,"
                 "aggregated,valid,net_joules", ident);
    for (int z = 0; z < ep->nzones; z++) jg_sb_printf(b, ",zone_%s_j", ep->zone_col[z]);
    jg_sb_printf(b, "\n");
}


int jg_cli_eprobe_write_csv(const jg_cli_eprobe_t *ep, const char *dir)
{
    if (!ep || !dir || !ep->finished) return -EINVAL;
    const char *src = jg_energy_source_name(ep->sum.source);
    const char *method = jg_attrib_method_name(ep->sum.method);
    jg_sbuf_t b = {0};
    csv_header(&b, ep, "layer,kind,type,phase");
    for (int r = 0; r < ep->nregions; r++) {
        const region_desc_t *d = &ep->desc[r];
        const jg_region_energy_t *re = &ep->reg[r];
        jg_sb_printf(&b, "%s,%s,%d,%s,%s,%s,", src, method, d->layer, d->kind,
                  type_name[d->type], phase_name[d->backward]);
        csv_figures(&b, ep, re->count, re->seconds, re->j,
                    d->flops_per_image * (double)ep->images, re->aggregated, re->valid,
                    re->zone_j);
    }
    int rc = jg_sb_write(dir, "energy_layers.csv", &b);
    if (rc) return rc;

    jg_sbuf_t t = {0};
    csv_header(&t, ep, "type,phase");
    for (int k = 0; k < NTYPES; k++)
        for (int p = 0; p < 2; p++) {
            const row_t *row = &ep->types[k][p];
            if (!row->count) continue;
            jg_sb_printf(&t, "%s,%s,%s,%s,", src, method, type_name[k], phase_name[p]);
            csv_figures(&t, ep, row->count, row->s, row->j, row->flops,
                        aggregated_s(ep, row->s), row->valid, row->zone_j);
        }
    // Inside the steps but in no region; with the rows it adds up to the total.
    jg_sb_printf(&t, "%s,%s,unattributed,none,", src, method);
    csv_figures(&t, ep, ep->sum.steps, unattributed_s(ep),
                ep->sum.step_j - ep->sum.regions_j, 0, 0, ep->sum.valid, NULL);
    return jg_sb_write(dir, "energy_types.csv", &t);
}

/* A number, or null when not valid. */
static void add_num(cJSON *o, const char *key, double v, int valid)
{
    if (valid && isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

cJSON *jg_cli_eprobe_json(const jg_cli_eprobe_t *ep)
{
    if (!ep || !ep->finished) return NULL;
    const jg_attrib_summary_t *s = &ep->sum;
    cJSON *en = cJSON_CreateObject();
    if (!en) return NULL;
    cJSON_AddStringToObject(en, "source", jg_energy_source_name(s->source));
    cJSON_AddStringToObject(en, "status", s->valid ? "ok" : jg_zone_status_name(s->why));
    cJSON_AddBoolToObject(en, "valid", s->valid);
    add_num(en, "total_j", s->step_j, s->valid);
    cJSON_AddNumberToObject(en, "seconds", s->step_s);
    cJSON_AddStringToObject(en, "scope", "training steps only, each bracketed from data "
                                         "gathering to the end of the optimizer step");
    cJSON_AddNumberToObject(en, "steps", (double)s->steps);
    cJSON_AddNumberToObject(en, "images", (double)ep->images);
    const int ni = ep->have_idle;
    if (ni) {
        cJSON_AddNumberToObject(en, "idle_w", ep->idle_w);
        cJSON_AddNumberToObject(en, "idle_seconds", ep->idle_s);
        cJSON_AddNumberToObject(en, "idle_noise_w", ep->idle_noise_w);
        cJSON_AddNumberToObject(en, "idle_min_w", ep->idle_min_w);
        cJSON_AddNumberToObject(en, "idle_max_w", ep->idle_max_w);
        cJSON_AddNumberToObject(en, "idle_slices", ep->idle_slices);
        cJSON_AddStringToObject(en, "idle_source", jg_energy_source_name(s->source));
        add_num(en, "net_total_j", net(ep, s->step_j, s->step_s), s->valid);
        add_num(en, "net_unattributed_j",
                net(ep, s->step_j - s->regions_j, unattributed_s(ep)), s->valid);
    } else {
        cJSON_AddNullToObject(en, "idle_w");
    }
    char notes[1024];
    snprintf(notes, sizeof notes, "%s by_type: optimizer and data have no backward pass, their "
                                  "energy is in forward_j (backward_j 0); loss forward_j is the "
                                  "softmax cross-entropy forward, backward_j its gradient. "
                                  "by_type plus unattributed_j adds up to total_j.",
             !ni ? "idle_w is null: no idle baseline was measured (--idle-seconds S), so every "
                   "figure is gross (idle power included)."
             : s->source == JG_ENERGY_SOURCE_ESTIMATE
                 ? "idle_w is the estimate's modelled idle power while the process slept (plus "
                   "the wake-ups' CPU time), not a measurement. *_net_j = gross - idle_w x "
                   "seconds; the gross figures include idle power."
                 : "idle_w was measured over idle_seconds before training, idle_noise_w is the "
                   "standard deviation of its slices. *_net_j = gross - idle_w x seconds (may "
                   "be negative within the noise); the gross figures include idle power.");
    cJSON_AddStringToObject(en, "notes", notes);
    cJSON_AddStringToObject(en, "method", jg_attrib_method_name(s->method));
    add_num(en, "closure", s->closure, s->valid);
    add_num(en, "regions_j", s->regions_j, s->valid);
    add_num(en, "unattributed_j", s->step_j - s->regions_j, s->valid);
    cJSON_AddNumberToObject(en, "update_period_ns", (double)s->update_period_ns);
    cJSON_AddNumberToObject(en, "dropped_marks", (double)s->dropped);
    int any_agg = 0;
    for (int r = 0; r < ep->nregions; r++) any_agg |= ep->reg[r].count && ep->reg[r].aggregated;
    cJSON_AddBoolToObject(en, "aggregated", any_agg);
    if (s->source == JG_ENERGY_SOURCE_ESTIMATE) {
        cJSON_AddStringToObject(en, "estimate_model", "process CPU time x assumed watts per "
                                                      "busy core (not a measurement)");
        cJSON_AddNumberToObject(en, "assumed_w_per_core", ep->w_per_core);
    }
    cJSON *zs = cJSON_AddArrayToObject(en, "zones");
    for (int z = 0; z < ep->nzones; z++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", ep->zones[z].name);
        cJSON_AddStringToObject(o, "kind", jg_zone_kind_name(ep->zones[z].kind));
        cJSON_AddBoolToObject(o, "counted", ep->zones[z].counted);
        cJSON_AddItemToArray(zs, o);
    }
    cJSON *bt = cJSON_AddObjectToObject(en, "by_type");
    for (int t = 0; t < NTYPES; t++) {
        const row_t *a = &ep->types[t][0], *b = &ep->types[t][1];
        cJSON *o = cJSON_AddObjectToObject(bt, type_name[t]);
        add_num(o, "forward_j", a->j, a->valid);
        add_num(o, "backward_j", b->j, b->valid);
        if (ni) {
            add_num(o, "forward_net_j", net(ep, a->j, a->s), a->valid);
            add_num(o, "backward_net_j", net(ep, b->j, b->s), b->valid);
        }
        cJSON_AddNumberToObject(o, "forward_s", a->s);
        cJSON_AddNumberToObject(o, "backward_s", b->s);
        add_num(o, "share", share(ep, a->j + b->j), a->valid && b->valid);
        cJSON_AddNumberToObject(o, "flops", a->flops + b->flops);
        cJSON_AddBoolToObject(o, "aggregated", (a->count || b->count) &&
                                                   aggregated_s(ep, a->s + b->s));
    }
    cJSON *ls = cJSON_AddArrayToObject(en, "layers");
    for (int r = 0; r < ep->nregions; r++) {
        const region_desc_t *d = &ep->desc[r];
        const jg_region_energy_t *re = &ep->reg[r];
        const double fl = d->flops_per_image * (double)ep->images;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", d->layer);
        cJSON_AddStringToObject(o, "kind", d->kind);
        cJSON_AddStringToObject(o, "type", type_name[d->type]);
        cJSON_AddStringToObject(o, "phase", phase_name[d->backward]);
        cJSON_AddNumberToObject(o, "count", (double)re->count);
        add_num(o, "j", re->j, re->valid);
        if (ni) add_num(o, "net_j", net(ep, re->j, re->seconds), re->valid);
        add_num(o, "share", share(ep, re->j), re->valid);
        cJSON_AddNumberToObject(o, "seconds", re->seconds);
        add_num(o, "avg_w", re->seconds > 0 ? re->j / re->seconds : 0,
                re->valid && re->seconds > 0);
        cJSON_AddNumberToObject(o, "flops", fl);
        add_num(o, "j_per_gflop", fl > 0 ? re->j / (fl * 1e-9) : 0, re->valid && fl > 0);
        cJSON_AddBoolToObject(o, "aggregated", re->aggregated);
        cJSON_AddBoolToObject(o, "valid", re->valid);
        if (ep->nzones > 1) {
            cJSON *zj = cJSON_AddObjectToObject(o, "zone_j");
            for (int z = 0; z < ep->nzones; z++)
                add_num(zj, ep->zones[z].name, re->zone_j[z], re->valid);
        }
        cJSON_AddItemToArray(ls, o);
    }
    return en;
}

/* ---- gnuplot figures ---------------------------------------------------- */

int jg_cli_eprobe_write_figures(const jg_cli_eprobe_t *ep, const char *dir, char *msg,
                                size_t cap)
{
    if (!ep || !dir || !msg || !cap || !ep->finished) return -EINVAL;
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) return -errno;
    const char *src = jg_energy_source_name(ep->sum.source);
    char idle[160];
    if (ep->have_idle)
        snprintf(idle, sizeof idle, "idle baseline %.3g W (%s), noise %.3g W", ep->idle_w, src,
                 ep->idle_noise_w);
    else
        snprintf(idle, sizeof idle, "gross: idle power included (no baseline)");

    // energy_types: gross joules per type, forward stacked under backward.
    jg_sbuf_t d = {0};
    jg_sb_printf(&d, "# joulegrad energy by layer type [source: %s], J inside the training steps; "
                  "%s\n# type forward_j backward_j forward_net_j backward_net_j\n", src, idle);
    for (int t = 0; t < NTYPES; t++) {
        const row_t *a = &ep->types[t][0], *b = &ep->types[t][1];
        if (!a->count && !b->count) continue;
        if (ep->have_idle)
            jg_sb_printf(&d, "%s %.9g %.9g %.9g %.9g\n", type_name[t], a->j, b->j,
                      net(ep, a->j, a->s), net(ep, b->j, b->s));
        else
            jg_sb_printf(&d, "%s %.9g %.9g NaN NaN\n", type_name[t], a->j, b->j);
    }
    int rc = jg_sb_write(dir, "energy_types.dat", &d);
    jg_sbuf_t g = {0};
    jg_gp_head(&g, absdir, "joules by layer type, forward vs backward", "energy_types");
    jg_sb_printf(&g, "set title \"energy by layer type, forward vs backward [source: %s]\\n"
                  "%llu steps, %lld images, %.3f J in %.3f s; %s\"\n"
                  "set style data histograms\n"
                  "set style histogram rowstacked\n"
                  "set style fill solid 0.85 border -1\n"
                  "set boxwidth 0.7\n"
                  "set ylabel 'energy (J)'\n"
                  "set yrange [0:*]\n"
                  "set grid ytics\n"
                  "set key top right\n"
                  "plot dir.'/energy_types.dat' using 2:xtic(1) title 'forward' \\\n"
                  "     lc rgb '#4472c4', '' using 3 title 'backward' lc rgb '#ed7d31'\n",
              src, (unsigned long long)ep->sum.steps, (long long)ep->images, ep->sum.step_j,
              ep->sum.step_s, idle);
    jg_gp_tail(&g, "energy_types");
    if (!rc) rc = jg_sb_write(dir, "energy_types.gp", &g);
    else free(g.p);

    // power: average W over each point's step brackets vs time.
    jg_sbuf_t p = {0};
    jg_sb_printf(&p, "# joulegrad power during the training steps [source: %s]; one row per %d "
                  "step(s)\n# first_step t_s busy_s joules avg_w\n", src, ep->pw_stride);
    for (int i = 0; i < ep->npw; i++) {
        const pw_point_t *q = &ep->pw[i];
        if (q->busy_s > 0)
            jg_sb_printf(&p, "%llu %.9g %.9g %.9g %.9g\n", (unsigned long long)q->step, q->t_s,
                      q->busy_s, q->j, q->j / q->busy_s);
        else
            jg_sb_printf(&p, "%llu %.9g 0 NaN NaN\n", (unsigned long long)q->step, q->t_s);
    }
    if (!rc) rc = jg_sb_write(dir, "power.dat", &p);
    else free(p.p);
    jg_sbuf_t h = {0};
    jg_gp_head(&h, absdir, "average power per step vs time", "power");
    jg_sb_printf(&h, "set title \"power during the training steps [source: %s]\\n"
                  "average over each step's bracket, one point per %d step(s); %s\"\n"
                  "set xlabel 'time since the first step (s)'\n"
                  "set ylabel 'power (W)'\n"
                  "set yrange [0:*]\n"
                  "set grid\n"
                  "set key bottom right\n",
              src, ep->pw_stride, idle);
    if (ep->have_idle)
        jg_sb_printf(&h, "plot dir.'/power.dat' using 2:5 with linespoints pt 7 ps 0.5 "
                      "title 'steps (%s)', %.9g with lines dt 2 lw 2 title 'idle baseline'\n",
                  src, ep->idle_w);
    else
        jg_sb_printf(&h, "plot dir.'/power.dat' using 2:5 with linespoints pt 7 ps 0.5 "
                      "title 'steps (%s)'\n", src);
    jg_gp_tail(&h, "power");
    if (!rc) rc = jg_sb_write(dir, "power.gp", &h);
    else free(h.p);
    if (rc) return rc;

    if (!ep->npw) {
        snprintf(msg, cap, "figures: no complete step was traced; data and scripts are in %s",
                 dir);
        return 1;
    }
    static const char *const names[2] = {"energy_types", "power"};
    rc = jg_gp_run(absdir, names, 2, msg, cap);
    if (!rc)
        snprintf(msg, cap, "figures: %s/energy_types.png and power.png (.svg beside them; re-run "
                           "with gnuplot %s/energy_types.gp)", dir, dir);
    return rc;
}
