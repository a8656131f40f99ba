/* SPDX-License-Identifier: MIT */
/*
 * Pooling: every ISA vs the _ref twins over generated shapes, ref semantics
 * checked independently (first maximum wins, padding never wins, NaN), the
 * _ref backward against double-precision central differences, accumulation
 * into pre-filled gradients, thread-count determinism and bad arguments.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* the call must return 0 */
#define CHECK_OK(call) assert_int_equal((call), 0)

/* Every SIMD variant compares and sums in the _ref order, so forward and
 * backward must match _ref exactly. */
#define TOL_EXACT 0.0
/* Adding a pre-filled gradient first instead of last reorders the float sums
 * (at most kh*kw terms of size ~1): a few ulp of values ~1. */
#define TOL_ACC_RTOL 1e-6
#define TOL_ACC_ATOL 1e-6
/* Central differences in double with h = 1e-4 on a piecewise-linear function
 * whose kinks are >= 1e-2 apart are exact up to double rounding / h; the
 * float backward adds ~1e-7. */
#define TOL_FD_ATOL 1e-5
#define FD_H 1e-4

typedef struct {
    int kh, kw, sh, sw, ph, pw;
} win_t;

static const win_t wins[] = {
    {2, 2, 2, 2, 0, 0}, {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {2, 3, 1, 2, 1, 1},
    {3, 2, 2, 1, 0, 1}, {3, 3, 3, 3, 1, 1}, {1, 1, 1, 1, 0, 0}, {5, 5, 1, 2, 2, 2},
    {2, 2, 1, 1, 0, 0}, {3, 3, 2, 2, 0, 0}, {2, 2, 2, 2, 1, 1}, {4, 3, 3, 1, 2, 0},
};
/* around the vector widths 4, 8, 16 (outputs and inputs), primes, 2x width */
static const int widths[] = {1,  2,  3,  4,  5,  7,  8,  9,  13, 15,
                             16, 17, 28, 31, 32, 33, 34, 35, 65};
static const int heights[] = {1, 2, 5, 7};

static jg_pool2d_shape_t mk_shape(int n, int c, int h, int w, const win_t *k)
{
    const jg_pool2d_shape_t s = {n, c, h, w, k->kh, k->kw, k->sh, k->sw, k->ph, k->pw};
    return s;
}

static size_t in_size(const jg_pool2d_shape_t *s)
{
    return (size_t)s->n * s->c * s->h * s->w;
}

/* Random values; quantised to 4 levels when ties are wanted. */
static void fill(float *x, size_t n, uint64_t seed, int ties)
{
    jg_test_fill_uniform(x, n, -1.0f, 1.0f, seed);
    if (ties)
        for (size_t i = 0; i < n; i++) x[i] = floorf(x[i] * 2.0f);
}

/* Independent check of the max-pool contract on one result: y = x[argmax],
 * argmax inside the window (not padding), nothing in the window larger, and
 * no earlier window element equal (first maximum wins). */
static void check_max_semantics(const float *y, const int32_t *am, const float *x,
                                const jg_pool2d_shape_t *s, int oh, int ow)
{
    for (int p = 0; p < s->n * s->c; p++) {
        const float *xp = x + (size_t)p * s->h * s->w;
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                const size_t o = ((size_t)p * oh + i) * ow + j;
                const int a = am[o], ah = a / s->w, aw = a % s->w;
                assert_true(a >= 0 && a < s->h * s->w);
                assert_true(ah >= i * s->stride_h - s->pad_h &&
                            ah < i * s->stride_h - s->pad_h + s->kh);
                assert_true(aw >= j * s->stride_w - s->pad_w &&
                            aw < j * s->stride_w - s->pad_w + s->kw);
                assert_true(y[o] == xp[a]);
                for (int u = 0; u < s->kh; u++) {
                    for (int v = 0; v < s->kw; v++) {
                        const int ih = i * s->stride_h - s->pad_h + u;
                        const int iw = j * s->stride_w - s->pad_w + v;
                        if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                        const float e = xp[ih * s->w + iw];
                        assert_false(e > y[o]);
                        if (ih * s->w + iw < a && (ih < ah || iw < aw)) assert_false(e == y[o]);
                    }
                }
            }
        }
    }
}

static void test_out_hw(void **state)
{
    (void)state;
    jg_pool2d_shape_t s = {2, 3, 28, 28, 2, 2, 2, 2, 0, 0};
    int oh = 0, ow = 0;
    CHECK_OK(jg_pool2d_out_hw(&s, &oh, &ow));
    assert_int_equal(oh, 14);
    assert_int_equal(ow, 14);
    s.h = 7;
    s.w = 15; /* floor mode drops the last row/column */
    CHECK_OK(jg_pool2d_out_hw(&s, &oh, &ow));
    assert_int_equal(oh, 3);
    assert_int_equal(ow, 7);
    const jg_pool2d_shape_t t = {1, 1, 14, 14, 3, 3, 2, 2, 1, 1};
    CHECK_OK(jg_pool2d_out_hw(&t, &oh, &ow));
    assert_int_equal(oh, 7);
    assert_int_equal(ow, 7);
}

/* Every ISA against _ref, forward and backward, exact. */
static void test_isas_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    int checked = 0;
    for (size_t wi = 0; wi < sizeof wins / sizeof wins[0]; wi++) {
        for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++) {
            for (size_t xi = 0; xi < sizeof widths / sizeof widths[0]; xi++) {
                const int n = 1 + (int)(xi % 2), c = 1 + (int)(wi % 3);
                const jg_pool2d_shape_t s =
                    mk_shape(n, c, heights[hi] + (int)wi % 3, widths[xi], &wins[wi]);
                int oh, ow;
                if (jg_pool2d_out_hw(&s, &oh, &ow) != 0) continue;
                const size_t ni = in_size(&s), no = (size_t)n * c * oh * ow;
                float *x = jg_test_alloc(ni), *dy = jg_test_alloc(no);
                float *y0 = jg_test_alloc(no), *y1 = jg_test_alloc(no);
                int32_t *a0 = jg_test_alloc_bytes(no * sizeof(int32_t));
                int32_t *a1 = jg_test_alloc_bytes(no * sizeof(int32_t));
                float *dx0 = jg_test_alloc(ni), *dx1 = jg_test_alloc(ni);
                const int ties = (int)(xi + hi) % 2;
                fill(x, ni, 100 + wi * 1000 + hi * 100 + xi, ties);
                jg_test_fill_uniform(dy, no, -1.0f, 1.0f, 7 + xi);

                CHECK_OK(jg_maxpool2d_forward_ref(y0, a0, x, &s));
                check_max_semantics(y0, a0, x, &s, oh, ow);
                for (int k = 0; k < nisa; k++) {
                    char what[160];
                    snprintf(what, sizeof what, "%s k%dx%d s%dx%d p%dx%d n%d c%d h%d w%d",
                             jg_isa_name(isas[k]), s.kh, s.kw, s.stride_h, s.stride_w, s.pad_h,
                             s.pad_w, s.n, s.c, s.h, s.w);
                    CHECK_OK(jg_kernels_set_isa(isas[k]));
                    /* max forward */
                    memset(y1, 0xff, no * sizeof(float));
                    CHECK_OK(jg_maxpool2d_forward(y1, a1, x, &s));
                    jg_test_assert_close(what, y1, y0, no, TOL_EXACT, TOL_EXACT);
                    if (memcmp(a0, a1, no * sizeof(int32_t)) != 0) {
                        print_error("%s: argmax differs from _ref\n", what);
                        fail();
                    }
                    /* max backward into the same pre-filled dx */
                    jg_test_fill_uniform(dx0, ni, -1.0f, 1.0f, 55);
                    memcpy(dx1, dx0, ni * sizeof(float));
                    CHECK_OK(jg_maxpool2d_backward_ref(dx0, dy, a0, &s));
                    CHECK_OK(jg_maxpool2d_backward(dx1, dy, a0, &s));
                    jg_test_assert_close(what, dx1, dx0, ni, TOL_EXACT, TOL_EXACT);
                    /* avg forward */
                    CHECK_OK(jg_avgpool2d_forward_ref(y0, x, &s));
                    CHECK_OK(jg_avgpool2d_forward(y1, x, &s));
                    jg_test_assert_close(what, y1, y0, no, TOL_EXACT, TOL_EXACT);
                    /* avg backward */
                    jg_test_fill_uniform(dx0, ni, -1.0f, 1.0f, 56);
                    memcpy(dx1, dx0, ni * sizeof(float));
                    CHECK_OK(jg_avgpool2d_backward_ref(dx0, dy, &s));
                    CHECK_OK(jg_avgpool2d_backward(dx1, dy, &s));
                    jg_test_assert_close(what, dx1, dx0, ni, TOL_EXACT, TOL_EXACT);
                    /* restore the max reference for the next ISA */
                    CHECK_OK(jg_maxpool2d_forward_ref(y0, a0, x, &s));
                    checked++;
                }
                free(x), free(dy), free(y0), free(y1), free(a0), free(a1), free(dx0), free(dx1);
            }
        }
    }
    assert_true(checked > 500);
    CHECK_OK(jg_kernels_set_isa(before));
}

/* All-equal input: the first real element of each window wins, and with
 * all-negative input padding (which is not a zero) never wins. */
static void test_ties_and_padding(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const jg_pool2d_shape_t shapes[] = {
        {1, 2, 9, 37, 3, 3, 1, 1, 1, 1},
        {2, 1, 8, 34, 2, 2, 2, 2, 0, 0},
        {1, 1, 7, 33, 3, 3, 2, 2, 1, 1},
        {1, 1, 6, 20, 2, 2, 2, 2, 1, 1},
    };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const jg_pool2d_shape_t *s = &shapes[si];
        int oh, ow;
        CHECK_OK(jg_pool2d_out_hw(s, &oh, &ow));
        const size_t ni = in_size(s), no = (size_t)s->n * s->c * oh * ow;
        float *x = jg_test_alloc(ni), *y = jg_test_alloc(no);
        int32_t *am = jg_test_alloc_bytes(no * sizeof(int32_t));
        for (size_t i = 0; i < ni; i++) x[i] = -3.0f;
        for (int k = 0; k < nisa; k++) {
            CHECK_OK(jg_kernels_set_isa(isas[k]));
            CHECK_OK(jg_maxpool2d_forward(y, am, x, s));
            for (int p = 0; p < s->n * s->c; p++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        const size_t o = ((size_t)p * oh + i) * ow + j;
                        int ih = i * s->stride_h - s->pad_h, iw = j * s->stride_w - s->pad_w;
                        ih = ih < 0 ? 0 : ih;
                        iw = iw < 0 ? 0 : iw;
                        assert_true(y[o] == -3.0f);
                        assert_int_equal(am[o], ih * s->w + iw);
                    }
                }
            }
        }
        free(x), free(y), free(am);
    }
    CHECK_OK(jg_kernels_set_isa(before));
}

/* NaN propagates and the first NaN of a window wins, on every ISA. */
static void test_nan(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const win_t ws[] = {
        {2, 2, 2, 2, 0, 0}, {3, 3, 1, 1, 1, 1}, {3, 3, 2, 2, 1, 1}, {3, 3, 3, 3, 0, 0}};
    for (size_t wi = 0; wi < sizeof ws / sizeof ws[0]; wi++) {
        const jg_pool2d_shape_t s = mk_shape(1, 2, 9, 40, &ws[wi]);
        int oh, ow;
        CHECK_OK(jg_pool2d_out_hw(&s, &oh, &ow));
        const size_t ni = in_size(&s), no = (size_t)s.n * s.c * oh * ow;
        float *x = jg_test_alloc(ni), *y0 = jg_test_alloc(no), *y1 = jg_test_alloc(no);
        int32_t *a0 = jg_test_alloc_bytes(no * sizeof(int32_t));
        int32_t *a1 = jg_test_alloc_bytes(no * sizeof(int32_t));
        fill(x, ni, 99 + wi, 0);
        for (size_t i = 0; i < ni; i += 7) x[i] = NAN;
        CHECK_OK(jg_maxpool2d_forward_ref(y0, a0, x, &s));
        size_t nans = 0;
        for (size_t o = 0; o < no; o++) {
            const size_t plane = o / ((size_t)oh * ow) * s.h * s.w;
            if (isnan(y0[o])) {
                nans++;
                assert_true(isnan(x[plane + a0[o]]));
            } else {
                assert_true(y0[o] == x[plane + a0[o]]);
            }
        }
        assert_true(nans > 0);
        for (int k = 0; k < nisa; k++) {
            CHECK_OK(jg_kernels_set_isa(isas[k]));
            CHECK_OK(jg_maxpool2d_forward(y1, a1, x, &s));
            assert_memory_equal(a0, a1, no * sizeof(int32_t));
            for (size_t o = 0; o < no; o++)
                assert_true(isnan(y0[o]) ? isnan(y1[o]) : y0[o] == y1[o]);
        }
        free(x), free(y0), free(y1), free(a0), free(a1);
    }
    /* first NaN wins inside one window */
    const jg_pool2d_shape_t s = {1, 1, 2, 2, 2, 2, 2, 2, 0, 0};
    const float x[4] = {1.0f, NAN, NAN, 5.0f};
    float y;
    int32_t a;
    CHECK_OK(jg_maxpool2d_forward_ref(&y, &a, x, &s));
    assert_true(isnan(y));
    assert_int_equal(a, 1);
    CHECK_OK(jg_kernels_set_isa(before));
}

/* Double-precision forwards for the finite-difference checks. */
typedef struct {
    const jg_pool2d_shape_t *s;
    const double *r; /* (N, C, OH, OW) weights of L = sum f(x) * r */
    int oh, ow, avg;
} fd_ctx_t;

static double pool_loss_d(const double *x, void *vctx)
{
    const fd_ctx_t *c = vctx;
    const jg_pool2d_shape_t *s = c->s;
    double l = 0.0;
    for (int p = 0; p < s->n * s->c; p++) {
        const double *xp = x + (size_t)p * s->h * s->w;
        for (int i = 0; i < c->oh; i++) {
            for (int j = 0; j < c->ow; j++) {
                double acc = 0.0, best = -INFINITY;
                for (int u = 0; u < s->kh; u++) {
                    for (int v = 0; v < s->kw; v++) {
                        const int ih = i * s->stride_h - s->pad_h + u;
                        const int iw = j * s->stride_w - s->pad_w + v;
                        if (ih < 0 || ih >= s->h || iw < 0 || iw >= s->w) continue;
                        acc += xp[ih * s->w + iw];
                        if (xp[ih * s->w + iw] > best) best = xp[ih * s->w + iw];
                    }
                }
                const double f = c->avg ? acc / (s->kh * s->kw) : best;
                l += f * c->r[((size_t)p * c->oh + i) * c->ow + j];
            }
        }
    }
    return l;
}

/* _ref backward vs central differences of L = sum f(x) * r (distinct x so
 * the max is not at a tie), starting from a non-zero dx. */
static void test_backward_fd(void **state)
{
    (void)state;
    const jg_pool2d_shape_t shapes[] = {
        {1, 2, 6, 7, 2, 2, 2, 2, 0, 0},
        {2, 1, 5, 6, 3, 3, 1, 1, 1, 1},
        {1, 1, 7, 5, 3, 3, 2, 2, 1, 1},
        {1, 2, 5, 7, 2, 3, 1, 2, 1, 1},
    };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const jg_pool2d_shape_t *s = &shapes[si];
        int oh, ow;
        CHECK_OK(jg_pool2d_out_hw(s, &oh, &ow));
        const size_t ni = in_size(s), no = (size_t)s->n * s->c * oh * ow;
        float *x = jg_test_alloc(ni), *dy = jg_test_alloc(no), *y = jg_test_alloc(no);
        float *dx = jg_test_alloc(ni);
        int32_t *am = jg_test_alloc_bytes(no * sizeof(int32_t));
        double *xd = malloc(ni * sizeof(double)), *rd = malloc(no * sizeof(double));
        double *want = malloc(ni * sizeof(double));
        assert_non_null(xd), assert_non_null(rd), assert_non_null(want);
        /* distinct values >= 1e-2 apart: a random permutation of a grid */
        for (size_t i = 0; i < ni; i++)
            x[i] = (float)((double)((i * 37 + 11) % ni) * 0.01 - 0.3);
        jg_test_fill_uniform(dy, no, -1.0f, 1.0f, 3 + si);
        for (size_t i = 0; i < ni; i++) xd[i] = x[i];
        for (size_t i = 0; i < no; i++) rd[i] = dy[i];
        for (int avg = 0; avg < 2; avg++) {
            fd_ctx_t ctx = {s, rd, oh, ow, avg};
            for (size_t i = 0; i < ni; i++)
                want[i] = 0.5 + jg_test_fd(pool_loss_d, xd, i, FD_H, &ctx);
            for (size_t i = 0; i < ni; i++) dx[i] = 0.5f;
            if (avg) {
                CHECK_OK(jg_avgpool2d_backward_ref(dx, dy, s));
            } else {
                CHECK_OK(jg_maxpool2d_forward_ref(y, am, x, s));
                CHECK_OK(jg_maxpool2d_backward_ref(dx, dy, am, s));
            }
            jg_test_assert_close_d(avg ? "avgpool fd" : "maxpool fd", dx, want, ni, 0.0,
                                   TOL_FD_ATOL);
        }
        free(x), free(dy), free(y), free(dx), free(am), free(xd), free(rd), free(want);
    }
}

/* Backward adds into dx: result from a pre-filled dx = pre-fill + result from
 * zero, for every ISA. */
static void test_accumulates(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const jg_pool2d_shape_t shapes[] = {
        {2, 3, 14, 14, 2, 2, 2, 2, 0, 0},
        {1, 2, 9, 19, 3, 3, 1, 1, 1, 1},
        {1, 2, 9, 19, 3, 3, 2, 2, 1, 1},
    };
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const jg_pool2d_shape_t *s = &shapes[si];
        int oh, ow;
        CHECK_OK(jg_pool2d_out_hw(s, &oh, &ow));
        const size_t ni = in_size(s), no = (size_t)s->n * s->c * oh * ow;
        float *x = jg_test_alloc(ni), *dy = jg_test_alloc(no), *y = jg_test_alloc(no);
        float *pre = jg_test_alloc(ni), *dz = jg_test_alloc(ni), *dp = jg_test_alloc(ni);
        int32_t *am = jg_test_alloc_bytes(no * sizeof(int32_t));
        fill(x, ni, 5 + si, 0);
        jg_test_fill_uniform(dy, no, -1.0f, 1.0f, 6 + si);
        jg_test_fill_uniform(pre, ni, -1.0f, 1.0f, 8 + si);
        CHECK_OK(jg_maxpool2d_forward_ref(y, am, x, s));
        for (int k = 0; k < nisa; k++) {
            CHECK_OK(jg_kernels_set_isa(isas[k]));
            for (int avg = 0; avg < 2; avg++) {
                memset(dz, 0, ni * sizeof(float));
                memcpy(dp, pre, ni * sizeof(float));
                if (avg) {
                    CHECK_OK(jg_avgpool2d_backward(dz, dy, s));
                    CHECK_OK(jg_avgpool2d_backward(dp, dy, s));
                } else {
                    CHECK_OK(jg_maxpool2d_backward(dz, dy, am, s));
                    CHECK_OK(jg_maxpool2d_backward(dp, dy, am, s));
                }
                for (size_t i = 0; i < ni; i++) dz[i] += pre[i];
                jg_test_assert_close(avg ? "avg accumulate" : "max accumulate", dp, dz, ni,
                                     TOL_ACC_RTOL, TOL_ACC_ATOL);
            }
        }
        free(x), free(dy), free(y), free(pre), free(dz), free(dp), free(am);
    }
    CHECK_OK(jg_kernels_set_isa(before));
}

/* maxpool2d_backward_set writes dx (starting as NaN here) equal to zero plus
 * the accumulating backward, bit for bit, on every ISA and in _ref: 2x2/s2
 * planes of odd and even sizes and widths past a vector, a -0 gradient
 * (0 + -0 = +0), and an argmax moved out of its window. */
static void test_backward_set(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    const jg_isa_t before = jg_kernels_isa();
    const jg_pool2d_shape_t shapes[] = {
        {2, 3, 14, 14, 2, 2, 2, 2, 0, 0},
        {1, 2, 9, 19, 3, 3, 1, 1, 1, 1},
        {1, 2, 7, 15, 2, 2, 2, 2, 0, 0},
        {1, 3, 6, 41, 2, 2, 2, 2, 0, 0},
        {2, 2, 28, 28, 2, 2, 2, 2, 0, 0},
        {1, 2, 9, 66, 2, 2, 2, 2, 0, 0},
    };
    for (size_t si = 0; si < 2 * (sizeof shapes / sizeof shapes[0]); si++) {
        const int moved = si >= sizeof shapes / sizeof shapes[0]; /* second round */
        const jg_pool2d_shape_t *s = &shapes[si % (sizeof shapes / sizeof shapes[0])];
        int oh, ow;
        CHECK_OK(jg_pool2d_out_hw(s, &oh, &ow));
        const size_t ni = in_size(s), no = (size_t)s->n * s->c * oh * ow;
        float *x = jg_test_alloc(ni), *dy = jg_test_alloc(no), *y = jg_test_alloc(no);
        float *want = jg_test_alloc_zero(ni), *got = jg_test_alloc(ni);
        int32_t *am = jg_test_alloc_bytes(no * sizeof(int32_t));
        fill(x, ni, 30 + si, 0);
        jg_test_fill_uniform(dy, no, -1.0f, 1.0f, 40 + si);
        CHECK_OK(jg_maxpool2d_forward_ref(y, am, x, s));
        dy[no / 2] = -0.0f;
        if (moved) am[no - 1] = 0; /* the plane's first element: another window's */
        CHECK_OK(jg_maxpool2d_backward_ref(want, dy, am, s));
        for (int k = 0; k <= nisa; k++) {
            for (size_t i = 0; i < ni; i++) got[i] = NAN;
            if (k == nisa) {
                CHECK_OK(jg_maxpool2d_backward_set_ref(got, dy, am, s));
            } else {
                CHECK_OK(jg_kernels_set_isa(isas[k]));
                CHECK_OK(jg_maxpool2d_backward_set(got, dy, am, s));
            }
            if (memcmp(got, want, ni * sizeof(float)) != 0)
                fail_msg("maxpool backward_set differs bitwise from zero + backward: shape %zu, "
                         "%s%s",
                         si % (sizeof shapes / sizeof shapes[0]),
                         k == nisa ? "ref" : jg_isa_name(isas[k]), moved ? ", argmax moved" : "");
        }
        free(x), free(dy), free(y), free(want), free(got), free(am);
    }
    CHECK_OK(jg_kernels_set_isa(before));
}

/* The default CNN's pooling (batch 64 at 28x28, 32 channels): identical
 * results on 1 and 2 threads. */
static void test_threads_deterministic(void **state)
{
    (void)state;
    /* only when the process may run 2 threads: built with OpenMP and not
     * pinned by OMP_NUM_THREADS=1 (qemu-user, where OpenMP teams can hang) */
    if (!jg_kernels_have_openmp() || jg_kernels_threads() < 2) skip();
    const jg_pool2d_shape_t s = {16, 32, 28, 28, 2, 2, 2, 2, 0, 0};
    int oh, ow;
    CHECK_OK(jg_pool2d_out_hw(&s, &oh, &ow));
    const size_t ni = in_size(&s), no = (size_t)s.n * s.c * oh * ow;
    float *x = jg_test_alloc(ni), *dy = jg_test_alloc(no);
    float *y[2], *dx[2];
    int32_t *am[2];
    fill(x, ni, 1234, 1);
    jg_test_fill_uniform(dy, no, -1.0f, 1.0f, 4321);
    const int before = jg_kernels_threads();
    for (int t = 0; t < 2; t++) {
        y[t] = jg_test_alloc(no);
        dx[t] = jg_test_alloc_zero(ni);
        am[t] = jg_test_alloc_bytes(no * sizeof(int32_t));
        CHECK_OK(jg_kernels_set_threads(t + 1));
        CHECK_OK(jg_maxpool2d_forward(y[t], am[t], x, &s));
        CHECK_OK(jg_maxpool2d_backward(dx[t], dy, am[t], &s));
        CHECK_OK(jg_avgpool2d_backward(dx[t], dy, &s));
    }
    assert_memory_equal(y[0], y[1], no * sizeof(float));
    assert_memory_equal(am[0], am[1], no * sizeof(int32_t));
    assert_memory_equal(dx[0], dx[1], ni * sizeof(float));
    CHECK_OK(jg_kernels_set_threads(before));
    for (int t = 0; t < 2; t++) free(y[t]), free(dx[t]), free(am[t]);
    free(x), free(dy);
}

static void test_invalid(void **state)
{
    (void)state;
    const jg_pool2d_shape_t good = {1, 1, 4, 4, 2, 2, 2, 2, 0, 0};
    float x[16] = {0}, y[4], dx[16] = {0}, dy[4] = {0};
    int32_t am[4] = {0, 2, 8, 10};
    int oh, ow;
    assert_int_equal(jg_pool2d_out_hw(NULL, &oh, &ow), -EINVAL);
    assert_int_equal(jg_pool2d_out_hw(&good, NULL, &ow), -EINVAL);
    assert_int_equal(jg_pool2d_out_hw(&good, &oh, NULL), -EINVAL);
    for (int f = 0; f < 10; f++) {
        for (int bad = -1; bad <= 0; bad++) {
            jg_pool2d_shape_t s = good;
            int *fld[10] = {&s.n,  &s.c,        &s.h,        &s.w,     &s.kh,
                            &s.kw, &s.stride_h, &s.stride_w, &s.pad_h, &s.pad_w};
            *fld[f] = bad;
            if (f >= 8 && bad == 0) continue; /* zero padding is fine */
            assert_int_equal(jg_pool2d_out_hw(&s, &oh, &ow), -EINVAL);
            assert_int_equal(jg_maxpool2d_forward(y, am, x, &s), -EINVAL);
            assert_int_equal(jg_maxpool2d_forward_ref(y, am, x, &s), -EINVAL);
            assert_int_equal(jg_avgpool2d_forward(y, x, &s), -EINVAL);
            assert_int_equal(jg_avgpool2d_backward(dx, dy, &s), -EINVAL);
            assert_int_equal(jg_maxpool2d_backward(dx, dy, am, &s), -EINVAL);
        }
    }
    /* pad > window / 2 */
    jg_pool2d_shape_t s = good;
    s.pad_h = 2;
    assert_int_equal(jg_pool2d_out_hw(&s, &oh, &ow), -EINVAL);
    s = good;
    s.kw = 3;
    s.pad_w = 2;
    assert_int_equal(jg_avgpool2d_forward_ref(y, x, &s), -EINVAL);
    /* output smaller than 1x1: window larger than the padded input */
    s = good;
    s.kh = 6;
    s.pad_h = 0;
    assert_int_equal(jg_pool2d_out_hw(&s, &oh, &ow), -EINVAL);
    s.kh = 7;
    s.pad_h = 1; /* 4 + 2 - 7 < 0 */
    assert_int_equal(jg_maxpool2d_forward(y, am, x, &s), -EINVAL);
    /* NULL buffers */
    assert_int_equal(jg_maxpool2d_forward(NULL, am, x, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_forward(y, NULL, x, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_forward(y, am, NULL, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_forward(y, am, x, NULL), -EINVAL);
    assert_int_equal(jg_maxpool2d_backward(NULL, dy, am, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_backward(dx, NULL, am, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_backward(dx, dy, NULL, &good), -EINVAL);
    assert_int_equal(jg_maxpool2d_backward_ref(dx, dy, NULL, &good), -EINVAL);
    assert_int_equal(jg_avgpool2d_forward(NULL, x, &good), -EINVAL);
    assert_int_equal(jg_avgpool2d_forward(y, NULL, &good), -EINVAL);
    assert_int_equal(jg_avgpool2d_backward(NULL, dy, &good), -EINVAL);
    assert_int_equal(jg_avgpool2d_backward_ref(dx, NULL, &good), -EINVAL);
    /* argmax outside the plane */
    CHECK_OK(jg_maxpool2d_backward(dx, dy, am, &good));
    am[3] = 16;
    assert_int_equal(jg_maxpool2d_backward(dx, dy, am, &good), -EINVAL);
    am[3] = -1;
    assert_int_equal(jg_maxpool2d_backward_ref(dx, dy, am, &good), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_hw),
        cmocka_unit_test(test_isas_vs_ref),
        cmocka_unit_test(test_ties_and_padding),
        cmocka_unit_test(test_nan),
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_accumulates),
        cmocka_unit_test(test_backward_set),
        cmocka_unit_test(test_threads_deterministic),
        cmocka_unit_test(test_invalid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
