/* SPDX-License-Identifier: MIT */
/* Max and average pooling layers (NCHW, floor output size as PyTorch).
 * FLOPs per output: max (kh*kw - 1) compares forward, 1 add backward;
 * avg kh*kw forward (adds + one scale), kh*kw + 1 backward. */
#include "nn_internal.h"

static jg_pool2d_shape_t pool_shape(const jg_layer_t *l, int batch)
{
    jg_pool2d_shape_t s = {
        .n = batch, .c = l->in_c, .h = l->in_h, .w = l->in_w,
        .kh = l->spec.kh, .kw = l->spec.kw,
        .stride_h = l->spec.stride_h, .stride_w = l->spec.stride_w,
        .pad_h = l->spec.pad_h, .pad_w = l->spec.pad_w,
    };
    return s;
}

static int pool_infer(jg_layer_t *l, jg_nn_error_t *err, int is_max)
{
    const jg_layer_spec_t *s = &l->spec;
    if (2 * s->pad_h > s->kh || 2 * s->pad_w > s->kw)
        return jg_nn_shape_error(l, err, "pad must be at most half the window");
    if (s->kh > l->in_h + 2 * s->pad_h || s->kw > l->in_w + 2 * s->pad_w)
        return jg_nn_shape_error(l, err, "output would be 0x0 (window larger than the "
                                 "padded input)");
    const jg_pool2d_shape_t ps = pool_shape(l, 1);
    int oh, ow;
    if (jg_pool2d_out_hw(&ps, &oh, &ow) != 0)
        return jg_nn_shape_error(l, err, "invalid pooling shape");
    l->out_c = l->in_c;
    l->out_h = oh;
    l->out_w = ow;
    const double outs = (double)l->in_c * oh * ow, win = (double)s->kh * s->kw;
    l->fwd_flops = is_max ? (win - 1.0) * outs : win * outs;
    l->bwd_flops = l->wants_din ? (is_max ? outs : (win + 1.0) * outs) : 0.0;
    return 0;
}

/* y = max over window */
static int max_infer(jg_layer_t *l, jg_nn_error_t *e) { return pool_infer(l, e, 1); }
static int max_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    const jg_pool2d_shape_t s = pool_shape(l, b);
    return jg_maxpool2d_forward(l->out, l->argmax, l->in, &s);
}
/* writes din: each plane zeroed right before its scatter (sets_din) */
static int max_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    if (!l->din) return 0;
    const jg_pool2d_shape_t s = pool_shape(l, b);
    return jg_maxpool2d_backward_set(l->din, l->dout, l->argmax, &s);
}

/* y = mean over window (padding counts as zeros) */
static int avg_infer(jg_layer_t *l, jg_nn_error_t *e) { return pool_infer(l, e, 0); }
static int avg_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    const jg_pool2d_shape_t s = pool_shape(l, b);
    return jg_avgpool2d_forward(l->out, l->in, &s);
}
static int avg_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    if (!l->din) return 0;
    const jg_pool2d_shape_t s = pool_shape(l, b);
    return jg_avgpool2d_backward(l->din, l->dout, &s);
}

const jg_layer_ops_t jg_nn_maxpool2d_ops = { max_infer, NULL, max_fwd, max_bwd, 1 };
const jg_layer_ops_t jg_nn_avgpool2d_ops = { avg_infer, NULL, avg_fwd, avg_bwd, 0 };
