/* SPDX-License-Identifier: MIT */
/*
 * breakdown.c - regions traced inside steps, the raw trace file, the power
 * series, the idle baseline and the per-type rows (jg_energy.h). Reports:
 * breakdown_out.c. Method and file formats: docs/energy.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "breakdown_internal.h"

/* stdio buffer of the trace file, bytes */
#define JG_TRACE_FILE_BUFFER (1 << 18)

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
static void write_header(jg_breakdown_t *bd)
{
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", "joulegrad-energy-trace");
    cJSON_AddNumberToObject(h, "version", 1);
    cJSON_AddStringToObject(h, "source", jg_energy_source_name(jg_meter_source(bd->meter)));
    if (jg_meter_source(bd->meter) == JG_ENERGY_SOURCE_ESTIMATE)
        cJSON_AddNumberToObject(h, "assumed_w_per_core", bd->w_per_core);
    cJSON_AddStringToObject(h, "energy_unit", "uJ");
    cJSON_AddStringToObject(h, "time_unit", "ns, CLOCK_MONOTONIC_RAW");
    cJSON *zs = cJSON_AddArrayToObject(h, "zones");
    for (int z = 0; z < bd->nzones; z++) {
        const jg_zone_info_t *zi = &bd->zones[z];
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
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_desc_t *d = &bd->desc[r];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", r);
        cJSON_AddNumberToObject(o, "layer", d->layer);
        cJSON_AddStringToObject(o, "kind", d->kind);
        cJSON_AddStringToObject(o, "type", bd->types[d->type]);
        cJSON_AddStringToObject(o, "phase", jg_bd_phase(d->backward));
        cJSON_AddNumberToObject(o, "flops_per_image", d->flops_per_image);
        cJSON_AddItemToArray(rs, o);
    }
    cJSON_AddNumberToObject(h, "step_region", JG_TRACE_STEP);
    cJSON *cols = cJSON_AddArrayToObject(h, "mark_columns");
    cJSON_AddItemToArray(cols, cJSON_CreateString("region"));
    cJSON_AddItemToArray(cols, cJSON_CreateString("end"));
    cJSON_AddItemToArray(cols, cJSON_CreateString("t_ns"));
    for (int z = 0; z < bd->nzones; z++) {
        static const char *const f[4] = {"ext_uj", "raw_uj", "status", "epoch"};
        for (int k = 0; k < 4; k++) {
            char c[JG_ZONE_NAME_MAX + 16];
            snprintf(c, sizeof c, "%s.%s", bd->zones[z].name, f[k]);
            cJSON_AddItemToArray(cols, cJSON_CreateString(c));
        }
    }
    char *text = cJSON_PrintUnformatted(h);
    jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
    cJSON_Delete(h);
    if (!text || fprintf(bd->tf, "%s\n", text) < 0) bd->werr = text ? -EIO : -ENOMEM;
    free(text);
}

static int check_config(const jg_breakdown_config_t *cfg)
{
    if (!cfg || !cfg->regions || cfg->nregions < 1 || !cfg->types || cfg->ntypes < 1 ||
        cfg->ntypes > JG_BREAKDOWN_MAX_TYPES || !cfg->scope)
        return -EINVAL;
    if (cfg->nregions > JG_TRACE_MAX_REGIONS) return -E2BIG;
    for (int r = 0; r < cfg->nregions; r++) {
        const jg_region_desc_t *d = &cfg->regions[r];
        if (!d->kind || d->type < 0 || d->type >= cfg->ntypes || (d->backward & ~1))
            return -EINVAL;
    }
    for (int t = 0; t < cfg->ntypes; t++)
        if (!cfg->types[t]) return -EINVAL;
    return 0;
}

int jg_breakdown_create(jg_breakdown_t **out, jg_meter_t *meter, const jg_breakdown_config_t *cfg)
{
    if (!out) return -EINVAL;
    *out = NULL;
    int rc = meter ? check_config(cfg) : -EINVAL;
    if (rc) return rc;
    jg_breakdown_t *bd = calloc(1, sizeof *bd);
    if (!bd) return -ENOMEM;
    const int nregions = cfg->nregions;
    bd->meter = meter;
    bd->nregions = nregions;
    bd->ntypes = cfg->ntypes;
    bd->types = cfg->types;
    bd->scope = cfg->scope;
    bd->type_notes = cfg->type_notes;
    bd->w_per_core = cfg->w_per_core;
    bd->invocation = cfg->invocation;
    bd->rank = cfg->ranks > 1 ? cfg->rank : -1;
    bd->node = cfg->node;
    snprintf(bd->host, sizeof bd->host, "%s", cfg->host ? cfg->host : "");
    bd->nzones = jg_meter_nzones(meter);
    bd->desc = malloc((size_t)nregions * sizeof *bd->desc);
    bd->reg = calloc((size_t)nregions, sizeof *bd->reg);
    bd->rows = calloc((size_t)cfg->ntypes, sizeof *bd->rows);
    bd->pw = calloc(JG_PW_MAX_POINTS, sizeof *bd->pw);
    bd->pw_stride = 1;
    // Room for four steps of marks: one per flush is needed.
    rc = bd->desc && bd->reg && bd->rows && bd->pw
             ? jg_trace_create(&bd->trace, meter, nregions, 4 * (2 * nregions + 2))
             : -ENOMEM;
    if (!rc) memcpy(bd->desc, cfg->regions, (size_t)nregions * sizeof *bd->desc);
    for (int z = 0; !rc && z < bd->nzones; z++) {
        rc = jg_meter_zone_info(meter, z, &bd->zones[z]);
        char *c = bd->zone_col[z];
        snprintf(c, JG_ZONE_NAME_MAX, "%s", bd->zones[z].name);
        for (; *c; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-'))
                *c = '_';
    }
    if (!rc && cfg->trace_path) {
        bd->path = dup_cat(cfg->trace_path, "");
        bd->part = dup_cat(cfg->trace_path, ".part");
        if (!bd->path || !bd->part) rc = -ENOMEM;
        else if (!(bd->tf = fopen(bd->part, "w"))) rc = -errno;
        else {
            /* a step's line is ~2.5 KB: with stdio's 4 KiB buffer every
             * other step paid a write(2), ~50 us on the 2-vCPU guest; the
             * trace is flushed where it must be (jg_breakdown_part, finish).
             * glibc ignores the size unless it is given the buffer. */
            bd->tbuf = malloc(JG_TRACE_FILE_BUFFER);
            if (bd->tbuf) setvbuf(bd->tf, bd->tbuf, _IOFBF, JG_TRACE_FILE_BUFFER);
            write_header(bd);
        }
        if (!rc) rc = bd->werr;
    }
    if (rc) {
        jg_breakdown_destroy(bd);
        return rc;
    }
    *out = bd;
    return 0;
}

void jg_breakdown_destroy(jg_breakdown_t *bd)
{
    if (!bd) return;
    if (bd->tf) {
        fclose(bd->tf);
        remove(bd->part);
    }
    free(bd->tbuf);
    jg_trace_destroy(bd->trace);
    free(bd->desc);
    free(bd->reg);
    free(bd->rows);
    free(bd->pw);
    for (int k = 0; k < bd->nprior; k++) free(bd->prior[k].reg);
    free(bd->prior);
    free(bd->path);
    free(bd->part);
    free(bd);
}

/* Hot path: one meter read each, into the trace's ring. A full ring drops
 * the mark and the trace counts it (the figures become invalid). */
void jg_breakdown_begin(jg_breakdown_t *bd, int region)
{
    jg_trace_begin(bd->trace, region);
}

void jg_breakdown_end(jg_breakdown_t *bd, int region)
{
    jg_trace_end(bd->trace, region);
}

/* v in decimal at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do tmp[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n) *p++ = tmp[--n];
    return p;
}

static char *put_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(p, (uint64_t)v);
}

/* Keeps the step bracket's samples for the power series and writes every
 * mark to the trace file when there is one. */
static void visit_mark(void *ctx, int region, int end, const jg_energy_sample_t *s)
{
    jg_breakdown_t *bd = ctx;
    if (region == JG_TRACE_STEP && end) {
        bd->se = *s;
        bd->got_se = 1;
    } else if (region == JG_TRACE_STEP) {
        bd->sb = *s;
        bd->got_sb = 1;
    }
    FILE *f = bd->tf;
    if (!f || bd->werr) return;
    /* ",[region,end,t_ns" then ",ext,raw,status,epoch" per zone and "]",
     * formatted by hand: fprintf took ~0.85 us a mark, 40 us a step */
    char line[48 + JG_METER_MAX_ZONES * 64], *p = line;
    if (!bd->first_mark) *p++ = ',';
    *p++ = '[';
    p = put_i64(p, region);
    *p++ = ',';
    *p++ = end ? '1' : '0';
    *p++ = ',';
    p = put_i64(p, s->t_ns);
    for (int z = 0; z < bd->nzones; z++) {
        *p++ = ',';
        p = put_u64(p, s->ext_uj[z]);
        *p++ = ',';
        p = put_u64(p, s->raw_uj[z]);
        *p++ = ',';
        p = put_u64(p, s->status[z]);
        *p++ = ',';
        p = put_u64(p, s->epoch[z]);
    }
    *p++ = ']';
    fwrite(line, 1, (size_t)(p - line), f);
    bd->first_mark = 0;
}

/* Adds this step's bracket (E and t between its two marks) to the power
 * series; a faulted step adds time to the point but no joules. */
static void add_power_point(jg_breakdown_t *bd)
{
    if (!bd->got_sb || !bd->got_se) return; /* a mark was dropped */
    jg_energy_figure_t fig;
    if (jg_meter_figure(bd->meter, &bd->sb, &bd->se, JG_ZONE_TOTAL, &fig)) return;
    if (!bd->npw) bd->t0_ns = bd->sb.t_ns;
    if (bd->npw == JG_PW_MAX_POINTS && bd->pw[bd->npw - 1].steps >= bd->pw_stride) {
        for (int i = 0; i < bd->npw / 2; i++) {
            jg_pw_point_t a = bd->pw[2 * i];
            const jg_pw_point_t *b = &bd->pw[2 * i + 1];
            a.busy_s += b->busy_s;
            a.j += b->j;
            a.steps += b->steps;
            bd->pw[i] = a;
        }
        bd->npw /= 2;
        bd->pw_stride *= 2;
    }
    if (!bd->npw || bd->pw[bd->npw - 1].steps >= bd->pw_stride)
        bd->pw[bd->npw++] = (jg_pw_point_t){bd->steps, 1e-9 * (double)(bd->sb.t_ns - bd->t0_ns),
                                            0, 0, 0};
    jg_pw_point_t *p = &bd->pw[bd->npw - 1];
    p->steps++;
    if (fig.valid) {
        p->busy_s += 1e-9 * (double)(bd->se.t_ns - bd->sb.t_ns);
        p->j += fig.j;
    }
}

int jg_breakdown_step_done(jg_breakdown_t *bd, int images)
{
    if (!bd || images < 0 || bd->finished) return -EINVAL;
    bd->steps++;
    bd->images += images;
    bd->got_sb = bd->got_se = 0;
    if (bd->tf && !bd->werr) {
        fprintf(bd->tf, "{\"step\":%llu,\"images\":%d,\"marks\":[",
                (unsigned long long)bd->steps, images);
        bd->first_mark = 1;
    }
    jg_trace_visit(bd->trace, visit_mark, bd);
    if (bd->tf && !bd->werr && fputs("]}\n", bd->tf) < 0) bd->werr = -EIO;
    add_power_point(bd);
    jg_trace_flush(bd->trace);
    return bd->werr;
}

/* Sleeps until CLOCK_MONOTONIC reaches t_ns (a signal resumes the sleep). */
static void sleep_until_ns(int64_t t_ns)
{
    const struct timespec t = {(time_t)(t_ns / 1000000000), (long)(t_ns % 1000000000)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {
    }
}

int jg_breakdown_idle(jg_breakdown_t *bd, double seconds)
{
    if (!bd || !(seconds > 0 && seconds <= 3600) || bd->steps) return -EINVAL;
    const int n = (int)ceil(seconds / JG_IDLE_SLICE_S - 1e-9);
    const int64_t slice_ns = (int64_t)(seconds / n * 1e9);
    jg_energy_sample_t first, prev, cur;
    jg_energy_figure_t fig;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t due_ns = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec +
                     (int64_t)(JG_IDLE_SETTLE_S * 1e9);
    sleep_until_ns(due_ns);
    jg_meter_read(bd->meter, &first);
    prev = first;
    double sum = 0, sum2 = 0, lo = INFINITY, hi = -INFINITY;
    int ok = 1;
    for (int k = 1; k <= n && ok; k++) {
        due_ns += slice_ns;
        sleep_until_ns(due_ns);
        jg_meter_read(bd->meter, &cur);
        jg_meter_figure(bd->meter, &prev, &cur, JG_ZONE_TOTAL, &fig);
        ok = fig.valid && fig.dt_s > 0;
        const double w = ok ? fig.j / fig.dt_s : 0;
        sum += w;
        sum2 += w * w;
        lo = fmin(lo, w);
        hi = fmax(hi, w);
        prev = cur;
    }
    jg_meter_figure(bd->meter, &first, &cur, JG_ZONE_TOTAL, &fig);
    if (!ok || !fig.valid || !(fig.dt_s > 0)) return -EIO;
    const double mean = sum / n;
    bd->have_idle = 1;
    bd->idle_slices = n;
    bd->idle_s = fig.dt_s;
    bd->idle_w = fig.j / fig.dt_s;
    bd->idle_noise_w = n > 1 ? sqrt(fmax(0, (sum2 - n * mean * mean) / (n - 1))) : 0;
    bd->idle_min_w = lo;
    bd->idle_max_w = hi;
    return 0;
}

static void add_row(jg_breakdown_row_t *row, const jg_region_energy_t *re, double flops,
                    int nzones)
{
    row->count += re->count;
    row->j += re->j;
    row->s += re->seconds;
    row->flops += flops;
    for (int z = 0; z < nzones; z++) row->zone_j[z] += re->zone_j[z];
    if (!re->valid) row->valid = 0;
}

int jg_breakdown_finish(jg_breakdown_t *bd)
{
    if (!bd || bd->finished) return -EINVAL;
    jg_trace_flush(bd->trace);
    int rc = jg_trace_result(bd->trace, &bd->sum, bd->reg, bd->nregions);
    if (rc) return rc;
    jg_breakdown_add_prior(bd);
    for (int t = 0; t < bd->ntypes; t++) bd->rows[t][0].valid = bd->rows[t][1].valid = 1;
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_desc_t *d = &bd->desc[r];
        add_row(&bd->rows[d->type][d->backward], &bd->reg[r],
                d->flops_per_image * (double)bd->images, bd->nzones);
    }
    if (bd->tf) {
        rc = bd->werr;
        if (!rc && (fflush(bd->tf) || fsync(fileno(bd->tf)))) rc = -errno;
        if (fclose(bd->tf) && !rc) rc = -errno;
        bd->tf = NULL;
        free(bd->tbuf);
        bd->tbuf = NULL;
        if (!rc && rename(bd->part, bd->path)) rc = -errno;
        if (rc) remove(bd->part);
    }
    bd->finished = 1;
    return rc;
}

const jg_attrib_summary_t *jg_breakdown_summary(const jg_breakdown_t *bd)
{
    return bd && bd->finished ? &bd->sum : NULL;
}

int64_t jg_breakdown_images(const jg_breakdown_t *bd)
{
    return bd ? bd->images : 0;
}

int jg_breakdown_type_row(const jg_breakdown_t *bd, int t, int backward, jg_breakdown_row_t *row)
{
    if (!bd || !bd->finished || !row || t < 0 || t >= bd->ntypes || (backward & ~1))
        return -EINVAL;
    *row = bd->rows[t][backward];
    return 0;
}

int jg_breakdown_region(const jg_breakdown_t *bd, int r, jg_region_energy_t *re)
{
    if (!bd || !bd->finished || !re || r < 0 || r >= bd->nregions) return -EINVAL;
    *re = bd->reg[r];
    return 0;
}
