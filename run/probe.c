/* SPDX-License-Identifier: MIT */
/* probe.c - the bridge from nn's probes to an energy breakdown: one region
 * per layer and phase, the loss, the optimizer step and the data gather
 * (jg_run.h has the numbering), grouped into layer types. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jg_run.h"

const char *const jg_run_type_names[JG_RUN_NTYPES] = {
    "conv", "linear", "relu", "pool", "batchnorm", "loss", "optimizer", "data", "other", "comm",
};

struct jg_run_probe {
    jg_model_t *model;
    jg_breakdown_t *bd;
    int n_layers;
    int in_step; /* between DATA begin and OPTIMIZER end */
};

static int region_of(const jg_run_probe_t *p, int layer, int phase)
{
    const int L = p->n_layers;
    switch (phase) {
    case JG_NN_PHASE_FORWARD: return layer >= 0 && layer < L ? 2 * layer : -1;
    case JG_NN_PHASE_LOSS: return 2 * L;
    case JG_NN_PHASE_BACKWARD: return layer >= 0 && layer <= L ? 2 * layer + 1 : -1;
    case JG_NN_PHASE_OPTIMIZER: return 2 * L + 2;
    case JG_NN_PHASE_DATA: return 2 * L + 3;
    case JG_NN_PHASE_COMM: return 2 * L + 4;
    default: return -1;
    }
}

/* Hot path: one meter read each (jg_breakdown_begin/end). */
static void on_begin(void *ctx, int layer, int phase)
{
    jg_run_probe_t *p = ctx;
    if (phase == JG_NN_PHASE_DATA) {
        jg_breakdown_begin(p->bd, JG_TRACE_STEP);
        p->in_step = 1;
    }
    if (!p->in_step) return; /* validation or evaluation */
    const int r = region_of(p, layer, phase);
    if (r >= 0) jg_breakdown_begin(p->bd, r);
}

static void on_end(void *ctx, int layer, int phase)
{
    jg_run_probe_t *p = ctx;
    if (!p->in_step) return;
    const int r = region_of(p, layer, phase);
    if (r >= 0) jg_breakdown_end(p->bd, r);
    if (phase == JG_NN_PHASE_OPTIMIZER) {
        jg_breakdown_end(p->bd, JG_TRACE_STEP);
        p->in_step = 0;
    }
}

static int type_of_group(const char *g)
{
    for (int t = 0; t < JG_RUN_NTYPES; t++)
        if (!strcmp(g, jg_run_type_names[t])) return t;
    return JG_RUN_T_OTHER;
}

jg_nn_probe_t jg_run_probe_hooks(const jg_run_probe_t *p)
{
    return (jg_nn_probe_t){.ctx = (void *)p, .begin = on_begin, .end = on_end};
}

int jg_run_probe_create(jg_run_probe_t **out, jg_model_t *model, jg_meter_t *meter,
                        const jg_run_probe_config_t *pc)
{
    if (!out) return -EINVAL;
    *out = NULL;
    if (!model || !meter || !pc) return -EINVAL;
    const int data_parallel = pc->data_parallel;
    const int L = jg_model_n_layers(model), nregions = 2 * L + 4 + !!data_parallel;
    if (nregions > JG_TRACE_MAX_REGIONS) return -E2BIG;
    jg_region_desc_t *d = calloc((size_t)nregions, sizeof *d);
    jg_run_probe_t *p = calloc(1, sizeof *p);
    int rc = d && p ? 0 : -ENOMEM;
    for (int i = 0; !rc && i <= L; i++) {
        jg_layer_info_t li;
        rc = jg_model_layer(model, i, &li);
        const int t = type_of_group(li.group_name);
        d[2 * i] = (jg_region_desc_t){i, 0, li.type_name, t, li.fwd_flops};
        d[2 * i + 1] = (jg_region_desc_t){i, 1, li.type_name, t, li.bwd_flops};
    }
    if (!rc) {
        d[2 * L + 2] = (jg_region_desc_t){-1, 0, "optimizer", JG_RUN_T_OPTIMIZER, 0};
        d[2 * L + 3] = (jg_region_desc_t){-1, 0, "data", JG_RUN_T_DATA, 0};
        if (data_parallel) d[2 * L + 4] = (jg_region_desc_t){-1, 0, "comm", JG_RUN_T_COMM, 0};
        const jg_breakdown_config_t cfg = {
            .regions = d, .nregions = nregions, .types = jg_run_type_names,
            .ntypes = data_parallel ? JG_RUN_NTYPES : JG_RUN_T_COMM,
            .trace_path = pc->trace_path, .w_per_core = pc->w_per_core,
            .invocation = pc->invocation, .ranks = pc->ranks, .rank = pc->rank,
            .node = pc->node, .host = pc->host,
            .scope = "training steps only, each bracketed from data gathering to the end of "
                     "the optimizer step",
            .type_notes = "by_type: optimizer and data (and comm, data parallelism's gradient "
                          "sum over the ranks) have no backward pass, their energy is in "
                          "forward_j (backward_j 0); loss forward_j is the softmax "
                          "cross-entropy forward, backward_j its gradient. by_type plus "
                          "unattributed_j adds up to total_j.",
        };
        rc = jg_breakdown_create(&p->bd, meter, &cfg);
    }
    free(d);
    if (rc) {
        free(p);
        return rc;
    }
    p->model = model;
    p->n_layers = L;
    const jg_nn_probe_t probe = jg_run_probe_hooks(p);
    jg_model_set_probe(model, &probe);
    *out = p;
    return 0;
}

jg_breakdown_t *jg_run_probe_take(jg_run_probe_t *p)
{
    if (!p) return NULL;
    jg_model_set_probe(p->model, NULL);
    jg_breakdown_t *bd = p->bd;
    free(p);
    return bd;
}

void jg_run_probe_destroy(jg_run_probe_t *p)
{
    jg_breakdown_destroy(jg_run_probe_take(p));
}

jg_breakdown_t *jg_run_probe_breakdown(jg_run_probe_t *p)
{
    return p ? p->bd : NULL;
}
