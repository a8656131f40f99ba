/* SPDX-License-Identifier: MIT */
/*
 * jg_kernels.h - joulegrad's compute kernels: float32, NCHW, row-major.
 *
 * Contract
 *  - Every function returns 0 on success or a negative errno value:
 *    -EINVAL for a NULL pointer, a size <= 0, or a stride that is too small;
 *    -ENOTSUP for an ISA this CPU (or this build) cannot run;
 *    -ENOMEM when an internal allocation fails.
 *    Nothing here prints or exits.
 *  - Outputs come first, then inputs, then weights, then dimensions (llm.c).
 *  - Forward functions overwrite their outputs. Backward functions ACCUMULATE
 *    into gradient buffers (dx += ..., dw += ...), so the caller zeroes each
 *    gradient once per step and several consumers can add into it. The
 *    _set variants of some backward functions write dx instead (dx = ...,
 *    never reading it): for a dx with no other contribution they save the
 *    zeroing pass and a read of dx.
 *  - Every optimised kernel has a scalar reference twin (suffix _ref) with the
 *    same signature; the _ref functions are the test oracle and are always
 *    available whatever the dispatch says.
 *  - Dispatch: the first call to any kernel (or jg_kernels_init) picks the
 *    best ISA from CPUID plus OS support (XGETBV); JOULEGRAD_ISA=ref|avx2|
 *    avx512|neon overrides it. The table is filled once.
 *  - Threads: kernels run OpenMP parallel regions when built with
 *    JG_OPENMP=ON. For a fixed thread count results are bit-identical from run
 *    to run (work is split statically; reductions have a fixed order).
 */
#ifndef JG_KERNELS_H
#define JG_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* ISA dispatch                                                        */
/* ------------------------------------------------------------------ */

typedef enum {
    JG_ISA_REF = 0, /* portable scalar C */
    JG_ISA_AVX2,    /* x86-64 AVX2 + FMA3 */
    JG_ISA_AVX512,  /* x86-64 AVX-512F (+FMA) */
    JG_ISA_NEON,    /* aarch64 Advanced SIMD */
    JG_ISA_COUNT
} jg_isa_t;

/* Detect the CPU and fill the dispatch table (idempotent, thread-safe once).
 * Honours JOULEGRAD_ISA. Returns 0, -EINVAL for an unknown JOULEGRAD_ISA
 * value, or -ENOTSUP when the requested ISA cannot run here. On error the
 * table falls back to the best supported ISA so later calls still work;
 * callers that care (the CLI) report the error. */
int jg_kernels_init(void);

/* The ISA the dispatch table currently uses. */
jg_isa_t jg_kernels_isa(void);

/* Switch the dispatch table to `isa` (tests and benchmarks). Returns 0 or
 * -ENOTSUP when this CPU/OS/build cannot run it. Not thread-safe: call it
 * while no kernel runs. */
int jg_kernels_set_isa(jg_isa_t isa);

/* 1 when this CPU, OS and build can run `isa`, else 0. */
int jg_kernels_isa_supported(jg_isa_t isa);

/* "ref", "avx2", "avx512", "neon"; "?" for an out-of-range value. */
const char *jg_isa_name(jg_isa_t isa);

/* Parse a name as accepted by JOULEGRAD_ISA. Returns 0 or -EINVAL. */
int jg_isa_parse(const char *name, jg_isa_t *isa);

/* Thread count for kernel parallel regions. Returns 0, -EINVAL for n < 1,
 * or -ENOTSUP for n > 1 in a build without OpenMP. */
int jg_kernels_set_threads(int n);
int jg_kernels_threads(void);

/* 1 when built with OpenMP, else 0. */
int jg_kernels_have_openmp(void);

/* ------------------------------------------------------------------ */
/* SGEMM                                                               */
/* ------------------------------------------------------------------ */

typedef enum { JG_NOTRANS = 0, JG_TRANS = 1 } jg_trans_t;

/* C = alpha * op(A) * op(B) + beta * C, row-major (like cblas RowMajor).
 * op(A) is (m, k): A is (m, lda >= k) when ta = NOTRANS, (k, lda >= m) when
 * TRANS; op(B) is (k, n): B is (k, ldb >= n) or (n, ldb >= k); C is
 * (m, ldc >= n). m, n, k >= 1. When beta == 0, C is not read (NaNs in C do
 * not propagate). C must not overlap A or B. */
int jg_sgemm(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
             float alpha, const float *a, int lda, const float *b, int ldb,
             float beta, float *c, int ldc);
int jg_sgemm_ref(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);

/* ------------------------------------------------------------------ */
/* Conv2d (cross-correlation, as PyTorch), NCHW                        */
/* ------------------------------------------------------------------ */

typedef struct {
    int n, c, h, w;        /* input (N, C, H, W) */
    int k;                 /* output channels */
    int kh, kw;            /* filter size */
    int stride_h, stride_w;
    int pad_h, pad_w;      /* zero padding on each side */
} jg_conv2d_shape_t;

/* oh = (h + 2*pad_h - kh) / stride_h + 1, likewise ow. Returns 0 or -EINVAL
 * (non-positive sizes, negative pads, or an output smaller than 1x1). */
int jg_conv2d_out_hw(const jg_conv2d_shape_t *s, int *oh, int *ow);

/* Bytes of scratch memory that jg_conv2d_{forward,backward_data,
 * backward_weights} need for shape s (0 when none); -1 on a bad shape. The
 * scratch is caller-owned so the training loop allocates nothing per step.
 * The size depends on the current thread count (one slice per thread): query
 * it again after jg_kernels_set_threads. It does not depend on the ISA. */
ptrdiff_t jg_conv2d_workspace_bytes(const jg_conv2d_shape_t *s);

/* y(n,k,oh,ow) = bias(k) + sum_{c,i,j} w(k,c,i,j) * x(n,c,oh*sh+i-ph,ow*sw+j-pw)
 * y: (N, K, OH, OW); x: (N, C, H, W); w: (K, C, KH, KW); bias: (K) or NULL. */
int jg_conv2d_forward(float *y, const float *x, const float *w,
                      const float *bias, const jg_conv2d_shape_t *s,
                      void *workspace);
/* dx += conv_transpose(dy, w). dx: (N, C, H, W); dy: (N, K, OH, OW). */
int jg_conv2d_backward_data(float *dx, const float *dy, const float *w,
                            const jg_conv2d_shape_t *s, void *workspace);
/* dx = conv_transpose(dy, w) (overwrites dx) */
int jg_conv2d_backward_data_set(float *dx, const float *dy, const float *w,
                                const jg_conv2d_shape_t *s, void *workspace);
/* dw += sum_n dy (*) x; dbias += sum_{n,oh,ow} dy (dbias may be NULL).
 * dw: (K, C, KH, KW); dbias: (K). */
int jg_conv2d_backward_weights(float *dw, float *dbias, const float *dy,
                               const float *x, const jg_conv2d_shape_t *s,
                               void *workspace);
/* Direct seven-loop twins; need no workspace. */
int jg_conv2d_forward_ref(float *y, const float *x, const float *w,
                          const float *bias, const jg_conv2d_shape_t *s);
int jg_conv2d_backward_data_ref(float *dx, const float *dy, const float *w,
                                const jg_conv2d_shape_t *s);
int jg_conv2d_backward_data_set_ref(float *dx, const float *dy, const float *w,
                                    const jg_conv2d_shape_t *s);
int jg_conv2d_backward_weights_ref(float *dw, float *dbias, const float *dy,
                                   const float *x, const jg_conv2d_shape_t *s);

/* ------------------------------------------------------------------ */
/* Bias helpers (linear and conv layers)                               */
/* ------------------------------------------------------------------ */

/* y(r, c) += b(c), y: (rows, ld >= cols), b: (cols). */
int jg_bias_add_rows(float *y, const float *b, int rows, int cols, int ld);
/* db(c) += sum_r dy(r, c), dy: (rows, ld >= cols). */
int jg_bias_grad_rows(float *db, const float *dy, int rows, int cols, int ld);
int jg_bias_add_rows_ref(float *y, const float *b, int rows, int cols, int ld);
int jg_bias_grad_rows_ref(float *db, const float *dy, int rows, int cols, int ld);

/* ------------------------------------------------------------------ */
/* Activations, element-wise over n floats                             */
/* ------------------------------------------------------------------ */

/* f(x) = max{0, x};  dx += dy * [x > 0] */
int jg_relu_forward(float *y, const float *x, size_t n);
int jg_relu_backward(float *dx, const float *dy, const float *x, size_t n);
/* dx = dy * [x > 0] (overwrites dx). In place: y may be x, and dx may be dy
 * (nn runs ReLU in place, with x = its output: y > 0 iff x > 0). */
int jg_relu_backward_set(float *dx, const float *dy, const float *x, size_t n);
int jg_relu_backward_set_ref(float *dx, const float *dy, const float *x, size_t n);
/* f(x) = x > 0 ? x : slope*x;  dx += dy * (x > 0 ? 1 : slope) */
int jg_leaky_relu_forward(float *y, const float *x, float slope, size_t n);
int jg_leaky_relu_backward(float *dx, const float *dy, const float *x,
                           float slope, size_t n);
/* f(x) = 1 / (1 + e^-x);  dx += dy * y * (1 - y), from the output y */
int jg_sigmoid_forward(float *y, const float *x, size_t n);
int jg_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n);
/* f(x) = tanh(x);  dx += dy * (1 - y^2), from the output y */
int jg_tanh_forward(float *y, const float *x, size_t n);
int jg_tanh_backward(float *dx, const float *dy, const float *y, size_t n);

int jg_relu_forward_ref(float *y, const float *x, size_t n);
int jg_relu_backward_ref(float *dx, const float *dy, const float *x, size_t n);
int jg_leaky_relu_forward_ref(float *y, const float *x, float slope, size_t n);
int jg_leaky_relu_backward_ref(float *dx, const float *dy, const float *x,
                               float slope, size_t n);
int jg_sigmoid_forward_ref(float *y, const float *x, size_t n);
int jg_sigmoid_backward_ref(float *dx, const float *dy, const float *y, size_t n);
int jg_tanh_forward_ref(float *y, const float *x, size_t n);
int jg_tanh_backward_ref(float *dx, const float *dy, const float *y, size_t n);

/* ------------------------------------------------------------------ */
/* Pooling, NCHW                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    int n, c, h, w;        /* input (N, C, H, W) */
    int kh, kw;            /* window */
    int stride_h, stride_w;
    int pad_h, pad_w;      /* max: padding never wins; avg: counts as zeros
                              (PyTorch count_include_pad=True) */
} jg_pool2d_shape_t;

/* oh = (h + 2*pad_h - kh) / stride_h + 1 (floor), likewise ow. 0 or -EINVAL;
 * pad must be <= half the window (as PyTorch). */
int jg_pool2d_out_hw(const jg_pool2d_shape_t *s, int *oh, int *ow);

/* y = max over window; argmax(n,c,oh,ow) = flat h*W+w index of the winner
 * inside its (n,c) plane (first maximum wins). y, argmax: (N, C, OH, OW).
 * A NaN propagates: the first NaN of a window wins. */
int jg_maxpool2d_forward(float *y, int32_t *argmax, const float *x,
                         const jg_pool2d_shape_t *s);
/* dx[argmax] += dy; -EINVAL if an argmax lies outside [0, H*W) (skipped) */
int jg_maxpool2d_backward(float *dx, const float *dy, const int32_t *argmax,
                          const jg_pool2d_shape_t *s);
/* dx = 0, then dx[argmax] += dy (overwrites dx; each plane is zeroed just
 * before its scatter, while it is in cache) */
int jg_maxpool2d_backward_set(float *dx, const float *dy, const int32_t *argmax,
                              const jg_pool2d_shape_t *s);
int jg_maxpool2d_backward_set_ref(float *dx, const float *dy, const int32_t *argmax,
                                  const jg_pool2d_shape_t *s);
/* y = sum over window / (kh*kw) */
int jg_avgpool2d_forward(float *y, const float *x, const jg_pool2d_shape_t *s);
/* dx += dy / (kh*kw) spread over the window */
int jg_avgpool2d_backward(float *dx, const float *dy, const jg_pool2d_shape_t *s);

int jg_maxpool2d_forward_ref(float *y, int32_t *argmax, const float *x,
                             const jg_pool2d_shape_t *s);
int jg_maxpool2d_backward_ref(float *dx, const float *dy, const int32_t *argmax,
                              const jg_pool2d_shape_t *s);
int jg_avgpool2d_forward_ref(float *y, const float *x, const jg_pool2d_shape_t *s);
int jg_avgpool2d_backward_ref(float *dx, const float *dy, const jg_pool2d_shape_t *s);

/* ------------------------------------------------------------------ */
/* Batch normalisation over (N, HW) per channel, NCHW                  */
/* ------------------------------------------------------------------ */

/* Training: mean(c), var(c) biased over N*HW; rstd = 1/sqrt(var + eps);
 * y = gamma * (x - mean) * rstd + beta. Saves mean and rstd (C) for backward.
 * running_mean/var (may both be NULL) are updated as PyTorch does:
 * r = (1 - momentum) * r + momentum * stat, with the unbiased variance.
 * Needs n*hw >= 2 (as PyTorch), eps >= 0 and a finite momentum, else -EINVAL. */
int jg_batchnorm2d_forward_train(float *y, float *mean, float *rstd,
                                 float *running_mean, float *running_var,
                                 const float *x, const float *gamma,
                                 const float *beta, int n, int c, int hw,
                                 float eps, float momentum);
/* Inference: y = gamma * (x - running_mean) / sqrt(running_var + eps) + beta */
int jg_batchnorm2d_forward_infer(float *y, const float *x, const float *gamma,
                                 const float *beta, const float *running_mean,
                                 const float *running_var, int n, int c, int hw,
                                 float eps);
/* dx += d/dx, dgamma += sum dy*xhat, dbeta += sum dy (training statistics). */
int jg_batchnorm2d_backward(float *dx, float *dgamma, float *dbeta,
                            const float *dy, const float *x, const float *mean,
                            const float *rstd, const float *gamma, int n, int c,
                            int hw);
/* The same with dx = d/dx (overwrites dx); dgamma, dbeta still accumulate. */
int jg_batchnorm2d_backward_set(float *dx, float *dgamma, float *dbeta,
                                const float *dy, const float *x, const float *mean,
                                const float *rstd, const float *gamma, int n, int c,
                                int hw);
int jg_batchnorm2d_backward_set_ref(float *dx, float *dgamma, float *dbeta,
                                    const float *dy, const float *x, const float *mean,
                                    const float *rstd, const float *gamma, int n, int c,
                                    int hw);

int jg_batchnorm2d_forward_train_ref(float *y, float *mean, float *rstd,
                                     float *running_mean, float *running_var,
                                     const float *x, const float *gamma,
                                     const float *beta, int n, int c, int hw,
                                     float eps, float momentum);
int jg_batchnorm2d_forward_infer_ref(float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int n, int c,
                                     int hw, float eps);
int jg_batchnorm2d_backward_ref(float *dx, float *dgamma, float *dbeta,
                                const float *dy, const float *x, const float *mean,
                                const float *rstd, const float *gamma, int n,
                                int c, int hw);

/* ------------------------------------------------------------------ */
/* Softmax fused with cross-entropy                                    */
/* ------------------------------------------------------------------ */

/* probs(i,:) = softmax(logits(i,:)); loss = -1/n sum_i log probs(i, label_i).
 * logits, probs: (N, K); labels: (N) in [0, K) else -EINVAL. */
int jg_softmax_xent_forward(float *loss, float *probs, const float *logits,
                            const int32_t *labels, int n, int k);
/* dlogits += scale * (probs - onehot(labels)) / n (scale = 1 for a plain mean) */
int jg_softmax_xent_backward(float *dlogits, const float *probs,
                             const int32_t *labels, int n, int k, float scale);
int jg_softmax_xent_forward_ref(float *loss, float *probs, const float *logits,
                                const int32_t *labels, int n, int k);
int jg_softmax_xent_backward_ref(float *dlogits, const float *probs,
                                 const int32_t *labels, int n, int k, float scale);

/* ------------------------------------------------------------------ */
/* Optimizer updates (PyTorch semantics), over n parameters            */
/* ------------------------------------------------------------------ */

/* g' = g + wd*w; v = momentum*v + g' (v zero-initialised; v may be NULL when
 * momentum == 0); step = nesterov ? g' + momentum*v : v (or g' without
 * momentum); w -= lr * step. */
int jg_sgd_update(float *w, float *v, const float *g, size_t n, float lr,
                  float momentum, float weight_decay, int nesterov);
/* Adam (decoupled = 0): g' = g + wd*w.  AdamW (decoupled = 1): w *= 1 - lr*wd.
 * m = b1*m + (1-b1)*g'; v = b2*v + (1-b2)*g'^2;
 * w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps); t >= 1 is the step. */
int jg_adam_update(float *w, float *m, float *v, const float *g, size_t n,
                   float lr, float beta1, float beta2, float eps,
                   float weight_decay, int decoupled, int64_t t);
int jg_sgd_update_ref(float *w, float *v, const float *g, size_t n, float lr,
                      float momentum, float weight_decay, int nesterov);
int jg_adam_update_ref(float *w, float *m, float *v, const float *g, size_t n,
                       float lr, float beta1, float beta2, float eps,
                       float weight_decay, int decoupled, int64_t t);

#ifdef __cplusplus
}
#endif

#endif /* JG_KERNELS_H */
