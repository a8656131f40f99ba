/* SPDX-License-Identifier: MIT */
/* Conv2d layer: y = bias + w (*) x, cross-correlation as PyTorch. */
#include <errno.h>

#include "nn_internal.h"

static jg_conv2d_shape_t conv_shape(const jg_layer_t *l, int batch)
{
    jg_conv2d_shape_t s = {
        .n = batch, .c = l->in_c, .h = l->in_h, .w = l->in_w, .k = l->spec.out,
        .kh = l->spec.kh, .kw = l->spec.kw,
        .stride_h = l->spec.stride_h, .stride_w = l->spec.stride_w,
        .pad_h = l->spec.pad_h, .pad_w = l->spec.pad_w,
    };
    return s;
}

static int conv_infer(jg_layer_t *l, jg_nn_error_t *err)
{
    const jg_layer_spec_t *s = &l->spec;
    if (s->kh > l->in_h + 2 * s->pad_h || s->kw > l->in_w + 2 * s->pad_w)
        return jg_nn_shape_error(l, err, "output would be 0x0 (kernel larger than the "
                                 "padded input)");
    const jg_conv2d_shape_t cs = conv_shape(l, 1);
    int oh, ow;
    if (jg_conv2d_out_hw(&cs, &oh, &ow) != 0)
        return jg_nn_shape_error(l, err, "invalid convolution shape");
    l->out_c = s->out;
    l->out_h = oh;
    l->out_w = ow;
    l->n_w = (size_t)s->out * (size_t)l->in_c * (size_t)s->kh * (size_t)s->kw;
    l->n_b = (size_t)s->out;
    /* one multiply-add = 2 FLOPs per (output, tap); + bias add */
    const double macs = (double)l->n_w * oh * ow;
    const double outs = (double)s->out * oh * ow;
    l->fwd_flops = 2.0 * macs + outs;
    l->bwd_flops = 2.0 * macs + outs + (l->wants_din ? 2.0 * macs : 0.0);
    return 0;
}

static ptrdiff_t conv_workspace(const jg_layer_t *l, int batch)
{
    const jg_conv2d_shape_t s = conv_shape(l, batch);
    return jg_conv2d_workspace_bytes(&s);
}

static int conv_forward(struct jg_model *m, jg_layer_t *l, int batch, int training)
{
    (void)training;
    const jg_conv2d_shape_t s = conv_shape(l, batch);
    const ptrdiff_t need = jg_conv2d_workspace_bytes(&s);
    if (need < 0) return -EINVAL;
    /* The kernel's scratch may grow with the thread count: refuse rather
     * than overrun (the caller reserves again). */
    if ((size_t)need > m->workspace_bytes) return -ENOSPC;
    return jg_conv2d_forward(l->out, l->in, m->params + l->w_off,
                             m->params + l->b_off, &s, m->workspace);
}

static int conv_backward(struct jg_model *m, jg_layer_t *l, int batch)
{
    const jg_conv2d_shape_t s = conv_shape(l, batch);
    const ptrdiff_t need = jg_conv2d_workspace_bytes(&s);
    if (need < 0) return -EINVAL;
    if ((size_t)need > m->workspace_bytes) return -ENOSPC;
    int rc = jg_conv2d_backward_weights(m->grads + l->w_off, m->grads + l->b_off,
                                        l->dout, l->in, &s, m->workspace);
    /* writes din (sets_din: the model does not zero it) */
    if (rc == 0 && l->din)
        rc = jg_conv2d_backward_data_set(l->din, l->dout, m->params + l->w_off, &s,
                                         m->workspace);
    return rc;
}

const jg_layer_ops_t jg_nn_conv2d_ops = {
    conv_infer, conv_workspace, conv_forward, conv_backward, 1,
};
