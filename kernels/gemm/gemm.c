/* SPDX-License-Identifier: MIT */
/*
 * gemm.c - the portable SGEMM driver (BLIS loop nest) and its dispatch.
 *
 *   for jc in n step NC
 *     for pc in k step KC        B block (kc, nc) packed (L3)
 *       for ic in m step MC      A block (mc, kc) packed (L2)
 *         for jr in nc step NR   B micro-panel (kc, NR) stays in L1
 *           for ir in mc step MR
 *             micro-kernel: MR x NR tile of C in registers
 *
 * Threads: C is cut into a tm x tn grid of thread rectangles whose edges lie
 * on MR / NR tile boundaries; each thread packs and computes its rectangle
 * alone (no barriers). Every C element is owned by one thread and its k
 * order (KC blocks, then p inside the micro-kernel) does not depend on the
 * thread count, so results are bit-identical for any number of threads.
 * Edge tiles go through a small temporary tile.
 */
#include "gemm.h"

#include <stdlib.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static const jg_sgemm_config_t *gemm_cfg = &jg_sgemm_config_ref;

const jg_sgemm_config_t *jg_sgemm_config(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX512: return &jg_sgemm_config_avx512;
    case JG_ISA_AVX2: return &jg_sgemm_config_avx2;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON: return &jg_sgemm_config_neon;
#endif
    default: return &jg_sgemm_config_ref;
    }
}

void jg_gemm_select(jg_isa_t isa)
{
    gemm_cfg = jg_sgemm_config(isa);
}

typedef struct {
    jg_trans_t ta, tb;
    int m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int lda, ldb, ldc;
    const float *ap; /* op(A) packed by jg_sgemm_pack_a, or NULL: pack here */
} gemm_args_t;

static int imin(int x, int y) { return x < y ? x : y; }
static int ceil_div(int x, int y) { return (int)(((long long)x + y - 1) / y); }
static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

/* Splits `total` units into `parts` contiguous ranges; range `i` is [*lo, *hi). */
static void split_range(int total, int parts, int i, int *lo, int *hi)
{
    *lo = (int)((long long)total * i / parts);
    *hi = (int)((long long)total * (i + 1) / parts);
}

/* Balanced block size: the fewest blocks of at most `max`, rounded up to a
 * multiple of `unit` (so k = KC + 1 gives two halves, not KC and 1). */
static int balanced_block(int total, int max, int unit)
{
    const int nblocks = ceil_div(total, max);
    const int b = (int)round_up((size_t)ceil_div(total, nblocks), (size_t)unit);
    return imin(b, max);
}

/* ---- packing --------------------------------------------------------- */

/* op(A)(i0 .. i0+mc, p0 .. p0+kc) -> MR-row micro-panels, (kc, MR) each,
 * rows past mc zero-filled. */
static void pack_a(float *restrict dst, const jg_sgemm_config_t *cf,
                   const gemm_args_t *g, int i0, int mc, int p0, int kc, int mr)
{
    for (int ir = 0; ir < mc; ir += mr) {
        const int rows = imin(mr, mc - ir);
        float *restrict d = dst + (size_t)ir * kc; // (kc, MR)
        if (g->ta == JG_NOTRANS) /* op(A)(i, p) = a[i * lda + p] */
            cf->pack_t(d, g->a + (size_t)(i0 + ir) * g->lda + p0, g->lda, kc, mr, rows);
        else /* op(A)(i, p) = a[p * lda + i] */
            cf->pack_n(d, g->a + (size_t)p0 * g->lda + i0 + ir, g->lda, kc, mr, rows);
    }
}

/* op(B)(p0 .. p0+kc, j0 .. j0+nc) -> NR-column micro-panels, (kc, NR) each,
 * columns past nc zero-filled; panels [jp0, jp1) of the block only. */
static void pack_b(float *restrict dst, const jg_sgemm_config_t *cf,
                   const gemm_args_t *g, int p0, int kc, int j0, int nc, int nr,
                   int jp0, int jp1)
{
    for (int jp = jp0; jp < jp1; jp++) {
        const int jr = jp * nr;
        const int cols = imin(nr, nc - jr);
        float *restrict d = dst + (size_t)jr * kc; // (kc, NR)
        if (g->tb == JG_NOTRANS) /* op(B)(p, j) = b[p * ldb + j] */
            cf->pack_n(d, g->b + (size_t)p0 * g->ldb + j0 + jr, g->ldb, kc, nr, cols);
        else /* op(B)(p, j) = b[j * ldb + p] */
            cf->pack_t(d, g->b + (size_t)(j0 + jr) * g->ldb + p0, g->ldb, kc, nr, cols);
    }
}

/* ---- macro-kernel ------------------------------------------------------ */

/* C(ic.., jc..) over the packed A block (mc, kc) and the B micro-panels
 * [jp0, jp1) of the packed B block. Partial tiles are computed into tmp and
 * then merged, so the micro-kernel only ever sees full tiles. */
static void macro_kernel(const jg_sgemm_config_t *cf, const gemm_args_t *g,
                         const float *ap, const float *bp, int ic, int mc,
                         int jc, int nc, int kc, int jp0, int jp1, float beta)
{
    const int mr = cf->mr, nr = cf->nr;
    _Alignas(64) float tmp[JG_SGEMM_MR_MAX * JG_SGEMM_NR_MAX]; // (MR, NR)
    for (int jp = jp0; jp < jp1; jp++) {
        const int jr = jp * nr;
        const int cols = imin(nr, nc - jr);
        const float *bpan = bp + (size_t)jr * kc;
        for (int ir = 0; ir < mc; ir += mr) {
            const int rows = imin(mr, mc - ir);
            const float *apan = ap + (size_t)ir * kc;
            float *cij = g->c + (size_t)(ic + ir) * g->ldc + jc + jr;
            if (rows == mr && cols == nr) {
                cf->ukernel(kc, g->alpha, apan, bpan, beta, cij, g->ldc);
                continue;
            }
            cf->ukernel(kc, g->alpha, apan, bpan, 0.0f, tmp, nr);
            for (int i = 0; i < rows; i++) {
                float *ci = cij + (size_t)i * g->ldc;
                const float *ti = tmp + i * nr;
                if (beta == 0.0f)
                    for (int j = 0; j < cols; j++) ci[j] = ti[j];
                else
                    for (int j = 0; j < cols; j++) ci[j] = ti[j] + beta * ci[j];
            }
        }
    }
}

/* Floats of packing space for one A block and one B block, each rounded to
 * 64 bytes. */
static void pack_sizes(const jg_sgemm_config_t *cf, const gemm_args_t *g,
                       size_t *a_floats, size_t *b_floats)
{
    const int kc = imin(cf->kc, g->k);
    *a_floats = round_up(round_up((size_t)imin(cf->mc, g->m), (size_t)cf->mr) * kc, 16);
    *b_floats = round_up(round_up((size_t)imin(cf->nc, g->n), (size_t)cf->nr) * kc, 16);
}

/* The whole loop nest for thread `tid` of a tm x tn grid. Each thread packs
 * the A rows and B columns of its own C rectangle into its own buffers, so
 * threads never wait for each other: on this shared 2-core machine a barrier
 * per KC block (B packed once, shared) measured up to 1.5x slower at 1024^3
 * whenever another process took a core (a spinning waiter stalls the team),
 * and no faster when the machine was quiet; the price is packing B (or A)
 * twice, ~3% of the flops-time at 1024^3. */
static void gemm_thread(const jg_sgemm_config_t *cf, const gemm_args_t *g,
                        float *ap, float *bp, int tid, int tm, int tn)
{
    const int mr = cf->mr, nr = cf->nr;
    const int kc_step = balanced_block(g->k, cf->kc, 1);
    int mt0, mt1; /* rows of this thread, in whole MR tiles */
    split_range(ceil_div(g->m, mr), tm, tid / tn, &mt0, &mt1);
    const int m0 = mt0 * mr, m1 = imin(mt1 * mr, g->m);
    if (m0 >= m1) return;
    const int mc_step = balanced_block(m1 - m0, cf->mc, mr);

    for (int jc = 0; jc < g->n; jc += cf->nc) {
        const int nc = imin(cf->nc, g->n - jc);
        int np0, np1; /* this thread's B micro-panels in this NC block */
        split_range(ceil_div(nc, nr), tn, tid % tn, &np0, &np1);
        if (np0 >= np1) continue;
        for (int pc = 0; pc < g->k; pc += kc_step) {
            const int kc = imin(kc_step, g->k - pc);
            /* later KC blocks accumulate onto the first one's result */
            const float beta = pc == 0 ? g->beta : 1.0f;
            pack_b(bp, cf, g, pc, kc, jc, nc, nr, np0, np1);
            for (int ic = m0; ic < m1; ic += mc_step) {
                const int mc = imin(mc_step, m1 - ic);
                const float *a_blk = ap;
                if (g->ap)
                    a_blk = g->ap + round_up((size_t)g->m, (size_t)mr) * pc + (size_t)ic * kc;
                else
                    pack_a(ap, cf, g, ic, mc, pc, kc, mr);
                macro_kernel(cf, g, a_blk, bp, ic, mc, jc, nc, kc, np0, np1, beta);
            }
        }
    }
}

/* Thread grid tm x tn = nthr minimising the largest thread rectangle; ties
 * prefer row splits (each thread then streams the whole B block through its
 * L2 once per A block, as the serial loop does). */
static void thread_grid(const jg_sgemm_config_t *cf, int m, int n, int nthr,
                        int *tm, int *tn)
{
    const long long mt = ceil_div(m, cf->mr), nt = ceil_div(n, cf->nr);
    long long best = -1;
    for (int d = 1; d <= nthr; d++) {
        if (nthr % d) continue;
        const long long cost = (long long)ceil_div((int)mt, d) * cf->mr *
                               ((long long)ceil_div((int)nt, nthr / d) * cf->nr);
        if (best < 0 || cost <= best) {
            best = cost;
            *tm = d;
            *tn = nthr / d;
        }
    }
}

/* Packing memory: per thread, grown on demand and kept (no allocation in
 * the steady state of a training loop). */
typedef struct {
    float *p;
    size_t floats;
} gemm_buf_t;

static _Thread_local gemm_buf_t tls_buf;

static float *buf_reserve(gemm_buf_t *b, size_t floats)
{
    if (b->floats >= floats) return b->p;
    float *p = aligned_alloc(64, round_up(floats * sizeof(float), 64));
    if (!p) return NULL;
    free(b->p);
    b->p = p;
    b->floats = floats;
    return p;
}

static gemm_args_t make_args(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                             float alpha, const float *a, int lda, const float *b,
                             int ldb, float beta, float *c, int ldc)
{
    gemm_args_t g = {ta, tb, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc, NULL};
    return g;
}

/* Useful share of the tile area that covers an m x n C. */
static double tile_use(const jg_sgemm_config_t *cf, int m, int n)
{
    return ((double)m / (ceil_div(m, cf->mr) * cf->mr)) * ((double)n / (ceil_div(n, cf->nr) * cf->nr));
}

const jg_sgemm_config_t *jg_sgemm_pick(const jg_sgemm_config_t *cf, int m, int n)
{
    if (cf->alt && tile_use(cf->alt, m, n) * cf->alt->rel_speed > tile_use(cf, m, n))
        return cf->alt;
    return cf;
}

/* g on the calling thread, or on up to jg_nthreads() threads when `par`. */
static int gemm_run(const gemm_args_t *g, int par)
{
    jg_kernels_ensure_init();
    int nthr = par ? jg_nthreads() : 1;
    if ((double)g->m * g->n * g->k < JG_SGEMM_PAR_MIN_MACS) nthr = 1;
    const jg_sgemm_config_t *cf = jg_sgemm_pick(gemm_cfg, g->m, g->n);
    size_t af, bf;
    pack_sizes(cf, g, &af, &bf);
    if (g->ap) af = 0;
    /* One buffer holds every thread's A and B blocks, so the parallel
     * region allocates nothing and cannot fail. */
    float *buf = buf_reserve(&tls_buf, (size_t)nthr * (af + bf));
    if (!buf) return -ENOMEM;
    if (nthr == 1) {
        gemm_thread(cf, g, buf, buf + af, 0, 1, 1);
        return 0;
    }
#pragma omp parallel num_threads(nthr)
    {
        int tid = 0, team = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        team = omp_get_num_threads(); /* may be fewer than asked (nesting) */
#endif
        int tm = 1, tn = 1;
        thread_grid(cf, g->m, g->n, team, &tm, &tn);
        float *mine = buf + (size_t)tid * (af + bf);
        gemm_thread(cf, g, mine, mine + af, tid, tm, tn);
    }
    return 0;
}

int jg_sgemm_serial(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc)
{
    const int err = jg_sgemm_check(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    if (err) return err;
    const gemm_args_t g = make_args(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return gemm_run(&g, 0);
}

int jg_sgemm(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
             float alpha, const float *a, int lda, const float *b, int ldb,
             float beta, float *c, int ldc)
{
    const int err = jg_sgemm_check(ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
    if (err) return err;
    const gemm_args_t g = make_args(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return gemm_run(&g, 1);
}

/* ---- pre-packed A ------------------------------------------------------ */

size_t jg_sgemm_packed_a_floats(int m, int k)
{
    return ((size_t)m + JG_SGEMM_MR_MAX) * (size_t)k;
}

/* Layout: the KC blocks of op(A) one after another, each (round_up(m, MR),
 * kc) as MR-row micro-panels, so block pc, rows ic.. start at
 * round_up(m, MR) * pc + ic * kc: what gemm_thread reads. */
int jg_sgemm_pack_a(float *ap, jg_trans_t ta, int m, int n, int k, const float *a, int lda)
{
    JG_CHECK(ap);
    /* only A is read; a stands in for B and C in the shared check */
    const int err = jg_sgemm_check(ta, JG_NOTRANS, m, n, k, a, lda, a, n, a, n);
    if (err) return err;
    jg_kernels_ensure_init();
    const jg_sgemm_config_t *cf = jg_sgemm_pick(gemm_cfg, m, n);
    const gemm_args_t g = make_args(ta, JG_NOTRANS, m, n, k, 1.0f, a, lda, NULL, 0, 0.0f,
                                    NULL, 0);
    const int kc_step = balanced_block(k, cf->kc, 1);
    const size_t rows = round_up((size_t)m, (size_t)cf->mr);
    for (int pc = 0; pc < k; pc += kc_step)
        pack_a(ap + rows * pc, cf, &g, 0, m, pc, imin(kc_step, k - pc), cf->mr);
    return 0;
}

int jg_sgemm_packed_a(int par, int m, int n, int k, float alpha, const float *ap,
                      jg_trans_t tb, const float *b, int ldb, float beta, float *c, int ldc)
{
    const int err = jg_sgemm_check(JG_NOTRANS, tb, m, n, k, ap, k, b, ldb, c, ldc);
    if (err) return err;
    gemm_args_t g = make_args(JG_NOTRANS, tb, m, n, k, alpha, NULL, k, b, ldb, beta, c, ldc);
    g.ap = ap;
    return gemm_run(&g, par);
}
