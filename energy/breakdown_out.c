/* SPDX-License-Identifier: MIT */
/*
 * breakdown_out.c - the reports of a finished breakdown: text tables and a
 * bar chart, energy_layers.csv and energy_types.csv, the JSON `energy`
 * object and the gnuplot figures (jg_energy.h; docs/energy.md).
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "breakdown_internal.h"

#define JG_BD_BAR_WIDTH 40

static int is_estimate(const jg_breakdown_t *bd)
{
    return bd->sum.source == JG_ENERGY_SOURCE_ESTIMATE;
}

static double share(const jg_breakdown_t *bd, double j)
{
    return bd->sum.step_j > 0 ? j / bd->sum.step_j : 0;
}

/* Whether accumulated seconds span fewer than JG_ATTRIB_MIN_PERIODS updates. */
static int aggregated_s(const jg_breakdown_t *bd, double s)
{
    return bd->sum.update_period_ns > 0 &&
           s < JG_ATTRIB_MIN_PERIODS * 1e-9 * (double)bd->sum.update_period_ns;
}

/* Net of idle: j - idle_w * s (J); meaningful only with a baseline. */
static double net(const jg_breakdown_t *bd, double j, double s)
{
    return j - bd->idle_w * s;
}

/* Seconds inside the steps but in no region. */
static double unattributed_s(const jg_breakdown_t *bd)
{
    double region_s = 0;
    for (int r = 0; r < bd->nregions; r++) region_s += bd->reg[r].seconds;
    return bd->sum.step_s - region_s;
}

/* One line about the idle baseline, or that there is none. */
static void idle_line(const jg_breakdown_t *bd, char *buf, size_t cap)
{
    const char *src = jg_energy_source_name(bd->sum.source);
    if (!bd->have_idle) {
        snprintf(buf, cap, "idle: not measured (--idle-seconds S); every figure is gross "
                           "(idle power included)");
        return;
    }
    snprintf(buf, cap, "idle: %.3f W (%s%s) over %.3f s, noise %.3f W (std of %d slices; "
                       "%.3f..%.3f W); net J = J - idle W x seconds",
             bd->idle_w, src, is_estimate(bd) ? ": the estimate's modelled idle, not a "
                                                "measurement" : "",
             bd->idle_s, bd->idle_noise_w, bd->idle_slices, bd->idle_min_w, bd->idle_max_w);
}

/* One line that says where every figure comes from. */
static void source_line(const jg_breakdown_t *bd, char *buf, size_t cap)
{
    const char *src = jg_energy_source_name(bd->sum.source);
    char what[160];
    if (is_estimate(bd))
        snprintf(what, sizeof what, "CPU time x %g W per busy core, an assumption, not a "
                                    "measurement", bd->w_per_core);
    else
        snprintf(what, sizeof what, "counters read around every region");
    snprintf(buf, cap, "source: %s (%s); method %s; %llu steps, %lld images, %.3f s bracketed; "
                       "closure %.3f%s%s",
             src, what, jg_attrib_method_name(bd->sum.method),
             (unsigned long long)bd->sum.steps, (long long)bd->images, bd->sum.step_s,
             bd->sum.closure, bd->sum.valid ? "" : "; INVALID: ",
             bd->sum.valid ? "" : jg_zone_status_name(bd->sum.why));
}

static void fmt_opt(char *buf, size_t cap, const char *fmt, double v, int have)
{
    if (have) snprintf(buf, cap, fmt, v);
    else snprintf(buf, cap, "-");
}

void jg_breakdown_text(const jg_breakdown_t *bd, jg_sbuf_t *f)
{
    char line[512], w[32], jg[32];
    source_line(bd, line, sizeof line);
    const char *src = jg_energy_source_name(bd->sum.source);
    jg_sb_printf(f, "energy by layer type [%s]\n  %s\n", src, line);
    if (bd->nprior)
        jg_sb_printf(f, "  the whole run over %d invocations (resumed): this one %.3f J in %llu "
                     "steps, the earlier ones %.3f J\n", bd->nprior + 1, bd->cur.step_j,
                     (unsigned long long)bd->cur.steps, bd->sum.step_j - bd->cur.step_j);
    idle_line(bd, line, sizeof line);
    jg_sb_printf(f, "  %s\n", line);
    const int ni = bd->have_idle; /* adds a "net J" column */
    jg_sb_printf(f, "  %-10s %10s %10s %10s", "type", "fwd J", "bwd J", "total J");
    if (ni) jg_sb_printf(f, " %10s", "net J");
    jg_sb_printf(f, " %7s %9s %8s %10s %9s\n", "share", "seconds", "avg W", "GFLOP", "J/GFLOP");
    for (int t = 0; t < bd->ntypes; t++) {
        const jg_breakdown_row_t *a = &bd->rows[t][0], *b = &bd->rows[t][1];
        if (!a->count && !b->count) continue;
        const double j = a->j + b->j, s = a->s + b->s, fl = a->flops + b->flops;
        fmt_opt(w, sizeof w, "%8.2f", s > 0 ? j / s : 0, s > 0);
        fmt_opt(jg, sizeof jg, "%9.3f", fl > 0 ? j / (fl * 1e-9) : 0, fl > 0);
        jg_sb_printf(f, "  %-10s %10.4f %10.4f %10.4f", bd->types[t], a->j, b->j, j);
        if (ni) jg_sb_printf(f, " %10.4f", net(bd, j, s));
        jg_sb_printf(f, " %6.1f%% %9.4f %8s %10.3f %9s%s%s\n", 100 * share(bd, j), s, w, fl * 1e-9,
                jg, aggregated_s(bd, s) ? " aggregated" : "",
                a->valid && b->valid ? "" : " invalid");
    }
    const double un = bd->sum.step_j - bd->sum.regions_j;
    jg_sb_printf(f, "  %-10s %10s %10s %10.4f", "unattrib.", "", "", un);
    if (ni) jg_sb_printf(f, " %10.4f", net(bd, un, unattributed_s(bd)));
    jg_sb_printf(f, " %6.1f%%   (between regions inside the steps)\n", 100 * share(bd, un));
    jg_sb_printf(f, "  %-10s %10s %10s %10.4f", "total", "", "", bd->sum.step_j);
    if (ni) jg_sb_printf(f, " %10.4f", net(bd, bd->sum.step_j, bd->sum.step_s));
    jg_sb_printf(f, " %6.1f%% %9.4f %8.2f\n", bd->sum.step_j > 0 ? 100.0 : 0.0, bd->sum.step_s,
            bd->sum.step_s > 0 ? bd->sum.step_j / bd->sum.step_s : 0);
    if (bd->nzones > 1) {
        jg_sb_printf(f, "  per zone (J) [%s]:\n  %-10s", src, "type");
        for (int z = 0; z < bd->nzones; z++) jg_sb_printf(f, " %12.12s", bd->zones[z].name);
        jg_sb_printf(f, "\n");
        for (int t = 0; t < bd->ntypes; t++) {
            if (!bd->rows[t][0].count && !bd->rows[t][1].count) continue;
            jg_sb_printf(f, "  %-10s", bd->types[t]);
            for (int z = 0; z < bd->nzones; z++)
                jg_sb_printf(f, " %12.4f", bd->rows[t][0].zone_j[z] + bd->rows[t][1].zone_j[z]);
            jg_sb_printf(f, "\n");
        }
    }

    jg_sb_printf(f, "\nenergy by layer [%s]\n", src);
    jg_sb_printf(f, "  %5s %-13s %-8s %10s", "layer", "kind", "phase", "J");
    if (ni) jg_sb_printf(f, " %10s", "net J");
    jg_sb_printf(f, " %7s %9s %8s %10s %9s\n", "share", "seconds", "avg W", "GFLOP", "J/GFLOP");
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_desc_t *d = &bd->desc[r];
        const jg_region_energy_t *re = &bd->reg[r];
        if (!re->count) continue;
        const double fl = d->flops_per_image * (double)bd->images;
        char idx[16];
        if (d->layer >= 0) snprintf(idx, sizeof idx, "%d", d->layer);
        else snprintf(idx, sizeof idx, "-");
        fmt_opt(w, sizeof w, "%8.2f", re->seconds > 0 ? re->j / re->seconds : 0,
                re->seconds > 0);
        fmt_opt(jg, sizeof jg, "%9.3f", fl > 0 ? re->j / (fl * 1e-9) : 0, fl > 0);
        jg_sb_printf(f, "  %5s %-13s %-8s %10.4f", idx, d->kind, jg_bd_phase(d->backward), re->j);
        if (ni) jg_sb_printf(f, " %10.4f", net(bd, re->j, re->seconds));
        jg_sb_printf(f, " %6.1f%% %9.4f %8s %10.3f %9s%s%s\n", 100 * share(bd, re->j), re->seconds,
                w, fl * 1e-9, jg, re->aggregated ? " aggregated" : "",
                re->valid ? "" : " invalid");
    }

    // Bar chart: one bar per type, '#' forward and '=' backward, scaled to the total.
    jg_sb_printf(f, "\nshare of step energy by type [%s]  ('#' forward, '=' backward)\n", src);
    for (int t = 0; t < bd->ntypes; t++) {
        const jg_breakdown_row_t *a = &bd->rows[t][0], *b = &bd->rows[t][1];
        if (!a->count && !b->count) continue;
        const int nf = (int)lround(JG_BD_BAR_WIDTH * share(bd, a->j));
        const int nb = (int)lround(JG_BD_BAR_WIDTH * share(bd, a->j + b->j)) - nf;
        char bar[JG_BD_BAR_WIDTH + 1];
        int k = 0;
        for (int i = 0; i < nf && k < JG_BD_BAR_WIDTH; i++) bar[k++] = '#';
        for (int i = 0; i < nb && k < JG_BD_BAR_WIDTH; i++) bar[k++] = '=';
        while (k < JG_BD_BAR_WIDTH) bar[k++] = ' ';
        bar[k] = '\0';
        jg_sb_printf(f, "  %-10s |%s| %5.1f%%\n", bd->types[t], bar, 100 * share(bd, a->j + b->j));
    }
}

/* "%.9g", or empty when not have. */
static void csv_num(char *buf, size_t cap, double v, int have)
{
    if (have && isfinite(v)) snprintf(buf, cap, "%.9g", v);
    else buf[0] = '\0';
}


/* The figures shared by both CSVs after the identifying columns. */
static void csv_figures(jg_sbuf_t *b, const jg_breakdown_t *bd, uint64_t count, double s,
                        double j, double flops, int aggregated, int valid, const double *zone_j)
{
    char js[32], sh[32], w[32], fl[32], jg[32];
    csv_num(js, sizeof js, j, valid);
    csv_num(sh, sizeof sh, share(bd, j), valid);
    csv_num(w, sizeof w, s > 0 ? j / s : 0, valid && s > 0);
    csv_num(fl, sizeof fl, flops, flops > 0);
    csv_num(jg, sizeof jg, flops > 0 ? j / (flops * 1e-9) : 0, valid && flops > 0);
    jg_sb_printf(b, "%llu,%.9g,%s,%s,%s,%s,%s,%d,%d", (unsigned long long)count, s, js, sh, w, fl,
              jg, aggregated, valid);
    csv_num(js, sizeof js, net(bd, j, s), valid && bd->have_idle);
    jg_sb_printf(b, ",%s", js);
    for (int z = 0; z < bd->nzones; z++) {
        csv_num(js, sizeof js, zone_j ? zone_j[z] : 0, valid && zone_j);
        jg_sb_printf(b, ",%s", js);
    }
    jg_sb_printf(b, "\n");
}

static void csv_header(jg_sbuf_t *b, const jg_breakdown_t *bd, const char *ident)
{
    jg_sb_printf(b, "source,method,%s,count,seconds,joules,share,avg_w,flops,j_per_gflop,"
                 "aggregated,valid,net_joules", ident);
    for (int z = 0; z < bd->nzones; z++) jg_sb_printf(b, ",zone_%s_j", bd->zone_col[z]);
    jg_sb_printf(b, "\n");
}


int jg_breakdown_write_csv(const jg_breakdown_t *bd, const char *dir)
{
    if (!bd || !dir || !bd->finished) return -EINVAL;
    const char *src = jg_energy_source_name(bd->sum.source);
    const char *method = jg_attrib_method_name(bd->sum.method);
    jg_sbuf_t b = {0};
    csv_header(&b, bd, "layer,kind,type,phase");
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_desc_t *d = &bd->desc[r];
        const jg_region_energy_t *re = &bd->reg[r];
        jg_sb_printf(&b, "%s,%s,%d,%s,%s,%s,", src, method, d->layer, d->kind,
                  bd->types[d->type], jg_bd_phase(d->backward));
        csv_figures(&b, bd, re->count, re->seconds, re->j,
                    d->flops_per_image * (double)bd->images, re->aggregated, re->valid,
                    re->zone_j);
    }
    int rc = jg_sb_write(dir, "energy_layers.csv", &b);
    if (rc) return rc;

    jg_sbuf_t t = {0};
    csv_header(&t, bd, "type,phase");
    for (int k = 0; k < bd->ntypes; k++)
        for (int p = 0; p < 2; p++) {
            const jg_breakdown_row_t *row = &bd->rows[k][p];
            if (!row->count) continue;
            jg_sb_printf(&t, "%s,%s,%s,%s,", src, method, bd->types[k], jg_bd_phase(p));
            csv_figures(&t, bd, row->count, row->s, row->j, row->flops,
                        aggregated_s(bd, row->s), row->valid, row->zone_j);
        }
    // Inside the steps but in no region; with the rows it adds up to the total.
    jg_sb_printf(&t, "%s,%s,unattributed,none,", src, method);
    csv_figures(&t, bd, bd->sum.steps, unattributed_s(bd),
                bd->sum.step_j - bd->sum.regions_j, 0, 0, bd->sum.valid, NULL);
    return jg_sb_write(dir, "energy_types.csv", &t);
}

/* A number, or null when not valid. */
static void add_num(cJSON *o, const char *key, double v, int valid)
{
    if (valid && isfinite(v)) cJSON_AddNumberToObject(o, key, v);
    else cJSON_AddNullToObject(o, key);
}

/* Adds a part's figures to an entry of the invocation or rank lists. */
static void add_entry(cJSON *o, double j, double s, uint64_t steps, int64_t images, int valid)
{
    cJSON *v = cJSON_GetObjectItem(o, "total_j");
    if (!v) {
        cJSON_AddNumberToObject(o, "total_j", 0);
        cJSON_AddNumberToObject(o, "seconds", 0);
        cJSON_AddNumberToObject(o, "steps", 0);
        cJSON_AddNumberToObject(o, "images", 0);
        cJSON_AddBoolToObject(o, "valid", 1);
        cJSON_AddNumberToObject(o, "parts", 0);
    }
    static const char *const keys[] = {"total_j", "seconds", "steps", "images", "parts"};
    const double add[] = {j, s, (double)steps, (double)images, 1};
    for (int k = 0; k < 5; k++) {
        cJSON *x = cJSON_GetObjectItem(o, keys[k]);
        cJSON_SetNumberValue(x, x->valuedouble + add[k]);
    }
    if (!valid) cJSON_ReplaceItemInObject(o, "valid", cJSON_CreateFalse());
}

/* The run's invocations (a resume adds one), each the sum of its parts (the
 * ranks of a job); in a job also the ranks of this invocation. */
static void add_invocations(cJSON *en, const jg_breakdown_t *bd)
{
    cJSON *a = cJSON_AddArrayToObject(en, "invocations");
    for (int inv = 1; inv <= bd->invocation; inv++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "invocation", inv);
        for (int k = 0; k < bd->nprior; k++) {
            const jg_breakdown_prior_t *q = &bd->prior[k];
            if (q->invocation != inv) continue;
            add_entry(o, q->step_j, q->step_s, q->steps, q->images, q->valid);
            if (q->trace[0] && q->rank <= 0) cJSON_AddStringToObject(o, "trace", q->trace);
        }
        if (inv == bd->invocation)
            add_entry(o, bd->cur.step_j, bd->cur.step_s, bd->cur.steps, bd->cur_images,
                      bd->cur.valid);
        if (cJSON_GetObjectItem(o, "total_j")) cJSON_AddItemToArray(a, o);
        else cJSON_Delete(o);
    }
    if (bd->rank < 0) return;
    cJSON *r = cJSON_AddArrayToObject(en, "ranks");
    for (int k = -1; k < bd->nprior; k++) {
        const jg_breakdown_prior_t *q = k >= 0 ? &bd->prior[k] : NULL;
        if (q && (q->invocation != bd->invocation || q->rank < 0)) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "rank", q ? q->rank : bd->rank);
        cJSON_AddNumberToObject(o, "node", q ? q->node : bd->node);
        if ((q ? q->host : bd->host)[0]) cJSON_AddStringToObject(o, "host", q ? q->host : bd->host);
        add_entry(o, q ? q->step_j : bd->cur.step_j, q ? q->step_s : bd->cur.step_s,
                  q ? q->steps : bd->cur.steps, q ? q->images : bd->cur_images,
                  q ? q->valid : bd->cur.valid);
        cJSON_DeleteItemFromObject(o, "parts");
        cJSON_AddItemToArray(r, o);
    }
}

struct cJSON *jg_breakdown_json(const jg_breakdown_t *bd)
{
    if (!bd || !bd->finished) return NULL;
    const jg_attrib_summary_t *s = &bd->sum;
    cJSON *en = cJSON_CreateObject();
    if (!en) return NULL;
    cJSON_AddStringToObject(en, "source", jg_energy_source_name(s->source));
    cJSON_AddStringToObject(en, "status", s->valid ? "ok" : jg_zone_status_name(s->why));
    cJSON_AddBoolToObject(en, "valid", s->valid);
    add_num(en, "total_j", s->step_j, s->valid);
    cJSON_AddNumberToObject(en, "seconds", s->step_s);
    cJSON_AddStringToObject(en, "scope", bd->scope);
    cJSON_AddNumberToObject(en, "steps", (double)s->steps);
    cJSON_AddNumberToObject(en, "images", (double)bd->images);
    add_invocations(en, bd);
    const int ni = bd->have_idle;
    if (ni) {
        cJSON_AddNumberToObject(en, "idle_w", bd->idle_w);
        cJSON_AddNumberToObject(en, "idle_seconds", bd->idle_s);
        cJSON_AddNumberToObject(en, "idle_noise_w", bd->idle_noise_w);
        cJSON_AddNumberToObject(en, "idle_min_w", bd->idle_min_w);
        cJSON_AddNumberToObject(en, "idle_max_w", bd->idle_max_w);
        cJSON_AddNumberToObject(en, "idle_slices", bd->idle_slices);
        cJSON_AddStringToObject(en, "idle_source", jg_energy_source_name(s->source));
        add_num(en, "net_total_j", net(bd, s->step_j, s->step_s), s->valid);
        add_num(en, "net_unattributed_j",
                net(bd, s->step_j - s->regions_j, unattributed_s(bd)), s->valid);
    } else {
        cJSON_AddNullToObject(en, "idle_w");
    }
    char notes[1024];
    snprintf(notes, sizeof notes, "%s%s%s",
             !ni ? "idle_w is null: no idle baseline was measured (--idle-seconds S), so every "
                   "figure is gross (idle power included)."
             : s->source == JG_ENERGY_SOURCE_ESTIMATE
                 ? "idle_w is the estimate's modelled idle power while the process slept (plus "
                   "the wake-ups' CPU time), not a measurement. *_net_j = gross - idle_w x "
                   "seconds; the gross figures include idle power."
                 : "idle_w was measured over idle_seconds before training, idle_noise_w is the "
                   "standard deviation of its slices. *_net_j = gross - idle_w x seconds (may "
                   "be negative within the noise); the gross figures include idle power.",
             bd->type_notes ? " " : "", bd->type_notes ? bd->type_notes : "");
    cJSON_AddStringToObject(en, "notes", notes);
    cJSON_AddStringToObject(en, "method", jg_attrib_method_name(s->method));
    add_num(en, "closure", s->closure, s->valid);
    add_num(en, "regions_j", s->regions_j, s->valid);
    add_num(en, "unattributed_j", s->step_j - s->regions_j, s->valid);
    cJSON_AddNumberToObject(en, "update_period_ns", (double)s->update_period_ns);
    cJSON_AddNumberToObject(en, "dropped_marks", (double)s->dropped);
    int any_agg = 0;
    for (int r = 0; r < bd->nregions; r++) any_agg |= bd->reg[r].count && bd->reg[r].aggregated;
    cJSON_AddBoolToObject(en, "aggregated", any_agg);
    if (s->source == JG_ENERGY_SOURCE_ESTIMATE) {
        cJSON_AddStringToObject(en, "estimate_model", "process CPU time x assumed watts per "
                                                      "busy core (not a measurement)");
        cJSON_AddNumberToObject(en, "assumed_w_per_core", bd->w_per_core);
    }
    cJSON *zs = cJSON_AddArrayToObject(en, "zones");
    for (int z = 0; z < bd->nzones; z++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", bd->zones[z].name);
        cJSON_AddStringToObject(o, "kind", jg_zone_kind_name(bd->zones[z].kind));
        cJSON_AddBoolToObject(o, "counted", bd->zones[z].counted);
        cJSON_AddItemToArray(zs, o);
    }
    cJSON *bt = cJSON_AddObjectToObject(en, "by_type");
    for (int t = 0; t < bd->ntypes; t++) {
        const jg_breakdown_row_t *a = &bd->rows[t][0], *b = &bd->rows[t][1];
        cJSON *o = cJSON_AddObjectToObject(bt, bd->types[t]);
        add_num(o, "forward_j", a->j, a->valid);
        add_num(o, "backward_j", b->j, b->valid);
        if (ni) {
            add_num(o, "forward_net_j", net(bd, a->j, a->s), a->valid);
            add_num(o, "backward_net_j", net(bd, b->j, b->s), b->valid);
        }
        cJSON_AddNumberToObject(o, "forward_s", a->s);
        cJSON_AddNumberToObject(o, "backward_s", b->s);
        add_num(o, "share", share(bd, a->j + b->j), a->valid && b->valid);
        cJSON_AddNumberToObject(o, "flops", a->flops + b->flops);
        cJSON_AddBoolToObject(o, "aggregated", (a->count || b->count) &&
                                                   aggregated_s(bd, a->s + b->s));
    }
    cJSON *ls = cJSON_AddArrayToObject(en, "layers");
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_desc_t *d = &bd->desc[r];
        const jg_region_energy_t *re = &bd->reg[r];
        const double fl = d->flops_per_image * (double)bd->images;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layer", d->layer);
        cJSON_AddStringToObject(o, "kind", d->kind);
        cJSON_AddStringToObject(o, "type", bd->types[d->type]);
        cJSON_AddStringToObject(o, "phase", jg_bd_phase(d->backward));
        cJSON_AddNumberToObject(o, "count", (double)re->count);
        add_num(o, "j", re->j, re->valid);
        if (ni) add_num(o, "net_j", net(bd, re->j, re->seconds), re->valid);
        add_num(o, "share", share(bd, re->j), re->valid);
        cJSON_AddNumberToObject(o, "seconds", re->seconds);
        add_num(o, "avg_w", re->seconds > 0 ? re->j / re->seconds : 0,
                re->valid && re->seconds > 0);
        cJSON_AddNumberToObject(o, "flops", fl);
        add_num(o, "j_per_gflop", fl > 0 ? re->j / (fl * 1e-9) : 0, re->valid && fl > 0);
        cJSON_AddBoolToObject(o, "aggregated", re->aggregated);
        cJSON_AddBoolToObject(o, "valid", re->valid);
        if (bd->nzones > 1) {
            cJSON *zj = cJSON_AddObjectToObject(o, "zone_j");
            for (int z = 0; z < bd->nzones; z++)
                add_num(zj, bd->zones[z].name, re->zone_j[z], re->valid);
        }
        cJSON_AddItemToArray(ls, o);
    }
    return en;
}

/* ---- gnuplot figures ---------------------------------------------------- */

int jg_breakdown_write_figures(const jg_breakdown_t *bd, const char *dir, char *msg,
                                size_t cap)
{
    if (!bd || !dir || !msg || !cap || !bd->finished) return -EINVAL;
    char absdir[PATH_MAX];
    if (!realpath(dir, absdir)) return -errno;
    const char *src = jg_energy_source_name(bd->sum.source);
    char idle[160];
    if (bd->have_idle)
        snprintf(idle, sizeof idle, "idle baseline %.3g W (%s), noise %.3g W", bd->idle_w, src,
                 bd->idle_noise_w);
    else
        snprintf(idle, sizeof idle, "gross: idle power included (no baseline)");

    // energy_types: gross joules per type, forward stacked under backward.
    jg_sbuf_t d = {0};
    jg_sb_printf(&d, "# joulegrad energy by layer type [source: %s], J inside the training steps; "
                  "%s\n# type forward_j backward_j forward_net_j backward_net_j\n", src, idle);
    for (int t = 0; t < bd->ntypes; t++) {
        const jg_breakdown_row_t *a = &bd->rows[t][0], *b = &bd->rows[t][1];
        if (!a->count && !b->count) continue;
        if (bd->have_idle)
            jg_sb_printf(&d, "%s %.9g %.9g %.9g %.9g\n", bd->types[t], a->j, b->j,
                      net(bd, a->j, a->s), net(bd, b->j, b->s));
        else
            jg_sb_printf(&d, "%s %.9g %.9g NaN NaN\n", bd->types[t], a->j, b->j);
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
              src, (unsigned long long)bd->sum.steps, (long long)bd->images, bd->sum.step_j,
              bd->sum.step_s, idle);
    jg_gp_tail(&g, "energy_types");
    if (!rc) rc = jg_sb_write(dir, "energy_types.gp", &g);
    else free(g.p);

    // power: average W over each point's step brackets vs time.
    jg_sbuf_t p = {0};
    jg_sb_printf(&p, "# joulegrad power during the training steps [source: %s]; one row per %d "
                  "step(s)\n# first_step t_s busy_s joules avg_w\n", src, bd->pw_stride);
    for (int i = 0; i < bd->npw; i++) {
        const jg_pw_point_t *q = &bd->pw[i];
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
              src, bd->pw_stride, idle);
    if (bd->have_idle)
        jg_sb_printf(&h, "plot dir.'/power.dat' using 2:5 with linespoints pt 7 ps 0.5 "
                      "title 'steps (%s)', %.9g with lines dt 2 lw 2 title 'idle baseline'\n",
                  src, bd->idle_w);
    else
        jg_sb_printf(&h, "plot dir.'/power.dat' using 2:5 with linespoints pt 7 ps 0.5 "
                      "title 'steps (%s)'\n", src);
    jg_gp_tail(&h, "power");
    if (!rc) rc = jg_sb_write(dir, "power.gp", &h);
    else free(h.p);
    if (rc) return rc;

    if (!bd->npw) {
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
