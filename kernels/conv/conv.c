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
 * The filter operand (W, or W^T for backward-data) is packed for the GEMM
 * once per call into the workspace, not once per image (one thread, second
 * default layer: backward-data 5.98 -> 5.71 ms, forward within noise).
 *
 * Threads: images are handed out one at a time to whichever thread is free
 * (OpenMP dynamic schedule), each thread with its own slice of the caller's
 * workspace and the serial SGEMM inside; an image's output does not depend
 * on which thread computed it. Weight gradients go to CONV_WCHUNKS fixed
 * image chunks, each with its own partial dW, handed out the same way and
 * added in chunk order, so results are bit-identical for a fixed thread
 * count. On a quiet machine this measures the same as one static slice per
 * thread; with one vCPU shared with a busy process (bench conv, 2 threads,
 * second default layer, sum of the three passes) static slices took 20.4 ms
 * and the dynamic schedule 15.0 ms, because the fast thread takes over the
 * slow one's images. When there are fewer images than threads (or the work
 * is tiny) one thread runs and the SGEMM itself parallelises. Measured on
 * Zen 5 for the second default layer (one thread): 64 per-image GEMMs
 * (64x196x288) take within 3% of one batched GEMM (64x12544x288), and
 * batching would add a 14 MB column matrix and NCHW <-> (K, N*P)
 * transposes; per image, col_n stays in L2.
 *
 * Few input channels (the first layer, C = 1, CKK = 9) give GEMMs far too
 * shallow to run well; ISAs with a direct kernel use it for those shapes
 * (first default layer, 64 images, one thread: forward 0.19 ms direct vs
 * 0.28 ms im2col+GEMM, dW 0.26 ms vs 1.43 ms). Backward-data always goes
 * through GEMM + col2im. Tried and dropped for stride 1: backward-data as a
 * forward conv of dy with the flipped filter, dx_n (C, HW) = W' (C, K*KH*KW)
 * x im2col(dy_n, pad KH-1-ph) (deeper GEMM, no scatter): second default
 * layer, one thread, 7.5-8.2 ms against 5.8-6.1 ms for GEMM + col2im; its
 * column matrix is K/C = 2x larger and the GEMM has only C = 32 rows. At
 * K = C = 32 it was 3.8 vs 3.3-4.5 ms, at C = 64, K = 32 6.6-7.8 vs 6.8 ms:
 * no consistent win. AVX-512 also has its own im2col/col2im (masked
 * row copies from a padded plane): 5.8 vs 17.8 us and 7.1 vs 10.8 us per
 * image of the second default layer against the portable versions.
 */
#include <string.h>

#include "conv.h"
#include "gemm/gemm.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Below this many multiply-adds a parallel region costs more than it saves. */
#define CONV_PAR_MIN_MACS (1L << 18)
/* Buffers start on 64-byte boundaries so threads do not share cache lines. */
#define CONV_ALIGN_FLOATS 16
/* Weight gradients with more than one thread: images in this many fixed
 * chunks, one dW partial each, summed in chunk order. */
#define CONV_WCHUNKS 8
static struct {
    jg_conv2d_direct_fwd_fn fwd;   /* NULL: always im2col + GEMM */
    jg_conv2d_direct_bwdw_fn bwdw;
    jg_conv2d_im2col_fn im2col;
    jg_conv2d_col2im_fn col2im;
    const jg_wino_kernels_t *wino; /* NULL: no Winograd path */
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
        conv_table.wino = &jg_wino_kernels_avx512;
        break;
#endif
    case JG_ISA_REF:
        /* The scalar direct twins keep the direct path tested everywhere. */
        conv_table.fwd = jg_f32_conv2d_direct_fwd_ref;
        conv_table.bwdw = jg_f32_conv2d_direct_bwdw_ref;
        conv_table.im2col = jg_f32_conv2d_im2col_ref;
        conv_table.col2im = jg_f32_conv2d_col2im_ref;
        conv_table.wino = &jg_wino_kernels_ref; /* tested everywhere, like direct */
        break;
#if defined(__x86_64__) || defined(_M_X64)
    case JG_ISA_AVX2:
        conv_table.fwd = jg_f32_conv2d_direct_fwd_avx2;
        conv_table.bwdw = jg_f32_conv2d_direct_bwdw_avx2;
        conv_table.im2col = jg_f32_conv2d_im2col_ref;
        conv_table.col2im = jg_f32_conv2d_col2im_ref;
        conv_table.wino = &jg_wino_kernels_avx2;
        break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON:
        conv_table.fwd = jg_f32_conv2d_direct_fwd_neon;
        conv_table.bwdw = jg_f32_conv2d_direct_bwdw_neon;
        conv_table.im2col = jg_f32_conv2d_im2col_ref;
        conv_table.col2im = jg_f32_conv2d_col2im_ref;
        conv_table.wino = NULL; /* no NEON Winograd: im2col + GEMM */
        break;
#endif
    default:
        conv_table.fwd = NULL;
        conv_table.bwdw = NULL;
        conv_table.im2col = jg_f32_conv2d_im2col_ref;
        conv_table.col2im = jg_f32_conv2d_col2im_ref;
        conv_table.wino = NULL;
        break;
    }
}

/* The shapes Winograd F(2x2, 3x3) takes, whatever the ISA (the workspace
 * is sized for them on every ISA). */
static int wino_shape(const jg_conv2d_shape_t *s)
{
    return s->kh == 3 && s->kw == 3 && s->stride_h == 1 && s->stride_w == 1 && s->pad_h <= 2 &&
           s->pad_w <= 2 && s->c >= JG_WINO_MIN_CHANNELS && s->k >= JG_WINO_MIN_CHANNELS;
}

int jg_conv2d_wino_ok(const jg_conv2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return conv_table.wino && jg_conv2d_check_shape(s, NULL, NULL) == 0 && wino_shape(s);
}

static size_t round_up(size_t v);

/* Per-thread Winograd scratch: the padded input plane, V of one tile block
 * and, for the weight gradient, dY^ of one block (the larger of the forward
 * and backward-data geometries). */
static size_t wino_thread_floats(const jg_conv2d_shape_t *s)
{
    jg_wino_geom_t f, b;
    jg_wino_geom(&f, s, 0);
    jg_wino_geom(&b, s, 1);
    const size_t pf = (size_t)f.cin * f.hp * f.wp, pb = (size_t)b.cin * b.hp * b.wp;
    const size_t cmax = (size_t)(s->c > s->k ? s->c : s->k);
    return round_up(pf > pb ? pf : pb) + round_up((size_t)JG_WINO_WGRAD_LD * 16 * cmax) +
           round_up((size_t)JG_WINO_WGRAD_LD * 16 * (size_t)s->k);
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

/* Workspace plan shared by the sizing function and the kernels. Layout:
 * [packed filter | nchunks dW partials | nthr x (col, pad)]. */
typedef struct {
    int oh, ow;
    int nthr;            /* threads over images (1: SGEMM parallelises) */
    int chunks;          /* dW partials (0 with one thread) */
    size_t apack;        /* floats: the filter packed for the GEMM (fwd, bwd-data) */
    size_t partial;      /* floats per chunk: dW (K, CKK) then db (K) */
    size_t col;          /* floats per thread: a column matrix (0 for 1x1 unpadded) */
    size_t pad;          /* floats per thread: a padded plane (im2col, direct) */
} conv_plan_t;

static int plan(const jg_conv2d_shape_t *s, conv_plan_t *p)
{
    int err = jg_conv2d_check_shape(s, &p->oh, &p->ow);
    if (err) return err;
    const size_t ckk = (size_t)s->c * s->kh * s->kw, ohw = (size_t)p->oh * p->ow;
    const double macs = (double)s->n * s->k * (double)ckk * (double)ohw;
    const int t = jg_nthreads();
    p->nthr = (t > 1 && s->n >= t && macs >= (double)CONV_PAR_MIN_MACS) ? t : 1;
    /* sized for every ISA's variants so the size does not depend on the ISA */
    p->col = needs_col(s) ? round_up(ckk * ohw) : 0;
    p->pad = 0;
    if (needs_col(s)) p->pad = round_up(jg_conv2d_pad_floats(s));
    if (jg_conv2d_direct_ok(s, p->oh, p->ow)) {
        const size_t d = round_up(jg_conv2d_direct_scratch_floats(s, p->oh, p->ow));
        if (d > p->pad) p->pad = d;
    }
    const size_t a_fwd = jg_sgemm_packed_a_floats(s->k, (int)ckk);
    const size_t a_bwd = jg_sgemm_packed_a_floats((int)ckk, s->k);
    /* none for a 1x1 unpadded conv on one thread, which needs no workspace */
    p->apack = needs_col(s) || p->nthr > 1 ? round_up(a_fwd > a_bwd ? a_fwd : a_bwd) : 0;
    p->chunks = p->nthr > 1 ? (s->n < CONV_WCHUNKS ? s->n : CONV_WCHUNKS) : 0;
    p->partial = p->chunks ? round_up((size_t)s->k * ckk + (size_t)s->k) : 0;
    if (wino_shape(s)) {
        /* U (16 K C) in the filter slot; the weight gradient's S (16 K C) in
         * the partials, one even on one thread */
        const size_t u = round_up((size_t)16 * s->k * s->c);
        if (u > p->apack) p->apack = u;
        if (!p->chunks) p->chunks = 1;
        const size_t part = round_up((size_t)16 * s->k * s->c + (size_t)s->k);
        if (part > p->partial) p->partial = part;
        const size_t t = wino_thread_floats(s);
        if (t > p->col + p->pad) p->col = t - p->pad;
    }
    return 0;
}

static size_t plan_floats(const conv_plan_t *p)
{
    return p->apack + (size_t)p->chunks * p->partial + (size_t)p->nthr * (p->col + p->pad);
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

/* Everything an image needs: the plan, the operands and the workspace. */
typedef struct {
    const jg_conv2d_shape_t *s;
    conv_plan_t p;
    conv_ops_t op;
    float *ws;
    gemm_fn gemm;
    int par;
    int ckk, ohw;
    int wino; /* this call runs Winograd F(2x2, 3x3) */
    int set;  /* backward-data writes dx (= ...) instead of adding */
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
    cx->gemm = cx->p.nthr > 1 ? jg_sgemm_serial : jg_sgemm;
    cx->par = cx->p.nthr == 1; /* the SGEMM parallelises only with one image thread */
    cx->ckk = s->c * s->kh * s->kw;
    cx->ohw = cx->p.oh * cx->p.ow;
    cx->wino = conv_table.wino && wino_shape(s);
    cx->set = 0;
    return 0;
}

/* Thread t's scratch: a column matrix and a padded plane. */
typedef struct {
    float *col, *pad;
} conv_scratch_t;

static conv_scratch_t scratch_of(const conv_ctx_t *cx, int t)
{
    conv_scratch_t sc = {NULL, NULL};
    if (cx->ws) {
        sc.col = cx->ws + cx->p.apack + (size_t)cx->p.chunks * cx->p.partial +
                 (size_t)t * (cx->p.col + cx->p.pad);
        sc.pad = sc.col + cx->p.col;
    }
    return sc;
}

static float *chunk_partial(const conv_ctx_t *cx, int c)
{
    return cx->ws + cx->p.apack + (size_t)c * cx->p.partial;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Work item i (an image, or a dW chunk) with the caller's scratch. */
typedef int (*item_fn)(const conv_ctx_t *cx, int i, const conv_scratch_t *sc);

/* fn on items [0, count): inline with one thread, else handed out one at a
 * time to whichever thread is free (items write disjoint outputs, so the
 * schedule cannot change a result, and a slowed vCPU does not hold up the
 * other). Returns an error of a failing item, else 0. */
static int run_items(const conv_ctx_t *cx, int count, item_fn fn)
{
    int err = 0;
    if (cx->p.nthr == 1) {
        const conv_scratch_t sc = scratch_of(cx, 0);
        for (int i = 0; i < count && !err; i++) err = fn(cx, i, &sc);
        return err;
    }
#pragma omp parallel for num_threads(cx->p.nthr) schedule(dynamic, 1)
    for (int i = 0; i < count; i++) {
        const conv_scratch_t sc = scratch_of(cx, thread_id());
        const int e = fn(cx, i, &sc);
        if (e) {
#pragma omp atomic write
            err = e;
        }
    }
    return err;
}

/* c (m, n) = op(W) (m, k) x b (k, n) + beta * c, op(W) = W (K, CKK) or W^T;
 * from the filter packed once per call when there is workspace for it. */
static int gemm_w(const conv_ctx_t *cx, jg_trans_t ta, int m, int n, int k, const float *b,
                  float beta, float *c)
{
    if (cx->p.apack)
        return jg_sgemm_packed_a(cx->par, m, n, k, 1.0f, cx->ws, JG_NOTRANS, b, n, beta, c, n);
    return cx->gemm(ta, JG_NOTRANS, m, n, k, 1.0f, cx->op.w, ta == JG_NOTRANS ? k : m, b, n,
                    beta, c, n);
}

/* ---- Winograd F(2x2, 3x3) ------------------------------------------------ */

/* Thread scratch for Winograd: padded plane, V block, dY^ block. */
static void wino_scratch(const conv_ctx_t *cx, const conv_scratch_t *sc, float **xp, float **v,
                         float **d)
{
    const jg_conv2d_shape_t *s = cx->s;
    jg_wino_geom_t f, b;
    jg_wino_geom(&f, s, 0);
    jg_wino_geom(&b, s, 1);
    const size_t pf = (size_t)f.cin * f.hp * f.wp, pb = (size_t)b.cin * b.hp * b.wp;
    const size_t cmax = (size_t)(s->c > s->k ? s->c : s->k);
    *xp = sc->col;
    *v = *xp + round_up(pf > pb ? pf : pb);
    *d = *v + round_up((size_t)JG_WINO_WGRAD_LD * 16 * cmax);
}

/* out (cout, oh, ow) (+)= the Winograd forward of in (cin, h, w) with the
 * transformed filter u, over blocks of tiles. */
static void wino_run(const conv_ctx_t *cx, const conv_scratch_t *sc, const jg_wino_geom_t *g,
                     float *out, const float *in, const float *bias, int accumulate)
{
    float *xp, *v, *d;
    wino_scratch(cx, sc, &xp, &v, &d);
    conv_table.wino->pad(xp, in, g);
    const int tiles = g->th * g->tw;
    for (int t0 = 0; t0 < tiles; t0 += JG_WINO_TILE_BLOCK) {
        const int nt = tiles - t0 < JG_WINO_TILE_BLOCK ? tiles - t0 : JG_WINO_TILE_BLOCK;
        conv_table.wino->in_tf(v, xp, g, t0, nt, g->cin, 1);
        conv_table.wino->gemm_out(out, v, cx->ws, bias, g, t0, nt, accumulate);
    }
}

static int wino_fwd_image(const conv_ctx_t *cx, int n, const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    jg_wino_geom_t g;
    jg_wino_geom(&g, s, 0);
    wino_run(cx, sc, &g, cx->op.y + (size_t)n * s->k * cx->ohw,
             cx->op.x + (size_t)n * s->c * s->h * s->w, cx->op.bias, 0);
    return 0;
}

/* dx_n += the forward of dy_n with the flipped filter (U' in the workspace) */
static int wino_bwdd_image(const conv_ctx_t *cx, int n, const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    jg_wino_geom_t g;
    jg_wino_geom(&g, s, 1);
    wino_run(cx, sc, &g, cx->op.dx + (size_t)n * s->c * s->h * s->w,
             cx->op.dy + (size_t)n * s->k * cx->ohw, NULL, !cx->set);
    return 0;
}

static void bias_grad_image(float *db, const float *dy, int K, int P);

/* Chunk c of the weight gradient: S (K, C, 16) and db (K) of its images. */
static int wino_bwdw_chunk(const conv_ctx_t *cx, int c, const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, n = s->n, nch = cx->p.chunks;
    float *sum = chunk_partial(cx, c), *db = sum + (size_t)16 * K * s->c;
    memset(sum, 0, sizeof(float) * ((size_t)16 * K * s->c + (size_t)K));
    jg_wino_geom_t g;
    jg_wino_geom(&g, s, 0);
    float *xp, *v, *d;
    wino_scratch(cx, sc, &xp, &v, &d);
    const int tiles = g.th * g.tw;
    const int n0 = (int)((long)n * c / nch), n1 = (int)((long)n * (c + 1) / nch);
    for (int i = n0; i < n1; i++) {
        const float *dyn = cx->op.dy + (size_t)i * K * cx->ohw;
        if (cx->op.db) bias_grad_image(db, dyn, K, cx->ohw);
        conv_table.wino->pad(xp, cx->op.x + (size_t)i * s->c * s->h * s->w, &g);
        for (int t0 = 0; t0 < tiles; t0 += JG_WINO_TILE_BLOCK) {
            const int nt = tiles - t0 < JG_WINO_TILE_BLOCK ? tiles - t0 : JG_WINO_TILE_BLOCK;
            /* channel-major tuples (cin | K, JG_WINO_WGRAD_LD) for the sum over t */
            conv_table.wino->in_tf(v, xp, &g, t0, nt, 1, JG_WINO_WGRAD_LD);
            conv_table.wino->dy_tf(d, dyn, &g, t0, nt, 1, JG_WINO_WGRAD_LD);
            conv_table.wino->wgrad(sum, d, v, &g, nt, JG_WINO_WGRAD_LD);
        }
    }
    return 0;
}

/* Below this many floats the partials are summed on one thread. */
#define CONV_PAR_SUM_MIN 16384

/* dW += G^T S G and db += sum, S and sum added up over the chunks in chunk
 * order (element ranges split over the threads: the order per element is
 * fixed). */
static int wino_bwdw(const conv_ctx_t *cx)
{
    const jg_conv2d_shape_t *s = cx->s;
    int err = run_items(cx, cx->p.chunks, wino_bwdw_chunk);
    if (err) return err;
    const size_t ns = (size_t)16 * s->k * s->c + (size_t)s->k;
    float *p0 = chunk_partial(cx, 0);
    const int nch = cx->p.chunks, par = cx->p.nthr > 1 && ns >= CONV_PAR_SUM_MIN;
    (void)par;
#pragma omp parallel for num_threads(cx->p.nthr) schedule(static) if (par)
    for (size_t e = 0; e < ns; e++) {
        float acc = p0[e];
        for (int c = 1; c < nch; c++) acc += p0[(size_t)c * cx->p.partial + e];
        p0[e] = acc;
    }
    jg_wino_wgrad_out(cx->op.dw, p0, s->k, s->c);
    if (cx->op.db)
        for (int k = 0; k < s->k; k++) cx->op.db[k] += p0[(size_t)16 * s->k * s->c + k];
    return 0;
}

/* ---- forward --------------------------------------------------------- */

static int fwd_image(const conv_ctx_t *cx, int n, const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    const float *bias = cx->op.bias;
    float *yn = cx->op.y + (size_t)n * K * P;                    // (K, P)
    const float *xn = cx->op.x + (size_t)n * s->c * s->h * s->w; // (C, H, W)
    /* a direct kernel returns 1 for shapes it does not take */
    if (conv_table.fwd &&
        conv_table.fwd(yn, xn, cx->op.w, bias, s, cx->p.oh, cx->p.ow, sc->pad) == 0)
        return 0;
    const float *b = xn;
    if (needs_col(s)) {
        conv_table.im2col(sc->col, xn, s, cx->p.oh, cx->p.ow, sc->pad);
        b = sc->col;
    }
    float beta = 0;
    if (bias) {
        /* y starts at the bias and the GEMM adds onto it. */
        for (int k = 0; k < K; k++)
            for (int q = 0; q < P; q++) yn[(size_t)k * P + q] = bias[k];
        beta = 1;
    }
    /* y_n (K, P) = W (K, CKK) x col_n (CKK, P) */
    return gemm_w(cx, JG_NOTRANS, K, P, CKK, b, beta, yn);
}

int jg_conv2d_forward(float *y, const float *x, const float *w, const float *bias,
                      const jg_conv2d_shape_t *s, void *workspace)
{
    JG_CHECK(y && x && w);
    jg_kernels_ensure_init();
    const conv_ops_t op = {.y = y, .x = x, .w = w, .bias = bias};
    conv_ctx_t cx;
    int err = ctx_init(&cx, s, workspace, &op);
    if (!err && cx.wino) {
        jg_wino_filter_fwd(cx.ws, w, s->k, s->c); /* U leads the workspace */
        return run_items(&cx, s->n, wino_fwd_image);
    }
    /* the packed filter leads the workspace */
    if (!err && cx.p.apack)
        err = jg_sgemm_pack_a(cx.ws, JG_NOTRANS, s->k, cx.ohw, cx.ckk, w, cx.ckk);
    return err ? err : run_items(&cx, s->n, fwd_image);
}

/* ---- backward-data --------------------------------------------------- */

static int bwdd_image(const conv_ctx_t *cx, int n, const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    float *dxn = cx->op.dx + (size_t)n * s->c * s->h * s->w;     // (C, H, W)
    const float *dyn = cx->op.dy + (size_t)n * K * P;            // (K, P)
    if (!needs_col(s)) {
        /* dx_n (C, HW) (+)= W^T (C, K) x dy_n (K, HW) */
        return gemm_w(cx, JG_TRANS, CKK, P, K, dyn, cx->set ? 0.0f : 1.0f, dxn);
    }
    /* dcol (CKK, P) = W^T (CKK, K) x dy_n (K, P) */
    const int err = gemm_w(cx, JG_TRANS, CKK, P, K, dyn, 0.0f, sc->col);
    if (err) return err;
    /* col2im adds: a dx to be written is zeroed per image, while in cache */
    if (cx->set) memset(dxn, 0, sizeof(float) * (size_t)s->c * s->h * s->w);
    conv_table.col2im(dxn, sc->col, s, cx->p.oh, cx->p.ow, sc->pad);
    return 0;
}

static int backward_data(float *dx, const float *dy, const float *w, const jg_conv2d_shape_t *s,
                         void *workspace, int set)
{
    JG_CHECK(dx && dy && w);
    jg_kernels_ensure_init();
    const conv_ops_t op = {.dx = dx, .dy = dy, .w = w};
    conv_ctx_t cx;
    int err = ctx_init(&cx, s, workspace, &op);
    cx.set = set;
    if (!err && cx.wino) {
        jg_wino_filter_bwd(cx.ws, w, s->k, s->c); /* U' leads the workspace */
        return run_items(&cx, s->n, wino_bwdd_image);
    }
    if (!err && cx.p.apack)
        err = jg_sgemm_pack_a(cx.ws, JG_TRANS, cx.ckk, cx.ohw, s->k, w, cx.ckk);
    return err ? err : run_items(&cx, s->n, bwdd_image);
}

int jg_conv2d_backward_data(float *dx, const float *dy, const float *w,
                            const jg_conv2d_shape_t *s, void *workspace)
{
    return backward_data(dx, dy, w, s, workspace, 0);
}

int jg_conv2d_backward_data_set(float *dx, const float *dy, const float *w,
                                const jg_conv2d_shape_t *s, void *workspace)
{
    return backward_data(dx, dy, w, s, workspace, 1);
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

/* dW (K, CKK) += sum over images [n0, n1) of dy_n (K, P) x col_n^T (P, CKK);
 * db (K) += row sums of dy_n, or NULL. The direct kernels take the images
 * in groups of JG_CONV_DIRECT_GROUP from n0. */
static int bwdw_images(const conv_ctx_t *cx, int n0, int n1, float *dw, float *db,
                       const conv_scratch_t *sc)
{
    const jg_conv2d_shape_t *s = cx->s;
    const int K = s->k, P = cx->ohw, CKK = cx->ckk;
    const size_t xn_floats = (size_t)s->c * s->h * s->w;
    if (db)
        for (int n = n0; n < n1; n++) bias_grad_image(db, cx->op.dy + (size_t)n * K * P, K, P);
    /* a direct kernel returns 1 for shapes it does not take (the shape
     * alone decides: all groups or none) */
    int n = n0;
    if (conv_table.bwdw) {
        for (; n < n1; n += JG_CONV_DIRECT_GROUP) {
            const int g = n1 - n < JG_CONV_DIRECT_GROUP ? n1 - n : JG_CONV_DIRECT_GROUP;
            if (conv_table.bwdw(dw, cx->op.dy + (size_t)n * K * P, cx->op.x + n * xn_floats, s,
                                cx->p.oh, cx->p.ow, g, sc->pad))
                break;
        }
    }
    for (; n < n1; n++) {
        const float *dyn = cx->op.dy + (size_t)n * K * P; // (K, P)
        const float *xn = cx->op.x + n * xn_floats;        // (C, H, W)
        const float *b = xn;
        if (needs_col(s)) {
            conv_table.im2col(sc->col, xn, s, cx->p.oh, cx->p.ow, sc->pad);
            b = sc->col;
        }
        const int err = cx->gemm(JG_NOTRANS, JG_TRANS, K, CKK, P, 1.0f, dyn, P, b, P, 1.0f, dw,
                                 CKK);
        if (err) return err;
    }
    return 0;
}

/* Chunk c: its images, in order, into its zeroed partials dW (K, CKK), db (K). */
static int bwdw_chunk(const conv_ctx_t *cx, int c, const conv_scratch_t *sc)
{
    const int K = cx->s->k, n = cx->s->n, nch = cx->p.chunks;
    float *dw = chunk_partial(cx, c), *db = dw + (size_t)K * cx->ckk;
    memset(dw, 0, sizeof(float) * ((size_t)K * cx->ckk + (size_t)K));
    const int n0 = (int)((long)n * c / nch), n1 = (int)((long)n * (c + 1) / nch);
    return bwdw_images(cx, n0, n1, dw, cx->op.db ? db : NULL, sc);
}

/* One thread: every image straight into dw/db. */
static int bwdw_serial(const conv_ctx_t *cx)
{
    const conv_scratch_t sc = scratch_of(cx, 0);
    return bwdw_images(cx, 0, cx->s->n, cx->op.dw, cx->op.db, &sc);
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
    if (err) return err;
    if (cx.wino) return wino_bwdw(&cx);
    if (cx.p.nthr == 1) return bwdw_serial(&cx);
    err = run_items(&cx, cx.p.chunks, bwdw_chunk);
    if (err) return err;
    /* Fixed order: partials summed in chunk order, then added once. */
    const size_t nw = (size_t)s->k * cx.ckk, nsum = nw + (dbias ? (size_t)s->k : 0);
    const float *p0 = chunk_partial(&cx, 0);                 // dW (K, CKK), db (K)
    for (size_t e = 0; e < nsum; e++) {
        float acc = p0[e];
        for (int c = 1; c < cx.p.chunks; c++) acc += p0[(size_t)c * cx.p.partial + e];
        if (e < nw)
            dw[e] += acc;
        else
            dbias[e - nw] += acc;
    }
    return 0;
}
