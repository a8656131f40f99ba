/* SPDX-License-Identifier: MIT */
/*
 * conv2d: every ISA's fast path against the _ref twins over edge-case
 * shapes, the _ref twins against a double-precision forward and central
 * finite differences, accumulation semantics, determinism across runs for
 * thread counts 1 and 2, and argument validation.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "conv/conv.h"

/* Fast paths sum in float, the oracle in double. Random-sign rounding errors
 * of a length-D float sum of terms in [-1, 1] grow like u * D / 3 (u = 6e-8,
 * partial sums of magnitude ~sqrt(D) times sqrt(D) roundings); 1e-6 per term
 * is a 50x margin and still fails on any missing or doubled tap. */
#define TOL_ATOL_PER_TERM 1e-6
#define TOL_RTOL 1e-5
/* _ref vs the test's double forward / finite differences: the _ref twins sum
 * in double and round once, so only the final float rounding (u) remains;
 * the loss is linear in x and w, so central differences are exact up to
 * double rounding of h = 1e-3 steps (~1e-12 relative). */
#define TOL_REF_RTOL 1e-6
#define TOL_REF_ATOL 1e-6
#define FD_STEP 1e-3
/* accumulation check: <= ~30 roundings of 1.2e-7 each (see the test) */
#define TOL_ACCUM_ATOL 1e-5

typedef struct {
    const char *name;
    int n, c, h, w, k, kh, kw, sh, sw, ph, pw;
} conv_case_t;

static const conv_case_t cases[] = {
    {"1x1 s1", 2, 3, 5, 7, 4, 1, 1, 1, 1, 0, 0},
    {"1x1 s2", 2, 3, 7, 6, 5, 1, 1, 2, 2, 0, 0},
    {"1x1 s1 pad1", 1, 2, 4, 4, 3, 1, 1, 1, 1, 1, 1},
    {"3x3 pad0", 2, 3, 8, 9, 4, 3, 3, 1, 1, 0, 0},
    {"3x3 pad1 primes", 3, 5, 11, 13, 7, 3, 3, 1, 1, 1, 1},
    {"3x3 pad2", 1, 2, 5, 6, 3, 3, 3, 1, 1, 2, 2},
    {"5x5 pad2", 2, 3, 12, 10, 6, 5, 5, 1, 1, 2, 2},
    {"3x1", 2, 4, 9, 7, 5, 3, 1, 1, 1, 1, 0},
    {"1x3", 2, 4, 7, 9, 5, 1, 3, 1, 1, 0, 1},
    {"3x3 s2", 3, 3, 13, 11, 5, 3, 3, 2, 2, 1, 1},
    {"3x3 s3", 2, 2, 17, 16, 3, 3, 3, 3, 3, 1, 1},
    {"3x2 s(2,1)", 1, 3, 9, 10, 4, 3, 2, 2, 1, 0, 1},
    {"C=1 first layer", 3, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1},
    {"C=1 K=9 OW=17", 2, 1, 6, 17, 9, 3, 3, 1, 1, 1, 1},
    {"C=1 5x5 OW=33", 1, 1, 7, 33, 3, 5, 5, 1, 1, 2, 2},
    {"C=1 1x1", 2, 1, 3, 5, 3, 1, 1, 1, 1, 0, 0},
    {"C=2 4x2 K odd", 2, 2, 6, 15, 5, 4, 2, 1, 1, 1, 0},
    /* direct forward: every K % 8 tail width (1..7) with and past a full tile */
    {"C=1 K=2 direct tail", 2, 1, 5, 9, 2, 3, 3, 1, 1, 1, 1},
    {"C=1 K=4 direct tail", 1, 1, 6, 35, 4, 3, 3, 1, 1, 1, 1},
    {"C=1 K=6 direct tail", 2, 1, 4, 7, 6, 3, 3, 1, 1, 0, 0},
    {"C=1 K=7 direct tail", 1, 1, 7, 18, 7, 2, 2, 1, 1, 1, 1},
    {"C=1 K=13 direct tail", 2, 1, 5, 6, 13, 3, 3, 1, 1, 1, 1},
    {"C=1 K=15 direct tail", 1, 1, 9, 5, 15, 3, 3, 1, 1, 1, 1},
    /* direct dW: tap groups of 9 (27 = 9+9+9, 32 = 9+9+9+5, 16 = 9+7), pairs
     * of channels and an odd last one */
    {"C=3 3x3 K=9 direct CKK 27", 2, 3, 14, 14, 9, 3, 3, 1, 1, 1, 1},
    {"C=2 4x4 K=4 direct CKK 32", 1, 2, 9, 11, 4, 4, 4, 1, 1, 2, 1},
    {"C=4 2x2 K=7 direct CKK 16", 2, 4, 6, 19, 7, 2, 2, 1, 1, 0, 1},
    /* direct dW in groups of 8 images (11 = 8 + 3; 2 threads: 6 + 5) and
     * forward tiles of 1, 2 and 4 rows over an odd height */
    {"C=3 K=9 direct N=11", 11, 3, 7, 14, 9, 3, 3, 1, 1, 1, 1},
    {"C=1 K=3 direct N=9 OW=28", 9, 1, 9, 28, 3, 3, 3, 1, 1, 1, 1},
    {"K=1", 2, 6, 7, 7, 1, 3, 3, 1, 1, 1, 1},
    {"N=1 primes", 1, 17, 13, 11, 19, 3, 3, 1, 1, 1, 1},
    {"OW=16", 2, 3, 5, 16, 17, 3, 3, 1, 1, 1, 1},
    {"OW=31", 1, 2, 4, 31, 8, 3, 3, 1, 1, 1, 1},
    {"kernel > input", 1, 2, 3, 3, 2, 5, 5, 1, 1, 2, 2},
    {"kernel = input", 2, 3, 5, 5, 4, 5, 5, 1, 1, 0, 0},
    {"pad > kernel", 1, 1, 4, 4, 2, 3, 3, 2, 2, 3, 3},
    {"C=32 deep (CKK 288)", 2, 32, 6, 7, 40, 3, 3, 1, 1, 1, 1},
    /* N > 8 and above the parallel threshold: with 2 threads the images are
     * handed out one at a time and dW goes through 8 uneven chunks */
    {"N=11 3x3 s1 p1 chunks", 11, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1},
    {"N=9 5x5 s2 p2 chunks", 9, 4, 13, 13, 12, 5, 5, 2, 2, 2, 2},
    {"N=10 1x1 s2 chunks", 10, 32, 16, 16, 32, 1, 1, 2, 2, 0, 0},
    {"N=13 1x1 s1 no col", 13, 32, 8, 8, 32, 1, 1, 1, 1, 0, 0},
    /* Winograd F(2x2, 3x3) (C, K >= 8): pads 0..2, odd output sizes (edge
     * tiles cut), more tiles than a block (64), K and C off the 4x6 and 4x6
     * register blocks */
    {"wino pad0 odd OH", 2, 9, 9, 12, 11, 3, 3, 1, 1, 0, 0},
    {"wino pad2 odd OW", 2, 8, 7, 5, 13, 3, 3, 1, 1, 2, 2},
    {"wino pad(1,0) 88 tiles", 1, 10, 22, 17, 8, 3, 3, 1, 1, 1, 0},
    {"wino default conv2", 3, 32, 14, 14, 64, 3, 3, 1, 1, 1, 1},
    {"N=12 C=1 3x3 p0 chunks", 12, 1, 28, 28, 16, 3, 3, 1, 1, 0, 0},
    {"N=9 C=3 3x3 s2 p0", 9, 3, 17, 17, 32, 3, 3, 2, 2, 0, 0},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* 2 when the process may run 2 threads: built with OpenMP and not pinned to
 * one thread by OMP_NUM_THREADS=1 (as under qemu-user, where multi-thread
 * OpenMP teams hang). Read once in main before any test changes it. */
static int test_threads = 1;

static jg_conv2d_shape_t shape_of(const conv_case_t *t)
{
    jg_conv2d_shape_t s = {t->n, t->c, t->h, t->w, t->k, t->kh, t->kw,
                           t->sh, t->sw, t->ph, t->pw};
    return s;
}

typedef struct {
    jg_conv2d_shape_t s;
    int oh, ow;
    size_t nx, ny, nw;
    float *x, *w, *b, *r; /* input, weights, bias, upstream gradient */
} conv_data_t;

static void data_init(conv_data_t *d, const jg_conv2d_shape_t *s, uint64_t seed)
{
    d->s = *s;
    assert_int_equal(jg_conv2d_out_hw(s, &d->oh, &d->ow), 0);
    d->nx = (size_t)s->n * s->c * s->h * s->w;
    d->ny = (size_t)s->n * s->k * d->oh * d->ow;
    d->nw = (size_t)s->k * s->c * s->kh * s->kw;
    d->x = jg_test_alloc(d->nx);
    d->w = jg_test_alloc(d->nw);
    d->b = jg_test_alloc((size_t)s->k);
    d->r = jg_test_alloc(d->ny);
    jg_test_fill_uniform(d->x, d->nx, -1, 1, seed);
    jg_test_fill_uniform(d->w, d->nw, -1, 1, seed + 1);
    jg_test_fill_uniform(d->b, (size_t)s->k, -1, 1, seed + 2);
    jg_test_fill_uniform(d->r, d->ny, -1, 1, seed + 3);
}

static void data_free(conv_data_t *d)
{
    free(d->x);
    free(d->w);
    free(d->b);
    free(d->r);
}

/* Workspace sized for the current thread count. */
static void *ws_alloc(const jg_conv2d_shape_t *s)
{
    const ptrdiff_t bytes = jg_conv2d_workspace_bytes(s);
    assert_true(bytes >= 0);
    return bytes ? jg_test_alloc_bytes((size_t)bytes) : NULL;
}

static int fwd_depth(const jg_conv2d_shape_t *s)
{
    return s->c * s->kh * s->kw + 1;
}

static int bwdd_depth(const jg_conv2d_shape_t *s)
{
    return s->k * s->kh * s->kw + 1;
}

static int bwdw_depth(const conv_data_t *d)
{
    return d->s.n * d->oh * d->ow + 1;
}

/* ---- fast path vs _ref --------------------------------------------------- */

static void check_case_isa(const conv_case_t *t, jg_isa_t isa, uint64_t seed)
{
    char what[160];
    const jg_conv2d_shape_t s = shape_of(t);
    conv_data_t d;
    data_init(&d, &s, seed);
    void *ws = ws_alloc(&s);
    float *got = jg_test_alloc(d.ny), *want = jg_test_alloc(d.ny);

    /* forward, with and without bias; the output starts as garbage */
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        const float *b = with_bias ? d.b : NULL;
        jg_test_fill_uniform(got, d.ny, 1e3f, 2e3f, seed + 9);
        assert_int_equal(jg_conv2d_forward(got, d.x, d.w, b, &s, ws), 0);
        assert_int_equal(jg_conv2d_forward_ref(want, d.x, d.w, b, &s), 0);
        snprintf(what, sizeof what, "%s forward%s [%s]", jg_isa_name(isa),
                 with_bias ? "+bias" : "", t->name);
        jg_test_assert_close(what, got, want, d.ny, TOL_RTOL,
                             TOL_ATOL_PER_TERM * fwd_depth(&s));
    }

    /* backward-data into a pre-filled dx */
    float *dx = jg_test_alloc(d.nx), *dx_ref = jg_test_alloc(d.nx);
    jg_test_fill_uniform(dx, d.nx, -1, 1, seed + 5);
    memcpy(dx_ref, dx, d.nx * sizeof(float));
    assert_int_equal(jg_conv2d_backward_data(dx, d.r, d.w, &s, ws), 0);
    assert_int_equal(jg_conv2d_backward_data_ref(dx_ref, d.r, d.w, &s), 0);
    snprintf(what, sizeof what, "%s backward_data [%s]", jg_isa_name(isa), t->name);
    jg_test_assert_close(what, dx, dx_ref, d.nx, TOL_RTOL, TOL_ATOL_PER_TERM * bwdd_depth(&s));
    /* the overwriting variant: dx starts as NaN and must not be read */
    for (size_t e = 0; e < d.nx; e++) dx[e] = NAN;
    assert_int_equal(jg_conv2d_backward_data_set(dx, d.r, d.w, &s, ws), 0);
    assert_int_equal(jg_conv2d_backward_data_set_ref(dx_ref, d.r, d.w, &s), 0);
    snprintf(what, sizeof what, "%s backward_data_set [%s]", jg_isa_name(isa), t->name);
    jg_test_assert_close(what, dx, dx_ref, d.nx, TOL_RTOL, TOL_ATOL_PER_TERM * bwdd_depth(&s));

    /* backward-weights into pre-filled dw and dbias, then without dbias */
    float *dw = jg_test_alloc(d.nw), *dw_ref = jg_test_alloc(d.nw);
    float *db = jg_test_alloc((size_t)s.k), *db_ref = jg_test_alloc((size_t)s.k);
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        jg_test_fill_uniform(dw, d.nw, -1, 1, seed + 6);
        jg_test_fill_uniform(db, (size_t)s.k, -1, 1, seed + 7);
        memcpy(dw_ref, dw, d.nw * sizeof(float));
        memcpy(db_ref, db, (size_t)s.k * sizeof(float));
        assert_int_equal(jg_conv2d_backward_weights(dw, with_bias ? db : NULL, d.r, d.x, &s, ws), 0);
        assert_int_equal(jg_conv2d_backward_weights_ref(dw_ref, with_bias ? db_ref : NULL, d.r,
                                                        d.x, &s), 0);
        snprintf(what, sizeof what, "%s backward_weights%s [%s]", jg_isa_name(isa),
                 with_bias ? "+bias" : "", t->name);
        jg_test_assert_close(what, dw, dw_ref, d.nw, TOL_RTOL,
                             TOL_ATOL_PER_TERM * bwdw_depth(&d));
        snprintf(what, sizeof what, "%s backward_bias [%s]", jg_isa_name(isa), t->name);
        jg_test_assert_close(what, db, db_ref, (size_t)s.k, TOL_RTOL,
                             TOL_ATOL_PER_TERM * bwdw_depth(&d));
    }

    free(dx), free(dx_ref), free(dw), free(dw_ref), free(db), free(db_ref);
    free(got), free(want), free(ws);
    data_free(&d);
}

static void test_fast_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const int threads = jg_kernels_threads();
    /* 2 threads exercises the per-image split (and its partial dW sums). */
    for (int th = 1; th <= 2; th++) {
        if (th > test_threads) break;
        assert_int_equal(jg_kernels_set_threads(th), 0);
        for (int i = 0; i < nisa; i++) {
            assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
            for (size_t c = 0; c < NCASES; c++) check_case_isa(&cases[c], isas[i], 100 + 10 * c);
        }
    }
    assert_int_equal(jg_kernels_set_threads(threads), 0);
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

/* Each ISA's im2col / col2im against the portable twins over every case:
 * im2col is a copy (bit-exact); col2im from a zeroed dx sums each element's
 * taps in the same order, so it is bit-exact too. */
typedef struct {
    const char *isa;
    jg_conv2d_im2col_fn im2col;
    jg_conv2d_col2im_fn col2im;
} im2col_variant_t;

static void test_im2col_vs_ref(void **state)
{
    (void)state;
    im2col_variant_t v[JG_ISA_COUNT];
    int nv = 0;
#if defined(__x86_64__)
    if (jg_kernels_isa_supported(JG_ISA_AVX512))
        v[nv++] = (im2col_variant_t){"avx512", jg_f32_conv2d_im2col_avx512,
                                     jg_f32_conv2d_col2im_avx512};
#endif
    if (nv == 0) skip();
    for (size_t c = 0; c < NCASES; c++) {
        const conv_case_t *t = &cases[c];
        const jg_conv2d_shape_t s = {1, t->c, t->h, t->w, t->k, t->kh, t->kw,
                                     t->sh, t->sw, t->ph, t->pw};
        int oh, ow;
        assert_int_equal(jg_conv2d_out_hw(&s, &oh, &ow), 0);
        const size_t ncol = (size_t)t->c * t->kh * t->kw * oh * ow;
        const size_t nx = (size_t)t->c * t->h * t->w;
        float *x = jg_test_alloc(nx), *pad = jg_test_alloc(jg_conv2d_pad_floats(&s));
        float *col = jg_test_alloc(ncol), *col_ref = jg_test_alloc(ncol);
        float *dx = jg_test_alloc_zero(nx), *dx_ref = jg_test_alloc_zero(nx);
        jg_test_fill_uniform(x, nx, -1, 1, 40 + c);
        for (int i = 0; i < nv; i++) {
            for (size_t e = 0; e < ncol; e++) col[e] = NAN;
            v[i].im2col(col, x, &s, oh, ow, pad);
            jg_f32_conv2d_im2col_ref(col_ref, x, &s, oh, ow, pad);
            if (memcmp(col, col_ref, ncol * sizeof(float)) != 0) {
                print_error("im2col %s [%s] differs from _ref\n", v[i].isa, t->name);
                fail();
            }
            memset(dx, 0, nx * sizeof(float));
            memset(dx_ref, 0, nx * sizeof(float));
            v[i].col2im(dx, col_ref, &s, oh, ow, pad);
            jg_f32_conv2d_col2im_ref(dx_ref, col_ref, &s, oh, ow, pad);
            if (memcmp(dx, dx_ref, nx * sizeof(float)) != 0) {
                print_error("col2im %s [%s] differs from _ref\n", v[i].isa, t->name);
                fail();
            }
        }
        free(x), free(pad), free(col), free(col_ref), free(dx), free(dx_ref);
    }
}

/* Each ISA's Winograd kernels against the _ref twins, bit for bit: the same
 * float operations in the same order (fmaf for the lane-wise FMA). Edge
 * tiles (odd sizes), partial register blocks and the backward-data
 * geometry (pads 2 - p) are covered. */
typedef struct {
    const char *isa;
    const jg_wino_kernels_t *k;
} wino_variant_t;

static void wino_expect_same(const char *what, const char *isa, const float *got,
                             const float *want, size_t n, const char *name)
{
    if (memcmp(got, want, n * sizeof(float)) != 0) {
        size_t i = 0;
        while (i < n && !memcmp(got + i, want + i, sizeof(float))) i++;
        print_error("wino %s %s [%s] differs from _ref at %zu: %.9g vs %.9g\n", what, isa, name,
                    i, (double)got[i], (double)want[i]);
        fail();
    }
}

static void test_wino_vs_ref(void **state)
{
    (void)state;
    wino_variant_t v[JG_ISA_COUNT];
    int nv = 0;
#if defined(__x86_64__)
    if (jg_kernels_isa_supported(JG_ISA_AVX2))
        v[nv++] = (wino_variant_t){"avx2", &jg_wino_kernels_avx2};
    if (jg_kernels_isa_supported(JG_ISA_AVX512))
        v[nv++] = (wino_variant_t){"avx512", &jg_wino_kernels_avx512};
#endif
    if (nv == 0) skip();
    /* c, h, w, k, pad: cin/cout off the blocks, odd and even outputs */
    static const int shapes[][5] = {{1, 4, 4, 1, 1},  {3, 5, 7, 5, 1},   {7, 9, 6, 13, 0},
                                    {8, 14, 14, 9, 1}, {6, 11, 3, 7, 2}, {13, 17, 22, 4, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        for (int bwd = 0; bwd < 2; bwd++) {
            const jg_conv2d_shape_t s = {1, shapes[si][0], shapes[si][1], shapes[si][2],
                                         shapes[si][3], 3, 3, 1, 1, shapes[si][4],
                                         shapes[si][4]};
            jg_wino_geom_t g;
            jg_wino_geom(&g, &s, bwd);
            const int tiles = g.th * g.tw;
            const size_t nin = (size_t)g.cin * g.h * g.w, nout = (size_t)g.cout * g.oh * g.ow;
            const size_t nv_ = (size_t)tiles * g.cin * 16, nd = (size_t)tiles * g.cout * 16;
            const size_t nu = (size_t)16 * g.cin * g.cout;
            float *in = jg_test_alloc(nin), *xp = jg_test_alloc((size_t)g.cin * g.hp * g.wp);
            float *u = jg_test_alloc(nu), *bias = jg_test_alloc((size_t)g.cout);
            float *dy = jg_test_alloc(nout);
            float *va = jg_test_alloc(nv_), *vb = jg_test_alloc(nv_);
            float *da = jg_test_alloc(nd), *db = jg_test_alloc(nd);
            float *ya = jg_test_alloc(nout), *yb = jg_test_alloc(nout);
            float *sa = jg_test_alloc(nu), *sb = jg_test_alloc(nu);
            jg_test_fill_uniform(in, nin, -1, 1, 60 + si);
            jg_test_fill_uniform(u, nu, -1, 1, 70 + si);
            jg_test_fill_uniform(bias, (size_t)g.cout, -1, 1, 80 + si);
            jg_test_fill_uniform(dy, nout, -1, 1, 90 + si);
            float *xpa = jg_test_alloc((size_t)g.cin * g.hp * g.wp);
            jg_f32_wino_pad_ref(xp, in, &g);
            jg_f32_wino_in_tf_ref(vb, xp, &g, 0, tiles, g.cin, 1);
            jg_f32_wino_dy_tf_ref(db, dy, &g, 0, tiles, g.cout, 1);
            for (int i = 0; i < nv; i++) {
                char name[64];
                snprintf(name, sizeof name, "c%d h%d w%d k%d p%d %s", s.c, s.h, s.w, s.k,
                         s.pad_h, bwd ? "bwd-data geometry" : "forward");
                for (size_t e = 0; e < (size_t)g.cin * g.hp * g.wp; e++) xpa[e] = NAN;
                v[i].k->pad(xpa, in, &g);
                wino_expect_same("pad", v[i].isa, xpa, xp, (size_t)g.cin * g.hp * g.wp, name);
                v[i].k->in_tf(va, xp, &g, 0, tiles, g.cin, 1);
                wino_expect_same("in_tf", v[i].isa, va, vb, nv_, name);
                v[i].k->dy_tf(da, dy, &g, 0, tiles, g.cout, 1);
                wino_expect_same("dy_tf", v[i].isa, da, db, nd, name);
                for (int mode = 0; mode < 3; mode++) {
                    /* 0: y = ..., 1: y = ... + bias, 2: y += ... */
                    jg_test_fill_uniform(ya, nout, -1, 1, 99);
                    memcpy(yb, ya, nout * sizeof(float));
                    const float *b = mode == 1 ? bias : NULL;
                    /* in two tile blocks, the second one partial */
                    const int half = tiles / 2;
                    v[i].k->gemm_out(ya, va, u, b, &g, 0, half, mode == 2);
                    v[i].k->gemm_out(ya, va + (size_t)half * g.cin * 16, u, b, &g, half,
                                     tiles - half, mode == 2);
                    jg_f32_wino_gemm_out_ref(yb, vb, u, b, &g, 0, tiles, mode == 2);
                    wino_expect_same("gemm_out", v[i].isa, ya, yb, nout, name);
                }
                /* the weight gradient's channel-major layout (ld = tiles) */
                v[i].k->in_tf(va, xp, &g, 0, tiles, 1, tiles);
                jg_f32_wino_in_tf_ref(vb, xp, &g, 0, tiles, 1, tiles);
                wino_expect_same("in_tf (channel-major)", v[i].isa, va, vb, nv_, name);
                v[i].k->dy_tf(da, dy, &g, 0, tiles, 1, tiles);
                jg_f32_wino_dy_tf_ref(db, dy, &g, 0, tiles, 1, tiles);
                wino_expect_same("dy_tf (channel-major)", v[i].isa, da, db, nd, name);
                jg_test_fill_uniform(sa, nu, -1, 1, 98);
                memcpy(sb, sa, nu * sizeof(float));
                v[i].k->wgrad(sa, da, va, &g, tiles, tiles);
                jg_f32_wino_wgrad_ref(sb, db, vb, &g, tiles, tiles);
                wino_expect_same("wgrad", v[i].isa, sa, sb, nu, name);
                /* back to the GEMM layout for the next ISA */
                jg_f32_wino_in_tf_ref(vb, xp, &g, 0, tiles, g.cin, 1);
                jg_f32_wino_dy_tf_ref(db, dy, &g, 0, tiles, g.cout, 1);
            }
            free(in), free(xp), free(xpa), free(u), free(bias), free(dy), free(va), free(vb);
            free(da), free(db), free(ya), free(yb), free(sa), free(sb);
        }
    }
}

/* ---- accumulation -------------------------------------------------------- */

/* g(prefill) - prefill == g(0): the backward passes add, never overwrite. */
static void test_backward_accumulates(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const conv_case_t *picks[] = {&cases[0], &cases[4], &cases[12]};
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
            const jg_conv2d_shape_t s = shape_of(picks[p]);
            conv_data_t d;
            data_init(&d, &s, 7 + p);
            void *ws = ws_alloc(&s);
            const size_t nk = (size_t)s.k;
            float *dx0 = jg_test_alloc_zero(d.nx), *dx1 = jg_test_alloc(d.nx);
            float *dw0 = jg_test_alloc_zero(d.nw), *dw1 = jg_test_alloc(d.nw);
            float *db0 = jg_test_alloc_zero(nk), *db1 = jg_test_alloc(nk);
            float *pre = jg_test_alloc(d.nx + d.nw + nk);
            jg_test_fill_uniform(pre, d.nx + d.nw + nk, 1, 2, 99);
            memcpy(dx1, pre, d.nx * sizeof(float));
            memcpy(dw1, pre + d.nx, d.nw * sizeof(float));
            memcpy(db1, pre + d.nx + d.nw, nk * sizeof(float));
            for (int ref = 0; ref < 2; ref++) {
                if (ref) {
                    memset(dx0, 0, d.nx * sizeof(float)), memset(dw0, 0, d.nw * sizeof(float));
                    memset(db0, 0, nk * sizeof(float));
                    memcpy(dx1, pre, d.nx * sizeof(float));
                    memcpy(dw1, pre + d.nx, d.nw * sizeof(float));
                    memcpy(db1, pre + d.nx + d.nw, nk * sizeof(float));
                    assert_int_equal(jg_conv2d_backward_data_ref(dx0, d.r, d.w, &s), 0);
                    assert_int_equal(jg_conv2d_backward_data_ref(dx1, d.r, d.w, &s), 0);
                    assert_int_equal(jg_conv2d_backward_weights_ref(dw0, db0, d.r, d.x, &s), 0);
                    assert_int_equal(jg_conv2d_backward_weights_ref(dw1, db1, d.r, d.x, &s), 0);
                } else {
                    assert_int_equal(jg_conv2d_backward_data(dx0, d.r, d.w, &s, ws), 0);
                    assert_int_equal(jg_conv2d_backward_data(dx1, d.r, d.w, &s, ws), 0);
                    assert_int_equal(jg_conv2d_backward_weights(dw0, db0, d.r, d.x, &s, ws), 0);
                    assert_int_equal(jg_conv2d_backward_weights(dw1, db1, d.r, d.x, &s, ws), 0);
                }
                for (size_t e = 0; e < d.nx; e++) dx1[e] -= pre[e];
                for (size_t e = 0; e < d.nw; e++) dw1[e] -= pre[d.nx + e];
                for (size_t e = 0; e < nk; e++) db1[e] -= pre[d.nx + d.nw + e];
                /* the prefill in [1, 2) costs one rounding (1.2e-7) per add into
                 * it (up to one per tap or per image); an overwrite is off by >= 1 */
                jg_test_assert_close("dx accumulates", dx1, dx0, d.nx, 0, TOL_ACCUM_ATOL);
                jg_test_assert_close("dw accumulates", dw1, dw0, d.nw, 0, TOL_ACCUM_ATOL);
                jg_test_assert_close("dbias accumulates", db1, db0, nk, 0, TOL_ACCUM_ATOL);
                /* and the gradient is not trivially zero */
                double mag = 0;
                for (size_t e = 0; e < d.nw; e++) mag += fabs(dw0[e]);
                assert_true(mag > 0);
            }
            free(dx0), free(dx1), free(dw0), free(dw1), free(db0), free(db1), free(pre);
            free(ws);
            data_free(&d);
        }
    }
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

/* ---- determinism --------------------------------------------------------- */

static void run_all(const conv_data_t *d, void *ws, float *y, float *dx, float *dw, float *db)
{
    memset(dx, 0, d->nx * sizeof(float));
    memset(dw, 0, d->nw * sizeof(float));
    memset(db, 0, (size_t)d->s.k * sizeof(float));
    assert_int_equal(jg_conv2d_forward(y, d->x, d->w, d->b, &d->s, ws), 0);
    assert_int_equal(jg_conv2d_backward_data(dx, d->r, d->w, &d->s, ws), 0);
    assert_int_equal(jg_conv2d_backward_weights(dw, db, d->r, d->x, &d->s, ws), 0);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const int threads = jg_kernels_threads();
    /* odd N: uneven dW chunks, images handed out dynamically (all but the
     * N=1 shape are above the parallel threshold); C=1 takes the direct path
     * where there is one; N=1 runs one thread with the parallel SGEMM */
    const jg_conv2d_shape_t shapes[] = {
        {5, 8, 12, 13, 16, 3, 3, 1, 1, 1, 1},
        {5, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1},
        {1, 16, 15, 15, 32, 3, 3, 1, 1, 1, 1},
        {19, 8, 10, 10, 16, 3, 3, 1, 1, 1, 1}, /* more images than dW chunks */
    };
    for (int i = 0; i < nisa; i++) {
        assert_int_equal(jg_kernels_set_isa(isas[i]), 0);
        for (size_t p = 0; p < sizeof shapes / sizeof shapes[0]; p++) {
            conv_data_t d;
            data_init(&d, &shapes[p], 31 + p);
            const size_t nk = (size_t)d.s.k;
            float *out[2][4];
            for (int th = 1; th <= 2; th++) {
                if (th > test_threads) break;
                assert_int_equal(jg_kernels_set_threads(th), 0);
                void *ws = ws_alloc(&d.s);
                for (int run = 0; run < 2; run++) {
                    out[run][0] = jg_test_alloc(d.ny), out[run][1] = jg_test_alloc(d.nx);
                    out[run][2] = jg_test_alloc(d.nw), out[run][3] = jg_test_alloc(nk);
                    run_all(&d, ws, out[run][0], out[run][1], out[run][2], out[run][3]);
                }
                assert_memory_equal(out[0][0], out[1][0], d.ny * sizeof(float));
                assert_memory_equal(out[0][1], out[1][1], d.nx * sizeof(float));
                assert_memory_equal(out[0][2], out[1][2], d.nw * sizeof(float));
                assert_memory_equal(out[0][3], out[1][3], nk * sizeof(float));
                for (int run = 0; run < 2; run++)
                    for (int q = 0; q < 4; q++) free(out[run][q]);
                free(ws);
            }
            data_free(&d);
        }
    }
    assert_int_equal(jg_kernels_set_threads(threads), 0);
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

/* ---- _ref against double precision --------------------------------------- */

typedef struct {
    jg_conv2d_shape_t s;
    int oh, ow;
    const double *x, *w, *b, *r; /* the one of x, w, b being varied is replaced */
} fd_ctx_t;

/* y = conv(x, w) + b in double; y: (N, K, OH, OW) */
static void conv_fwd_double(double *y, const double *x, const double *w, const double *b,
                            const jg_conv2d_shape_t *s, int oh, int ow)
{
    for (int n = 0; n < s->n; n++)
        for (int k = 0; k < s->k; k++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++) {
                    double acc = b ? b[k] : 0;
                    for (int c = 0; c < s->c; c++)
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                const int ih = oy * s->stride_h + i - s->pad_h;
                                const int iw = ox * s->stride_w + j - s->pad_w;
                                if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                                acc += w[((k * s->c + c) * s->kh + i) * s->kw + j] *
                                       x[((n * s->c + c) * s->h + ih) * s->w + iw];
                            }
                    y[((n * s->k + k) * oh + oy) * ow + ox] = acc;
                }
}

/* L = sum(y * r), so dL/dy = r */
static double loss_of(const fd_ctx_t *c, const double *x, const double *w, const double *b)
{
    const size_t ny = (size_t)c->s.n * c->s.k * c->oh * c->ow;
    double *y = malloc(ny * sizeof(double));
    assert_non_null(y);
    conv_fwd_double(y, x, w, b, &c->s, c->oh, c->ow);
    double l = 0;
    for (size_t i = 0; i < ny; i++) l += y[i] * c->r[i];
    free(y);
    return l;
}

static double loss_x(const double *x, void *ctx)
{
    const fd_ctx_t *c = ctx;
    return loss_of(c, x, c->w, c->b);
}

static double loss_w(const double *w, void *ctx)
{
    const fd_ctx_t *c = ctx;
    return loss_of(c, c->x, w, c->b);
}

static double loss_b(const double *b, void *ctx)
{
    const fd_ctx_t *c = ctx;
    return loss_of(c, c->x, c->w, b);
}

static double *to_double(const float *p, size_t n)
{
    double *d = malloc(n * sizeof(double));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++) d[i] = p[i];
    return d;
}

static void test_ref_forward_vs_double(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCASES; c++) {
        const jg_conv2d_shape_t s = shape_of(&cases[c]);
        conv_data_t d;
        data_init(&d, &s, 500 + c);
        double *xd = to_double(d.x, d.nx), *wd = to_double(d.w, d.nw);
        double *bd = to_double(d.b, (size_t)s.k);
        double *yd = malloc(d.ny * sizeof(double));
        assert_non_null(yd);
        float *y = jg_test_alloc(d.ny);
        conv_fwd_double(yd, xd, wd, bd, &s, d.oh, d.ow);
        assert_int_equal(jg_conv2d_forward_ref(y, d.x, d.w, d.b, &s), 0);
        jg_test_assert_close_d(cases[c].name, y, yd, d.ny, TOL_REF_RTOL, TOL_REF_ATOL);
        free(xd), free(wd), free(bd), free(yd), free(y);
        data_free(&d);
    }
}

static void test_ref_backward_vs_fd(void **state)
{
    (void)state;
    const jg_conv2d_shape_t shapes[] = {
        {2, 2, 5, 4, 3, 3, 2, 2, 1, 1, 0},
        {1, 3, 4, 5, 2, 3, 3, 1, 2, 2, 1},
        {2, 1, 3, 3, 2, 1, 1, 1, 1, 0, 0},
    };
    for (size_t p = 0; p < sizeof shapes / sizeof shapes[0]; p++) {
        conv_data_t d;
        data_init(&d, &shapes[p], 900 + p);
        const size_t nk = (size_t)d.s.k;
        fd_ctx_t ctx = {d.s, d.oh, d.ow, NULL, NULL, NULL, NULL};
        double *xd = to_double(d.x, d.nx), *wd = to_double(d.w, d.nw);
        double *bd = to_double(d.b, nk), *rd = to_double(d.r, d.ny);
        ctx.x = xd, ctx.w = wd, ctx.b = bd, ctx.r = rd;
        double *gx = malloc(d.nx * sizeof(double)), *gw = malloc(d.nw * sizeof(double));
        double *gb = malloc(nk * sizeof(double));
        assert_non_null(gx), assert_non_null(gw), assert_non_null(gb);
        for (size_t i = 0; i < d.nx; i++) gx[i] = jg_test_fd(loss_x, xd, i, FD_STEP, &ctx);
        for (size_t i = 0; i < d.nw; i++) gw[i] = jg_test_fd(loss_w, wd, i, FD_STEP, &ctx);
        for (size_t i = 0; i < nk; i++) gb[i] = jg_test_fd(loss_b, bd, i, FD_STEP, &ctx);

        float *dx = jg_test_alloc_zero(d.nx), *dw = jg_test_alloc_zero(d.nw);
        float *db = jg_test_alloc_zero(nk);
        assert_int_equal(jg_conv2d_backward_data_ref(dx, d.r, d.w, &d.s), 0);
        assert_int_equal(jg_conv2d_backward_weights_ref(dw, db, d.r, d.x, &d.s), 0);
        jg_test_assert_close_d("ref dx vs FD", dx, gx, d.nx, TOL_REF_RTOL, TOL_REF_ATOL);
        jg_test_assert_close_d("ref dw vs FD", dw, gw, d.nw, TOL_REF_RTOL, TOL_REF_ATOL);
        jg_test_assert_close_d("ref dbias vs FD", db, gb, nk, TOL_REF_RTOL, TOL_REF_ATOL);
        free(dx), free(dw), free(db), free(gx), free(gw), free(gb);
        free(xd), free(wd), free(bd), free(rd);
        data_free(&d);
    }
}

/* ---- shapes and arguments ------------------------------------------------ */

static void test_out_hw(void **state)
{
    (void)state;
    const struct { jg_conv2d_shape_t s; int oh, ow; } ok[] = {
        {{1, 1, 28, 28, 32, 3, 3, 1, 1, 1, 1}, 28, 28},
        {{1, 1, 28, 28, 32, 3, 3, 1, 1, 0, 0}, 26, 26},
        {{1, 1, 7, 8, 1, 3, 3, 2, 2, 1, 1}, 4, 4},
        {{1, 1, 8, 7, 1, 2, 3, 2, 3, 0, 1}, 4, 3},
        {{1, 1, 5, 5, 1, 5, 5, 1, 1, 0, 0}, 1, 1},
        {{1, 1, 1, 1, 1, 1, 1, 5, 5, 0, 0}, 1, 1},
        {{1, 1, 3, 3, 1, 5, 5, 1, 1, 2, 2}, 3, 3},
        {{1, 1, 4, 4, 1, 3, 3, 2, 2, 3, 3}, 4, 4},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int oh = -1, ow = -1;
        assert_int_equal(jg_conv2d_out_hw(&ok[i].s, &oh, &ow), 0);
        assert_int_equal(oh, ok[i].oh);
        assert_int_equal(ow, ok[i].ow);
        assert_true(jg_conv2d_workspace_bytes(&ok[i].s) >= 0);
    }
    const jg_conv2d_shape_t good = {1, 1, 5, 5, 1, 3, 3, 1, 1, 0, 0};
    int oh, ow;
    assert_int_equal(jg_conv2d_out_hw(NULL, &oh, &ow), -EINVAL);
    assert_int_equal(jg_conv2d_out_hw(&good, NULL, &ow), -EINVAL);
    assert_int_equal(jg_conv2d_out_hw(&good, &oh, NULL), -EINVAL);
    assert_int_equal(jg_conv2d_workspace_bytes(NULL), -1);
}

/* Each field of a valid shape set to a bad value in turn. */
static void bad_shapes(jg_conv2d_shape_t *out, int *count)
{
    const jg_conv2d_shape_t g = {2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1};
    int n = 0;
    for (int f = 0; f < 11; f++) {
        const int vals[] = {0, -1};
        for (int v = 0; v < 2; v++) {
            jg_conv2d_shape_t s = g;
            int *field[] = {&s.n, &s.c, &s.h, &s.w, &s.k, &s.kh, &s.kw,
                            &s.stride_h, &s.stride_w, &s.pad_h, &s.pad_w};
            if (f >= 9 && vals[v] == 0) continue; /* zero padding is valid */
            *field[f] = vals[v];
            out[n++] = s;
        }
    }
    jg_conv2d_shape_t s = g;
    s.pad_h = s.pad_w = 0, s.kh = 7; /* output height 0 */
    out[n++] = s;
    s = g, s.kw = 9;                  /* 6 + 2 - 9 < 0 */
    out[n++] = s;
    s = g, s.pad_h = s.stride_h = 1 << 30; /* h + 2*pad_h overflows an int */
    out[n++] = s;
    *count = n;
}

static void test_invalid_args(void **state)
{
    (void)state;
    const jg_conv2d_shape_t g = {2, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1};
    conv_data_t d;
    data_init(&d, &g, 3);
    float *y = jg_test_alloc(d.ny), *dx = jg_test_alloc_zero(d.nx);
    float *dw = jg_test_alloc_zero(d.nw), *db = jg_test_alloc_zero((size_t)g.k);
    void *ws = ws_alloc(&g);
    assert_true(jg_conv2d_workspace_bytes(&g) > 0);

    /* NULL pointers (bias and dbias may be NULL) */
    assert_int_equal(jg_conv2d_forward(NULL, d.x, d.w, d.b, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_forward(y, NULL, d.w, d.b, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_forward(y, d.x, NULL, d.b, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_forward(y, d.x, d.w, d.b, NULL, ws), -EINVAL);
    assert_int_equal(jg_conv2d_forward(y, d.x, d.w, d.b, &g, NULL), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data(NULL, d.r, d.w, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data(dx, NULL, d.w, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data(dx, d.r, NULL, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data(dx, d.r, d.w, NULL, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data(dx, d.r, d.w, &g, NULL), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights(NULL, db, d.r, d.x, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights(dw, db, NULL, d.x, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights(dw, db, d.r, NULL, &g, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights(dw, db, d.r, d.x, NULL, ws), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights(dw, db, d.r, d.x, &g, NULL), -EINVAL);
    assert_int_equal(jg_conv2d_forward_ref(NULL, d.x, d.w, d.b, &g), -EINVAL);
    assert_int_equal(jg_conv2d_forward_ref(y, NULL, d.w, d.b, &g), -EINVAL);
    assert_int_equal(jg_conv2d_forward_ref(y, d.x, NULL, d.b, &g), -EINVAL);
    assert_int_equal(jg_conv2d_forward_ref(y, d.x, d.w, d.b, NULL), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data_ref(NULL, d.r, d.w, &g), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data_ref(dx, NULL, d.w, &g), -EINVAL);
    assert_int_equal(jg_conv2d_backward_data_ref(dx, d.r, NULL, &g), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights_ref(NULL, db, d.r, d.x, &g), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights_ref(dw, db, NULL, d.x, &g), -EINVAL);
    assert_int_equal(jg_conv2d_backward_weights_ref(dw, db, d.r, NULL, &g), -EINVAL);

    /* bad shapes: every entry point and the sizing functions reject them */
    jg_conv2d_shape_t bad[32];
    int nbad;
    bad_shapes(bad, &nbad);
    assert_true(nbad > 20);
    for (int i = 0; i < nbad; i++) {
        int oh, ow;
        assert_int_equal(jg_conv2d_out_hw(&bad[i], &oh, &ow), -EINVAL);
        assert_int_equal(jg_conv2d_workspace_bytes(&bad[i]), -1);
        assert_int_equal(jg_conv2d_forward(y, d.x, d.w, d.b, &bad[i], ws), -EINVAL);
        assert_int_equal(jg_conv2d_backward_data(dx, d.r, d.w, &bad[i], ws), -EINVAL);
        assert_int_equal(jg_conv2d_backward_weights(dw, db, d.r, d.x, &bad[i], ws), -EINVAL);
        assert_int_equal(jg_conv2d_forward_ref(y, d.x, d.w, d.b, &bad[i]), -EINVAL);
        assert_int_equal(jg_conv2d_backward_data_ref(dx, d.r, d.w, &bad[i]), -EINVAL);
        assert_int_equal(jg_conv2d_backward_weights_ref(dw, db, d.r, d.x, &bad[i]), -EINVAL);
    }
    /* nothing was written by the rejected calls */
    for (size_t i = 0; i < d.nx; i++) assert_true(dx[i] == 0.0f);
    for (size_t i = 0; i < d.nw; i++) assert_true(dw[i] == 0.0f);

    /* a 1x1 stride-1 unpadded conv on one thread needs no workspace: NULL ok */
    const int threads = jg_kernels_threads();
    assert_int_equal(jg_kernels_set_threads(1), 0);
    const jg_conv2d_shape_t pw = {2, 3, 4, 5, 4, 1, 1, 1, 1, 0, 0};
    assert_int_equal(jg_conv2d_workspace_bytes(&pw), 0);
    conv_data_t e;
    data_init(&e, &pw, 4);
    float *ye = jg_test_alloc(e.ny), *ye_ref = jg_test_alloc(e.ny);
    float *dxe = jg_test_alloc_zero(e.nx), *dwe = jg_test_alloc_zero(e.nw);
    assert_int_equal(jg_conv2d_forward(ye, e.x, e.w, NULL, &pw, NULL), 0);
    assert_int_equal(jg_conv2d_forward_ref(ye_ref, e.x, e.w, NULL, &pw), 0);
    jg_test_assert_close("1x1 no workspace", ye, ye_ref, e.ny, TOL_RTOL,
                         TOL_ATOL_PER_TERM * fwd_depth(&pw));
    assert_int_equal(jg_conv2d_backward_data(dxe, e.r, e.w, &pw, NULL), 0);
    assert_int_equal(jg_conv2d_backward_weights(dwe, NULL, e.r, e.x, &pw, NULL), 0);
    assert_int_equal(jg_kernels_set_threads(threads), 0);
    free(ye), free(ye_ref), free(dxe), free(dwe);
    data_free(&e);

    free(y), free(dx), free(dw), free(db), free(ws);
    data_free(&d);
}

int main(void)
{
    test_threads = jg_kernels_have_openmp() && jg_kernels_threads() >= 2 ? 2 : 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_hw),
        cmocka_unit_test(test_invalid_args),
        cmocka_unit_test(test_ref_forward_vs_double),
        cmocka_unit_test(test_ref_backward_vs_fd),
        cmocka_unit_test(test_fast_vs_ref),
        cmocka_unit_test(test_im2col_vs_ref),
        cmocka_unit_test(test_wino_vs_ref),
        cmocka_unit_test(test_backward_accumulates),
        cmocka_unit_test(test_threads_bit_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
