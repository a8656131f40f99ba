/* SPDX-License-Identifier: MIT */
/* Search spaces: valid parses, every error kind with its column, canonical
 * round trip and hash, unit-cube mapping round trips for every kind. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_tuning.h"

static const char *STUDY =
    "lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999,batch=int:32:512,opt=cat:adam|sgd";

static jg_tune_space_t *parse_ok(const char *text)
{
    jg_tune_space_t *s = jg_test_alloc_bytes(sizeof *s);
    jg_tune_error_t err;
    const int rc = jg_tune_space_parse(s, text, &err);
    if (rc) fail_msg("parse '%s': %d %s", text, rc, err.msg);
    return s;
}

static void test_parse_valid(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok(STUDY);
    assert_int_equal(s->n_dims, 5);
    assert_string_equal(s->dims[0].name, "lr");
    assert_int_equal(s->dims[0].kind, JG_TUNE_LOG);
    assert_true(s->dims[0].lo == 1e-5 && s->dims[0].hi == 1e-1);
    assert_int_equal(s->dims[1].kind, JG_TUNE_LIN);
    assert_true(s->dims[1].lo == 0.1 && s->dims[1].hi == 0.999);
    assert_int_equal(s->dims[3].kind, JG_TUNE_INT);
    assert_true(s->dims[3].lo == 32 && s->dims[3].hi == 512);
    assert_int_equal(s->dims[4].kind, JG_TUNE_CAT);
    assert_int_equal(s->dims[4].n_cats, 2);
    assert_string_equal(s->dims[4].cats[1], "sgd");
    assert_true(s->dims[4].lo == 0 && s->dims[4].hi == 1);
    assert_int_equal(jg_tune_space_find(s, "batch"), 3);
    assert_int_equal(jg_tune_space_find(s, "nope"), -1);
    free(s);
    /* explicit lin:, negative bounds, a single category */
    s = parse_ok("a=lin:-2:-1.5,b=int:-3:3,c=cat:only");
    assert_int_equal(s->dims[0].kind, JG_TUNE_LIN);
    assert_true(s->dims[0].lo == -2 && s->dims[0].hi == -1.5);
    assert_true(s->dims[1].lo == -3);
    assert_int_equal(s->dims[2].n_cats, 1);
    free(s);
}

/* Each bad input must fail with -EINVAL and a message starting with the
 * expected "space:1:COL: what 'token'". */
static void test_parse_errors(void **state)
{
    (void)state;
    static const struct { const char *text, *want; } cases[] = {
        { "", "space:1:1: empty space" },
        { "lr=log:1e-5:x1e", "space:1:13: bad bound 'x1e'" },
        { "lr=1e-5:1e-1,", "space:1:14: empty dimension ''" },
        { "lr=0.1:0.2,,b=0:1", "space:1:12: empty dimension ''" },
        { "lr", "space:1:1: missing '=' in 'lr'" },
        { "l r=0:1", "space:1:1: bad name 'l r'" },
        { "=0:1", "space:1:1: bad name ''" },
        { "a=0:1,a=0:2", "space:1:7: duplicate name 'a'" },
        { "a=", "space:1:3: missing spec ''" },
        { "a=foo:0:1", "space:1:3: unknown kind 'foo'" },
        { "a=log", "space:1:3: missing bounds after kind 'log'" },
        { "a=0.5", "space:1:3: unknown kind '0.5'" },
        { "a=log:1", "space:1:3: want two bounds in 'log:1'" },
        { "a=0:1:2", "space:1:6: unexpected ':2'" },
        { "a=1:1", "space:1:3: empty range '1:1'" },
        { "a=2:1", "space:1:3: empty range '2:1'" },
        { "a=log:0:1", "space:1:7: bad bound '0': log scale needs lo > 0" },
        { "a=log:-1:1", "space:1:7: bad bound '-1'" },
        { "a=int:1.5:4", "space:1:7: bad bound '1.5': want an integer" },
        { "a=int:1:4.5", "space:1:9: bad bound '4.5'" },
        { "a=0:inf", "space:1:5: bad bound 'inf'" },
        { "a=0:nan", "space:1:5: bad bound 'nan'" },
        { "a=nan:1", "space:1:3: unknown kind 'nan'" },
        { "a=0:1e999", "space:1:5: bad bound '1e999'" },
        { "a=cat:", "space:1:7: bad category ''" },
        { "a=cat", "space:1:3: missing bounds after kind 'cat'" },
        { "a=cat:x||y", "space:1:9: bad category ''" },
        { "a=cat:x|x", "space:1:9: duplicate category 'x'" },
        { "a=cat:x|b c", "space:1:9: bad category 'b c'" },
        { "abcdefghijabcdefghijabcdefghijab=0:1", "space:1:1: bad name 'abcdefghij" },
    };
    jg_tune_space_t *s = jg_test_alloc_bytes(sizeof *s);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        jg_tune_error_t err = { "" };
        const int rc = jg_tune_space_parse(s, cases[i].text, &err);
        if (rc != -EINVAL || strncmp(err.msg, cases[i].want, strlen(cases[i].want)))
            fail_msg("'%s': rc %d msg '%s', want '%s'", cases[i].text, rc, err.msg,
                     cases[i].want);
    }
    /* caps: 21 dimensions, 33 categories */
    char text[1024] = "";
    for (int d = 0; d < 21; d++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sd%d=0:1", d ? "," : "", d);
    jg_tune_error_t err;
    assert_int_equal(jg_tune_space_parse(s, text, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "too many dimensions 'd20'"));
    strcpy(text, "c=cat:");
    for (int c = 0; c < 33; c++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%sk%d", c ? "|" : "", c);
    assert_int_equal(jg_tune_space_parse(s, text, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "too many categories 'k32'"));
    free(s);
}

static void test_canonical_round_trip_and_hash(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok(STUDY);
    char text[JG_TUNE_SPACE_TEXT_MAX], again[JG_TUNE_SPACE_TEXT_MAX];
    assert_int_equal(jg_tune_space_format(s, text, sizeof text), 0);
    assert_string_equal(text, "lr=log:1e-05:0.1,beta1=lin:0.1:0.999,beta2=lin:0.8:0.9999,"
                              "batch=int:32:512,opt=cat:adam|sgd");
    jg_tune_space_t *t = parse_ok(text);
    assert_int_equal(jg_tune_space_format(t, again, sizeof again), 0);
    assert_string_equal(text, again);
    assert_memory_equal(s, t, sizeof *s);
    /* awkward numbers survive exactly */
    jg_tune_space_t *u = parse_ok("x=0.1:0.30000000000000004,y=log:1.2345678901234567e-300:3");
    assert_int_equal(jg_tune_space_format(u, text, sizeof text), 0);
    jg_tune_space_t *v = parse_ok(text);
    assert_true(v->dims[0].hi == 0.30000000000000004);
    assert_true(v->dims[1].lo == 1.2345678901234567e-300);
    /* hash: stable for equal spaces (a fixed value pins it across versions),
     * different for different ones */
    assert_true(jg_tune_space_hash(s) == jg_tune_space_hash(t));
    assert_true(jg_tune_space_hash(s) != jg_tune_space_hash(u));
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *c = again; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    assert_true(jg_tune_space_hash(s) == h);
    assert_int_equal(jg_tune_space_format(s, text, 10), -ENOSPC);
    free(s);
    free(t);
    free(u);
    free(v);
}

static void test_unit_mapping(void **state)
{
    (void)state;
    jg_tune_space_t *s = parse_ok(STUDY);
    jg_tune_error_t err;
    jg_tune_point_t p = { { 1e-3, 0.5, 0.9, 100, 1 } }, q;
    double u[JG_TUNE_MAX_DIMS];
    assert_int_equal(jg_tune_space_to_unit(s, &p, u, &err), 0);
    assert_true(fabs(u[0] - 0.5) < 1e-12);                  /* 1e-3 is mid-way in log */
    assert_true(fabs(u[1] - (0.5 - 0.1) / 0.899) < 1e-12);
    assert_true(fabs(u[3] - (100 - 32 + 0.5) / 481.0) < 1e-12); /* cell centre */
    assert_true(fabs(u[4] - 0.75) < 1e-12);
    assert_int_equal(jg_tune_space_from_unit(s, u, &q, &err), 0);
    for (int d = 0; d < 5; d++) assert_true(fabs(q.v[d] - p.v[d]) <= 1e-12 * fabs(p.v[d]));
    assert_true(q.v[3] == 100 && q.v[4] == 1);

    /* bounds map to 0 and 1 for lin/log; u edges map to the bounds */
    double lo[JG_TUNE_MAX_DIMS] = { 0 }, hi[JG_TUNE_MAX_DIMS];
    for (int d = 0; d < 5; d++) hi[d] = 1;
    assert_int_equal(jg_tune_space_from_unit(s, lo, &q, &err), 0);
    for (int d = 0; d < 5; d++) assert_true(q.v[d] == s->dims[d].lo);
    assert_int_equal(jg_tune_space_from_unit(s, hi, &q, &err), 0);
    for (int d = 0; d < 5; d++) assert_true(q.v[d] == s->dims[d].hi);

    /* random round trips both ways */
    jg_test_rng_t r;
    jg_test_rng_seed(&r, 7);
    for (int k = 0; k < 1000; k++) {
        for (int d = 0; d < 5; d++) u[d] = (double)(jg_test_rng_u64(&r) >> 11) * 0x1p-53;
        assert_int_equal(jg_tune_space_from_unit(s, u, &q, &err), 0);
        assert_int_equal(jg_tune_point_check(s, &q, &err), 0);
        double w[JG_TUNE_MAX_DIMS];
        assert_int_equal(jg_tune_space_to_unit(s, &q, w, &err), 0);
        assert_true(fabs(w[0] - u[0]) < 1e-9 && fabs(w[1] - u[1]) < 1e-12);
        assert_true(fabs(w[3] - u[3]) <= 0.5 / 481 + 1e-12);  /* same int cell */
        assert_true(fabs(w[4] - u[4]) <= 0.25 + 1e-12);       /* same category */
        jg_tune_point_t b;
        assert_int_equal(jg_tune_space_from_unit(s, w, &b, &err), 0);
        assert_true(b.v[3] == q.v[3] && b.v[4] == q.v[4]);
    }
    /* every integer gets an equal share of the unit interval */
    jg_tune_space_t *small = parse_ok("k=int:1:3");
    int hits[3] = { 0 };
    for (int k = 0; k < 300; k++) {
        const double uu = (k + 0.5) / 300;
        assert_int_equal(jg_tune_space_from_unit(small, &uu, &q, &err), 0);
        hits[(int)q.v[0] - 1]++;
    }
    assert_true(hits[0] == 100 && hits[1] == 100 && hits[2] == 100);

    /* invalid points and NaN */
    jg_tune_point_t bad = p;
    bad.v[3] = 100.5;
    assert_int_equal(jg_tune_space_to_unit(s, &bad, u, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "batch"));
    bad = p;
    bad.v[0] = 1.0;
    assert_int_equal(jg_tune_space_to_unit(s, &bad, u, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "lr"));
    bad = p;
    bad.v[4] = 2;
    assert_int_equal(jg_tune_point_check(s, &bad, &err), -EINVAL);
    u[2] = NAN;
    assert_int_equal(jg_tune_space_from_unit(s, u, &q, &err), -EINVAL);

    char text[128];
    jg_tune_point_format(s, &p, text, sizeof text);
    assert_string_equal(text, "lr=0.001,beta1=0.5,beta2=0.9,batch=100,opt=sgd");
    free(small);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_canonical_round_trip_and_hash),
        cmocka_unit_test(test_unit_mapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
