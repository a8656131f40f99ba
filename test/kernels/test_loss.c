/* SPDX-License-Identifier: MIT */
/* Softmax cross-entropy: every ISA vs the double-precision _ref oracle over
 * edge shapes, the gradient vs finite differences of a double loss,
 * determinism, extreme logits and bad arguments. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const int NS[] = {1, 3, 7, 17, 64};
static const int KS[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 65, 100, 1000};

/* probs vs the oracle (double, correctly rounded): vector exp <= 2 ulp;
 * x - max rounded to float costs up to |x - max| * 2^-24 relative, <= 8
 * FLT_EPSILON for these logits (|x - max| <= 16); the row sum is kept in
 * double, so only its rounding to float (0.5 ulp) and the division (0.5
 * ulp) add: 12 FLT_EPSILON, for any k (measured max 5.9 at k = 40009).
 * Tiny probabilities get an absolute slack far below anything that
 * matters to training. */
#define TOL_PROB_RTOL (12.0 * FLT_EPSILON)
#define TOL_PROB_ATOL 1e-12
/* loss: the row log-sum-exp is formed in double from float exps (<= 2 ulp
 * each, so log(sum) is off by <= 2 FLT_EPSILON absolute), then rounded to
 * float; atol covers losses near 0 where relative error means nothing. */
#define TOL_LOSS_RTOL (4.0 * FLT_EPSILON)
#define TOL_LOSS_ATOL 1e-6
/* backward: the same float operations as the _ref twin */
#define TOL_EXACT 0.0
/* finite differences of the double loss, h = 1e-4: truncation ~1e-9; the
 * kernel works from float probs (relative error ~1e-6 of p/n). */
#define FD_H 1e-4
#define TOL_FD_RTOL 1e-5
#define TOL_FD_ATOL 1e-6

static void set_isa(jg_isa_t isa)
{
    assert_int_equal(jg_kernels_set_isa(isa), 0);
}

static int32_t *alloc_labels(int n, int k, uint64_t seed)
{
    int32_t *l = jg_test_alloc_bytes((size_t)n * sizeof *l);
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) l[i] = (int32_t)(jg_test_rng_u64(&r) % (uint64_t)k);
    return l;
}

/* Logits in [-8, 8); every third row is shifted by +-1000 (the max shift
 * must make that harmless; x - max is exact there by Sterbenz). */
static float *alloc_logits(int n, int k, uint64_t seed)
{
    const size_t sz = (size_t)n * k;
    float *x = jg_test_alloc(sz);
    jg_test_fill_uniform(x, sz, -8.0f, 8.0f, seed);
    for (int i = 0; i < n; i++) {
        const float shift = i % 3 == 1 ? 1000.0f : i % 3 == 2 ? -1000.0f : 0.0f;
        for (int j = 0; j < k; j++) x[(size_t)i * k + j] += shift;
    }
    return x;
}

static void check_shape(jg_isa_t isa, int n, int k, uint64_t seed)
{
    const size_t sz = (size_t)n * k;
    float *x = alloc_logits(n, k, seed);
    int32_t *lab = alloc_labels(n, k, seed + 1);
    float *p = jg_test_alloc(sz), *pr = jg_test_alloc(sz);
    float *d = jg_test_alloc(sz), *dr = jg_test_alloc(sz);
    float loss = -1, lossr = -2;
    char what[96];

    assert_int_equal(jg_softmax_xent_forward(&loss, p, x, lab, n, k), 0);
    assert_int_equal(jg_softmax_xent_forward_ref(&lossr, pr, x, lab, n, k), 0);
    snprintf(what, sizeof what, "probs %s n=%d k=%d", jg_isa_name(isa), n, k);
    jg_test_assert_close(what, p, pr, sz, TOL_PROB_RTOL, TOL_PROB_ATOL);
    snprintf(what, sizeof what, "loss %s n=%d k=%d", jg_isa_name(isa), n, k);
    jg_test_assert_close(what, &loss, &lossr, 1, TOL_LOSS_RTOL, TOL_LOSS_ATOL);

    /* every row of probs sums to 1 */
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < k; j++) s += p[(size_t)i * k + j];
        assert_true(fabs(s - 1.0) <= TOL_PROB_RTOL);
    }

    /* backward accumulates into a pre-filled gradient, from the same probs */
    jg_test_fill_uniform(d, sz, -1.0f, 1.0f, seed + 2);
    memcpy(dr, d, sz * sizeof *d);
    assert_int_equal(jg_softmax_xent_backward(d, pr, lab, n, k, 0.75f), 0);
    assert_int_equal(jg_softmax_xent_backward_ref(dr, pr, lab, n, k, 0.75f), 0);
    snprintf(what, sizeof what, "dlogits %s n=%d k=%d", jg_isa_name(isa), n, k);
    jg_test_assert_close(what, d, dr, sz, TOL_EXACT, 0.0);

    free(x), free(lab), free(p), free(pr), free(d), free(dr);
}

static void test_vs_ref(void **state)
{
    (void)state;
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t i = 0; i < sizeof NS / sizeof NS[0]; i++)
            for (size_t j = 0; j < sizeof KS / sizeof KS[0]; j++)
                check_shape(isas[a], NS[i], KS[j], 100 * i + j);
        check_shape(isas[a], 1031, 100, 7); /* n*k above the OpenMP threshold */
        check_shape(isas[a], 3, 40009, 8);  /* long rows */
    }
}

/* Same inputs, same thread count: bit-identical loss and probs. */
static void test_deterministic(void **state)
{
    (void)state;
    enum { N = 999, K = 77 };
    float *x = alloc_logits(N, K, 5), *p1 = jg_test_alloc(N * K), *p2 = jg_test_alloc(N * K);
    int32_t *lab = alloc_labels(N, K, 6);
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        float l1, l2;
        assert_int_equal(jg_softmax_xent_forward(&l1, p1, x, lab, N, K), 0);
        assert_int_equal(jg_softmax_xent_forward(&l2, p2, x, lab, N, K), 0);
        assert_memory_equal(&l1, &l2, sizeof l1);
        assert_memory_equal(p1, p2, sizeof(float) * N * K);
    }
    free(x), free(p1), free(p2), free(lab);
}

/* L(z) = scale/n sum_i (log sum_j e^z_ij - z_i,label) in double. */
typedef struct {
    const int32_t *lab;
    int n, k;
    double scale;
} xent_ctx_t;

static double xent_loss(const double *z, void *vctx)
{
    const xent_ctx_t *c = vctx;
    double total = 0;
    for (int i = 0; i < c->n; i++) {
        const double *zi = z + (size_t)i * c->k;
        double mx = zi[0], s = 0;
        for (int j = 1; j < c->k; j++) mx = zi[j] > mx ? zi[j] : mx;
        for (int j = 0; j < c->k; j++) s += exp(zi[j] - mx);
        total += log(s) + mx - zi[c->lab[i]];
    }
    return c->scale * total / c->n;
}

static void test_gradient_finite_differences(void **state)
{
    (void)state;
    static const int shapes[][2] = {{1, 1}, {3, 7}, {4, 17}, {2, 33}};
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int n = shapes[s][0], k = shapes[s][1];
            const size_t sz = (size_t)n * k;
            float *x = jg_test_alloc(sz), *p = jg_test_alloc(sz), *d = jg_test_alloc(sz);
            float *d0 = jg_test_alloc(sz);
            double *z = jg_test_alloc_bytes(sz * sizeof *z), *want = jg_test_alloc_bytes(sz * sizeof *want);
            int32_t *lab = alloc_labels(n, k, 60 + s);
            jg_test_fill_uniform(x, sz, -3.0f, 3.0f, 61 + s);
            jg_test_fill_uniform(d0, sz, -0.5f, 0.5f, 62 + s);
            memcpy(d, d0, sz * sizeof *d);
            float loss;
            assert_int_equal(jg_softmax_xent_forward(&loss, p, x, lab, n, k), 0);
            assert_int_equal(jg_softmax_xent_backward(d, p, lab, n, k, 2.5f), 0);
            xent_ctx_t ctx = {lab, n, k, 2.5};
            for (size_t i = 0; i < sz; i++) z[i] = x[i];
            const double lwant = xent_loss(z, &ctx) / 2.5;
            assert_true(fabs(loss - lwant) <= TOL_LOSS_ATOL + TOL_LOSS_RTOL * fabs(lwant));
            for (size_t i = 0; i < sz; i++) want[i] = d0[i] + jg_test_fd(xent_loss, z, i, FD_H, &ctx);
            jg_test_assert_close_d("dlogits vs fd", d, want, sz, TOL_FD_RTOL, TOL_FD_ATOL);
            free(x), free(p), free(d), free(d0), free(z), free(want), free(lab);
        }
    }
}

/* Logits of +-1e30 and a label on the loser: finite probs and loss. */
static void test_extreme_logits(void **state)
{
    (void)state;
    const float x[2][5] = {{1e30f, -1e30f, 0.0f, -1e30f, 3.0f}, {-88.0f, 88.0f, -100.0f, 100.0f, 0.0f}};
    const int32_t lab[2] = {1, 2};
    jg_isa_t isas[JG_ISA_COUNT];
    const int nisa = jg_test_isas(isas);
    for (int a = 0; a < nisa; a++) {
        set_isa(isas[a]);
        float p[10], loss;
        assert_int_equal(jg_softmax_xent_forward(&loss, p, &x[0][0], lab, 2, 5), 0);
        for (int i = 0; i < 10; i++) assert_true(isfinite(p[i]) && p[i] >= 0.0f && p[i] <= 1.0f);
        assert_true(p[0] == 1.0f && p[1] == 0.0f);
        assert_true(isfinite(loss));
        /* row 0 loses 2e30, row 1 loses 200 + log(1 + e^-12 + ...) */
        assert_true(fabs(loss - 1e30) <= 1e30 * 1e-6);
    }
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    float x[6] = {0}, p[6], loss = 42.0f;
    int32_t lab[2] = {0, 2};
    typedef int (*fwd_fn)(float *, float *, const float *, const int32_t *, int, int);
    typedef int (*bwd_fn)(float *, const float *, const int32_t *, int, int, float);
    const fwd_fn fwd[] = {jg_softmax_xent_forward, jg_softmax_xent_forward_ref};
    const bwd_fn bwd[] = {jg_softmax_xent_backward, jg_softmax_xent_backward_ref};
    for (int f = 0; f < 2; f++) {
        for (int i = 0; i < 6; i++) p[i] = 7.0f;
        loss = 42.0f;
        assert_int_equal(fwd[f](NULL, p, x, lab, 2, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, NULL, x, lab, 2, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, p, NULL, lab, 2, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, p, x, NULL, 2, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, p, x, lab, 0, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, p, x, lab, -2, 3), -EINVAL);
        assert_int_equal(fwd[f](&loss, p, x, lab, 2, 0), -EINVAL);
        assert_int_equal(bwd[f](NULL, x, lab, 2, 3, 1.0f), -EINVAL);
        assert_int_equal(bwd[f](p, NULL, lab, 2, 3, 1.0f), -EINVAL);
        assert_int_equal(bwd[f](p, x, NULL, 2, 3, 1.0f), -EINVAL);
        assert_int_equal(bwd[f](p, x, lab, 2, -1, 1.0f), -EINVAL);
        /* labels outside [0, k): rejected before anything is written */
        lab[1] = 3;
        assert_int_equal(fwd[f](&loss, p, x, lab, 2, 3), -EINVAL);
        assert_int_equal(bwd[f](p, x, lab, 2, 3, 1.0f), -EINVAL);
        lab[1] = -1;
        assert_int_equal(fwd[f](&loss, p, x, lab, 2, 3), -EINVAL);
        assert_int_equal(bwd[f](p, x, lab, 2, 3, 1.0f), -EINVAL);
        for (int i = 0; i < 6; i++) assert_true(p[i] == 7.0f);
        assert_true(loss == 42.0f);
        lab[1] = 2;
        assert_int_equal(fwd[f](&loss, p, x, lab, 2, 3), 0);
        assert_true(fabsf(loss - logf(3.0f)) < 1e-6f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vs_ref),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_gradient_finite_differences),
        cmocka_unit_test(test_extreme_logits),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
