/* SPDX-License-Identifier: MIT */
/*
 * train_cluster.c - the measured training run over the ranks of an MPI job
 * (train_internal.h): who reads the meter, this invocation's energy parts
 * gathered at rank 0, and the `cluster` object of summary.json. With one
 * rank every function reduces to the single-process case.
 *
 * Who reads: with `estimate` every rank meters its own CPU time (processes
 * never share it), so the ranks' parts add up. With `rapl` the ranks of a
 * node share its packages: exactly one reader per node (node rank 0), whose
 * brackets cover the node's lockstep work, so a node is never counted twice;
 * a rank's share of it is an attribution (node / ranks), not a measurement.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run_internal.h"
#include "train_internal.h"

int jg_run_reads_meter(const jg_meter_t *meter)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    return meter && (jg_meter_source(meter) != JG_ENERGY_SOURCE_RAPL || cl->node_rank == 0);
}

int jg_run_invocation(const cJSON *prior)
{
    int last = 0, k = 0;
    for (const cJSON *p = prior ? prior->child : NULL; p; p = p->next, k++) {
        const cJSON *inv = cJSON_GetObjectItemCaseSensitive(p, "invocation");
        const int i = cJSON_IsNumber(inv) ? (int)inv->valuedouble : k + 1;
        if (i > last) last = i;
    }
    return last + 1;
}

cJSON *jg_run_current_parts(jg_run_train_state_t *st)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    jg_breakdown_t *bd = jg_run_probe_breakdown(st->probe);
    char *text = NULL;
    if (bd) {
        cJSON *mine = jg_breakdown_part_json(bd, cl->rank == 0 ? st->trace_name : NULL);
        if (mine) {
            cJSON_AddNumberToObject(mine, "invocation", st->invocation);
            if (cl->size > 1) {
                cJSON_AddNumberToObject(mine, "rank", cl->rank);
                cJSON_AddNumberToObject(mine, "node", cl->node);
                cJSON_AddStringToObject(mine, "host", cl->host);
            }
            text = cJSON_PrintUnformatted(mine);
            cJSON_Delete(mine);
        }
    }
    int n = 0;
    char **texts = jg_cl_gather_text(text, 0, &n); // every rank takes part
    free(text);
    cJSON *parts = cl->rank == 0 ? cJSON_CreateArray() : NULL;
    for (int i = 0; parts && i < n; i++) {
        cJSON *p = cJSON_Parse(texts[i]);
        if (p) cJSON_AddItemToArray(parts, p);
    }
    jg_cl_free_texts(texts, n);
    return parts;
}

int jg_run_add_rank_parts(jg_run_train_state_t *st, const cJSON *current, jg_run_error_t *err)
{
    jg_breakdown_t *bd = jg_run_probe_breakdown(st->probe);
    cJSON *others = cJSON_CreateArray();
    const jg_run_cluster_t *cl = jg_run_cluster();
    // Figures of another source (RAPL readable on some nodes only) are never
    // summed with rank 0's: the cluster object lists them per node.
    const char *mine = st->source ? st->source : "";
    for (const cJSON *p = current ? current->child : NULL; others && p; p = p->next) {
        const cJSON *rk = cJSON_GetObjectItemCaseSensitive(p, "rank");
        const char *src = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "source"));
        if (cJSON_IsNumber(rk) && (int)rk->valuedouble != cl->rank && src && !strcmp(src, mine))
            cJSON_AddItemToArray(others, cJSON_Duplicate(p, 1));
    }
    char why[512] = "";
    int rc = others ? 0 : -ENOMEM;
    if (!rc && bd && cJSON_GetArraySize(others))
        rc = jg_breakdown_add_parts(bd, others, why, sizeof why);
    cJSON_Delete(others);
    if (rc)
        return jg_run_fail(err, rc, "adding the other ranks' energy: %s",
                           rc == -ENOMEM ? "out of memory" : why);
    return 0;
}

struct cJSON *jg_run_cluster_json(const cJSON *current, const char *source)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const int rapl = !strcmp(source, "rapl");
    cJSON_AddNumberToObject(o, "ranks", cl->size);
    cJSON_AddStringToObject(o, "source", source);
    cJSON_AddNumberToObject(o, "nodes", cl->nodes);
    cJSON_AddStringToObject(o, "readers",
                            rapl ? "one per node (node rank 0): a node's ranks share its RAPL "
                                   "packages, so each node is counted once"
                                 : "every rank, each its own process's CPU time (estimate): "
                                   "processes never share it, so the ranks add up");
    // Per node: the parts that rank 0 added (same source), their sum.
    cJSON *nodes = cJSON_AddArrayToObject(o, "per_node");
    for (int nd = 0; nd < cl->nodes; nd++) {
        double j = 0;
        int parts = 0, valid = 1, ranks = 0;
        const char *host = "", *src = "";
        for (const cJSON *p = current ? current->child : NULL; p; p = p->next) {
            const cJSON *pn = cJSON_GetObjectItemCaseSensitive(p, "node");
            if ((cJSON_IsNumber(pn) ? (int)pn->valuedouble : 0) != nd) continue;
            j += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(p, "step_j"));
            valid &= cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "valid"));
            const char *h = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "host"));
            const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "source"));
            if (h) host = h;
            if (s) src = s;
            parts++;
        }
        ranks = rapl ? 0 : parts;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "node", nd);
        cJSON_AddStringToObject(e, "host", host);
        cJSON_AddStringToObject(e, "source", src);
        if (parts) cJSON_AddNumberToObject(e, "total_j", j);
        else cJSON_AddNullToObject(e, "total_j");
        cJSON_AddBoolToObject(e, "valid", valid && parts);
        // in the run's sums only when measured like rank 0's node
        cJSON_AddBoolToObject(e, "in_total", parts && !strcmp(src, source));
        if (!rapl) cJSON_AddNumberToObject(e, "ranks_measured", ranks);
        cJSON_AddItemToArray(nodes, e);
    }
    if (rapl)
        cJSON_AddStringToObject(o, "per_rank", "attributed: a rank's share of its node's "
                                               "joules is the node's figure / its ranks, not a "
                                               "measurement");
    return o;
}
