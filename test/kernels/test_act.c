/* SPDX-License-Identifier: MIT */
/* Activations and row-bias helpers: every ISA vs the _ref oracle over edge
 * sizes, the vector exp against double libm over a wide range, backward
 * kernels against double finite differences, and bad arguments. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Sizes around the vector widths (4, 8, 16 floats) and a size above the
 * 32K-element OpenMP threshold that is not a multiple of any chunk. */
static const size_t SIZES[] = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100003};
#define NSIZES (sizeof SIZES / sizeof SIZES[0])

/* relu, leaky relu, all backward kernels and the bias helpers do the same
 * float operations as their _ref twins (no FMA), so they must be exact. */
#define TOL_EXACT 0.0
/* sigmoid/tanh forward: vector exp <= 2 ulp, plus the roundings of 1 +- e
 * and one division, against the oracle's correctly rounded double result:
 * 4 ulp. FLT_EPSILON is 1 ulp at 1.0, i.e. 1-2 ulp relative. */
#define TOL_EXP_RTOL (4.0 * FLT_EPSILON)
/* results in the denormal range carry an absolute error of a few units of
 * the smallest denormal (the relative error there is meaningless). */
#define TOL_EXP_ATOL (4.0 * FLT_TRUE_MIN)
/* finite differences: central, h = 1e-3 in double, so truncation error
 * ~h^2 |f'''| / 6 < 1e-7; the kernel's float inputs (y = f(x) rounded to
 * float, 1 - y and 1 - y^2 for |x| <= 2) cost < 2e-6 relative. */
#define FD_H 1e-3
#define TOL_FD_RTOL 1e-5
#define TOL_FD_ATOL 1e-6

typedef int (*fwd_fn)(float *, const float *, size_t);
typedef int (*bwd_fn)(float *, const float *, const float *, size_t);

typedef struct {
    const char *name;
    fwd_fn fwd, fwd_ref;
    bwd_fn bwd, bwd_ref;
    double fwd_rtol, fwd_atol;
    float lo, hi;             /* input range for the vs-ref comparison */
    double (*f)(double);      /* double forward for finite differences */
    int bwd_from_y;           /* backward takes the output, not the input */
} unary_t;

static double relu_d(double x) { return x > 0 ? x : 0; }
static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }
static double tanh_d(double x) { return tanh(x); }

static const unary_t UNARY[] = {
    {"relu", jg_relu_forward, jg_relu_forward_ref, jg_relu_backward, jg_relu_backward_ref,
     TOL_EXACT, 0.0, -4.0f, 4.0f, relu_d, 0},
    {"sigmoid", jg_sigmoid_forward, jg_sigmoid_forward_ref, jg_sigmoid_backward,
     jg_sigmoid_backward_ref, TOL_EXP_RTOL, TOL_EXP_ATOL, -30.0f, 30.0f, sigmoid_d, 1},
    {"tanh", jg_tanh_forward, jg_tanh_forward_ref, jg_tanh_backward, jg_tanh_backward_ref,
     TOL_EXP_RTOL, TOL_EXP_ATOL, -12.0f, 12.0f, tanh_d, 1},
};
#define NUNARY (sizeof UNARY / sizeof UNARY[0])

static void set_isa(jg_isa_t isa)
{
    assert_int_equal(jg_kernels_set_isa(isa), 0);
}

/* Buffers start one float past a malloc'd block, so no ISA sees aligned
 * data by luck. */
static float *alloc_off(size_t n)
{
    return jg_test_alloc(n + 1) + 1;
}

static void free_off(float *p)
{
    free(p - 1);
}

static void test_unary_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t u = 0; u < NUNARY; u++) {
            const unary_t *op = &UNARY[u];
            for (size_t s = 0; s < NSIZES; s++) {
                const size_t n = SIZES[s];
                float *x = alloc_off(n), *y = alloc_off(n), *yr = alloc_off(n);
                float *dy = alloc_off(n), *dx = alloc_off(n), *dxr = alloc_off(n);
                jg_test_fill_uniform(x, n, op->lo, op->hi, 11 + n);
                jg_test_fill_uniform(dy, n, -1.0f, 1.0f, 12 + n);
                jg_test_fill_uniform(dx, n, -1.0f, 1.0f, 13 + n); /* += must keep it */
                memcpy(dxr, dx, n * sizeof *dx);
                char what[96];
                snprintf(what, sizeof what, "%s forward %s n=%zu", op->name,
                         jg_isa_name(isas[a]), n);
                assert_int_equal(op->fwd(y, x, n), 0);
                assert_int_equal(op->fwd_ref(yr, x, n), 0);
                jg_test_assert_close(what, y, yr, n, op->fwd_rtol, op->fwd_atol);
                /* backward from the same input so only the backward differs */
                const float *in = op->bwd_from_y ? yr : x;
                snprintf(what, sizeof what, "%s backward %s n=%zu", op->name,
                         jg_isa_name(isas[a]), n);
                assert_int_equal(op->bwd(dx, dy, in, n), 0);
                assert_int_equal(op->bwd_ref(dxr, dy, in, n), 0);
                jg_test_assert_close(what, dx, dxr, n, TOL_EXACT, 0.0);
                free_off(x), free_off(y), free_off(yr);
                free_off(dy), free_off(dx), free_off(dxr);
            }
        }
    }
}

/* relu_backward_set: every ISA against its _ref twin (exact), dx starting as
 * NaN (it must not be read), and equal to zero + the accumulating backward
 * except for the sign of a zero. */
static void test_relu_set_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t s = 0; s < NSIZES; s++) {
            const size_t n = SIZES[s];
            float *x = alloc_off(n), *dy = alloc_off(n), *dx = alloc_off(n);
            float *dxr = alloc_off(n), *acc = alloc_off(n);
            jg_test_fill_uniform(x, n, -1.0f, 1.0f, 21 + n);
            jg_test_fill_uniform(dy, n, -1.0f, 1.0f, 22 + n);
            for (size_t i = 0; i < n; i++) dx[i] = dxr[i] = NAN, acc[i] = 0.0f;
            char what[96];
            snprintf(what, sizeof what, "relu backward_set %s n=%zu", jg_isa_name(isas[a]), n);
            assert_int_equal(jg_relu_backward_set(dx, dy, x, n), 0);
            assert_int_equal(jg_relu_backward_set_ref(dxr, dy, x, n), 0);
            jg_test_assert_close(what, dx, dxr, n, TOL_EXACT, 0.0);
            assert_int_equal(jg_relu_backward_ref(acc, dy, x, n), 0);
            jg_test_assert_close(what, dx, acc, n, TOL_EXACT, 0.0);
            free_off(x), free_off(dy), free_off(dx), free_off(dxr), free_off(acc);
        }
    }
}

static void test_leaky_vs_ref(void **state)
{
    (void)state;
    static const float slopes[] = {0.01f, 0.2f, -0.5f, 0.0f};
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t sl = 0; sl < sizeof slopes / sizeof slopes[0]; sl++) {
            for (size_t s = 0; s < NSIZES; s++) {
                const size_t n = SIZES[s];
                float *x = alloc_off(n), *y = alloc_off(n), *yr = alloc_off(n);
                float *dy = alloc_off(n), *dx = alloc_off(n), *dxr = alloc_off(n);
                jg_test_fill_uniform(x, n, -3.0f, 3.0f, 21 + n);
                jg_test_fill_uniform(dy, n, -1.0f, 1.0f, 22 + n);
                jg_test_fill_uniform(dx, n, -1.0f, 1.0f, 23 + n);
                memcpy(dxr, dx, n * sizeof *dx);
                assert_int_equal(jg_leaky_relu_forward(y, x, slopes[sl], n), 0);
                assert_int_equal(jg_leaky_relu_forward_ref(yr, x, slopes[sl], n), 0);
                jg_test_assert_close("leaky forward", y, yr, n, TOL_EXACT, 0.0);
                assert_int_equal(jg_leaky_relu_backward(dx, dy, x, slopes[sl], n), 0);
                assert_int_equal(jg_leaky_relu_backward_ref(dxr, dy, x, slopes[sl], n), 0);
                jg_test_assert_close("leaky backward", dx, dxr, n, TOL_EXACT, 0.0);
                free_off(x), free_off(y), free_off(yr);
                free_off(dy), free_off(dx), free_off(dxr);
            }
        }
    }
}

/* Dense sweep of [-110, 110] plus the awkward points, against double libm:
 * checks the vector exp itself (through sigmoid for x < 0, where sigmoid(x)
 * = e^x / (1 + e^x)) and the saturation of both functions. */
static void test_exp_accuracy_and_extremes(void **state)
{
    (void)state;
    static const float special[] = {
        0.0f, -0.0f, 1e-30f, -1e-30f, 1e-38f, -1e-38f, 1e-40f, -1e-40f, 1e-45f, -1e-45f,
        0.625f, -0.625f, 0.62499994f, 87.0f, -87.0f, 87.4f, -87.4f, 88.0f, -88.0f,
        88.7f, -88.7f, 88.8f, -88.8f, 100.0f, -100.0f, 103.9f, -103.9f, 104.5f, -104.5f,
        200.0f, -200.0f, FLT_MAX, -FLT_MAX, INFINITY, -INFINITY};
    const size_t nsweep = 22001, nspec = sizeof special / sizeof special[0];
    const size_t n = nsweep + nspec;
    float *x = jg_test_alloc(n), *y = jg_test_alloc(n);
    double *want = jg_test_alloc_bytes(n * sizeof *want);
    for (size_t i = 0; i < nsweep; i++) x[i] = -110.0f + 0.01f * (float)i;
    memcpy(x + nsweep, special, sizeof special);

    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (int fn = 0; fn < 2; fn++) {
            double maxulp = 0;
            if (fn == 0) {
                assert_int_equal(jg_sigmoid_forward(y, x, n), 0);
                for (size_t i = 0; i < n; i++) want[i] = sigmoid_d(x[i]);
            } else {
                assert_int_equal(jg_tanh_forward(y, x, n), 0);
                for (size_t i = 0; i < n; i++) want[i] = tanh(x[i]);
            }
            for (size_t i = 0; i < n; i++) {
                assert_true(isfinite(y[i]));
                assert_true(fn == 0 ? y[i] >= 0.0f && y[i] <= 1.0f
                                    : y[i] >= -1.0f && y[i] <= 1.0f);
                if (fabs(want[i]) >= FLT_MIN) {
                    const double ulp = fabs(y[i] - want[i]) / (fabs(want[i]) * FLT_EPSILON);
                    if (ulp > maxulp) maxulp = ulp;
                }
            }
            jg_test_assert_close_d(fn == 0 ? "sigmoid vs libm" : "tanh vs libm", y, want,
                                   n, TOL_EXP_RTOL, TOL_EXP_ATOL);
            print_message("%s %s: max error %.2f x FLT_EPSILON relative (normal results)\n",
                          jg_isa_name(isas[a]), fn == 0 ? "sigmoid" : "tanh", maxulp);
        }
        /* exact saturation values and NaN propagation */
        const float xs[5] = {-INFINITY, INFINITY, NAN, 0.0f, -200.0f};
        float ys[5];
        assert_int_equal(jg_sigmoid_forward(ys, xs, 5), 0);
        assert_true(ys[0] == 0.0f && ys[1] == 1.0f && isnan(ys[2]) && ys[3] == 0.5f);
        assert_true(ys[4] == 0.0f);
        assert_int_equal(jg_tanh_forward(ys, xs, 5), 0);
        assert_true(ys[0] == -1.0f && ys[1] == 1.0f && isnan(ys[2]) && ys[3] == 0.0f);
        assert_true(ys[4] == -1.0f);
    }
    free(x), free(y), free(want);
}

/* L(x) = sum_i f(x_i) r_i, so dL/dx_i = f'(x_i) r_i. */
typedef struct {
    double (*f)(double);
    const double *r;
    size_t n;
} fd_ctx_t;

static double unary_loss(const double *x, void *vctx)
{
    const fd_ctx_t *c = vctx;
    double s = 0;
    for (size_t i = 0; i < c->n; i++) s += c->f(x[i]) * c->r[i];
    return s;
}

static double leaky_slope = 0.1;
static double leaky_d(double x) { return x > 0 ? x : leaky_slope * x; }

static void test_backward_finite_differences(void **state)
{
    (void)state;
    enum { N = 37 };
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t u = 0; u <= NUNARY; u++) { /* the last round is leaky relu */
            float x[N], y[N], dy[N], dx[N], d0[N];
            double xd[N], rd[N];
            jg_test_fill_uniform(x, N, -2.0f, 2.0f, 31 + u);
            for (int i = 0; i < N; i++) /* keep away from the relu kink */
                if (fabsf(x[i]) < 0.05f) x[i] = 0.5f;
            jg_test_fill_uniform(dy, N, -1.0f, 1.0f, 32 + u);
            jg_test_fill_uniform(d0, N, -1.0f, 1.0f, 33 + u); /* pre-filled dx */
            memcpy(dx, d0, sizeof dx);
            fd_ctx_t ctx = {u < NUNARY ? UNARY[u].f : leaky_d, rd, N};
            if (u < NUNARY) {
                assert_int_equal(UNARY[u].fwd(y, x, N), 0);
                assert_int_equal(UNARY[u].bwd(dx, dy, UNARY[u].bwd_from_y ? y : x, N), 0);
            } else {
                assert_int_equal(jg_leaky_relu_backward(dx, dy, x, (float)leaky_slope, N), 0);
            }
            for (int i = 0; i < N; i++) xd[i] = x[i], rd[i] = dy[i];
            double want[N];
            for (int i = 0; i < N; i++)
                want[i] = d0[i] + jg_test_fd(unary_loss, xd, (size_t)i, FD_H, &ctx);
            jg_test_assert_close_d(u < NUNARY ? UNARY[u].name : "leaky_relu", dx, want, N,
                                   TOL_FD_RTOL, TOL_FD_ATOL);
        }
    }
}

/* ---- bias helpers ---- */

static const int ROWS[] = {1, 3, 17, 64};
static const int COLS[] = {1, 7, 8, 15, 16, 17, 33, 64, 65, 100};

static void check_bias_shape(int rows, int cols, int ld, uint64_t seed)
{
    const size_t sz = (size_t)rows * ld;
    float *y = alloc_off(sz), *yr = alloc_off(sz), *b = alloc_off((size_t)cols);
    float *db = alloc_off((size_t)cols), *dbr = alloc_off((size_t)cols);
    jg_test_fill_uniform(y, sz, -1.0f, 1.0f, seed);
    memcpy(yr, y, sz * sizeof *y);
    jg_test_fill_uniform(b, (size_t)cols, -1.0f, 1.0f, seed + 1);
    jg_test_fill_uniform(db, (size_t)cols, -1.0f, 1.0f, seed + 2);
    memcpy(dbr, db, (size_t)cols * sizeof *db);

    assert_int_equal(jg_bias_grad_rows(db, y, rows, cols, ld), 0);
    assert_int_equal(jg_bias_grad_rows_ref(dbr, y, rows, cols, ld), 0);
    jg_test_assert_close("bias_grad_rows", db, dbr, (size_t)cols, TOL_EXACT, 0.0);

    assert_int_equal(jg_bias_add_rows(y, b, rows, cols, ld), 0);
    assert_int_equal(jg_bias_add_rows_ref(yr, b, rows, cols, ld), 0);
    /* the whole buffer, padding included: the gap past cols must be untouched */
    jg_test_assert_close("bias_add_rows", y, yr, sz, TOL_EXACT, 0.0);
    free_off(y), free_off(yr), free_off(b), free_off(db), free_off(dbr);
}

static void test_bias_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t r = 0; r < sizeof ROWS / sizeof ROWS[0]; r++)
            for (size_t c = 0; c < sizeof COLS / sizeof COLS[0]; c++)
                for (int pad = 0; pad <= 5; pad += 5)
                    check_bias_shape(ROWS[r], COLS[c], COLS[c] + pad, 41 + r * 100 + c);
        /* above the OpenMP threshold: rows split for add, columns for grad */
        check_bias_shape(700, 130, 133, 99);
        check_bias_shape(40, 1500, 1501, 98);
    }
}

/* L(b) = sum_{r,c} (y(r,c) + b(c)) R(r,c): dL/db(c) = sum_r R(r,c). */
typedef struct {
    const double *R;
    int rows, cols;
} bias_ctx_t;

static double bias_loss(const double *b, void *vctx)
{
    const bias_ctx_t *c = vctx;
    double s = 0;
    for (int r = 0; r < c->rows; r++)
        for (int j = 0; j < c->cols; j++) s += (1.0 + b[j]) * c->R[r * c->cols + j];
    return s;
}

static void test_bias_grad_finite_differences(void **state)
{
    (void)state;
    enum { ROWS_FD = 5, COLS_FD = 19, LD_FD = 23 };
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        float dy[ROWS_FD * LD_FD], db[COLS_FD], d0[COLS_FD];
        double R[ROWS_FD * COLS_FD], b[COLS_FD], want[COLS_FD];
        jg_test_fill_uniform(dy, ROWS_FD * LD_FD, -1.0f, 1.0f, 51);
        jg_test_fill_uniform(d0, COLS_FD, -1.0f, 1.0f, 52);
        memcpy(db, d0, sizeof db);
        for (int r = 0; r < ROWS_FD; r++)
            for (int c = 0; c < COLS_FD; c++) R[r * COLS_FD + c] = dy[r * LD_FD + c];
        for (int c = 0; c < COLS_FD; c++) b[c] = 0.1 * c;
        bias_ctx_t ctx = {R, ROWS_FD, COLS_FD};
        for (int c = 0; c < COLS_FD; c++)
            want[c] = d0[c] + jg_test_fd(bias_loss, b, (size_t)c, FD_H, &ctx);
        assert_int_equal(jg_bias_grad_rows(db, dy, ROWS_FD, COLS_FD, LD_FD), 0);
        jg_test_assert_close_d("bias_grad fd", db, want, COLS_FD, TOL_FD_RTOL, TOL_FD_ATOL);
    }
}

/* Element-wise results and bias_grad do not depend on the thread count:
 * 1 thread and the default count must agree bit for bit. Skipped when the
 * process runs single-threaded (no OpenMP, or OMP_NUM_THREADS=1). */
static void test_thread_count_independent(void **state)
{
    (void)state;
    const int nt = jg_kernels_threads();
    if (nt < 2) {
        skip();
        return;
    }
    enum { N = 100003, ROWS_T = 300, COLS_T = 333 };
    float *x = jg_test_alloc(N), *y1 = jg_test_alloc(N), *y2 = jg_test_alloc(N);
    float *db1 = jg_test_alloc_zero(COLS_T), *db2 = jg_test_alloc_zero(COLS_T);
    jg_test_fill_uniform(x, N, -10.0f, 10.0f, 77);
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        assert_int_equal(jg_kernels_set_threads(1), 0);
        assert_int_equal(jg_tanh_forward(y1, x, N), 0);
        assert_int_equal(jg_bias_grad_rows(db1, x, ROWS_T, COLS_T, COLS_T), 0);
        assert_int_equal(jg_kernels_set_threads(nt), 0);
        assert_int_equal(jg_tanh_forward(y2, x, N), 0);
        assert_int_equal(jg_bias_grad_rows(db2, x, ROWS_T, COLS_T, COLS_T), 0);
        assert_memory_equal(y1, y2, N * sizeof(float));
        assert_memory_equal(db1, db2, COLS_T * sizeof(float));
    }
    free(x), free(y1), free(y2), free(db1), free(db2);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    float a[8] = {0}, b[8] = {0}, c[8] = {0};
    const fwd_fn fwd[] = {jg_relu_forward, jg_relu_forward_ref, jg_sigmoid_forward,
                          jg_sigmoid_forward_ref, jg_tanh_forward, jg_tanh_forward_ref};
    const bwd_fn bwd[] = {jg_relu_backward, jg_relu_backward_ref, jg_sigmoid_backward,
                          jg_sigmoid_backward_ref, jg_tanh_backward, jg_tanh_backward_ref};
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
        assert_int_equal(fwd[i](NULL, a, 8), -EINVAL);
        assert_int_equal(fwd[i](a, NULL, 8), -EINVAL);
        assert_int_equal(fwd[i](NULL, a, 0), -EINVAL); /* NULL wins over n == 0 */
        assert_int_equal(bwd[i](NULL, a, b, 8), -EINVAL);
        assert_int_equal(bwd[i](a, NULL, b, 8), -EINVAL);
        assert_int_equal(bwd[i](a, b, NULL, 8), -EINVAL);
    }
    assert_int_equal(jg_leaky_relu_forward(NULL, a, 0.1f, 8), -EINVAL);
    assert_int_equal(jg_leaky_relu_forward_ref(a, NULL, 0.1f, 8), -EINVAL);
    assert_int_equal(jg_leaky_relu_backward(a, NULL, b, 0.1f, 8), -EINVAL);
    assert_int_equal(jg_leaky_relu_backward_ref(a, b, NULL, 0.1f, 8), -EINVAL);

    /* n == 0: success and nothing touched */
    for (int i = 0; i < 8; i++) a[i] = 7.0f;
    for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++) {
        assert_int_equal(fwd[i](a, b, 0), 0);
        assert_int_equal(bwd[i](a, b, c, 0), 0);
    }
    assert_int_equal(jg_leaky_relu_forward(a, b, 0.1f, 0), 0);
    assert_int_equal(jg_leaky_relu_backward(a, b, c, 0.1f, 0), 0);
    for (int i = 0; i < 8; i++) assert_true(a[i] == 7.0f);

    typedef int (*bias_fn)(float *, const float *, int, int, int);
    const bias_fn bias[] = {jg_bias_add_rows, jg_bias_add_rows_ref, jg_bias_grad_rows,
                            jg_bias_grad_rows_ref};
    for (size_t i = 0; i < sizeof bias / sizeof bias[0]; i++) {
        assert_int_equal(bias[i](NULL, b, 2, 3, 3), -EINVAL);
        assert_int_equal(bias[i](a, NULL, 2, 3, 3), -EINVAL);
        assert_int_equal(bias[i](a, b, 0, 3, 3), -EINVAL);
        assert_int_equal(bias[i](a, b, -1, 3, 3), -EINVAL);
        assert_int_equal(bias[i](a, b, 2, 0, 3), -EINVAL);
        assert_int_equal(bias[i](a, b, 2, -3, 3), -EINVAL);
        assert_int_equal(bias[i](a, b, 2, 3, 2), -EINVAL); /* ld < cols */
        assert_int_equal(bias[i](a, b, 2, 3, 4), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_vs_ref),
        cmocka_unit_test(test_relu_set_vs_ref),
        cmocka_unit_test(test_leaky_vs_ref),
        cmocka_unit_test(test_exp_accuracy_and_extremes),
        cmocka_unit_test(test_backward_finite_differences),
        cmocka_unit_test(test_bias_vs_ref),
        cmocka_unit_test(test_bias_grad_finite_differences),
        cmocka_unit_test(test_thread_count_independent),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
