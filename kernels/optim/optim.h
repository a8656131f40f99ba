/* SPDX-License-Identifier: MIT */
/*
 * optim.h - internal to the optim family (SGD and Adam/AdamW updates).
 *
 * Variants update one contiguous chunk; optim.c validates, splits large n
 * into chunks over OpenMP threads and precomputes the per-step scalars.
 * Every SIMD variant (optim_tmpl.h) has a _ref twin in optim_ref.c with the
 * same signature and the same float operations, so they agree bit for bit.
 */
#ifndef JG_OPTIM_INTERNAL_H
#define JG_OPTIM_INTERNAL_H

#include "internal.h"

/* Per-step Adam scalars, computed once in double as PyTorch does in Python
 * and rounded to float. */
typedef struct {
    float beta1, beta2;
    float one_minus_beta1, one_minus_beta2;
    float step_size;  /* lr / (1 - beta1^t) */
    float bc2_sqrt;   /* sqrt(1 - beta2^t) */
    float eps;
    float l2;         /* Adam: g' = g + l2*w (0 when off) */
    float decay;      /* AdamW: w *= decay (1 when off) */
    int decoupled;    /* AdamW with weight decay on */
} jg_adam_consts_t;

#define JG_OPTIM_DECLARE(isa)                                                      \
    void jg_f32_sgd_update_##isa(float *w, float *v, const float *g, size_t n,     \
                                 float lr, float momentum, float weight_decay,     \
                                 int nesterov);                                    \
    void jg_f32_adam_update_##isa(float *w, float *m, float *v, const float *g,    \
                                  size_t n, const jg_adam_consts_t *c);

JG_OPTIM_DECLARE(ref)
JG_OPTIM_DECLARE(avx2)
JG_OPTIM_DECLARE(avx512)
JG_OPTIM_DECLARE(neon)

/* Argument checks (0 or -EINVAL), shared with the _ref entry points. */
int jg_sgd_check(const float *w, const float *v, const float *g, float lr,
                 float momentum, float weight_decay, int nesterov);
int jg_adam_check(const float *w, const float *m, const float *v, const float *g,
                  float lr, float beta1, float beta2, float eps, float weight_decay,
                  int64_t t);
void jg_adam_consts(jg_adam_consts_t *c, float lr, float beta1, float beta2, float eps,
                    float weight_decay, int decoupled, int64_t t);

#endif /* JG_OPTIM_INTERNAL_H */
