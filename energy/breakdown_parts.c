/* SPDX-License-Identifier: MIT */
/*
 * breakdown_parts.c - a breakdown over several invocations of one run: the
 * figures of an invocation so far as a JSON "part", read back by the next
 * invocation (a resume) and added into its totals at finish, so a run's
 * energy covers the whole run, each invocation's share kept and shown.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "breakdown_internal.h"

static int why_fail(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int why_fail(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

struct cJSON *jg_breakdown_part_json(jg_breakdown_t *bd, const char *trace_file)
{
    if (!bd || bd->finished) return NULL;
    jg_attrib_summary_t s;
    jg_region_energy_t *reg = calloc((size_t)bd->nregions, sizeof *reg);
    if (!reg || jg_trace_result(bd->trace, &s, reg, bd->nregions)) {
        free(reg);
        return NULL;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "source", jg_energy_source_name(s.source));
    cJSON_AddBoolToObject(p, "valid", s.valid);
    cJSON_AddNumberToObject(p, "steps", (double)s.steps);
    cJSON_AddNumberToObject(p, "images", (double)bd->images);
    cJSON_AddNumberToObject(p, "dropped", (double)s.dropped);
    cJSON_AddNumberToObject(p, "step_s", s.step_s);
    cJSON_AddNumberToObject(p, "step_j", s.step_j);
    cJSON_AddNumberToObject(p, "regions_j", s.regions_j);
    cJSON_AddNumberToObject(p, "total_uj", (double)s.total_uj);
    cJSON_AddNumberToObject(p, "total_s", s.total_s);
    if (trace_file) cJSON_AddStringToObject(p, "trace", trace_file);
    // The trace file up to this part's last step: a resume after kill -9
    // cuts the unfinished file there and keeps it under its final name.
    if (bd->tf && !bd->werr && fflush(bd->tf) == 0)
        cJSON_AddNumberToObject(p, "trace_bytes", (double)ftell(bd->tf));
    cJSON *rs = cJSON_AddArrayToObject(p, "regions");
    for (int r = 0; r < bd->nregions; r++) {
        const jg_region_energy_t *re = &reg[r];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", bd->desc[r].kind);
        cJSON_AddNumberToObject(o, "count", (double)re->count);
        cJSON_AddNumberToObject(o, "seconds", re->seconds);
        cJSON_AddNumberToObject(o, "j", re->j);
        cJSON_AddNumberToObject(o, "j_interp", re->j_interp);
        cJSON *zj = cJSON_AddArrayToObject(o, "zone_j");
        for (int z = 0; z < bd->nzones; z++)
            cJSON_AddItemToArray(zj, cJSON_CreateNumber(re->zone_j[z]));
        cJSON_AddItemToArray(rs, o);
    }
    free(reg);
    return p;
}

/* A finite number >= 0 member, or -1. */
static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= 0 ? v->valuedouble
                                                                                : -1;
}

/* Checks one part against bd's regions and source. */
static int check_part(const jg_breakdown_t *bd, const cJSON *p, int k, char *why, size_t cap)
{
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(p, "source");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(p, "regions");
    const char *mine = jg_energy_source_name(jg_meter_source(bd->meter));
    if (!cJSON_IsString(src) || !cJSON_IsArray(rs) || !cJSON_IsBool(cJSON_GetObjectItem(p, "valid")))
        return why_fail(why, cap, "part %d lacks source, valid or regions", k + 1);
    if (strcmp(src->valuestring, mine))
        return why_fail(why, cap, "part %d was measured with %.32s, this invocation with %s: "
                        "one run's figures are never mixed across sources", k + 1,
                        src->valuestring, mine);
    static const char *const keys[] = {"steps", "images", "dropped", "step_s", "step_j",
                                       "regions_j", "total_uj", "total_s"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (num(p, keys[i]) < 0)
            return why_fail(why, cap, "part %d: %s is not a number >= 0", k + 1, keys[i]);
    if (cJSON_GetArraySize(rs) != bd->nregions)
        return why_fail(why, cap, "part %d has %d regions, this model %d", k + 1,
                        cJSON_GetArraySize(rs), bd->nregions);
    int r = 0;
    for (const cJSON *o = rs->child; o; o = o->next, r++) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
        const cJSON *zj = cJSON_GetObjectItemCaseSensitive(o, "zone_j");
        if (!cJSON_IsString(kind) || strcmp(kind->valuestring, bd->desc[r].kind))
            return why_fail(why, cap, "part %d region %d is not a %s", k + 1, r, bd->desc[r].kind);
        if (num(o, "count") < 0 || num(o, "seconds") < 0 || num(o, "j") < 0 ||
            num(o, "j_interp") < 0 || !cJSON_IsArray(zj) || cJSON_GetArraySize(zj) != bd->nzones)
            return why_fail(why, cap, "part %d region %d: bad figures", k + 1, r);
        for (const cJSON *z = zj->child; z; z = z->next)
            if (!cJSON_IsNumber(z) || !isfinite(z->valuedouble))
                return why_fail(why, cap, "part %d region %d: bad zone figure", k + 1, r);
    }
    return 0;
}

int jg_breakdown_add_parts(jg_breakdown_t *bd, const struct cJSON *parts, char *why, size_t cap)
{
    if (!bd || bd->finished || !cJSON_IsArray(parts))
        return why_fail(why, cap, "no parts to add");
    if (cJSON_GetArraySize(parts) > JG_BREAKDOWN_MAX_PARTS)
        return why_fail(why, cap, "more than %d parts", JG_BREAKDOWN_MAX_PARTS);
    int k = 0;
    for (const cJSON *p = parts->child; p; p = p->next, k++) {
        const int rc = check_part(bd, p, k, why, cap);
        if (rc) return rc;
    }
    const int n = cJSON_GetArraySize(parts);
    jg_breakdown_prior_t *pr = realloc(bd->prior, (size_t)(bd->nprior + n) * sizeof *pr);
    if (!pr) return -ENOMEM;
    bd->prior = pr;
    for (const cJSON *p = parts->child; p; p = p->next) {
        jg_breakdown_prior_t *q = &bd->prior[bd->nprior];
        memset(q, 0, sizeof *q);
        q->valid = cJSON_IsTrue(cJSON_GetObjectItem(p, "valid"));
        q->steps = (uint64_t)num(p, "steps");
        q->images = (int64_t)num(p, "images");
        q->dropped = (uint64_t)num(p, "dropped");
        q->step_s = num(p, "step_s");
        q->step_j = num(p, "step_j");
        q->regions_j = num(p, "regions_j");
        q->total_uj = (uint64_t)num(p, "total_uj");
        q->total_s = num(p, "total_s");
        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(p, "trace");
        snprintf(q->trace, sizeof q->trace, "%s", cJSON_IsString(tr) ? tr->valuestring : "");
        // Optional tags: which invocation and which rank of a job.
        const cJSON *inv = cJSON_GetObjectItemCaseSensitive(p, "invocation");
        const cJSON *rk = cJSON_GetObjectItemCaseSensitive(p, "rank");
        const cJSON *nd = cJSON_GetObjectItemCaseSensitive(p, "node");
        const cJSON *hs = cJSON_GetObjectItemCaseSensitive(p, "host");
        q->invocation = cJSON_IsNumber(inv) && inv->valuedouble >= 1 && inv->valuedouble < 1e6
                            ? (int)inv->valuedouble : bd->nprior + 1;
        q->rank = cJSON_IsNumber(rk) && rk->valuedouble >= 0 && rk->valuedouble < 1e7
                      ? (int)rk->valuedouble : -1;
        q->node = cJSON_IsNumber(nd) && nd->valuedouble >= 0 && nd->valuedouble < 1e7
                      ? (int)nd->valuedouble : -1;
        snprintf(q->host, sizeof q->host, "%s", cJSON_IsString(hs) ? hs->valuestring : "");
        q->reg = calloc((size_t)bd->nregions, sizeof *q->reg);
        if (!q->reg) return -ENOMEM;
        bd->nprior++;
        int r = 0;
        for (const cJSON *o = cJSON_GetObjectItem(p, "regions")->child; o; o = o->next, r++) {
            jg_region_energy_t *re = &q->reg[r];
            re->count = (uint64_t)num(o, "count");
            re->seconds = num(o, "seconds");
            re->j = num(o, "j");
            re->j_interp = num(o, "j_interp");
            int z = 0;
            for (const cJSON *zj = cJSON_GetObjectItem(o, "zone_j")->child; zj; zj = zj->next)
                re->zone_j[z++] = zj->valuedouble;
        }
    }
    return 0;
}

void jg_breakdown_add_prior(jg_breakdown_t *bd)
{
    jg_attrib_summary_t *s = &bd->sum;
    if (!bd->invocation) { // the one after the parts'
        for (int k = 0; k < bd->nprior; k++)
            if (bd->prior[k].invocation > bd->invocation) bd->invocation = bd->prior[k].invocation;
        bd->invocation++;
    }
    bd->cur = *s;
    bd->cur_images = bd->images;
    for (int k = 0; k < bd->nprior; k++) {
        const jg_breakdown_prior_t *q = &bd->prior[k];
        s->steps += q->steps;
        s->dropped += q->dropped;
        s->step_s += q->step_s;
        s->step_j += q->step_j;
        s->regions_j += q->regions_j;
        s->total_uj += q->total_uj;
        s->total_s += q->total_s;
        bd->images += q->images;
        if (!q->valid && s->valid) {
            s->valid = 0;
            s->why = JG_ZONE_READ_ERROR;
        }
        for (int r = 0; r < bd->nregions; r++) {
            jg_region_energy_t *re = &bd->reg[r];
            const jg_region_energy_t *p = &q->reg[r];
            re->count += p->count;
            re->seconds += p->seconds;
            re->j += p->j;
            re->j_interp += p->j_interp;
            for (int z = 0; z < bd->nzones; z++) re->zone_j[z] += p->zone_j[z];
        }
    }
    if (!bd->nprior) return;
    s->closure = s->step_j > 0 ? s->regions_j / s->step_j : 0;
    for (int r = 0; r < bd->nregions; r++) {
        jg_region_energy_t *re = &bd->reg[r];
        re->valid = s->valid;
        re->why = s->why;
        re->aggregated = s->update_period_ns > 0 &&
                         re->seconds * (1 + 1e-9) <
                             JG_ATTRIB_MIN_PERIODS * (double)s->update_period_ns * 1e-9;
    }
}
