/* SPDX-License-Identifier: MIT */
/* SGEMM: every ISA's jg_sgemm / jg_sgemm_serial and micro-kernel against the
 * double-accumulating jg_sgemm_ref over edge-case shapes (tile, block and
 * vector-width boundaries, all transposes, strided operands, alpha/beta),
 * NaN-safety of beta = 0, bit-exact results across thread counts and with a
 * pre-packed A, and argument checks. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "gemm/gemm.h"

/* Per element, |got - want| <= GEMM_TOL_PER_TERM * (k + 2) * (|alpha| *
 * sum_p |a_ip b_pj| + |beta c_ij|): the classic bound for float accumulation
 * of k products plus the alpha/beta update is (k + 2) * u with u = 2^-24;
 * FLT_EPSILON = 2u leaves a factor 2 for the oracle's own rounding to float.
 * A dropped or doubled term errs by ~|a_ip b_pj|, far above this. */
#define GEMM_TOL_PER_TERM FLT_EPSILON
/* absolute floor for elements whose magnitude is ~0 (alpha or data zero) */
#define GEMM_TOL_ABS 1e-30

/* 2 when the process may run 2 threads: built with OpenMP and not pinned to
 * one thread by OMP_NUM_THREADS=1 (as for qemu-user, where multi-thread
 * OpenMP teams can hang). Read once in main before any test changes it. */
static int test_threads;

typedef struct {
    jg_trans_t ta, tb;
    int m, n, k;
    int pad; /* extra leading-dimension elements on every operand */
    float alpha, beta;
} gemm_case_t;

typedef int (*sgemm_fn)(jg_trans_t, jg_trans_t, int, int, int, float, const float *,
                        int, const float *, int, float, float *, int);

/* Runs one case through fn and checks it against jg_sgemm_ref. C starts as
 * NaN when beta == 0 (must not be read) and as data otherwise. */
static void check_case(const gemm_case_t *t, sgemm_fn fn, const char *what)
{
    const int ar = t->ta == JG_NOTRANS ? t->m : t->k, ac = t->ta == JG_NOTRANS ? t->k : t->m;
    const int br = t->tb == JG_NOTRANS ? t->k : t->n, bc = t->tb == JG_NOTRANS ? t->n : t->k;
    const int lda = ac + t->pad, ldb = bc + t->pad, ldc = t->n + t->pad;
    const size_t na = (size_t)ar * lda, nb = (size_t)br * ldb, nc = (size_t)t->m * ldc;
    float *a = jg_test_alloc(na), *b = jg_test_alloc(nb); // (ar, lda), (br, ldb)
    float *abs_a = jg_test_alloc(na), *abs_b = jg_test_alloc(nb);
    float *c = jg_test_alloc(nc), *want = jg_test_alloc(nc), *mag = jg_test_alloc(nc); // (m, ldc)
    const uint64_t seed = (uint64_t)t->m * 1000003u + (uint64_t)t->n * 1009u + (uint64_t)t->k;
    jg_test_fill_uniform(a, na, -1, 1, seed);
    jg_test_fill_uniform(b, nb, -1, 1, seed + 1);
    for (size_t i = 0; i < na; i++) abs_a[i] = fabsf(a[i]);
    for (size_t i = 0; i < nb; i++) abs_b[i] = fabsf(b[i]);
    if (t->beta == 0.0f)
        for (size_t i = 0; i < nc; i++) c[i] = NAN;
    else
        jg_test_fill_uniform(c, nc, -1, 1, seed + 2);
    memcpy(want, c, nc * sizeof *c);
    float *c_in = jg_test_alloc(nc);
    memcpy(c_in, c, nc * sizeof *c);
    /* magnitude of every term that enters c_ij, for the tolerance */
    assert_int_equal(jg_sgemm_ref(t->ta, t->tb, t->m, t->n, t->k, 1.0f, abs_a, lda, abs_b,
                                  ldb, 0.0f, mag, ldc), 0);
    assert_int_equal(jg_sgemm_ref(t->ta, t->tb, t->m, t->n, t->k, t->alpha, a, lda, b, ldb,
                                  t->beta, want, ldc), 0);
    /* padding columns of C are sentinels: nothing may write them */
    for (int i = 0; i < t->m; i++)
        for (int j = t->n; j < ldc; j++) c[(size_t)i * ldc + j] = want[(size_t)i * ldc + j] = 7.0f;
    assert_int_equal(fn(t->ta, t->tb, t->m, t->n, t->k, t->alpha, a, lda, b, ldb, t->beta,
                        c, ldc), 0);

    size_t nbad = 0, bad = 0;
    double bad_tol = 0;
    for (int i = 0; i < t->m; i++) {
        for (int j = 0; j < ldc; j++) {
            const size_t ix = (size_t)i * ldc + j;
            double tol = 0;
            if (j < t->n) {
                const double c0 = t->beta == 0.0f ? 0 : fabs((double)t->beta * c_in[ix]);
                tol = GEMM_TOL_PER_TERM * (t->k + 2) * (fabs(t->alpha) * mag[ix] + c0) +
                      GEMM_TOL_ABS;
            }
            if (!(fabs((double)c[ix] - want[ix]) <= tol)) {
                if (nbad++ == 0) bad = ix, bad_tol = tol;
            }
        }
    }
    if (nbad) {
        print_error("%s %s: ta=%d tb=%d m=%d n=%d k=%d pad=%d alpha=%g beta=%g: %zu bad, "
                    "first (%zu, %zu) got %.9g want %.9g tol %.3g\n",
                    what, jg_isa_name(jg_kernels_isa()), t->ta, t->tb, t->m, t->n, t->k,
                    t->pad, t->alpha, t->beta, nbad, bad / ldc, bad % ldc, c[bad], want[bad],
                    bad_tol);
        fail();
    }
    free(a), free(b), free(abs_a), free(abs_b), free(c), free(c_in), free(want), free(mag);
}

static const float alphas[] = {1.0f, -0.5f};
static const float betas[] = {0.0f, 1.0f, 0.3f};

/* Edge sizes for the active ISA's tile and blocks, deduplicated. */
static int edge_dims(const jg_sgemm_config_t *cf, int *out)
{
    const int cand[] = {1, 2, 7, 13, 31, cf->mr - 1, cf->mr, cf->mr + 1, 2 * cf->mr + 1,
                        cf->nr - 1, cf->nr, cf->nr + 1, 2 * cf->nr + 3};
    int n = 0;
    for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
        int dup = cand[i] < 1;
        for (int j = 0; j < n; j++) dup |= out[j] == cand[i];
        if (!dup) out[n++] = cand[i];
    }
    return n;
}

/* Shapes: each edge size in turn as m, n, k and all three; then the MC,
 * KC (k crossing one and two KC blocks) and NC boundaries with the other
 * dimensions kept small so the double oracle stays cheap. */
static void run_shapes(sgemm_fn fn, const char *what)
{
    const jg_sgemm_config_t *cf = jg_sgemm_config(jg_kernels_isa());
    int e[16];
    const int ne = edge_dims(cf, e);
    int idx = 0;
    for (int t = 0; t < 4; t++) {
        gemm_case_t c = {.ta = (jg_trans_t)(t & 1), .tb = (jg_trans_t)(t >> 1)};
#define RUN(M, N, K)                                                              \
    do {                                                                          \
        c.m = (M), c.n = (N), c.k = (K), c.pad = idx % 3 == 0 ? 0 : 1 + idx % 5;  \
        c.alpha = alphas[idx % 2], c.beta = betas[idx % 3], idx++;                \
        check_case(&c, fn, what);                                                 \
    } while (0)
        for (int i = 0; i < ne; i++) {
            RUN(e[i], 17, 9);
            RUN(11, e[i], 5);
            RUN(3, 19, e[i]);
            RUN(e[i], e[(i + 3) % ne], e[(i + 7) % ne]);
        }
        RUN(37, 41, 43);
        RUN(cf->mc - 1, cf->nr + 5, 7);
        RUN(cf->mc + 1, 2 * cf->nr - 3, 5);
        RUN(2 * cf->mc + cf->mr + 3, 3, 4);
        RUN(cf->mr + 2, cf->nr + 1, cf->kc - 1);
        RUN(cf->mr - 1, cf->nr + 3, cf->kc + 1);
        RUN(5, 2 * cf->nr - 1, 2 * cf->kc + 7);
        RUN(2, cf->nc + cf->nr + 5, 3);
#undef RUN
    }
}

static void test_sgemm_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const int threads = jg_kernels_threads();
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        run_shapes(jg_sgemm, "jg_sgemm");
        run_shapes(jg_sgemm_serial, "jg_sgemm_serial");
    }
    /* shapes that pick an ISA's second tile (conv2d's per-image GEMMs) and
     * its edges */
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        const jg_sgemm_config_t *cf = jg_sgemm_config(isas[i]);
        if (!cf->alt) continue;
        assert_ptr_equal(jg_sgemm_pick(cf, 64, 196), cf->alt);
        const int dims[][3] = {{64, 196, 288}, {288, 196, 64}, {64, 288, 196},
                               {33, 47, 17}, {15, 17, 40}, {48, 80, 3}};
        for (int d = 0; d < 6; d++)
            for (int t = 0; t < 4; t++) {
                const gemm_case_t c = {(jg_trans_t)(t & 1), (jg_trans_t)(t >> 1), dims[d][0],
                                       dims[d][1], dims[d][2], (d + t) % 3, alphas[t % 2],
                                       betas[(d + t) % 3]};
                check_case(&c, jg_sgemm_serial, "jg_sgemm_serial, second tile");
            }
    }
    /* one mid-size case on 2 threads (above JG_SGEMM_PAR_MIN_MACS) */
    if (test_threads == 2) {
        assert_int_equal(jg_kernels_set_threads(2), 0);
        for (int i = 0; i < nisa; i++) {
            assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
            for (int t = 0; t < 4; t += 3) { /* NN and TT */
                const gemm_case_t c = {(jg_trans_t)(t & 1), (jg_trans_t)(t >> 1), 211, 160, 131,
                                       t, alphas[t % 2], betas[t % 3]};
                check_case(&c, jg_sgemm, "jg_sgemm 2 threads");
            }
        }
        assert_int_equal(jg_kernels_set_threads(threads), 0);
    }
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

/* Each SIMD micro-kernel against its scalar twin on the same packed panels:
 * same products, same k order, so only FMA rounding differs. */
static void test_ukernel_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    enum { KC = 37, LDC = JG_SGEMM_NR_MAX + 3 };
    for (int i = 0; i < 2 * nisa; i++) {
        const jg_sgemm_config_t *cf = jg_sgemm_config(isas[i / 2]);
        if (i % 2) cf = cf->alt; /* each ISA's second tile, when it has one */
        if (!cf) continue;
        float *ap = aligned_alloc(64, sizeof(float) * JG_SGEMM_MR_MAX * KC); // (KC, MR)
        float *bp = aligned_alloc(64, sizeof(float) * JG_SGEMM_NR_MAX * KC); // (KC, NR)
        float c[JG_SGEMM_MR_MAX * LDC], want[JG_SGEMM_MR_MAX * LDC];           // (MR, LDC)
        assert_non_null(ap);
        assert_non_null(bp);
        jg_test_fill_uniform(ap, (size_t)cf->mr * KC, -1, 1, 11);
        jg_test_fill_uniform(bp, (size_t)cf->nr * KC, -1, 1, 12);
        for (int bi = 0; bi < 3; bi++) {
            jg_test_fill_uniform(c, sizeof c / sizeof c[0], -1, 1, 13);
            memcpy(want, c, sizeof c);
            if (betas[bi] == 0.0f)
                for (size_t j = 0; j < sizeof c / sizeof c[0]; j++) c[j] = NAN;
            cf->ukernel(KC, -0.5f, ap, bp, betas[bi], c, LDC);
            jg_f32_gemm_ukernel_ref(cf->mr, cf->nr, KC, -0.5f, ap, bp, betas[bi], want, LDC);
            for (int r = 0; r < cf->mr; r++) {
                /* |terms| < 1, so KC * FLT_EPSILON bounds the rounding gap */
                jg_test_assert_close("ukernel", c + r * LDC, want + r * LDC, (size_t)cf->nr, 0,
                                     (KC + 2) * GEMM_TOL_PER_TERM);
            }
        }
        free(ap), free(bp);
    }
}

/* Each ISA's packers against the portable twins: pure copies, so bit-exact,
 * for both widths of every tile, full and partial panels (rows < w), depths
 * around the 8- and 16-deep register transposes, and strided sources. d starts as
 * NaN so a missed entry, or one written past the panel, shows. */
static void test_pack_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    static const int kcs[] = {1, 5, 7, 8, 9, 15, 16, 17, 32, 37};
    enum { KMAX = 37, LDPAD = 3 };
    const size_t nsrc = (size_t)(JG_SGEMM_NR_MAX + LDPAD) * (KMAX + LDPAD);
    float *src = jg_test_alloc(nsrc);
    float *got = jg_test_alloc((size_t)JG_SGEMM_NR_MAX * KMAX);
    float *want = jg_test_alloc((size_t)JG_SGEMM_NR_MAX * KMAX);
    jg_test_fill_uniform(src, nsrc, -1, 1, 31);
    int checked = 0;
    for (int i = 0; i < 2 * nisa; i++) {
        const jg_sgemm_config_t *cf = jg_sgemm_config(isas[i / 2]);
        if (i % 2) cf = cf->alt;
        if (!cf) continue;
        const int widths[2] = {cf->mr, cf->nr};
        for (int wi = 0; wi < 2; wi++) {
            const int w = widths[wi];
            const int rows_list[] = {1, w / 2, w - 1, w};
            for (size_t ri = 0; ri < 4; ri++) {
                const int rows = rows_list[ri] < 1 ? 1 : rows_list[ri];
                for (size_t ki = 0; ki < sizeof kcs / sizeof kcs[0]; ki++) {
                    const int kc = kcs[ki];
                    const size_t nd = (size_t)w * kc;
                    for (int t = 0; t < 2; t++) {
                        jg_sgemm_pack_t fn = t ? cf->pack_n : cf->pack_t;
                        jg_sgemm_pack_t ref = t ? jg_f32_gemm_pack_n_ref : jg_f32_gemm_pack_t_ref;
                        const ptrdiff_t ld = t ? w + LDPAD : kc + LDPAD;
                        const size_t ncheck = (size_t)JG_SGEMM_NR_MAX * KMAX;
                        for (size_t e = 0; e < ncheck; e++) got[e] = want[e] = NAN;
                        fn(got, src, ld, kc, w, rows);
                        ref(want, src, ld, kc, w, rows);
                        /* and nothing written past the panel (NaN != NaN) */
                        for (size_t e = nd; e < ncheck; e++) assert_true(isnan(got[e]));
                        if (memcmp(got, want, nd * sizeof(float)) != 0) {
                            print_error("pack_%c %s w=%d rows=%d kc=%d differs from _ref\n",
                                        t ? 'n' : 't', jg_isa_name(isas[i / 2]), w, rows, kc);
                            fail();
                        }
                        checked++;
                    }
                }
            }
        }
    }
    assert_true(checked > 0);
    free(src), free(got), free(want);
}

/* Fixed thread count => bit-identical run to run; and since every C element
 * has one owner and a fixed k order, 1 and 2 threads and jg_sgemm_serial
 * agree bit for bit too. */
static void test_threads_bit_exact(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const int threads = jg_kernels_threads();
    /* tall (threads split m) and wide (threads split n); both above the
     * parallel threshold */
    static const int shapes[][3] = {{211, 160, 131}, {13, 2600, 131}};
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        for (int s = 0; s < 2; s++) {
            const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
            assert_true((double)m * n * k >= JG_SGEMM_PAR_MIN_MACS);
            float *a = jg_test_alloc((size_t)m * k), *b = jg_test_alloc((size_t)k * n);
            float *c1 = jg_test_alloc((size_t)m * n), *c2 = jg_test_alloc((size_t)m * n);
            float *c3 = jg_test_alloc((size_t)m * n);
            jg_test_fill_uniform(a, (size_t)m * k, -1, 1, 21);
            jg_test_fill_uniform(b, (size_t)k * n, -1, 1, 22);
            assert_int_equal(jg_kernels_set_threads(1), 0);
            assert_int_equal(jg_sgemm(JG_NOTRANS, JG_TRANS, m, n, k, 1.0f, a, k, b, k, 0.0f, c1, n), 0);
            assert_int_equal(jg_sgemm_serial(JG_NOTRANS, JG_TRANS, m, n, k, 1.0f, a, k, b, k,
                                             0.0f, c2, n), 0);
            assert_memory_equal(c1, c2, (size_t)m * n * sizeof *c1);
            if (test_threads == 2) {
                assert_int_equal(jg_kernels_set_threads(2), 0);
                for (int rep = 0; rep < 2; rep++) {
                    memset(c3, 0xff, (size_t)m * n * sizeof *c3);
                    assert_int_equal(jg_sgemm(JG_NOTRANS, JG_TRANS, m, n, k, 1.0f, a, k, b, k,
                                              0.0f, c3, n), 0);
                    assert_memory_equal(c1, c3, (size_t)m * n * sizeof *c1);
                }
            }
            free(a), free(b), free(c1), free(c2), free(c3);
        }
    }
    assert_int_equal(jg_kernels_set_threads(threads), 0);
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

/* conv2d calls jg_sgemm_serial from its own parallel region: each thread
 * must get its own packing buffers and the same result as alone. */
static void test_serial_inside_parallel_region(void **state)
{
    (void)state;
    enum { M = 40, N = 150, K = 90, CALLS = 4 };
    float *a = jg_test_alloc(M * K), *b = jg_test_alloc(K * N);
    float *want = jg_test_alloc(M * N), *c = jg_test_alloc(CALLS * M * N);
    jg_test_fill_uniform(a, M * K, -1, 1, 31);
    jg_test_fill_uniform(b, K * N, -1, 1, 32);
    assert_int_equal(jg_sgemm_serial(JG_NOTRANS, JG_NOTRANS, M, N, K, 1.0f, a, K, b, N, 0.0f,
                                     want, N), 0);
    int errs = 0;
#pragma omp parallel for num_threads(test_threads) schedule(static) reduction(+ : errs)
    for (int i = 0; i < CALLS; i++)
        errs += jg_sgemm_serial(JG_NOTRANS, JG_NOTRANS, M, N, K, 1.0f, a, K, b, N, 0.0f,
                                c + (size_t)i * M * N, N) != 0;
    assert_int_equal(errs, 0);
    for (int i = 0; i < CALLS; i++) assert_memory_equal(c + (size_t)i * M * N, want, sizeof(float) * M * N);
    free(a), free(b), free(want), free(c);
}

/* jg_sgemm_packed_a with A packed once (conv2d's filter) matches
 * jg_sgemm_serial bit for bit: several KC and MC blocks, edge rows, both
 * transposes of A and B, beta 0 and 1, serial and threaded; ap is allocated
 * at exactly jg_sgemm_packed_a_floats (ASan catches an overrun). */
static void test_packed_a_bit_exact(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const int threads = jg_kernels_threads();
    /* {m, n, k}: k > KC (two depth blocks), m > MC, m % MR != 0, tiny */
    static const int shapes[][3] = {{64, 196, 288}, {211, 45, 400}, {13, 70, 9}, {1, 5, 1}};
    assert_int_equal(jg_kernels_set_threads(test_threads), 0);
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        for (int sh = 0; sh < 4; sh++) {
            const int m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
            float *a = jg_test_alloc((size_t)m * k), *b = jg_test_alloc((size_t)k * n);
            float *ap = jg_test_alloc(jg_sgemm_packed_a_floats(m, k));
            float *want = jg_test_alloc((size_t)m * n), *got = jg_test_alloc((size_t)m * n);
            jg_test_fill_uniform(a, (size_t)m * k, -1, 1, 41 + sh);
            jg_test_fill_uniform(b, (size_t)k * n, -1, 1, 51 + sh);
            for (int ta = 0; ta < 2; ta++) {
                const jg_trans_t tra = ta ? JG_TRANS : JG_NOTRANS;
                const int lda = ta ? m : k;
                assert_int_equal(jg_sgemm_pack_a(ap, tra, m, n, k, a, lda), 0);
                for (int tb = 0; tb < 2; tb++) {
                    const jg_trans_t trb = tb ? JG_TRANS : JG_NOTRANS;
                    const int ldb = tb ? k : n;
                    for (int bi = 0; bi < 2; bi++) {
                        for (int par = 0; par < 2; par++) {
                            jg_test_fill_uniform(want, (size_t)m * n, -1, 1, 61);
                            memcpy(got, want, (size_t)m * n * sizeof *got);
                            assert_int_equal(jg_sgemm_serial(tra, trb, m, n, k, 0.5f, a, lda, b,
                                                             ldb, (float)bi, want, n), 0);
                            assert_int_equal(jg_sgemm_packed_a(par, m, n, k, 0.5f, ap, trb, b,
                                                               ldb, (float)bi, got, n), 0);
                            assert_memory_equal(want, got, (size_t)m * n * sizeof *got);
                        }
                    }
                }
            }
            free(a), free(b), free(ap), free(want), free(got);
        }
    }
    float x[4] = {0};
    assert_int_equal(jg_sgemm_pack_a(NULL, JG_NOTRANS, 1, 1, 1, x, 1), -EINVAL);
    assert_int_equal(jg_sgemm_pack_a(x, JG_NOTRANS, 1, 1, 1, NULL, 1), -EINVAL);
    assert_int_equal(jg_sgemm_pack_a(x, JG_NOTRANS, 2, 1, 2, x, 1), -EINVAL); /* lda < k */
    assert_int_equal(jg_sgemm_packed_a(0, 1, 1, 1, 1, NULL, JG_NOTRANS, x, 1, 0, x, 1), -EINVAL);
    assert_int_equal(jg_kernels_set_threads(threads), 0);
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

static void test_invalid_args(void **state)
{
    (void)state;
    float a[64] = {0}, b[64] = {0}, c[64] = {0};
    static const sgemm_fn fns[] = {jg_sgemm, jg_sgemm_serial, jg_sgemm_ref};
    const jg_trans_t N = JG_NOTRANS, T = JG_TRANS;
    for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        const sgemm_fn g = fns[f];
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3), 0);
        assert_int_equal(g(N, N, 2, 3, 4, 1, NULL, 4, b, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 4, NULL, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 4, b, 3, 0, NULL, 3), -EINVAL);
        assert_int_equal(g(N, N, 0, 3, 4, 1, a, 4, b, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, N, 2, -1, 4, 1, a, 4, b, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, N, 2, 3, 0, 1, a, 4, b, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 3, b, 3, 0, c, 3), -EINVAL); /* lda < k */
        assert_int_equal(g(T, N, 2, 3, 4, 1, a, 1, b, 3, 0, c, 3), -EINVAL); /* lda < m */
        assert_int_equal(g(T, N, 2, 3, 4, 1, a, 2, b, 3, 0, c, 3), 0);
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 4, b, 2, 0, c, 3), -EINVAL); /* ldb < n */
        assert_int_equal(g(N, T, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3), -EINVAL); /* ldb < k */
        assert_int_equal(g(N, T, 2, 3, 4, 1, a, 4, b, 4, 0, c, 3), 0);
        assert_int_equal(g(N, N, 2, 3, 4, 1, a, 4, b, 3, 0, c, 2), -EINVAL); /* ldc < n */
        assert_int_equal(g((jg_trans_t)2, N, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3), -EINVAL);
        assert_int_equal(g(N, (jg_trans_t)-1, 2, 3, 4, 1, a, 4, b, 3, 0, c, 3), -EINVAL);
    }
}

int main(void)
{
    test_threads = jg_kernels_have_openmp() && jg_kernels_threads() >= 2 ? 2 : 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_invalid_args),
        cmocka_unit_test(test_ukernel_vs_ref),
        cmocka_unit_test(test_pack_vs_ref),
        cmocka_unit_test(test_sgemm_vs_ref),
        cmocka_unit_test(test_threads_bit_exact),
        cmocka_unit_test(test_serial_inside_parallel_region),
        cmocka_unit_test(test_packed_a_bit_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
