/* SPDX-License-Identifier: MIT */
/* Linear layer: y = x W^T + b, W (out, in) as PyTorch; the input is
 * flattened to (B, C*H*W) implicitly. */
#include <stddef.h>

#include "nn_internal.h"

static int linear_infer(jg_layer_t *l, jg_nn_error_t *err)
{
    const size_t in = l->in_n;
    /* the GEMM takes int sizes */
    if (in > 2147483647u || (double)in * l->spec.out > 4e9)
        return jg_nn_shape_error(l, err, "weight matrix too large");
    l->out_c = l->spec.out;
    l->out_h = 1;
    l->out_w = 1;
    l->n_w = (size_t)l->spec.out * in;
    l->n_b = (size_t)l->spec.out;
    const double macs = (double)l->n_w, outs = (double)l->spec.out;
    l->fwd_flops = 2.0 * macs + outs;
    l->bwd_flops = 2.0 * macs + outs + (l->wants_din ? 2.0 * macs : 0.0);
    return 0;
}

static int linear_forward(struct jg_model *m, jg_layer_t *l, int batch, int training)
{
    (void)training;
    const int in = (int)l->in_n, out = l->spec.out;
    /* y (B, out) = x (B, in) * W^T (in, out) */
    int rc = jg_sgemm(JG_NOTRANS, JG_TRANS, batch, out, in, 1.0f, l->in, in,
                      m->params + l->w_off, in, 0.0f, l->out, out);
    if (rc == 0) rc = jg_bias_add_rows(l->out, m->params + l->b_off, batch, out, out);
    return rc;
}

static int linear_backward(struct jg_model *m, jg_layer_t *l, int batch)
{
    const int in = (int)l->in_n, out = l->spec.out;
    /* dW (out, in) += dy^T (out, B) * x (B, in) */
    int rc = jg_sgemm(JG_TRANS, JG_NOTRANS, out, in, batch, 1.0f, l->dout, out,
                      l->in, in, 1.0f, m->grads + l->w_off, in);
    if (rc == 0) rc = jg_bias_grad_rows(m->grads + l->b_off, l->dout, batch, out, out);
    /* dx (B, in) = dy (B, out) * W (out, in): beta 0 writes din (sets_din) */
    if (rc == 0 && l->din)
        rc = jg_sgemm(JG_NOTRANS, JG_NOTRANS, batch, in, out, 1.0f, l->dout, out,
                      m->params + l->w_off, in, 0.0f, l->din, in);
    return rc;
}

const jg_layer_ops_t jg_nn_linear_ops = {
    linear_infer, NULL, linear_forward, linear_backward, 1,
};
