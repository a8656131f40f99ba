/* SPDX-License-Identifier: MIT */
/* Optimizers and schedules against PyTorch's documented update rules
 * (torch.optim.SGD/Adam/AdamW, StepLR, CosineAnnealingLR), written out in
 * double below, plus a few values worked by hand; config checks, defaults,
 * names, state sizes and a step-count restore. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_nn.h"

#define N 37        /* not a multiple of any SIMD width: exercises the tails */
#define STEPS 3
#define RTOL 2e-5   /* float kernels vs the double reference after 3 steps */
#define ATOL 1e-7

/* torch.optim.SGD.step for one element (dampening 0), t = steps taken. */
static double sgd_ref(double w, double *buf, double g, int64_t t, const jg_optim_config_t *c)
{
    g += c->weight_decay * w;
    if (c->momentum > 0.0f) {
        *buf = t == 0 ? g : c->momentum * *buf + g;
        g = c->nesterov ? g + c->momentum * *buf : *buf;
    }
    return w - c->lr * g;
}

/* torch.optim.Adam / AdamW.step for one element; t is the 1-based step. */
static double adam_ref(double w, double *m, double *v, double g, int64_t t,
                       const jg_optim_config_t *c)
{
    if (c->kind == JG_OPT_ADAMW) w *= 1.0 - (double)c->lr * c->weight_decay;
    else g += c->weight_decay * w;
    *m = c->beta1 * *m + (1.0 - c->beta1) * g;
    *v = c->beta2 * *v + (1.0 - c->beta2) * g * g;
    const double mhat = *m / (1.0 - pow(c->beta1, (double)t));
    const double vhat = *v / (1.0 - pow(c->beta2, (double)t));
    return w - c->lr * mhat / (sqrt(vhat) + c->eps);
}

/* STEPS updates with fresh random gradients vs the reference. */
static void check_against_ref(const jg_optim_config_t *c, const char *what)
{
    jg_optim_t *o = NULL;
    assert_int_equal(jg_optim_create(&o, c, N), 0);
    float w[N], g[N];
    double wr[N], s1[N] = { 0 }, s2[N] = { 0 };
    jg_test_fill_uniform(w, N, -1.0f, 1.0f, 11);
    for (int i = 0; i < N; i++) wr[i] = w[i];
    for (int t = 0; t < STEPS; t++) {
        jg_test_fill_uniform(g, N, -0.5f, 0.5f, 100 + (uint64_t)t);
        assert_int_equal(jg_optim_step(o, w, g, c->lr), 0);
        for (int i = 0; i < N; i++)
            wr[i] = c->kind == JG_OPT_SGD ? sgd_ref(wr[i], &s1[i], g[i], t, c)
                                          : adam_ref(wr[i], &s1[i], &s2[i], g[i], t + 1, c);
        assert_int_equal(jg_optim_steps(o), t + 1);
    }
    jg_test_assert_close_d(what, w, wr, N, RTOL, ATOL);
    jg_optim_destroy(o);
}

static void test_sgd_matches_torch(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_defaults(&c, JG_OPT_SGD);
    c.lr = 0.1f;
    check_against_ref(&c, "sgd plain");
    c.momentum = 0.9f;
    check_against_ref(&c, "sgd momentum");
    c.nesterov = 1;
    check_against_ref(&c, "sgd nesterov");
    c.weight_decay = 0.05f;
    check_against_ref(&c, "sgd nesterov wd");
    c.nesterov = 0;
    check_against_ref(&c, "sgd momentum wd");
    c.momentum = 0.0f;
    check_against_ref(&c, "sgd wd");
}

static void test_sgd_by_hand(void **state)
{
    (void)state;
    /* w = 1, g = 0.5 twice, lr 0.1, momentum 0.9:
     *   plain:    0.95, 0.90
     *   momentum: buf 0.5 -> w 0.95; buf 0.9*0.5 + 0.5 = 0.95 -> w 0.855
     *   nesterov: buf 0.5, step 0.5 + 0.45 = 0.95 -> w 0.905;
     *             buf 0.95, step 0.5 + 0.855 = 1.355 -> w 0.7695
     *   momentum + wd 0.1: g' = 0.6 -> buf 0.6, w 0.94;
     *             g' = 0.5 + 0.094 = 0.594, buf 0.54 + 0.594 = 1.134 -> w 0.8266 */
    static const struct { float mom; int nest; float wd; float w1, w2; } cases[] = {
        { 0.0f, 0, 0.0f, 0.95f, 0.90f },
        { 0.9f, 0, 0.0f, 0.95f, 0.855f },
        { 0.9f, 1, 0.0f, 0.905f, 0.7695f },
        { 0.9f, 0, 0.1f, 0.94f, 0.8266f },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        jg_optim_config_t c;
        jg_optim_defaults(&c, JG_OPT_SGD);
        c.lr = 0.1f;
        c.momentum = cases[k].mom;
        c.nesterov = cases[k].nest;
        c.weight_decay = cases[k].wd;
        jg_optim_t *o = NULL;
        assert_int_equal(jg_optim_create(&o, &c, 1), 0);
        float w = 1.0f;
        const float g = 0.5f;
        assert_int_equal(jg_optim_step(o, &w, &g, c.lr), 0);
        assert_float_equal(w, cases[k].w1, 1e-6);
        assert_int_equal(jg_optim_step(o, &w, &g, c.lr), 0);
        assert_float_equal(w, cases[k].w2, 1e-6);
        jg_optim_destroy(o);
    }
}

static void test_adam_matches_torch(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_defaults(&c, JG_OPT_ADAM);
    c.lr = 0.01f;
    check_against_ref(&c, "adam");
    c.weight_decay = 0.1f;
    check_against_ref(&c, "adam l2");
    c.beta1 = 0.5f;
    c.beta2 = 0.9f;
    c.eps = 1e-3f;
    check_against_ref(&c, "adam betas eps");
    jg_optim_defaults(&c, JG_OPT_ADAMW);
    c.lr = 0.01f;
    check_against_ref(&c, "adamw");
    c.weight_decay = 0.5f;
    check_against_ref(&c, "adamw wd 0.5");

    /* By hand, w = 1, g = 0.5, lr 0.1, default betas, no decay: step 1 has
     * mhat = 0.5, vhat = 0.25 -> w = 1 - 0.1 * 0.5 / (0.5 + 1e-8) ~ 0.9. With
     * the same gradient every step, mhat and vhat stay 0.5 and 0.25 (bias
     * correction exactly undoes the zero start), so each step moves 0.1:
     * 0.9, 0.8, 0.7. AdamW wd 0.1 shrinks first: w (1 - 0.01) - 0.1. */
    jg_optim_defaults(&c, JG_OPT_ADAM);
    c.lr = 0.1f;
    jg_optim_t *o = NULL;
    assert_int_equal(jg_optim_create(&o, &c, 1), 0);
    float w = 1.0f;
    const float g = 0.5f;
    for (int t = 1; t <= 3; t++) {
        assert_int_equal(jg_optim_step(o, &w, &g, c.lr), 0);
        assert_float_equal(w, 1.0f - 0.1f * t, 1e-5);
    }
    jg_optim_destroy(o);
    jg_optim_defaults(&c, JG_OPT_ADAMW);
    c.lr = 0.1f;
    c.weight_decay = 0.1f;
    assert_int_equal(jg_optim_create(&o, &c, 1), 0);
    w = 1.0f;
    float want = 1.0f;
    for (int t = 1; t <= 3; t++) {
        assert_int_equal(jg_optim_step(o, &w, &g, c.lr), 0);
        want = want * 0.99f - 0.1f;
        assert_float_equal(w, want, 1e-5);
    }
    jg_optim_destroy(o);
}

/* Restoring state + step count gives the same next update bit for bit (the
 * bias correction depends on t). */
static void test_state_restore(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_defaults(&c, JG_OPT_ADAMW);
    jg_optim_t *a = NULL, *b = NULL;
    assert_int_equal(jg_optim_create(&a, &c, N), 0);
    assert_int_equal(jg_optim_create(&b, &c, N), 0);
    float wa[N], wb[N], g[N];
    jg_test_fill_uniform(wa, N, -1.0f, 1.0f, 3);
    for (int t = 0; t < 2; t++) {
        jg_test_fill_uniform(g, N, -1.0f, 1.0f, 50 + (uint64_t)t);
        assert_int_equal(jg_optim_step(a, wa, g, c.lr), 0);
    }
    size_t na, nb;
    float *sa = jg_optim_state(a, &na), *sb = jg_optim_state(b, &nb);
    assert_int_equal(na, 2 * N);
    assert_int_equal(nb, 2 * N);
    memcpy(sb, sa, na * sizeof(float));
    memcpy(wb, wa, sizeof wa);
    jg_optim_set_steps(b, jg_optim_steps(a));
    assert_int_equal(jg_optim_steps(b), 2);
    jg_test_fill_uniform(g, N, -1.0f, 1.0f, 52);
    assert_int_equal(jg_optim_step(a, wa, g, c.lr), 0);
    assert_int_equal(jg_optim_step(b, wb, g, c.lr), 0);
    assert_memory_equal(wa, wb, sizeof wa);
    jg_optim_set_steps(b, -1); /* ignored */
    assert_int_equal(jg_optim_steps(b), 3);
    jg_optim_destroy(a);
    jg_optim_destroy(b);
}

static void test_state_sizes_and_errors(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_t *o = NULL;
    size_t n = 99;
    jg_optim_defaults(&c, JG_OPT_SGD);
    assert_int_equal(jg_optim_create(&o, &c, 10), 0);
    assert_null(jg_optim_state(o, &n));
    assert_int_equal(n, 0);
    assert_true(jg_optim_config(o)->kind == JG_OPT_SGD);
    float w = 1.0f, g = 1.0f;
    assert_int_equal(jg_optim_step(o, &w, &g, 0.0f), -EINVAL);
    assert_int_equal(jg_optim_step(o, NULL, &g, 0.1f), -EINVAL);
    assert_int_equal(jg_optim_steps(o), 0);
    jg_optim_destroy(o);
    c.momentum = 0.5f;
    assert_int_equal(jg_optim_create(&o, &c, 10), 0);
    assert_non_null(jg_optim_state(o, &n));
    assert_int_equal(n, 10);
    jg_optim_destroy(o);
    jg_optim_defaults(&c, JG_OPT_ADAM);
    assert_int_equal(jg_optim_create(&o, &c, 0), -EINVAL);
    c.lr = -1.0f;
    assert_int_equal(jg_optim_create(&o, &c, 10), -EINVAL);
    assert_int_equal(jg_optim_create(NULL, &c, 10), -EINVAL);
    jg_optim_destroy(NULL);
}

static void test_defaults(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_defaults(&c, JG_OPT_SGD);
    assert_float_equal(c.lr, 0.01f, 0);
    assert_float_equal(c.momentum, 0.0f, 0);
    assert_float_equal(c.weight_decay, 0.0f, 0);
    assert_int_equal(jg_optim_check(&c, NULL), 0);
    jg_optim_defaults(&c, JG_OPT_ADAM);
    assert_float_equal(c.lr, 1e-3f, 0);
    assert_float_equal(c.beta1, 0.9f, 0);
    assert_float_equal(c.beta2, 0.999f, 0);
    assert_float_equal(c.eps, 1e-8f, 0);
    assert_float_equal(c.weight_decay, 0.0f, 0);
    assert_int_equal(c.schedule, JG_SCHED_CONSTANT);
    assert_int_equal(jg_optim_check(&c, NULL), 0);
    jg_optim_defaults(&c, JG_OPT_ADAMW);
    assert_float_equal(c.weight_decay, 0.01f, 0);
    assert_int_equal(c.step_size, 1);
    assert_float_equal(c.gamma, 0.1f, 0);
    assert_int_equal(jg_optim_check(&c, NULL), 0);
}

static void test_check_rejects(void **state)
{
    (void)state;
    static const struct {
        jg_opt_kind_t kind;
        const char *field; /* what is broken */
        const char *needle; /* expected in the message */
    } cases[] = {
        { JG_OPT_SGD, "lr0", "lr" },           { JG_OPT_SGD, "lrnan", "lr" },
        { JG_OPT_SGD, "lrinf", "lr" },         { JG_OPT_SGD, "wd", "weight decay" },
        { JG_OPT_SGD, "momentum", "momentum" }, { JG_OPT_SGD, "nesterov", "nesterov" },
        { JG_OPT_ADAM, "beta1", "beta1" },     { JG_OPT_ADAMW, "beta2", "beta2" },
        { JG_OPT_ADAM, "eps", "eps" },         { JG_OPT_SGD, "step_size", "step size" },
        { JG_OPT_SGD, "gamma", "gamma" },      { JG_OPT_SGD, "t_max", "t_max" },
        { JG_OPT_SGD, "min_lr", "min lr" },    { JG_OPT_SGD, "kind", "optimizer" },
        { JG_OPT_SGD, "sched", "schedule" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        jg_optim_config_t c;
        jg_optim_defaults(&c, cases[k].kind);
        const char *f = cases[k].field;
        if (!strcmp(f, "lr0")) c.lr = 0.0f;
        else if (!strcmp(f, "lrnan")) c.lr = NAN;
        else if (!strcmp(f, "lrinf")) c.lr = INFINITY;
        else if (!strcmp(f, "wd")) c.weight_decay = -0.1f;
        else if (!strcmp(f, "momentum")) c.momentum = 1.0f;
        else if (!strcmp(f, "nesterov")) c.nesterov = 1;
        else if (!strcmp(f, "beta1")) c.beta1 = 1.0f;
        else if (!strcmp(f, "beta2")) c.beta2 = -0.1f;
        else if (!strcmp(f, "eps")) c.eps = 0.0f;
        else if (!strcmp(f, "step_size")) c.schedule = JG_SCHED_STEP, c.step_size = 0;
        else if (!strcmp(f, "gamma")) c.schedule = JG_SCHED_STEP, c.gamma = 0.0f;
        else if (!strcmp(f, "t_max")) c.schedule = JG_SCHED_COSINE, c.t_max = -1;
        else if (!strcmp(f, "min_lr")) c.schedule = JG_SCHED_COSINE, c.min_lr = 1.0f;
        else if (!strcmp(f, "kind")) c.kind = (jg_opt_kind_t)7;
        else c.schedule = (jg_sched_kind_t)9;
        jg_nn_error_t err = { "" };
        assert_int_equal(jg_optim_check(&c, &err), -EINVAL);
        if (!strstr(err.msg, cases[k].needle))
            fail_msg("%s: message '%s' lacks '%s'", f, err.msg, cases[k].needle);
    }
    assert_int_equal(jg_optim_check(NULL, NULL), -EINVAL);
}

static void test_names_round_trip(void **state)
{
    (void)state;
    static const char *opt[] = { "sgd", "adam", "adamw" };
    static const char *sch[] = { "constant", "step", "cosine" };
    for (int k = 0; k < 3; k++) {
        jg_opt_kind_t o = (jg_opt_kind_t)-1;
        assert_string_equal(jg_optim_kind_name((jg_opt_kind_t)k), opt[k]);
        assert_int_equal(jg_optim_kind_parse(opt[k], &o), 0);
        assert_int_equal(o, k);
        jg_sched_kind_t s = (jg_sched_kind_t)-1;
        assert_string_equal(jg_sched_kind_name((jg_sched_kind_t)k), sch[k]);
        assert_int_equal(jg_sched_kind_parse(sch[k], &s), 0);
        assert_int_equal(s, k);
    }
    jg_opt_kind_t o = JG_OPT_SGD;
    jg_sched_kind_t s = JG_SCHED_CONSTANT;
    assert_int_equal(jg_optim_kind_parse("Adam", &o), -EINVAL);
    assert_int_equal(jg_optim_kind_parse("", &o), -EINVAL);
    assert_int_equal(jg_optim_kind_parse(NULL, &o), -EINVAL);
    assert_int_equal(jg_sched_kind_parse("cos", &s), -EINVAL);
    assert_int_equal(jg_sched_kind_parse(NULL, &s), -EINVAL);
    assert_int_equal(o, JG_OPT_SGD); /* untouched on failure */
    assert_int_equal(s, JG_SCHED_CONSTANT);
    assert_string_equal(jg_optim_kind_name((jg_opt_kind_t)3), "?");
    assert_string_equal(jg_sched_kind_name((jg_sched_kind_t)-1), "?");
}

static void test_schedules(void **state)
{
    (void)state;
    jg_optim_config_t c;
    jg_optim_defaults(&c, JG_OPT_SGD);
    c.lr = 0.1f;
    for (int e = 0; e < 5; e++) assert_float_equal(jg_optim_lr_at(&c, e, 5), 0.1f, 0);

    /* StepLR(step_size 2, gamma 0.5): 0.1 0.1 0.05 0.05 0.025 */
    c.schedule = JG_SCHED_STEP;
    c.step_size = 2;
    c.gamma = 0.5f;
    static const float step_want[5] = { 0.1f, 0.1f, 0.05f, 0.05f, 0.025f };
    for (int e = 0; e < 5; e++) assert_float_equal(jg_optim_lr_at(&c, e, 5), step_want[e], 1e-8);
    assert_float_equal(jg_optim_lr_at(&c, -3, 5), 0.1f, 0); /* clamped to epoch 0 */

    /* CosineAnnealingLR(T_max = run length 10, eta_min 0): 0.1 at 0, half at
     * 5, (1 + cos(pi/10)) / 2 * 0.1 = 0.0975528 at 1. */
    c.schedule = JG_SCHED_COSINE;
    c.t_max = 0;
    c.min_lr = 0.0f;
    assert_float_equal(jg_optim_lr_at(&c, 0, 10), 0.1f, 1e-8);
    assert_float_equal(jg_optim_lr_at(&c, 1, 10), 0.0975528f, 1e-7);
    assert_float_equal(jg_optim_lr_at(&c, 5, 10), 0.05f, 1e-8);
    assert_float_equal(jg_optim_lr_at(&c, 10, 10), 0.0f, 1e-8);
    /* T_max 4, eta_min 0.01: 0.01 + 0.09 (1 + cos(pi e / 4)) / 2
     *   e=1: 0.01 + 0.09 * 0.8535534 = 0.0868198; e=2: 0.055; e=4: 0.01 */
    c.t_max = 4;
    c.min_lr = 0.01f;
    assert_float_equal(jg_optim_lr_at(&c, 1, 100), 0.0868198f, 1e-7);
    assert_float_equal(jg_optim_lr_at(&c, 2, 100), 0.055f, 1e-8);
    assert_float_equal(jg_optim_lr_at(&c, 4, 100), 0.01f, 1e-8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_matches_torch),
        cmocka_unit_test(test_sgd_by_hand),
        cmocka_unit_test(test_adam_matches_torch),
        cmocka_unit_test(test_state_restore),
        cmocka_unit_test(test_state_sizes_and_errors),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_check_rejects),
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_schedules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
