/* SPDX-License-Identifier: MIT */
/* Model: shape inference, arenas, initialisation, forward/backward, loss,
 * probes and introspection. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

#define MAX_LAYERS 1024
#define SPEC_TEXT_CAP 16384
#define ALIGN_BYTES 64

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

/* aligned_alloc needs a size that is a multiple of the alignment. */
static void *arena_alloc(size_t bytes)
{
    if (bytes == 0) bytes = ALIGN_BYTES;
    return aligned_alloc(ALIGN_BYTES, round_up(bytes, ALIGN_BYTES));
}

static int is_preset(const char *spec)
{
    int n;
    const jg_nn_preset_t *p = jg_nn_presets(&n);
    const char *colon = strchr(spec, ':');
    const size_t nl = colon ? (size_t)(colon - spec) : strlen(spec);
    for (int i = 0; i < n; i++)
        if (strlen(p[i].name) == nl && strncmp(p[i].name, spec, nl) == 0) return 1;
    return 0;
}

static int build(jg_model_t *m, const jg_layer_spec_t *specs, int n, jg_nn_error_t *err)
{
    m->layers = calloc((size_t)n, sizeof *m->layers);
    if (!m->layers) {
        jg_nn_errorf(err, "out of memory for %d layers", n);
        return -ENOMEM;
    }
    m->n_layers = n;
    int c = m->c, h = m->h, w = m->w;
    size_t poff = 0, boff = 0, aoff = 0;
    for (int i = 0; i < n; i++) {
        jg_layer_t *l = &m->layers[i];
        l->spec = specs[i];
        l->index = i;
        l->in_c = c;
        l->in_h = h;
        l->in_w = w;
        l->in_n = (size_t)c * (size_t)h * (size_t)w;
        l->wants_din = i > 0;
        const int rc = jg_nn_ops(l->spec.kind)->infer(l, err);
        if (rc) return rc;
        const double outn = (double)l->out_c * l->out_h * l->out_w;
        if (outn > 2147483647.0 || l->out_h < 1 || l->out_w < 1)
            return jg_nn_shape_error(l, err, "output too large or empty");
        l->out_n = (size_t)outn;
        l->w_off = poff;
        poff += l->n_w;
        l->b_off = poff;
        poff += l->n_b;
        l->buf_off = boff;
        boff += l->n_buf;
        l->aux_off = aoff;
        aoff += l->n_aux;
        if (l->spec.kind == JG_LAYER_RELU || l->spec.kind == JG_LAYER_LEAKY_RELU)
            m->has_relu = 1;
        c = l->out_c;
        h = l->out_h;
        w = l->out_w;
    }
    const jg_layer_t *last = &m->layers[n - 1];
    if (last->out_n != (size_t)m->classes) {
        char text[96];
        jg_nn_layer_text(&last->spec, text, sizeof text);
        jg_nn_errorf(err, "spec:%d:%d: final layer '%s' outputs %dx%dx%d = %zu values "
                     "per image but there are %d classes; end the spec with linear(%d)",
                     last->spec.line, last->spec.col, text, last->out_c, last->out_h,
                     last->out_w, last->out_n, m->classes, m->classes);
        return -EINVAL;
    }
    m->n_params = (int64_t)poff;
    m->n_params_alloc = poff;
    m->n_buffers = boff;
    m->n_aux = aoff;
    m->params = arena_alloc(poff * sizeof(float));
    m->grads = arena_alloc(poff * sizeof(float));
    m->buffers = arena_alloc(boff * sizeof(float));
    m->aux = arena_alloc(aoff * sizeof(float));
    if (!m->params || !m->grads || !m->buffers || !m->aux) {
        const double mib = (2.0 * (double)poff + (double)boff + (double)aoff) * sizeof(float) /
                           (1024.0 * 1024.0);
        jg_nn_errorf(err, "out of memory for the model's %lld parameters (%.1f MiB for "
                     "parameters, gradients and buffers)", (long long)poff, mib);
        return -ENOMEM;
    }
    memset(m->grads, 0, poff * sizeof(float));
    memset(m->aux, 0, aoff * sizeof(float));
    return 0;
}

int jg_model_create(jg_model_t **model, const char *spec, int c, int h, int w,
                    int classes, uint64_t seed, jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!model || !spec || c < 1 || h < 1 || w < 1 || classes < 1) {
        jg_nn_errorf(err, "model: invalid arguments");
        return -EINVAL;
    }
    *model = NULL;
    char *text = NULL;
    /* a preset name, possibly padded with whitespace */
    char name[128];
    while (isspace((unsigned char)*spec)) spec++;
    size_t nl = strlen(spec);
    while (nl > 0 && isspace((unsigned char)spec[nl - 1])) nl--;
    if (nl < sizeof name) {
        memcpy(name, spec, nl);
        name[nl] = '\0';
    } else {
        name[0] = '\0';
    }
    if (name[0] && is_preset(name)) {
        text = malloc(SPEC_TEXT_CAP);
        if (!text) {
            jg_nn_errorf(err, "out of memory for the spec text");
            return -ENOMEM;
        }
        const int rc = jg_nn_preset_expand(name, c, h, w, classes, text, SPEC_TEXT_CAP, err);
        if (rc) {
            free(text);
            return rc;
        }
        spec = text;
    }
    jg_layer_spec_t *specs = malloc(MAX_LAYERS * sizeof *specs);
    jg_model_t *m = calloc(1, sizeof *m);
    int rc = -ENOMEM, n = 0;
    if (!specs || !m) jg_nn_errorf(err, "out of memory for the model description");
    if (specs && m) {
        m->c = c;
        m->h = h;
        m->w = w;
        m->classes = classes;
        rc = jg_nn_parse(spec, specs, MAX_LAYERS, &n, err);
        if (rc == 0) rc = build(m, specs, n, err);
        if (rc == 0) rc = jg_model_init_params(m, seed);
    }
    free(specs);
    free(text);
    if (rc) {
        jg_model_destroy(m);
        return rc;
    }
    *model = m;
    return 0;
}

void jg_model_destroy(jg_model_t *m)
{
    if (!m) return;
    free(m->layers);
    free(m->params);
    free(m->grads);
    free(m->buffers);
    free(m->aux);
    free(m->acts);
    free(m->workspace);
    free(m);
}

int jg_model_init_params(jg_model_t *m, uint64_t seed)
{
    if (!m) return -EINVAL;
    jg_nn_rng_t rng;
    jg_nn_rng_seed(&rng, seed);
    m->seed = seed;
    m->step = 0;
    for (int i = 0; i < m->n_layers; i++) {
        jg_layer_t *l = &m->layers[i];
        float *wt = m->params + l->w_off, *b = m->params + l->b_off;
        if (l->spec.kind == JG_LAYER_CONV2D || l->spec.kind == JG_LAYER_LINEAR) {
            const double taps = l->spec.kind == JG_LAYER_CONV2D
                                    ? (double)l->spec.kh * l->spec.kw : 1.0;
            const double fan_in = (double)l->n_w / l->spec.out;
            const double fan_out = (double)l->spec.out * taps;
            if (m->has_relu) {
                /* He-normal: std = sqrt(2 / fan_in) */
                const double sd = sqrt(2.0 / fan_in);
                for (size_t j = 0; j < l->n_w; j++)
                    wt[j] = (float)(sd * jg_nn_rng_normal(&rng));
            } else {
                /* Xavier-uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
                const double a = sqrt(6.0 / (fan_in + fan_out));
                for (size_t j = 0; j < l->n_w; j++)
                    wt[j] = (float)(a * (2.0 * jg_nn_rng_double(&rng) - 1.0));
            }
            memset(b, 0, l->n_b * sizeof(float));
        } else if (l->spec.kind == JG_LAYER_BATCHNORM2D) {
            float *rmean = m->buffers + l->buf_off, *rvar = rmean + l->in_c;
            for (int j = 0; j < l->in_c; j++) {
                wt[j] = 1.0f;
                b[j] = 0.0f;
                rmean[j] = 0.0f;
                rvar[j] = 1.0f;
            }
        }
    }
    memset(m->grads, 0, m->n_params_alloc * sizeof(float));
    return 0;
}

/* Flatten after another layer is a view of that layer's buffers. */
static int flatten_view(const jg_model_t *m, int i)
{
    return i > 0 && m->layers[i].spec.kind == JG_LAYER_FLATTEN;
}

/* ReLU runs in place, as PyTorch's ReLU(inplace=True): it shares its
 * output and gradient buffers with the layer before it, whose backward
 * reads its own input and output gradient but never its output (conv,
 * linear, batchnorm, pooling). Its backward masks with y > 0, the same test
 * as x > 0, so every value is bit-identical; what changes is that the
 * layer before shows the ReLU's output afterwards (jg_layer_info_t), and
 * the arena holds two activation-sized buffers less per ReLU: for the
 * default net at batch 64, 18.4 MiB less memory touched per step. */
static int relu_in_place(const jg_model_t *m, int i)
{
    if (i == 0 || m->layers[i].spec.kind != JG_LAYER_RELU) return 0;
    switch (m->layers[i - 1].spec.kind) {
    case JG_LAYER_CONV2D:
    case JG_LAYER_LINEAR:
    case JG_LAYER_BATCHNORM2D:
    case JG_LAYER_MAXPOOL2D:
    case JG_LAYER_AVGPOOL2D: return 1;
    default: return 0;
    }
}

/* Layer i uses the out and dout buffers of layer i - 1 (no arena of its own). */
static int shares_prev_buffers(const jg_model_t *m, int i)
{
    return relu_in_place(m, i) || flatten_view(m, i);
}

int jg_model_reserve(jg_model_t *m, int batch)
{
    if (!m || batch < 1) return -EINVAL;
    /* activation layout: per layer out, dout (+ argmax / mask), then probs and
     * the input gradient; every piece on a 64-byte boundary */
    size_t off = 0;
    const size_t B = (size_t)batch;
    size_t ws = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const jg_layer_t *l = &m->layers[i];
        const size_t n = round_up(B * l->out_n, JG_NN_ALIGN_FLOATS);
        if (!shares_prev_buffers(m, i)) off += 2 * n;
        if (l->spec.kind == JG_LAYER_MAXPOOL2D || l->spec.kind == JG_LAYER_DROPOUT)
            off += n; /* int32 argmax has the size of a float */
        const jg_layer_ops_t *ops = jg_nn_ops(l->spec.kind);
        if (ops->workspace) {
            /* the kernel's split can depend on the batch: take the maximum */
            for (int b = 1; b <= batch; b++) {
                const ptrdiff_t need = ops->workspace(l, b);
                if (need < 0) return -EINVAL;
                if ((size_t)need > ws) ws = (size_t)need;
            }
        }
    }
    off += round_up(B * (size_t)m->classes, JG_NN_ALIGN_FLOATS);
    off += round_up(B * m->layers[0].in_n, JG_NN_ALIGN_FLOATS);
    float *acts = arena_alloc(off * sizeof(float));
    void *wsp = ws ? arena_alloc(ws) : NULL;
    if (!acts || (ws && !wsp)) {
        free(acts);
        free(wsp);
        return -ENOMEM;
    }
    free(m->acts);
    free(m->workspace);
    m->acts = acts;
    m->acts_floats = off;
    m->workspace = wsp;
    m->workspace_bytes = ws;
    m->capacity = batch;
    m->batch = 0;
    m->have_loss = 0;
    memset(acts, 0, off * sizeof(float));
    off = 0;
    for (int i = 0; i < m->n_layers; i++) {
        jg_layer_t *l = &m->layers[i];
        const size_t n = round_up(B * l->out_n, JG_NN_ALIGN_FLOATS);
        if (shares_prev_buffers(m, i)) {
            l->out = m->layers[i - 1].out;
            l->dout = m->layers[i - 1].dout;
        } else {
            l->out = acts + off;
            off += n;
            l->dout = acts + off;
            off += n;
        }
        l->argmax = NULL;
        l->mask = NULL;
        if (l->spec.kind == JG_LAYER_MAXPOOL2D) {
            l->argmax = (int32_t *)(void *)(acts + off);
            off += n;
        } else if (l->spec.kind == JG_LAYER_DROPOUT) {
            l->mask = acts + off;
            off += n;
        }
    }
    m->probs = acts + off;
    off += round_up(B * (size_t)m->classes, JG_NN_ALIGN_FLOATS);
    m->dinput = acts + off;
    for (int i = 0; i < m->n_layers; i++) {
        jg_layer_t *l = &m->layers[i];
        l->in = i ? m->layers[i - 1].out : NULL;
        l->din = i ? m->layers[i - 1].dout : NULL;
    }
    return 0;
}

static inline void probe_begin(const jg_model_t *m, int layer, int phase)
{
    if (m->have_probe && m->probe.begin) m->probe.begin(m->probe.ctx, layer, phase);
}

static inline void probe_end(const jg_model_t *m, int layer, int phase)
{
    if (m->have_probe && m->probe.end) m->probe.end(m->probe.ctx, layer, phase);
}

int jg_model_forward(jg_model_t *m, const float *x, int batch, int training,
                     const float **logits)
{
    if (!m || !x || batch < 1 || batch > m->capacity) return -EINVAL;
    m->x = x;
    m->batch = batch;
    m->have_loss = 0;
    m->trained_forward = 0;
    m->layers[0].in = x;
    m->layers[0].din = m->input_grad ? m->dinput : NULL;
    for (int i = 0; i < m->n_layers; i++) {
        jg_layer_t *l = &m->layers[i];
        probe_begin(m, i, JG_NN_PHASE_FORWARD);
        const int rc = jg_nn_ops(l->spec.kind)->forward(m, l, batch, training);
        probe_end(m, i, JG_NN_PHASE_FORWARD);
        if (rc) return rc;
    }
    if (training) m->step++;
    m->trained_forward = training != 0;
    if (logits) *logits = m->layers[m->n_layers - 1].out;
    return 0;
}

int jg_model_loss(jg_model_t *m, const int32_t *labels, float *loss)
{
    if (!m || !labels || !loss || m->batch < 1) return -EINVAL;
    const int L = m->n_layers;
    probe_begin(m, L, JG_NN_PHASE_LOSS);
    const int rc = jg_softmax_xent_forward(loss, m->probs, m->layers[L - 1].out, labels,
                                           m->batch, m->classes);
    probe_end(m, L, JG_NN_PHASE_LOSS);
    if (rc) return rc;
    m->labels = labels;
    m->have_loss = 1;
    return 0;
}

int jg_model_backward(jg_model_t *m)
{
    if (!m || !m->have_loss || !m->trained_forward) return -EINVAL;
    const int L = m->n_layers, B = m->batch;
    /* Every backward accumulates (+=), so each buffer it writes is zeroed
     * first, inside the bracket of the layer that writes it: the energy of
     * zeroing belongs to that layer, and per-layer figures add up to the
     * whole step. */
    probe_begin(m, L, JG_NN_PHASE_BACKWARD);
    jg_layer_t *last = &m->layers[L - 1];
    memset(last->dout, 0, (size_t)B * last->out_n * sizeof(float));
    int rc = jg_softmax_xent_backward(last->dout, m->probs, m->labels, B, m->classes, 1.0f);
    probe_end(m, L, JG_NN_PHASE_BACKWARD);
    for (int i = L - 1; i >= 0 && rc == 0; i--) {
        jg_layer_t *l = &m->layers[i];
        probe_begin(m, i, JG_NN_PHASE_BACKWARD);
        if (l->n_w) memset(m->grads + l->w_off, 0, l->n_w * sizeof(float));
        if (l->n_b) memset(m->grads + l->b_off, 0, l->n_b * sizeof(float));
        const jg_layer_ops_t *ops = jg_nn_ops(l->spec.kind);
        if (l->din && !ops->sets_din) memset(l->din, 0, (size_t)B * l->in_n * sizeof(float));
        rc = ops->backward(m, l, B);
        probe_end(m, i, JG_NN_PHASE_BACKWARD);
    }
    return rc;
}

void jg_model_set_input_grad(jg_model_t *m, int on)
{
    if (m) m->input_grad = on != 0;
}

const float *jg_model_input_grad(const jg_model_t *m)
{
    return m && m->input_grad && m->capacity ? m->dinput : NULL;
}

uint64_t jg_model_step(const jg_model_t *m) { return m ? m->step : 0; }

void jg_model_set_step(jg_model_t *m, uint64_t step)
{
    if (m) m->step = step;
}

void jg_model_set_probe(jg_model_t *m, const jg_nn_probe_t *probe)
{
    if (!m) return;
    m->have_probe = probe != NULL;
    if (probe) m->probe = *probe;
}

int jg_model_n_layers(const jg_model_t *m) { return m ? m->n_layers : 0; }

static double loss_fwd_flops(const jg_model_t *m) { return 5.0 * m->classes; }
static double loss_bwd_flops(const jg_model_t *m) { return 3.0 * m->classes; }

int jg_model_layer(const jg_model_t *m, int i, jg_layer_info_t *info)
{
    if (!m || !info || i < 0 || i > m->n_layers) return -EINVAL;
    memset(info, 0, sizeof *info);
    if (i == m->n_layers) {
        const jg_layer_t *last = &m->layers[i - 1];
        info->kind = JG_LAYER_SOFTMAX_XENT;
        info->spec.kind = JG_LAYER_SOFTMAX_XENT;
        info->type_name = jg_nn_kind_name(info->kind);
        info->group_name = jg_nn_kind_group(info->kind);
        info->in_c = info->out_c = m->classes;
        info->in_h = info->in_w = info->out_h = info->out_w = 1;
        info->in = last->out;
        info->out = m->probs;
        info->fwd_flops = loss_fwd_flops(m);
        info->bwd_flops = loss_bwd_flops(m);
        return 0;
    }
    const jg_layer_t *l = &m->layers[i];
    info->kind = l->spec.kind;
    info->type_name = jg_nn_kind_name(l->spec.kind);
    info->group_name = jg_nn_kind_group(l->spec.kind);
    info->line = l->spec.line;
    info->col = l->spec.col;
    info->in_c = l->in_c;
    info->in_h = l->in_h;
    info->in_w = l->in_w;
    info->out_c = l->out_c;
    info->out_h = l->out_h;
    info->out_w = l->out_w;
    info->in = i ? m->layers[i - 1].out : m->x;
    info->out = l->out;
    info->dout = l->dout;
    if (l->n_w) {
        info->weight = m->params + l->w_off;
        info->dweight = m->grads + l->w_off;
    }
    if (l->n_b) {
        info->bias = m->params + l->b_off;
        info->dbias = m->grads + l->b_off;
    }
    info->n_weight = l->n_w;
    info->n_bias = l->n_b;
    if (l->n_buf) {
        info->running_mean = m->buffers + l->buf_off;
        info->running_var = info->running_mean + l->in_c;
    }
    info->n_params = (int64_t)(l->n_w + l->n_b);
    info->fwd_flops = l->fwd_flops;
    info->bwd_flops = l->bwd_flops;
    info->spec = l->spec;
    return 0;
}

void jg_model_input_shape(const jg_model_t *m, int *c, int *h, int *w)
{
    if (!m) return;
    if (c) *c = m->c;
    if (h) *h = m->h;
    if (w) *w = m->w;
}

int jg_model_classes(const jg_model_t *m) { return m ? m->classes : 0; }
int jg_model_capacity(const jg_model_t *m) { return m ? m->capacity : 0; }
int64_t jg_model_n_params(const jg_model_t *m) { return m ? m->n_params : 0; }
float *jg_model_params(jg_model_t *m) { return m ? m->params : NULL; }
float *jg_model_grads(jg_model_t *m) { return m ? m->grads : NULL; }

float *jg_model_buffers(jg_model_t *m, size_t *n)
{
    if (n) *n = m ? m->n_buffers : 0;
    return m ? m->buffers : NULL;
}

double jg_model_fwd_flops(const jg_model_t *m)
{
    if (!m) return 0.0;
    double f = loss_fwd_flops(m);
    for (int i = 0; i < m->n_layers; i++) f += m->layers[i].fwd_flops;
    return f;
}

double jg_model_bwd_flops(const jg_model_t *m)
{
    if (!m) return 0.0;
    double f = loss_bwd_flops(m);
    for (int i = 0; i < m->n_layers; i++) f += m->layers[i].bwd_flops;
    return f;
}

int jg_model_spec(const jg_model_t *m, char *buf, size_t cap)
{
    if (!m || !buf || cap == 0) return -EINVAL;
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < m->n_layers; i++) {
        if (i) {
            if (len + 1 >= cap) return -ENOSPC;
            buf[len++] = ' ';
            buf[len] = '\0';
        }
        const int rc = jg_nn_layer_text(&m->layers[i].spec, buf + len, cap - len);
        if (rc) return rc;
        len += strlen(buf + len);
    }
    return 0;
}
