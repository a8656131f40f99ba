/* SPDX-License-Identifier: MIT */
/*
 * anchors.h - the libraries joulegrad's kernels are measured against
 * (OpenBLAS and BLIS for SGEMM, oneDNN for conv2d), loaded at run time with
 * dlopen(RTLD_LOCAL) by the benchmark that compares against them and by
 * nothing else. The joulegrad program links none of them: its other
 * commands never load a BLAS (OpenBLAS's thread pool made `joulegrad
 * version` spin at exit under `ulimit -v 100000`), and each library keeps its
 * own symbols (OpenBLAS and BLIS both export cblas_sgemm).
 *
 * Every open function returns 0, or -ENOENT when the library is not
 * installed, -ENOTSUP when this build or CPU cannot use it, -ENOMEM; on error
 * it writes one line saying why (and what to install) into `why`.
 */
#ifndef JG_BENCH_ANCHORS_H
#define JG_BENCH_ANCHORS_H

#include <stddef.h>

#include "jg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SGEMM anchors ------------------------------------------------------ */

typedef enum { JG_ANCHOR_OPENBLAS = 0, JG_ANCHOR_BLIS, JG_ANCHOR_BLAS_COUNT } jg_anchor_blas_kind_t;

typedef struct {
    jg_anchor_blas_kind_t kind;
    const char *name;   /* "OpenBLAS", "BLIS" */
    char core[64];      /* the kernels it chose: OpenBLAS core name, BLIS arch */
    void *handle;
    void (*sgemm)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a,
                  int lda, const float *b, int ldb, float beta, float *c, int ldc);
} jg_anchor_blas_t;

/* Loads `kind` and sets its thread count. OpenBLAS honours
 * OPENBLAS_CORETYPE at load time. */
int jg_anchor_blas_open(jg_anchor_blas_t *a, jg_anchor_blas_kind_t kind, int threads, char *why,
                        size_t cap);
/* C = alpha * op(A) * op(B) + beta * C, row-major, through the anchor's CBLAS. */
void jg_anchor_blas_sgemm(const jg_anchor_blas_t *a, jg_trans_t ta, jg_trans_t tb, int m, int n,
                          int k, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc);
/* Unloads; safe on a zeroed or failed struct. */
void jg_anchor_blas_close(jg_anchor_blas_t *a);

/* ---- conv2d anchor (oneDNN) --------------------------------------------- */

enum { JG_ANCHOR_CONV_FWD = 0, JG_ANCHOR_CONV_BWD_DATA, JG_ANCHOR_CONV_BWD_WEIGHTS,
       JG_ANCHOR_CONV_PASSES };

typedef struct jg_anchor_conv jg_anchor_conv_t;

/* oneDNN primitives for the three passes of shape s on `threads` OpenMP
 * threads, each "at its best": the memory layouts it prefers (format_tag
 * any; the operands are reordered once here, never in a timed call) and the
 * fastest of its algorithms (direct, Winograd, auto) timed here. The inputs
 * are x (N, C, H, W), w (K, C, KH, KW), bias (K), dy (N, K, OH, OW) in plain
 * NCHW; they are copied. */
int jg_anchor_conv_open(jg_anchor_conv_t **a, const jg_conv2d_shape_t *s, int threads,
                        const float *x, const float *w, const float *bias, const float *dy,
                        char *why, size_t cap);
/* Drops the algorithm pass p uses now (it failed validation) and takes the
 * fastest remaining one: 0, or -ENOTSUP when none is left. */
int jg_anchor_conv_next(jg_anchor_conv_t *a, int pass);
/* One call of pass p (JG_ANCHOR_CONV_*): 0 or -EIO. */
int jg_anchor_conv_run(jg_anchor_conv_t *a, int pass);
/* The result of the last run of pass p in plain layout: y (N, K, OH, OW),
 * dx (N, C, H, W), or dw (K, C, KH, KW) followed by db (K). 0 or -EIO. */
int jg_anchor_conv_result(jg_anchor_conv_t *a, int pass, float *out);
/* "jit:avx512_core direct" style text: implementation and algorithm. */
const char *jg_anchor_conv_impl(const jg_anchor_conv_t *a, int pass);
/* "oneDNN 2.6.3" */
const char *jg_anchor_conv_version(const jg_anchor_conv_t *a);
void jg_anchor_conv_close(jg_anchor_conv_t *a);

#ifdef __cplusplus
}
#endif

#endif /* JG_BENCH_ANCHORS_H */
