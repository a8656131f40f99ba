/* SPDX-License-Identifier: MIT */
/* Dropout layer (inverted): training y = x * mask, mask = [u >= p] / (1 - p)
 * with u drawn from a counter-based hash of (seed, step, layer, element), so
 * the mask is reproducible and independent of threads; eval y = x.
 * FLOPs per element: 1 forward, 2 backward. */
#include <string.h>

#include "nn_internal.h"

static int dropout_infer(jg_layer_t *l, jg_nn_error_t *err)
{
    (void)err;
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->fwd_flops = (double)l->in_n;
    l->bwd_flops = l->wants_din ? 2.0 * (double)l->in_n : 0.0;
    return 0;
}

static int dropout_forward(struct jg_model *m, jg_layer_t *l, int batch, int training)
{
    const size_t n = (size_t)batch * l->in_n;
    const float p = l->spec.p;
    if (!training || p == 0.0f) {
        memcpy(l->out, l->in, n * sizeof(float));
        /* backward of an identity forward: keep the mask consistent */
        for (size_t i = 0; i < n; i++) l->mask[i] = 1.0f;
        return 0;
    }
    const float keep = 1.0f / (1.0f - p);
    /* 24-bit uniforms compared with p in double: exact and portable */
    const uint32_t thresh = (uint32_t)((double)p * 16777216.0);
    uint64_t key = m->seed ^ 0x6a09e667f3bcc908ULL;
    key = jg_splitmix64(&key) ^ (m->step * 0x9e3779b97f4a7c15ULL);
    key = jg_splitmix64(&key) ^ ((uint64_t)l->index << 32);
    /* the element's index in the global batch, so a data-parallel shard
     * draws the mask one process would */
    const uint64_t first = (uint64_t)m->batch_offset * l->in_n;
    for (size_t i = 0; i < n; i++) {
        uint64_t st = key + (first + i) * 0xd1b54a32d192ed03ULL;
        const uint32_t u = (uint32_t)(jg_splitmix64(&st) >> 40);
        l->mask[i] = u >= thresh ? keep : 0.0f;
        l->out[i] = l->in[i] * l->mask[i];
    }
    return 0;
}

static int dropout_backward(struct jg_model *m, jg_layer_t *l, int batch)
{
    (void)m;
    if (!l->din) return 0;
    const size_t n = (size_t)batch * l->in_n;
    /* dx += dy * mask */
    for (size_t i = 0; i < n; i++) l->din[i] += l->dout[i] * l->mask[i];
    return 0;
}

const jg_layer_ops_t jg_nn_dropout_ops = {
    dropout_infer, NULL, dropout_forward, dropout_backward, 0,
};
