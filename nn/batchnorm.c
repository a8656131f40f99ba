/* SPDX-License-Identifier: MIT */
/* BatchNorm2d layer: y = gamma * (x - mean) * rstd + beta per channel.
 * Parameters: gamma (weight), beta (bias); buffers: running mean, var;
 * scratch: the batch mean and rstd saved for backward. FLOPs per element:
 * 8 forward (mean 1, var 3, normalise 2, affine 2), 12 backward. */
#include <errno.h>

#include "nn_internal.h"

static int bn_infer(jg_layer_t *l, jg_nn_error_t *err)
{
    (void)err;
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->n_w = (size_t)l->in_c;
    l->n_b = (size_t)l->in_c;
    l->n_buf = 2 * (size_t)l->in_c;
    l->n_aux = 2 * (size_t)l->in_c;
    l->fwd_flops = 8.0 * (double)l->in_n;
    l->bwd_flops = 12.0 * (double)l->in_n;
    return 0;
}

static int bn_forward(struct jg_model *m, jg_layer_t *l, int batch, int training)
{
    const int c = l->in_c, hw = l->in_h * l->in_w;
    const float *gamma = m->params + l->w_off, *beta = m->params + l->b_off;
    float *rmean = m->buffers + l->buf_off, *rvar = rmean + c;
    if (training) {
        float *mean = m->aux + l->aux_off, *rstd = mean + c;
        return jg_batchnorm2d_forward_train(l->out, mean, rstd, rmean, rvar, l->in,
                                            gamma, beta, batch, c, hw, l->spec.eps,
                                            l->spec.momentum);
    }
    return jg_batchnorm2d_forward_infer(l->out, l->in, gamma, beta, rmean, rvar,
                                        batch, c, hw, l->spec.eps);
}

static int bn_backward(struct jg_model *m, jg_layer_t *l, int batch)
{
    const int c = l->in_c, hw = l->in_h * l->in_w;
    const float *mean = m->aux + l->aux_off, *rstd = mean + c;
    float *dx = l->din;
    /* The kernel always produces dx; the first layer has no dx buffer, so it
     * writes into the model's input-gradient scratch instead. */
    if (!dx) dx = m->dinput;
    if (!dx) return -EINVAL;
    /* writes dx (sets_din: the model does not zero it) */
    return jg_batchnorm2d_backward_set(dx, m->grads + l->w_off, m->grads + l->b_off,
                                       l->dout, l->in, mean, rstd,
                                       m->params + l->w_off, batch, c, hw);
}

const jg_layer_ops_t jg_nn_batchnorm2d_ops = { bn_infer, NULL, bn_forward, bn_backward, 1 };
