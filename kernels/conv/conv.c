/* SPDX-License-Identifier: MIT */
/*
 * conv.c - conv2d public entry points, workspace sizing and dispatch.
 *
 * Fast path, per image n (CKK = C*KH*KW, P = OH*OW):
 *   forward          y_n (K, P)    = W (K, CKK) x col_n (CKK, P)       [NN]
 *   backward-data    dcol (CKK, P) = W^T x dy_n (K, P)                 [TN]
 *                    dx_n += col2im(dcol)
 *   backward-weights dW (K, CKK)  += dy_n x col_n^T                    [NT]
 * A 1x1, stride-1, unpadded conv needs no im2col: col_n is x_n itself, and
 * backward-data accumulates straight into dx_n (beta = 1).
 *
 * Threads: the images are split statically into `slices` contiguous chunks,
 * one per thread, each with its own slice of the caller's workspace and the
 * serial SGEMM inside. Weight gradients go to per-slice partial buffers that
 * are added in slice order, so results are bit-identical for a fixed thread
 * count. When there are fewer images than threads (or the work is tiny) one
 * slice runs and the SGEMM itself parallelises. Measured on Zen 5 for the
 * second default layer (one thread): 64 per-image GEMMs (64x196x288) take
 * within 3% of one batched GEMM (64x12544x288), and batching would add a
 * 14 MB column matrix and NCHW <-> (K, N*P) transposes; per image, col_n
 * stays in L2.
 *
 * Few input channels (the first layer, C = 1, CKK = 9) give GEMMs far too
 * shallow to run well; ISAs with a direct kernel use it for those shapes
 * (first default layer, 64 images, one thread: forward 0.19 ms direct vs
 * 0.28 ms im2col+GEMM, dW 0.26 ms vs 1.43 ms). Backward-data always goes
 * through GEMM + col2im. AVX-512 also has its own im2col/col2im (masked
 * row copies from a padded plane): 5.8 vs 17.8 us and 7.1 vs 10.8 us per
 * image of the second default layer against the portable versions.
 */
#include <string.h>

#include "conv.h"
#include "gemm/gemm.h"

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define CONV_PAR_MIN_MACS (1L << 18)
/* Slices start on 64-byte boundaries so threads do not share cache lines. */
#define CONV_ALIGN_FLOATS 16

static struct {
    jg_conv2d_direct_fwd_fn fwd;   /* NULL: always im2col + GEMM */
    jg_conv2d_direct_bwdw_fn bwdw;
    jg_conv2d_im2col_fn im2col;
    jg_conv2d_col2im_fn col2im;
} conv_table;

void jg_conv_select(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case JG_ISA_AVX512:
        conv_table.fwd = jg_f32_conv2d_direct_fwd_avx512;
        conv_table.bwdw = jg_f32_conv2d_direct_bwdw_avx512;
        conv_table.im2col = jg_f32_conv2d_im2col_avx512;
        conv_table.col2im = jg_f32_conv2d_col2im_avx512;
        break;
#endif
    case JG_ISA_REF:
        /* The scalar direct twins keep the direct path tested everywhere. */
        conv_table.fwd = jg_f32_conv2d_direct_fwd_ref;
        conv_table.bwdw = jg_f32_conv2d_direct_bwdw_ref;
        conv_table.im2col = jg_conv2d_im2col;
        conv_table.col2im = jg_conv2d_col2im;
        break;
    default:
        /* AVX2, NEON: no direct variant; their SGEMM handles every shape. */
        conv_table.fwd = NULL;
        conv_table.bwdw = NULL;
        conv_table.im2col = jg_conv2d_im2col;
        conv_table.col2im = jg_conv2d_col2im;
        break;
    }
}

static size_t round_up(size_t v)
{
    return (v + CONV_ALIGN_FLOATS - 1) / CONV_ALIGN_FLOATS * CONV_ALIGN_FLOATS;
}

static int needs_col(const jg_conv2d_shape_t *s)
{
    return !(s->kh == 1 && s->kw == 1 && s->stride_h == 1 && s->stride_w == 1 &&
             s->pad_h == 0 && s->pad_w == 0);
}

/* Workspace plan shared by the sizing function and the kernels. */
typedef struct {
    int oh, ow;
    int slices;          /* threads over images (1: SGEMM parallelises) */
    size_t col;          /* floats per slice: col_n (0 for a 1x1 unpadded conv) */
    size_t pad;          /* floats per slice: a padded input plane (im2col, direct) */
    size_t partial;      /* floats per slice: dW + dbias partials (0 if 1 slice) */
} conv_plan_t;

static int plan(const jg_conv2d_shape_t *s, conv_plan_t *p)
{
    int err = jg_conv2d_check_shape(s, &p->oh, &p->ow);
    if (err) return err;
    const size_t ckk = (size_t)s->c * s->kh * s->kw, ohw = (size_t)p->oh * p->ow;
    const double macs = (double)s->n * s->k * (double)ckk * (double)ohw;
    const int t = jg_nthreads();
    p->slices = (t > 1 && s->n >= t && macs >= (double)CONV_PAR_MIN_MACS) ? t : 1;
    /* sized for every ISA's variants so the size does not depend on the ISA */
    p->col = needs_col(s) ? round_up(ckk * ohw) : 0;
    p->pad = 0;
    if (needs_col(s)) p->pad = round_up(jg_conv2d_pad_floats(s));
    if (jg_conv2d_direct_ok(s, p->oh, p->ow)) {
        const size_t d = round_up(jg_conv2d_direct_scratch_floats(s, p->oh, p->ow));
        if (d > p->pad) p->pad = d;
    }
    p->partial = p->slices > 1 ? round_up((size_t)s->k * ckk + (size_t)s->k) : 0;
    return 0;
}

static size_t plan_floats(const conv_plan_t *p)
{
    return (size_t)p->slices * (p->col + p->pad + p->partial);
}

/* Depends on the shape and on the current thread count (jg_nthreads): call it
 * again after jg_kernels_set_threads. Independent of the ISA. */
ptrdiff_t jg_conv2d_workspace_bytes(const jg_conv2d_shape_t *s)
{
    jg_kernels_ensure_init();
    conv_plan_t p;
    if (plan(s, &p)) return -1;
    const size_t floats = plan_floats(&p);
    if (floats > (size_t)PTRDIFF_MAX / sizeof(float)) return -1;
    return (ptrdiff_t)(floats * sizeof(float));
}

typedef int (*gemm_fn)(jg_trans_t, jg_trans_t, int, int, int, float, const float *,
                       int, const float *, int, float, float *, int);

/* The operands of one call; each pass uses its own subset. */
typedef struct {
    float *y, *dx, *dw, *db;
    const float *x, *w, *bias, *dy;
} conv_ops_t;

/* Everything a slice needs: the plan, the operands and the workspace. */
typedef struct {
    const jg_conv2d_shape_t *s;
    conv_plan_t p;
    conv_ops_t op;
    float *ws;
    gemm_fn gemm;
    int ckk, ohw;
} conv_ctx_t;

static int ctx_init(conv_ctx_t *cx, const jg_conv2d_shape_t *s, void *workspace,
                    const conv_ops_t *op)
{
    int err = plan(s, &cx->p);
    if (err) return err;
    JG_CHECK(plan_floats(&cx->p) == 0 || workspace);
    cx->s = s;
    cx->op = *op;
    cx->ws = workspace;
    cx->gemm = cx->p.slices > 1 ? jg_sgemm_serial : jg_sgemm;
    cx->ckk = s->c * s->kh * s->kw;
    cx->ohw = cx->p.oh * cx->p.ow;
    return 0;
}

/* Slice t: images [n0, n1) and its part of the workspace: col_n, then the
 * padded plane, then the dW partials (returned by slice_partial). */
typedef struct {
    int n0, n1;
    float *col, *pad;
} conv_slice_t;

static conv_slice_t slice_of(const conv_ctx_t *cx, int t)
{
    const int n = cx->s->n, sl = cx->p.slices;
    conv_slice_t sc = {(int)((long)n * t / sl), (int)((long)n * (t + 1) / sl), NULL, NULL};
    if (cx->ws) {
        sc.col = cx->ws + (size_t)t * (cx->p.col + cx->p.pad + cx->p.partial);
        sc.pad = sc.col + cx->p.col;
    }
    return sc;
}

static float *slice_partial(const conv_ctx_t *cx, int t)
{
    return slice_of(cx, t).pad + cx->p.pad;
}

typedef int (*slice_fn)(const conv_ctx_t *cx, int t);

/* fn on every slice, one thread each (or inline for one slice); returns an
 * error of a failing slice, else 0. */
static int run_slices(const conv_ctx_t *cx, slice_fn fn)
{
    if (cx->p.slices == 1) return fn(cx, 0);
    const int slices = cx->p.slices;
    int err = 0;
#pragma omp parallel for num_threads(slices) schedule(static)
    for (int t = 0; t < slices; t++) {
        const int e = fn(cx, t);
        if (e) {
#pragma omp atomic write
            err = e;
        }
    }
    return err;
}

/* ---- forward --------------------------------------------------------- */

static int fwd_slice(const conv_ctx_t *cx, int t)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    const float *w = cx->op.w, *bias = cx->op.bias;
    const conv_slice_t sc = slice_of(cx, t);
    for (int n = sc.n0; n < sc.n1; n++) {
        float *yn = cx->op.y + (size_t)n * K * P;                    // (K, P)
        const float *xn = cx->op.x + (size_t)n * s->c * s->h * s->w; // (C, H, W)
        /* a direct kernel returns 1 for shapes it does not take */
        if (conv_table.fwd && conv_table.fwd(yn, xn, w, bias, s, cx->p.oh, cx->p.ow, sc.pad) == 0)
            continue;
        const float *b = xn;
        if (needs_col(s)) {
            conv_table.im2col(sc.col, xn, s, cx->p.oh, cx->p.ow, sc.pad);
            b = sc.col;
        }
        float beta = 0;
        if (bias) {
            /* y starts at the bias and the GEMM adds onto it. */
            for (int k = 0; k < K; k++)
                for (int q = 0; q < P; q++) yn[(size_t)k * P + q] = bias[k];
            beta = 1;
        }
        const int err = cx->gemm(JG_NOTRANS, JG_NOTRANS, K, P, CKK, 1.0f, w, CKK, b, P,
                                 beta, yn, P);
        if (err) return err;
    }
    return 0;
}

int jg_conv2d_forward(float *y, const float *x, const float *w, const float *bias,
                      const jg_conv2d_shape_t *s, void *workspace)
{
    JG_CHECK(y && x && w);
    jg_kernels_ensure_init();
    const conv_ops_t op = {.y = y, .x = x, .w = w, .bias = bias};
    conv_ctx_t cx;
    const int err = ctx_init(&cx, s, workspace, &op);
    return err ? err : run_slices(&cx, fwd_slice);
}

/* ---- backward-data --------------------------------------------------- */

static int bwdd_slice(const conv_ctx_t *cx, int t)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    const float *w = cx->op.w;
    const conv_slice_t sc = slice_of(cx, t);
    for (int n = sc.n0; n < sc.n1; n++) {
        float *dxn = cx->op.dx + (size_t)n * s->c * s->h * s->w;     // (C, H, W)
        const float *dyn = cx->op.dy + (size_t)n * K * P;            // (K, P)
        int err;
        if (!needs_col(s)) {
            /* dx_n (C, HW) += W^T (C, K) x dy_n (K, HW) */
            err = cx->gemm(JG_TRANS, JG_NOTRANS, CKK, P, K, 1.0f, w, CKK, dyn, P, 1.0f,
                           dxn, P);
        } else {
            err = cx->gemm(JG_TRANS, JG_NOTRANS, CKK, P, K, 1.0f, w, CKK, dyn, P, 0.0f,
                           sc.col, P);
            if (!err) conv_table.col2im(dxn, sc.col, s, cx->p.oh, cx->p.ow, sc.pad);
        }
        if (err) return err;
    }
    return 0;
}

int jg_conv2d_backward_data(float *dx, const float *dy, const float *w,
                            const jg_conv2d_shape_t *s, void *workspace)
{
    JG_CHECK(dx && dy && w);
    jg_kernels_ensure_init();
    const conv_ops_t op = {.dx = dx, .dy = dy, .w = w};
    conv_ctx_t cx;
    const int err = ctx_init(&cx, s, workspace, &op);
    return err ? err : run_slices(&cx, bwdd_slice);
}

/* ---- backward-weights ------------------------------------------------ */

/* db(k) += sum_q dy(k, q) for one image; dy: (K, P). Sixteen lane-wise
 * partial sums (which the compiler vectorises without reassociating), then
 * a fixed-order sum of the lanes. */
static void bias_grad_image(float *db, const float *dy, int K, int P)
{
    for (int k = 0; k < K; k++) {
        const float *r = dy + (size_t)k * P;
        float lane[16] = {0};
        int q = 0;
        for (; q + 16 <= P; q += 16)
            for (int l = 0; l < 16; l++) lane[l] += r[q + l];
        float acc = 0;
        for (; q < P; q++) acc += r[q];
        for (int l = 0; l < 16; l++) acc += lane[l];
        db[k] += acc;
    }
}

/* Sums this slice's images into dw/db itself with one slice, else into the
 * slice's zeroed partials dW (K, CKK), db (K). */
static int bwdw_slice(const conv_ctx_t *cx, int t)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    const conv_slice_t sc = slice_of(cx, t);
    float *dw_t = cx->op.dw, *db_t = cx->op.db;
    if (cx->p.slices > 1) {
        dw_t = slice_partial(cx, t);
        memset(dw_t, 0, sizeof(float) * ((size_t)K * CKK + (size_t)K));
        db_t = db_t ? dw_t + (size_t)K * CKK : NULL;
    }
    for (int n = sc.n0; n < sc.n1; n++) {
        const float *dyn = cx->op.dy + (size_t)n * K * P;            // (K, P)
        const float *xn = cx->op.x + (size_t)n * s->c * s->h * s->w; // (C, H, W)
        if (db_t) bias_grad_image(db_t, dyn, K, P);
        if (conv_table.bwdw && conv_table.bwdw(dw_t, dyn, xn, s, cx->p.oh, cx->p.ow, sc.pad) == 0)
            continue;
        const float *b = xn;
        if (needs_col(s)) {
            conv_table.im2col(sc.col, xn, s, cx->p.oh, cx->p.ow, sc.pad);
            b = sc.col;
        }
        /* dW (K, CKK) += dy_n (K, P) x col_n^T (P, CKK) */
        const int err = cx->gemm(JG_NOTRANS, JG_TRANS, K, CKK, P, 1.0f, dyn, P, b, P,
                                 1.0f, dw_t, CKK);
        if (err) return err;
    }
    return 0;
}

int jg_conv2d_backward_weights(float *dw, float *dbias, const float *dy,
                               const float *x, const jg_conv2d_shape_t *s,
                               void *workspace)
{
    JG_CHECK(dw && dy && x);
    jg_kernels_ensure_init();
    const conv_ops_t op = {.dw = dw, .db = dbias, .dy = dy, .x = x};
    conv_ctx_t cx;
    int err = ctx_init(&cx, s, workspace, &op);
    if (!err) err = run_slices(&cx, bwdw_slice);
    if (err || cx.p.slices == 1) return err;
    /* Fixed order: partials summed in slice order, then added once. */
    const size_t nw = (size_t)s->k * cx.ckk, nsum = nw + (dbias ? (size_t)s->k : 0);
    const size_t stride = cx.p.col + cx.p.pad + cx.p.partial; /* between slices */
    const float *p0 = slice_partial(&cx, 0);                 // dW (K, CKK), db (K)
    for (size_t e = 0; e < nsum; e++) {
        float acc = p0[e];
        for (int t = 1; t < cx.p.slices; t++) acc += p0[(size_t)t * stride + e];
        if (e < nw)
            dw[e] += acc;
        else
            dbias[e - nw] += acc;
    }
    return 0;
}
