/* SPDX-License-Identifier: MIT */
/* Flatten layer: (B, C, H, W) -> (B, C*H*W, 1, 1). After another layer it is
 * a view: it shares that layer's output and gradient buffers (model.c), so
 * forward and backward have nothing to do. As the first layer it copies the
 * input forward and the gradient backward. No FLOPs either way. */
#include <string.h>

#include "nn_internal.h"

static int flatten_infer(jg_layer_t *l, jg_nn_error_t *err)
{
    (void)err;
    l->out_c = (int)l->in_n;
    l->out_h = 1;
    l->out_w = 1;
    l->fwd_flops = 0.0;
    l->bwd_flops = 0.0;
    return 0;
}

static int flatten_forward(struct jg_model *m, jg_layer_t *l, int batch, int training)
{
    (void)m; (void)training;
    if (l->out != l->in) memcpy(l->out, l->in, (size_t)batch * l->in_n * sizeof(float));
    return 0;
}

/* din = dout (sets_din): nothing to do when they are one buffer */
static int flatten_backward(struct jg_model *m, jg_layer_t *l, int batch)
{
    (void)m;
    if (l->din && l->din != l->dout)
        memcpy(l->din, l->dout, (size_t)batch * l->in_n * sizeof(float));
    return 0;
}

const jg_layer_ops_t jg_nn_flatten_ops = {
    flatten_infer, NULL, flatten_forward, flatten_backward, 1,
};
