/* SPDX-License-Identifier: MIT */
/*
 * nn_internal.h - the model and layer structs shared by the nn/ files.
 * Each layer kind lives in its own file and exports one jg_layer_ops_t.
 */
#ifndef JG_NN_INTERNAL_H
#define JG_NN_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "jg_common.h"
#include "jg_kernels.h"
#include "jg_nn.h"

/* Offsets into the arenas are rounded to this many floats (64 bytes) so
 * every tensor starts on a cache line. */
#define JG_NN_ALIGN_FLOATS 16

typedef struct jg_layer {
    jg_layer_spec_t spec;
    int index;
    int in_c, in_h, in_w;
    int out_c, out_h, out_w;
    size_t in_n, out_n;          /* floats per image */
    /* parameters: weight then bias in the params/grads arenas */
    size_t n_w, n_b, w_off, b_off;
    /* non-trainable buffers (running mean, running var) */
    size_t n_buf, buf_off;
    /* batch-independent scratch (batchnorm saved mean, rstd) */
    size_t n_aux, aux_off;
    double fwd_flops, bwd_flops; /* per image */
    /* activation arena views, set by reserve / forward */
    const float *in;             /* (B, in_c, in_h, in_w) */
    float *din;                  /* NULL when the input gradient is skipped */
    float *out, *dout;           /* (B, out_c, out_h, out_w) */
    int32_t *argmax;             /* maxpool: (B, out_c, out_h, out_w) */
    float *mask;                 /* dropout: (B, out_n) scale 0 or 1/(1-p) */
    int wants_din;               /* backward computes din */
} jg_layer_t;

struct jg_model;

typedef struct {
    /* Output shape, parameter/buffer sizes and FLOPs from in_* and spec.
     * Returns 0 or -EINVAL with err filled. */
    int (*infer)(jg_layer_t *l, jg_nn_error_t *err);
    /* Conv workspace bytes for a batch (NULL: none); < 0 on error. */
    ptrdiff_t (*workspace)(const jg_layer_t *l, int batch);
    int (*forward)(struct jg_model *m, jg_layer_t *l, int batch, int training);
    int (*backward)(struct jg_model *m, jg_layer_t *l, int batch);
    /* 1: backward writes every element of din (=) instead of adding, so the
     * model does not zero din first (one pass less over it) */
    int sets_din;
} jg_layer_ops_t;

struct jg_model {
    int c, h, w, classes;
    int n_layers;
    jg_layer_t *layers;
    float *params, *grads;       /* n_params each */
    size_t n_params_alloc;
    int64_t n_params;
    float *buffers;              /* n_buffers */
    size_t n_buffers;
    float *aux;                  /* n_aux */
    size_t n_aux;
    float *acts;                 /* activation arena */
    size_t acts_floats;
    void *workspace;
    size_t workspace_bytes;
    int capacity;
    /* loss */
    float *probs;                /* (capacity, classes) */
    float *dinput;               /* (capacity, C, H, W) when input_grad */
    int input_grad;
    const int32_t *labels;
    const float *x;
    int batch;                   /* last forward's batch */
    int trained_forward;         /* last forward was training mode */
    int have_loss;
    int has_relu;
    uint64_t seed, step;
    int64_t batch_offset;        /* data parallelism: the batch's first image in the global batch */
    jg_nn_probe_t probe;
    int have_probe;
};

extern const jg_layer_ops_t jg_nn_conv2d_ops, jg_nn_linear_ops, jg_nn_relu_ops,
    jg_nn_leaky_relu_ops, jg_nn_sigmoid_ops, jg_nn_tanh_ops,
    jg_nn_maxpool2d_ops, jg_nn_avgpool2d_ops, jg_nn_batchnorm2d_ops,
    jg_nn_dropout_ops, jg_nn_flatten_ops;

const jg_layer_ops_t *jg_nn_ops(jg_layer_kind_t kind);

/* printf into err (no-op when err is NULL). */
void jg_nn_errorf(jg_nn_error_t *err, const char *fmt, ...);
/* "conv(32,3,pad=1)" style text of one layer. */
int jg_nn_layer_text(const jg_layer_spec_t *s, char *buf, size_t cap);
/* Shape error with the layer's position and text. */
int jg_nn_shape_error(const jg_layer_t *l, jg_nn_error_t *err, const char *what);

/* Deterministic PRNG: splitmix64 seeding, xoshiro256** stream. */
typedef struct { uint64_t s[4]; } jg_nn_rng_t;
void jg_nn_rng_seed(jg_nn_rng_t *r, uint64_t seed);
uint64_t jg_nn_rng_u64(jg_nn_rng_t *r);
/* Uniform double in [0, 1) with 53 random bits. */
double jg_nn_rng_double(jg_nn_rng_t *r);
/* Standard normal via Box-Muller in double (one value per call). */
double jg_nn_rng_normal(jg_nn_rng_t *r);

/* Evaluation helpers shared by eval.c and train.c. */
/* Check a data view against the model: pointers, n >= 1, (c, h, w) and
 * classes equal to the model's, every label in [0, classes). `what` names
 * the view in err ("train", "val"). Returns 0 or -EINVAL. */
int jg_nn_data_check(const jg_model_t *m, const jg_nn_data_t *d, const char *what,
                     jg_nn_error_t *err);
/* Inference pass over a checked view in batches of the model's capacity,
 * allocating nothing: *loss = mean cross-entropy over all examples,
 * *correct = argmax hits; confusion (classes x classes, may be NULL) is
 * added to. */
int jg_nn_eval_pass(jg_model_t *m, const jg_nn_data_t *d, double *loss, int64_t *correct,
                    int64_t *confusion);
/* Index of the largest of v[0..k) (the first one on ties, as torch.argmax). */
int jg_nn_argmax(const float *v, int k);

/* Element-wise dx += dy (flatten backward), n floats. */
void jg_nn_add(float *dx, const float *dy, size_t n);

#endif /* JG_NN_INTERNAL_H */
