/* SPDX-License-Identifier: MIT */
/* Backward of every layer kind against central finite differences of an
 * independent double-precision forward (a plain-loop interpreter of the
 * model's layers), on every ISA; then the library's own gradient checker,
 * dropout included. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_nn.h"

/* The float forward/backward carry ~1e-6 relative rounding (sums of at most
 * a few hundred float products); the double FD with h = 1e-6 has truncation
 * ~h^2 and rounding ~1e-10, so 1e-3 relative + 1e-5 absolute separates
 * rounding from a wrong formula by orders of magnitude (a wrong index or a
 * missing term gives errors of order 1). */
#define FD_H 1e-6
#define GRAD_RTOL 1e-3
#define GRAD_ATOL 1e-5
/* float forward loss vs the double interpreter */
#define LOSS_RTOL 1e-5
/* Library checker (float logits, eps = 1e-2, shrunk to eps/16 near kinks).
 * Nets whose kinks are rare pass at eps itself: the loss carries ~1e-6
 * absolute float noise, ~5e-5 in the quotient, against the 1e-2 floor of
 * the denominator (measured max 8e-4): GC_TOL_SMOOTH. In the deep relu +
 * maxpool presets most first-layer values sit near some kink and are checked
 * at eps/16, where the same noise is ~1e-3 absolute (measured max 2.5e-2 for
 * default, 8.7e-2 for lenet5 on 28x28): GC_TOL_KINKY. A wrong formula (sign,
 * missing term, wrong index) gives errors of order 1. */
#define GC_EPS 1e-2f
#define GC_TOL_SMOOTH 5e-3
#define GC_TOL_KINKY 0.15

typedef struct {
    jg_model_t *m;
    int n_layers, batch;
    const int32_t *labels;
    size_t np, nx;
    double *p;     /* parameters in double, arena layout */
    double *buf;   /* scratch activations, two ping-pong buffers */
    size_t cap;
} ref_t;

static size_t poff(ref_t *r, const float *ptr)
{
    return (size_t)(ptr - jg_model_params(r->m));
}

/* One layer in double: y = f(x); x is (B, in_c, in_h, in_w). */
static void ref_layer(ref_t *r, const jg_layer_info_t *li, const double *x, double *y)
{
    const int B = r->batch, C = li->in_c, H = li->in_h, W = li->in_w;
    const int K = li->out_c, OH = li->out_h, OW = li->out_w;
    const size_t in_n = (size_t)C * H * W, out_n = (size_t)K * OH * OW;
    const jg_layer_spec_t *s = &li->spec;
    switch (li->kind) {
    case JG_LAYER_CONV2D: {
        const double *w = r->p + poff(r, li->weight), *b = r->p + poff(r, li->bias);
        for (int n = 0; n < B; n++)
            for (int k = 0; k < K; k++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        double acc = b[k];
                        for (int c = 0; c < C; c++)
                            for (int i = 0; i < s->kh; i++)
                                for (int j = 0; j < s->kw; j++) {
                                    const int ih = oh * s->stride_h + i - s->pad_h;
                                    const int iw = ow * s->stride_w + j - s->pad_w;
                                    if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                    acc += w[((k * C + c) * s->kh + i) * s->kw + j] *
                                           x[((size_t)(n * C + c) * H + ih) * W + iw];
                                }
                        y[((size_t)(n * K + k) * OH + oh) * OW + ow] = acc;
                    }
        break;
    }
    case JG_LAYER_LINEAR: {
        const double *w = r->p + poff(r, li->weight), *b = r->p + poff(r, li->bias);
        for (int n = 0; n < B; n++)
            for (int o = 0; o < K; o++) {
                double acc = b[o];
                for (size_t i = 0; i < in_n; i++) acc += w[o * in_n + i] * x[n * in_n + i];
                y[n * out_n + o] = acc;
            }
        break;
    }
    case JG_LAYER_RELU:
        for (size_t i = 0; i < B * in_n; i++) y[i] = x[i] > 0 ? x[i] : 0.0;
        break;
    case JG_LAYER_LEAKY_RELU:
        for (size_t i = 0; i < B * in_n; i++) y[i] = x[i] > 0 ? x[i] : s->slope * x[i];
        break;
    case JG_LAYER_SIGMOID:
        for (size_t i = 0; i < B * in_n; i++) y[i] = 1.0 / (1.0 + exp(-x[i]));
        break;
    case JG_LAYER_TANH:
        for (size_t i = 0; i < B * in_n; i++) y[i] = tanh(x[i]);
        break;
    case JG_LAYER_FLATTEN:
        memcpy(y, x, B * in_n * sizeof(double));
        break;
    case JG_LAYER_MAXPOOL2D:
    case JG_LAYER_AVGPOOL2D:
        for (int n = 0; n < B; n++)
            for (int c = 0; c < C; c++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++) {
                        double mx = -INFINITY, sum = 0.0;
                        for (int i = 0; i < s->kh; i++)
                            for (int j = 0; j < s->kw; j++) {
                                const int ih = oh * s->stride_h + i - s->pad_h;
                                const int iw = ow * s->stride_w + j - s->pad_w;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const double v = x[((size_t)(n * C + c) * H + ih) * W + iw];
                                mx = v > mx ? v : mx;
                                sum += v;
                            }
                        y[((size_t)(n * C + c) * OH + oh) * OW + ow] =
                            li->kind == JG_LAYER_MAXPOOL2D ? mx : sum / (s->kh * s->kw);
                    }
        break;
    case JG_LAYER_BATCHNORM2D: {
        const double *g = r->p + poff(r, li->weight), *b = r->p + poff(r, li->bias);
        const size_t hw = (size_t)H * W;
        for (int c = 0; c < C; c++) {
            double mean = 0.0, var = 0.0;
            for (int n = 0; n < B; n++)
                for (size_t i = 0; i < hw; i++) mean += x[(n * C + c) * hw + i];
            mean /= (double)B * hw;
            for (int n = 0; n < B; n++)
                for (size_t i = 0; i < hw; i++) {
                    const double d = x[(n * C + c) * hw + i] - mean;
                    var += d * d;
                }
            var /= (double)B * hw;
            const double rstd = 1.0 / sqrt(var + s->eps);
            for (int n = 0; n < B; n++)
                for (size_t i = 0; i < hw; i++) {
                    const size_t k = (n * C + c) * hw + i;
                    y[k] = g[c] * (x[k] - mean) * rstd + b[c];
                }
        }
        break;
    }
    default:
        fail_msg("interpreter: layer kind %d unsupported", li->kind);
    }
}

/* Mean softmax cross-entropy of the model in double (training mode). */
static double ref_loss(const double *x, void *ctx)
{
    ref_t *r = ctx;
    /* inputs and parameters share one vector: [params | x] */
    (void)x;
    const double *cur = r->p + r->np;
    double *a = r->buf, *b = r->buf + r->cap;
    for (int i = 0; i < r->n_layers; i++) {
        jg_layer_info_t li;
        assert_int_equal(jg_model_layer(r->m, i, &li), 0);
        ref_layer(r, &li, cur, a);
        cur = a;
        double *t = a;
        a = b;
        b = t;
    }
    const int K = jg_model_classes(r->m);
    double loss = 0.0;
    for (int n = 0; n < r->batch; n++) {
        const double *z = cur + (size_t)n * K;
        double mx = z[0], s = 0.0;
        for (int k = 1; k < K; k++) mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < K; k++) s += exp(z[k] - mx);
        loss += log(s) + mx - z[r->labels[n]];
    }
    return loss / r->batch;
}

/* Float backward of `spec` vs double FD of the interpreter, every parameter
 * and every input element. */
static void check_spec(const char *spec, int c, int h, int w, int k, int batch)
{
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    if (jg_model_create(&m, spec, c, h, w, k, 1234, &err)) fail_msg("%s: %s", spec, err.msg);
    assert_int_equal(jg_model_reserve(m, batch), 0);
    jg_model_set_input_grad(m, 1);
    ref_t r = { .m = m, .n_layers = jg_model_n_layers(m), .batch = batch };
    r.np = (size_t)jg_model_n_params(m);
    r.nx = (size_t)batch * c * h * w;
    /* non-trivial batchnorm affine parameters and biases */
    float *P = jg_model_params(m);
    for (int i = 0; i < r.n_layers; i++) {
        jg_layer_info_t li;
        assert_int_equal(jg_model_layer(m, i, &li), 0);
        for (size_t j = 0; j < li.n_bias; j++) li.bias[j] = 0.1f * (float)((int)(j % 5) - 2);
        if (li.kind == JG_LAYER_BATCHNORM2D)
            for (size_t j = 0; j < li.n_weight; j++) li.weight[j] = 0.5f + 0.25f * (float)j;
        const size_t n = (size_t)batch * li.out_c * li.out_h * li.out_w;
        if (n > r.cap) r.cap = n;
    }
    float *x = jg_test_alloc(r.nx);
    jg_test_fill_uniform(x, r.nx, -1.5f, 1.5f, 77);
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    assert_non_null(labels);
    for (int i = 0; i < batch; i++) labels[i] = (int32_t)((i * 7 + 3) % k);
    r.labels = labels;
    r.p = malloc((r.np + r.nx) * sizeof(double));
    r.buf = malloc(2 * r.cap * sizeof(double));
    assert_non_null(r.p);
    assert_non_null(r.buf);
    for (size_t i = 0; i < r.np; i++) r.p[i] = P[i];
    for (size_t i = 0; i < r.nx; i++) r.p[r.np + i] = x[i];

    jg_isa_t isas[JG_ISA_COUNT];
    const int n_isa = jg_test_isas(isas);
    const jg_isa_t isa0 = jg_kernels_isa();
    for (int t = 0; t < n_isa; t++) {
        assert_int_equal(jg_kernels_set_isa(isas[t]), 0);
        float loss;
        assert_int_equal(jg_model_forward(m, x, batch, 1, NULL), 0);
        assert_int_equal(jg_model_loss(m, labels, &loss), 0);
        assert_int_equal(jg_model_backward(m), 0);
        const double want = ref_loss(r.p, &r);
        if (fabs(loss - want) > LOSS_RTOL * fabs(want) + 1e-6)
            fail_msg("%s [%s]: loss %.9g want %.9g", spec, jg_isa_name(isas[t]), loss, want);
        const float *g = jg_model_grads(m), *gx = jg_model_input_grad(m);
        assert_non_null(gx);
        for (size_t i = 0; i < r.np + r.nx; i++) {
            const double fd = jg_test_fd(ref_loss, r.p, i, FD_H, &r);
            const double got = i < r.np ? g[i] : gx[i - r.np];
            if (fabs(got - fd) > GRAD_ATOL + GRAD_RTOL * fabs(fd))
                fail_msg("%s [%s]: d%s[%zu] = %.9g, finite difference %.9g", spec,
                         jg_isa_name(isas[t]), i < r.np ? "param" : "x",
                         i < r.np ? i : i - r.np, got, fd);
        }
    }
    assert_int_equal(jg_kernels_set_isa(isa0), 0);
    free(r.p);
    free(r.buf);
    free(labels);
    free(x);
    jg_model_destroy(m);
}

static void test_conv_stride_pad(void **state)
{
    (void)state;
    check_spec("conv(3,3,stride=2,pad=1) flatten linear(3)", 2, 5, 5, 3, 3);
    check_spec("conv(2,kh=2,kw=3,stride_h=1,stride_w=2,pad_h=1,pad_w=0) flatten linear(4)",
               3, 4, 6, 4, 2);
    /* conv not first: its input gradient is exercised too */
    check_spec("conv(2,1) conv(3,3,pad=1) flatten linear(3)", 1, 4, 4, 3, 2);
}

static void test_linear(void **state)
{
    (void)state;
    check_spec("linear(5) linear(3)", 2, 2, 2, 3, 4);
    check_spec("flatten linear(17) linear(2)", 1, 3, 3, 2, 1);
}

static void test_activations(void **state)
{
    (void)state;
    check_spec("linear(6) relu linear(3)", 1, 2, 3, 3, 3);
    check_spec("linear(6) leaky_relu(0.1) linear(3)", 1, 2, 3, 3, 3);
    check_spec("linear(6) sigmoid linear(3)", 1, 2, 3, 3, 3);
    check_spec("linear(6) tanh linear(3)", 1, 2, 3, 3, 3);
    /* activation as the first layer (no input gradient buffer) */
    check_spec("tanh flatten linear(3)", 2, 2, 2, 3, 2);
}

static void test_pooling(void **state)
{
    (void)state;
    check_spec("conv(2,3,pad=1) maxpool(2) flatten linear(3)", 1, 5, 5, 3, 2);
    check_spec("conv(2,3,pad=1) maxpool(3,2,1) flatten linear(3)", 1, 5, 5, 3, 2);
    check_spec("conv(2,3,pad=1) avgpool(2) flatten linear(3)", 1, 5, 5, 3, 2);
    check_spec("conv(2,3,pad=1) avgpool(3,2,1) flatten linear(3)", 1, 5, 5, 3, 2);
}

static void test_batchnorm(void **state)
{
    (void)state;
    check_spec("conv(3,3,pad=1) batchnorm flatten linear(3)", 1, 4, 4, 3, 3);
    /* batchnorm first: its dx goes to the input-gradient buffer */
    check_spec("batchnorm(eps=1e-3) tanh flatten linear(3)", 2, 3, 3, 3, 4);
}

static void test_library_gradcheck(void **state)
{
    (void)state;
    static const char *specs[] = {
        "default",
        "conv(4,3,stride=2,pad=1) batchnorm leaky_relu avgpool(2) flatten dropout(0.3) "
        "linear(8) sigmoid linear(10)",
        "paper-simplecnn",
        "lenet5",
    };
    /* relu + maxpool nets are "kinky" (see GC_TOL_KINKY) */
    static const double tol[] = { GC_TOL_KINKY, GC_TOL_SMOOTH, GC_TOL_KINKY, GC_TOL_KINKY };
    jg_isa_t isas[JG_ISA_COUNT];
    const int n_isa = jg_test_isas(isas);
    const jg_isa_t isa0 = jg_kernels_isa();
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        const int hw = s == 3 ? 28 : 8, B = 3;
        jg_model_t *m = NULL;
        jg_nn_error_t err;
        if (jg_model_create(&m, specs[s], 1, hw, hw, 10, 99, &err)) fail_msg("%s", err.msg);
        assert_int_equal(jg_model_reserve(m, B), 0);
        float *x = jg_test_alloc((size_t)B * hw * hw);
        jg_test_fill_uniform(x, (size_t)B * hw * hw, -1, 1, 5);
        const int32_t y[3] = { 1, 4, 9 };
        const size_t np = (size_t)jg_model_n_params(m);
        float *before = jg_test_alloc(np);
        memcpy(before, jg_model_params(m), np * sizeof(float));
        for (int t = 0; t < n_isa; t++) {
            assert_int_equal(jg_kernels_set_isa(isas[t]), 0);
            double e = -1.0;
            assert_int_equal(jg_model_gradcheck(m, x, y, B, GC_EPS, 40, &e), 0);
            if (!(e >= 0.0 && e < tol[s]))
                fail_msg("%s [%s]: max rel err %g", specs[s], jg_isa_name(isas[t]), e);
            /* parameters restored bit for bit */
            assert_memory_equal(before, jg_model_params(m), np * sizeof(float));
        }
        free(before);
        free(x);
        jg_model_destroy(m);
    }
    assert_int_equal(jg_kernels_set_isa(isa0), 0);
}

/* The checker must be able to fail: a huge eps on a curved net gives a
 * difference quotient far from the gradient. */
static void test_gradcheck_can_fail(void **state)
{
    (void)state;
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    assert_int_equal(jg_model_create(&m, "linear(8) sigmoid linear(4)", 1, 2, 2, 4, 3,
                                     &err), 0);
    assert_int_equal(jg_model_reserve(m, 2), 0);
    float x[8];
    jg_test_fill_uniform(x, 8, -1, 1, 6);
    const int32_t y[2] = { 0, 3 };
    double e;
    assert_int_equal(jg_model_gradcheck(m, x, y, 2, 4.0f, 30, &e), 0);
    assert_true(e > 0.1);
    assert_int_equal(jg_model_gradcheck(m, x, y, 2, 1e-2f, 30, &e), 0);
    assert_true(e < GC_TOL_SMOOTH);
    /* bad arguments */
    assert_int_equal(jg_model_gradcheck(m, x, y, 3, 1e-2f, 30, &e), -EINVAL);
    assert_int_equal(jg_model_gradcheck(m, x, y, 2, 0.0f, 30, &e), -EINVAL);
    assert_int_equal(jg_model_gradcheck(m, x, y, 2, 1e-2f, 0, &e), -EINVAL);
    assert_int_equal(jg_model_gradcheck(m, NULL, y, 2, 1e-2f, 3, &e), -EINVAL);
    assert_int_equal(jg_model_gradcheck(m, x, NULL, 2, 1e-2f, 3, &e), -EINVAL);
    assert_int_equal(jg_model_gradcheck(m, x, y, 2, 1e-2f, 3, NULL), -EINVAL);
    const int32_t bad[2] = { 0, 4 };
    assert_int_equal(jg_model_gradcheck(m, x, bad, 2, 1e-2f, 3, &e), -EINVAL);
    jg_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_stride_pad),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_pooling),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_library_gradcheck),
        cmocka_unit_test(test_gradcheck_can_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
