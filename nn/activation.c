/* SPDX-License-Identifier: MIT */
/* Element-wise activation layers: relu, leaky_relu, sigmoid, tanh. They share
 * one shape rule, so they share one file. FLOPs per element (forward /
 * backward incl. the accumulate): relu 1/2, leaky_relu 2/3, sigmoid 3/4
 * (exp counts as 1), tanh 1/4 (tanh counts as 1). */
#include "nn_internal.h"

static int same_shape(jg_layer_t *l, double fwd, double bwd)
{
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    l->fwd_flops = fwd * (double)l->in_n;
    l->bwd_flops = l->wants_din ? bwd * (double)l->in_n : 0.0;
    return 0;
}

static size_t count(const jg_layer_t *l, int batch) { return (size_t)batch * l->in_n; }

/* f(x) = max{0, x} */
static int relu_infer(jg_layer_t *l, jg_nn_error_t *e) { (void)e; return same_shape(l, 1, 2); }
static int relu_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    return jg_relu_forward(l->out, l->in, count(l, b));
}
/* writes din (the model skips zeroing it: sets_din) */
static int relu_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    return l->din ? jg_relu_backward_set(l->din, l->dout, l->in, count(l, b)) : 0;
}

/* f(x) = x > 0 ? x : slope*x */
static int leaky_infer(jg_layer_t *l, jg_nn_error_t *e) { (void)e; return same_shape(l, 2, 3); }
static int leaky_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    return jg_leaky_relu_forward(l->out, l->in, l->spec.slope, count(l, b));
}
static int leaky_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    return l->din ? jg_leaky_relu_backward(l->din, l->dout, l->in, l->spec.slope,
                                           count(l, b))
                  : 0;
}

/* f(x) = 1 / (1 + e^-x) */
static int sigmoid_infer(jg_layer_t *l, jg_nn_error_t *e) { (void)e; return same_shape(l, 3, 4); }
static int sigmoid_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    return jg_sigmoid_forward(l->out, l->in, count(l, b));
}
static int sigmoid_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    return l->din ? jg_sigmoid_backward(l->din, l->dout, l->out, count(l, b)) : 0;
}

/* f(x) = tanh(x) */
static int tanh_infer(jg_layer_t *l, jg_nn_error_t *e) { (void)e; return same_shape(l, 1, 4); }
static int tanh_fwd(struct jg_model *m, jg_layer_t *l, int b, int t)
{
    (void)m; (void)t;
    return jg_tanh_forward(l->out, l->in, count(l, b));
}
static int tanh_bwd(struct jg_model *m, jg_layer_t *l, int b)
{
    (void)m;
    return l->din ? jg_tanh_backward(l->din, l->dout, l->out, count(l, b)) : 0;
}

const jg_layer_ops_t jg_nn_relu_ops = { relu_infer, NULL, relu_fwd, relu_bwd, 1 };
const jg_layer_ops_t jg_nn_leaky_relu_ops = { leaky_infer, NULL, leaky_fwd, leaky_bwd, 0 };
const jg_layer_ops_t jg_nn_sigmoid_ops = { sigmoid_infer, NULL, sigmoid_fwd, sigmoid_bwd, 0 };
const jg_layer_ops_t jg_nn_tanh_ops = { tanh_infer, NULL, tanh_fwd, tanh_bwd, 0 };
