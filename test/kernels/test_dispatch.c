/* SPDX-License-Identifier: MIT */
/* Dispatch: ISA names, overrides, unsupported ISAs and thread counts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void test_isa_names_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < JG_ISA_COUNT; i++) {
        jg_isa_t isa;
        assert_int_equal(jg_isa_parse(jg_isa_name((jg_isa_t)i), &isa), 0);
        assert_int_equal(isa, i);
    }
    jg_isa_t isa;
    assert_int_equal(jg_isa_parse("sse2", &isa), -EINVAL);
    assert_int_equal(jg_isa_parse("", &isa), -EINVAL);
    assert_int_equal(jg_isa_parse(NULL, &isa), -EINVAL);
    assert_string_equal(jg_isa_name((jg_isa_t)99), "?");
}

static void test_init_honours_environment(void **state)
{
    (void)state;
    /* The process started with whatever JOULEGRAD_ISA CI set; init must have
     * picked exactly that ISA, or the best supported one without it. */
    assert_int_equal(jg_kernels_init(), 0);
    const char *env = getenv("JOULEGRAD_ISA");
    if (env && *env) {
        assert_string_equal(jg_isa_name(jg_kernels_isa()), env);
    } else {
        for (int i = jg_kernels_isa() + 1; i < JG_ISA_COUNT; i++)
            if (i != JG_ISA_NEON) assert_false(jg_kernels_isa_supported((jg_isa_t)i));
    }
}

static void test_set_isa(void **state)
{
    (void)state;
    const jg_isa_t before = jg_kernels_isa();
    assert_true(jg_kernels_isa_supported(JG_ISA_REF));
    for (int i = 0; i < JG_ISA_COUNT; i++) {
        const int ok = jg_kernels_isa_supported((jg_isa_t)i);
        assert_int_equal(jg_kernels_set_isa((jg_isa_t)i), ok ? 0 : -ENOTSUP);
        if (ok) assert_int_equal(jg_kernels_isa(), i);
    }
#if defined(__x86_64__)
    assert_false(jg_kernels_isa_supported(JG_ISA_NEON));
#elif defined(__aarch64__)
    assert_true(jg_kernels_isa_supported(JG_ISA_NEON));
    assert_false(jg_kernels_isa_supported(JG_ISA_AVX2));
#endif
    assert_int_equal(jg_kernels_set_isa((jg_isa_t)-1), -ENOTSUP);
    assert_int_equal(jg_kernels_set_isa(JG_ISA_COUNT), -ENOTSUP);
    assert_int_equal(jg_kernels_set_isa(before), 0);
}

static void test_threads(void **state)
{
    (void)state;
    const int before = jg_kernels_threads();
    assert_true(before >= 1);
    assert_int_equal(jg_kernels_set_threads(0), -EINVAL);
    assert_int_equal(jg_kernels_set_threads(-3), -EINVAL);
    assert_int_equal(jg_kernels_set_threads(1), 0);
    assert_int_equal(jg_kernels_threads(), 1);
    assert_int_equal(jg_kernels_set_threads(2), jg_kernels_have_openmp() ? 0 : -ENOTSUP);
    assert_int_equal(jg_kernels_set_threads(before), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_names_round_trip),
        cmocka_unit_test(test_init_honours_environment),
        cmocka_unit_test(test_set_isa),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
