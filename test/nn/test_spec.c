/* SPDX-License-Identifier: MIT */
/* Model spec parser, presets and their expansion: valid specs, every error
 * kind with its position, preset parameters and the spec round trip. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "jg_nn.h"

#define CAP 64

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle)) fail_msg("'%s' does not contain '%s'", hay, needle);
}

static void test_parse_valid(void **state)
{
    (void)state;
    jg_layer_spec_t L[CAP];
    int n = -1;
    jg_nn_error_t err;
    assert_int_equal(jg_nn_parse("conv(32,3,pad=1) relu maxpool(2) conv(64,3,pad=1) relu "
                                 "maxpool(2) flatten linear(128) relu linear(10)",
                                 L, CAP, &n, &err), 0);
    assert_int_equal(n, 10);
    assert_int_equal(L[0].kind, JG_LAYER_CONV2D);
    assert_int_equal(L[0].out, 32);
    assert_int_equal(L[0].kh, 3);
    assert_int_equal(L[0].kw, 3);
    assert_int_equal(L[0].pad_h, 1);
    assert_int_equal(L[0].stride_w, 1);
    assert_int_equal(L[0].col, 1);
    assert_int_equal(L[1].kind, JG_LAYER_RELU);
    assert_int_equal(L[1].col, 18);
    assert_int_equal(L[2].kind, JG_LAYER_MAXPOOL2D);
    assert_int_equal(L[2].kh, 2);
    assert_int_equal(L[2].stride_h, 2); /* stride defaults to the window */
    assert_int_equal(L[6].kind, JG_LAYER_FLATTEN);
    assert_int_equal(L[9].kind, JG_LAYER_LINEAR);
    assert_int_equal(L[9].out, 10);

    /* separators, newlines, comments, keys, aliases, defaults */
    assert_int_equal(jg_nn_parse("conv2d(out=8, kh=3, kw=5, stride_h=2, pad_w=2);\n"
                                 "  batchnorm , dropout(0.25) # comment\n"
                                 "leaky_relu(slope=0.2) avgpool(3, 1, 1) sigmoid tanh "
                                 "batchnorm2d(eps=1e-3,momentum=0.5) leaky_relu dropout "
                                 "maxpool2d(kh=2,kw=3)",
                                 L, CAP, &n, &err), 0);
    assert_int_equal(n, 11);
    assert_int_equal(L[0].out, 8);
    assert_int_equal(L[0].kh, 3);
    assert_int_equal(L[0].kw, 5);
    assert_int_equal(L[0].stride_h, 2);
    assert_int_equal(L[0].stride_w, 1);
    assert_int_equal(L[0].pad_h, 0);
    assert_int_equal(L[0].pad_w, 2);
    assert_int_equal(L[1].kind, JG_LAYER_BATCHNORM2D);
    assert_true(L[1].eps == 1e-5f && L[1].momentum == 0.1f);
    assert_int_equal(L[1].line, 2);
    assert_int_equal(L[1].col, 3);
    assert_true(L[2].p == 0.25f);
    assert_int_equal(L[3].kind, JG_LAYER_LEAKY_RELU);
    assert_int_equal(L[3].line, 3);
    assert_true(L[3].slope == 0.2f);
    assert_int_equal(L[4].kind, JG_LAYER_AVGPOOL2D);
    assert_int_equal(L[4].kh, 3);
    assert_int_equal(L[4].stride_h, 1);
    assert_int_equal(L[4].pad_w, 1);
    assert_int_equal(L[5].kind, JG_LAYER_SIGMOID);
    assert_int_equal(L[6].kind, JG_LAYER_TANH);
    assert_true(L[7].eps == 1e-3f && L[7].momentum == 0.5f);
    assert_true(L[8].slope == 0.01f);
    assert_true(L[9].p == 0.5f);
    assert_int_equal(L[10].kh, 2);
    assert_int_equal(L[10].kw, 3);
    assert_int_equal(L[10].stride_w, 3);
}

typedef struct {
    const char *spec;
    const char *want; /* substring of the message, position included */
} bad_t;

static void test_parse_errors(void **state)
{
    (void)state;
    static const bad_t bad[] = {
        { "conv(32,3) relu cnv(3)", "spec:1:17: unknown layer 'cnv' (expected one of conv, linear" },
        { "linear(x)", "spec:1:8: in 'linear(x)': expected a positive integer for out" },
        { "linear(0)", "spec:1:8: in 'linear(0)': expected a positive integer for out" },
        { "linear(-3)", "expected a positive integer for out" },
        { "linear(3.5)", "expected a positive integer for out" },
        { "linear", "spec:1:1: in 'linear': missing argument 'out'" },
        { "linear()", "missing argument 'out'" },
        { "relu\n  conv(8)", "spec:2:3: in 'conv(8)': missing kernel size" },
        { "conv(8,3,bogus=1)", "spec:1:10: in 'conv(8,3,bogus=1)': unknown argument 'bogus' (expected out, k" },
        { "conv(8,3,pad=-1)", "spec:1:14: in 'conv(8,3,pad=-1)': expected a non-negative integer for pad" },
        { "conv(8,3,1,0,9)", "spec:1:14: in 'conv(8,3,1,0,9)': too many positional arguments (at most 4)" },
        { "conv(out=8,3)", "positional argument after key=value" },
        { "conv(8,k=3,k=3)", "spec:1:12: in 'conv(8,k=3,k=3)': argument 'k' given twice" },
        { "relu(1)", "spec:1:6: in 'relu(1)': too many positional arguments (at most 0)" },
        { "linear(10", "missing ')' for '(' opened at 1:7" },
        { "linear(10 20)", "spec:1:11: in 'linear(10 20)': unexpected '2' in argument list" },
        { "linear(10)x", "spec:1:11: unexpected 'x' after 'linear(10)'" },
        { "relu 3", "spec:1:6: unexpected '3' (expected a layer name)" },
        { "linear(,)", "spec:1:8: in 'linear(,)': expected a value" },
        { "dropout(1)", "spec:1:9: in 'dropout(1)': expected a number in [0, 1) for p" },
        { "dropout(abc)", "expected a number in [0, 1) for p" },
        { "batchnorm(eps=0)", "expected a positive number for eps" },
        { "batchnorm(momentum=2)", "expected a number in [0, 1] for momentum" },
        { "leaky_relu(slope=x)", "expected a number for slope" },
        { "maxpool", "missing window size" },
        { "", "empty model spec" },
        { " ,; \n", "empty model spec" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        jg_layer_spec_t L[CAP];
        int n = 0;
        jg_nn_error_t err;
        const int rc = jg_nn_parse(bad[i].spec, L, CAP, &n, &err);
        if (rc != -EINVAL) fail_msg("spec '%s' gave %d, want -EINVAL", bad[i].spec, rc);
        assert_contains(err.msg, bad[i].want);
    }
    jg_layer_spec_t L[2];
    int n;
    jg_nn_error_t err;
    assert_int_equal(jg_nn_parse("relu relu relu", L, 2, &n, &err), -ENOSPC);
    assert_contains(err.msg, "spec:1:11: too many layers");
    assert_int_equal(jg_nn_parse(NULL, L, 2, &n, &err), -EINVAL);
    assert_int_equal(jg_nn_parse("relu", NULL, 2, &n, &err), -EINVAL);
    assert_int_equal(jg_nn_parse("relu", L, 2, NULL, NULL), -EINVAL);
}

static void test_shape_errors(void **state)
{
    (void)state;
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    /* 1x2x2: conv 3x3 without pad cannot fit */
    assert_int_equal(jg_model_create(&m, "conv(4,3) flatten linear(10)", 1, 2, 2, 10, 1,
                                     &err), -EINVAL);
    assert_null(m);
    assert_contains(err.msg, "spec:1:1: conv(4,3): output would be 0x0 (kernel larger "
                             "than the padded input) for input 1x2x2");
    /* the second pool sees 4x1x1 */
    assert_int_equal(jg_model_create(&m, "conv(4,1) maxpool(2)  maxpool(2) flatten "
                                     "linear(10)", 1, 2, 2, 10, 1, &err), -EINVAL);
    assert_contains(err.msg, "spec:1:23: maxpool(2): output would be 0x0 (window "
                             "larger than the padded input) for input 4x1x1");
    assert_int_equal(jg_model_create(&m, "maxpool(2,pad=2) flatten linear(3)", 1, 8, 8,
                                     3, 1, &err), -EINVAL);
    assert_contains(err.msg, "pad must be at most half the window");
    /* no auto-append of the final linear: an error that says what to add */
    assert_int_equal(jg_model_create(&m, "conv(4,3) relu flatten linear(7)", 1, 5, 5, 10,
                                     1, &err), -EINVAL);
    assert_contains(err.msg, "spec:1:24: final layer 'linear(7)' outputs 7x1x1 = 7 values "
                             "per image but there are 10 classes; end the spec with "
                             "linear(10)");
    assert_int_equal(jg_model_create(&m, "relu", 1, 2, 2, 10, 1, &err), -EINVAL);
    assert_contains(err.msg, "end the spec with linear(10)");
    /* syntax errors come through create unchanged */
    assert_int_equal(jg_model_create(&m, "conv(4,3) cnv", 1, 8, 8, 10, 1, &err), -EINVAL);
    assert_contains(err.msg, "spec:1:11: unknown layer 'cnv'");
    assert_int_equal(jg_model_create(&m, "linear(10)", 0, 8, 8, 10, 1, &err), -EINVAL);
    assert_int_equal(jg_model_create(&m, "linear(10)", 1, 8, 8, 0, 1, &err), -EINVAL);
    assert_int_equal(jg_model_create(NULL, "linear(10)", 1, 8, 8, 10, 1, &err), -EINVAL);
    assert_int_equal(jg_model_create(&m, NULL, 1, 8, 8, 10, 1, &err), -EINVAL);
    /* a conv output that is one pixel is fine; zero is not */
    assert_int_equal(jg_model_create(&m, "conv(2,2,stride=5) flatten linear(3)", 1, 2, 2,
                                     3, 1, &err), 0);
    jg_model_destroy(m);
}

static void expand_ok(const char *preset, int c, int h, int w, int k, const char *want)
{
    char buf[4096];
    jg_nn_error_t err;
    const int rc = jg_nn_preset_expand(preset, c, h, w, k, buf, sizeof buf, &err);
    if (rc) fail_msg("preset %s: %d %s", preset, rc, err.msg);
    if (strcmp(buf, want)) fail_msg("preset %s:\n got  %s\n want %s", preset, buf, want);
}

static void test_presets(void **state)
{
    (void)state;
    int n = 0;
    const jg_nn_preset_t *p = jg_nn_presets(&n);
    assert_int_equal(n, 6);
    const char *names[] = { "default", "lenet5", "paper-simplecnn",
                            "paper-simplecnn-norelu", "paper-densepoly",
                            "paper-denselinear" };
    for (int i = 0; i < n; i++) {
        assert_string_equal(p[i].name, names[i]);
        assert_non_null(p[i].description);
        assert_true(strlen(p[i].description) > 10);
        /* every preset builds a model for MNIST shapes */
        jg_model_t *m = NULL;
        jg_nn_error_t err;
        const int rc = jg_model_create(&m, p[i].name, 1, 28, 28, 10, 1, &err);
        if (rc) fail_msg("preset %s: %s", p[i].name, err.msg);
        jg_model_destroy(m);
    }
    expand_ok("default", 1, 28, 28, 10,
              "conv(32,3,pad=1) relu maxpool(2) conv(64,3,pad=1) relu maxpool(2) flatten "
              "linear(128) relu linear(10)");
    expand_ok("lenet5", 1, 28, 28, 10,
              "conv(6,5,pad=2) relu maxpool(2) conv(16,5) relu maxpool(2) flatten "
              "linear(120) relu linear(84) relu linear(10)");
    /* 1x28x28: filters 3, 9; widths 784/2 = 392, 784/4 = 196 */
    expand_ok("paper-simplecnn", 1, 28, 28, 10,
              "conv(3,3,pad=1) batchnorm relu maxpool(2) conv(9,3,pad=1) batchnorm relu "
              "maxpool(2) flatten linear(392) relu linear(196) relu linear(10)");
    expand_ok("paper-simplecnn-norelu", 1, 28, 28, 10,
              "conv(3,3,pad=1) batchnorm maxpool(2) conv(9,3,pad=1) batchnorm "
              "maxpool(2) flatten linear(392) linear(196) linear(10)");
    /* 3x32x32 = 3072, conv=4 (32->16->8->4->2), linear=4: 1536, 768, 384 */
    expand_ok("paper-simplecnn:conv=4,linear=4", 3, 32, 32, 10,
              "conv(9,3,pad=1) batchnorm relu maxpool(2) conv(27,3,pad=1) batchnorm relu "
              "maxpool(2) conv(81,3,pad=1) batchnorm relu maxpool(2) conv(243,3,pad=1) "
              "batchnorm relu maxpool(2) flatten linear(1536) relu linear(768) relu "
              "linear(384) relu linear(10)");
    /* width floor at C: 1x4x4 = 16 -> 8, 4, 2, 1 -> max(., 1) */
    expand_ok("paper-densepoly:linear=6", 1, 4, 4, 3,
              "flatten linear(8) relu linear(4) relu linear(2) relu linear(1) relu "
              "linear(1) relu linear(3)");
    /* 784 - (d+1)*784/3: 522.67 -> 522, 261.33 -> 261 */
    expand_ok("paper-denselinear", 1, 28, 28, 10,
              "flatten linear(522) relu linear(261) relu linear(10)");
    /* floor at C = 2 for the last: 2x2x2 = 8, n=4: 6, 4, 2 */
    expand_ok("paper-denselinear:linear=4", 2, 2, 2, 5,
              "flatten linear(6) relu linear(4) relu linear(2) relu linear(5)");
    expand_ok("paper-densepoly:linear=1", 1, 28, 28, 10, "flatten linear(10)");

    char buf[4096];
    jg_nn_error_t err;
    /* 28 -> 14 -> 7 -> 3 -> 1 -> vanishes at the fifth pool */
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:conv=4", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), 0);
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:conv=5", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_contains(err.msg, "conv=5 makes the feature map vanish for 28x28 input (at "
                             "most conv=4)");
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:depth=2", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_contains(err.msg, "unknown parameter 'depth' (accepted: conv=2,linear=3)");
    assert_int_equal(jg_nn_preset_expand("paper-densepoly:conv=2", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_contains(err.msg, "unknown parameter 'conv'");
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:conv=0", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_contains(err.msg, "expected an integer in [1, 12] for conv, got '0'");
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:conv=2x", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_int_equal(jg_nn_preset_expand("paper-simplecnn:conv", 1, 28, 28, 10, buf,
                                         sizeof buf, &err), -EINVAL);
    assert_contains(err.msg, "expected key=value");
    assert_int_equal(jg_nn_preset_expand("lenet5:conv=2", 1, 28, 28, 10, buf, sizeof buf,
                                         &err), -EINVAL);
    assert_contains(err.msg, "(accepted: none)");
    assert_int_equal(jg_nn_preset_expand("resnet", 1, 28, 28, 10, buf, sizeof buf, &err),
                     -ENOENT);
    assert_contains(err.msg, "unknown preset 'resnet' (expected one of default, lenet5");
    assert_int_equal(jg_nn_preset_expand("default", 1, 28, 28, 10, buf, 20, &err), -ENOSPC);
    assert_int_equal(jg_nn_preset_expand("default", 0, 28, 28, 10, buf, sizeof buf, &err),
                     -EINVAL);
    assert_int_equal(jg_nn_preset_expand(NULL, 1, 28, 28, 10, buf, sizeof buf, &err),
                     -EINVAL);

    /* presets through create, whitespace around the name allowed */
    jg_model_t *pm = NULL;
    assert_int_equal(jg_model_create(&pm, "  paper-densepoly:linear=2\n", 1, 28, 28, 10, 1,
                                     &err), 0);
    /* flatten linear(392) relu linear(10): 784*392 + 392 + 392*10 + 10 */
    assert_int_equal(jg_model_n_params(pm), 784 * 392 + 392 + 392 * 10 + 10);
    jg_model_destroy(pm);

    /* a preset whose depth vanishes fails at create with the same message */
    jg_model_t *m = NULL;
    assert_int_equal(jg_model_create(&m, "paper-simplecnn:conv=3", 1, 4, 4, 10, 1, &err),
                     -EINVAL);
    assert_contains(err.msg, "at most conv=2");
    assert_null(m);
}

/* spec -> model -> canonical spec -> model gives the same canonical text and
 * the same parameter count. */
static void round_trip(const char *spec, int c, int h, int w, int k)
{
    jg_model_t *a = NULL, *b = NULL;
    jg_nn_error_t err;
    char t1[4096], t2[4096];
    if (jg_model_create(&a, spec, c, h, w, k, 3, &err)) fail_msg("%s: %s", spec, err.msg);
    assert_int_equal(jg_model_spec(a, t1, sizeof t1), 0);
    if (jg_model_create(&b, t1, c, h, w, k, 3, &err)) fail_msg("%s: %s", t1, err.msg);
    assert_int_equal(jg_model_spec(b, t2, sizeof t2), 0);
    assert_string_equal(t1, t2);
    assert_int_equal(jg_model_n_params(a), jg_model_n_params(b));
    assert_int_equal(jg_model_n_layers(a), jg_model_n_layers(b));
    for (int i = 0; i < jg_model_n_layers(a); i++) {
        jg_layer_info_t la, lb;
        assert_int_equal(jg_model_layer(a, i, &la), 0);
        assert_int_equal(jg_model_layer(b, i, &lb), 0);
        assert_int_equal(la.kind, lb.kind);
        assert_int_equal(la.out_c, lb.out_c);
        assert_int_equal(la.out_h, lb.out_h);
        assert_int_equal(la.out_w, lb.out_w);
        assert_memory_equal(la.weight ? (const void *)la.weight : "", lb.weight ?
                            (const void *)lb.weight : "", la.n_weight * sizeof(float));
    }
    assert_int_equal(jg_model_spec(a, t1, 5), -ENOSPC);
    jg_model_destroy(a);
    jg_model_destroy(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    int n;
    const jg_nn_preset_t *p = jg_nn_presets(&n);
    for (int i = 0; i < n; i++) round_trip(p[i].name, 1, 28, 28, 10);
    round_trip("paper-simplecnn:conv=3,linear=5", 3, 32, 32, 100);
    round_trip("conv(out=5,kh=3,kw=2,stride_h=2,stride_w=1,pad_h=1,pad_w=0) batchnorm("
               "eps=1e-3,momentum=0.25) leaky_relu(0.125) avgpool(kh=2,kw=1,stride_h=1,"
               "stride_w=1) maxpool(3,2,1) dropout(0.3) sigmoid tanh flatten linear(7)",
               2, 9, 8, 7);
    char buf[256];
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    assert_int_equal(jg_model_create(&m, "conv(4,3,stride=2,pad=1) maxpool(3,pad=1) "
                                     "flatten linear(3)", 1, 9, 9, 3, 1, &err), 0);
    assert_int_equal(jg_model_spec(m, buf, sizeof buf), 0);
    assert_string_equal(buf, "conv(4,3,stride=2,pad=1) maxpool(3,pad=1) flatten linear(3)");
    jg_model_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_shape_errors),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
