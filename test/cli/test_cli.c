/* SPDX-License-Identifier: MIT */
/* The joulegrad program as a user meets it: exit codes, one-line errors on
 * bad input, and benchmark JSON that parses and carries its ISA and source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "harness.h"

static void test_usage_errors(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_equal(jg_cli_run(NULL, "", 1, out), 2);
    assert_int_equal(jg_cli_run(NULL, "frobnicate", 1, out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    assert_int_equal(jg_cli_count_lines(out), 1);
    assert_int_equal(jg_cli_run(NULL, "bench", 1, out), 2);
    assert_int_equal(jg_cli_run(NULL, "bench nonesuch", 1, out), 2);
    assert_int_equal(jg_cli_run(NULL, "--help", 1, out), 0);
    assert_non_null(strstr(out, "usage: joulegrad"));
    assert_int_equal(jg_cli_run(NULL, "version", 1, out), 0);
    assert_non_null(strstr(out, "joulegrad "));
    // info is a command like the others: --help, and an unknown flag refused.
    assert_int_equal(jg_cli_run(NULL, "info --help", 1, out), 0);
    assert_non_null(strstr(out, "usage: joulegrad info"));
    assert_int_equal(jg_cli_run(NULL, "info --bogus", 1, out), 2);
    assert_non_null(strstr(out, "unexpected argument '--bogus'"));
    free(out);
}

/* Started by mpirun but built without MPI: one clear line, not N copies of
 * the command overwriting each other's files. */
static void test_mpi_not_built(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_equal(jg_cli_run(NULL, "info", 1, out), 0);
    if (!strstr(out, "mpi: no")) { // an MPI build: test/mpi covers it
        free(out);
        skip();
    }
    assert_int_equal(jg_cli_run("OMPI_COMM_WORLD_SIZE=2", "train --data synthetic", 1, out), 2);
    assert_non_null(strstr(out, "not built with MPI"));
    assert_int_equal(jg_cli_count_lines(out), 1);
    free(out);
}

static void test_bench_gemm_bad_flags(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    static const char *const bad[] = {
        "bench gemm --m 0 --n 8 --k 8",   "bench gemm --m -4 --n 8 --k 8",
        "bench gemm --m x --n 8 --k 8",   "bench gemm --m 8 --n 8 --k 8 --threads 0",
        "bench gemm --m 8 --n 8 --k 8 --trans XY", "bench gemm --bogus",
        "bench conv --n 0",               "bench conv --stride 0",
        "bench conv --preset nonesuch",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const int rc = jg_cli_run(NULL, bad[i], 1, out);
        if (rc != 2 || jg_cli_count_lines(out) < 1) {
            print_error("'%s' gave exit %d and output:\n%s\n", bad[i], rc, out);
            fail();
        }
    }
    free(out);
}

static void test_isa_override_errors(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_not_equal(jg_cli_run("JOULEGRAD_ISA=sse9", "info", 1, out), 0);
    assert_int_equal(jg_cli_count_lines(out), 1);
    // The message names the bad value and lists the valid ones.
    assert_non_null(strstr(out, "JOULEGRAD_ISA=sse9"));
    assert_non_null(strstr(out, "ref, avx2, avx512 or neon"));
#if defined(__x86_64__)
    assert_int_not_equal(jg_cli_run("JOULEGRAD_ISA=neon", "bench gemm --m 8 --n 8 --k 8", 1, out), 0);
    assert_non_null(strstr(out, "neon"));
    assert_int_equal(jg_cli_count_lines(out), 1);
#endif
    assert_int_equal(jg_cli_run("JOULEGRAD_ISA=ref", "info", 1, out), 0);
    assert_non_null(strstr(out, "isa: ref"));
    free(out);
}

static cJSON *parse_json_or_fail(const char *out)
{
    cJSON *j = cJSON_Parse(out);
    if (!j) {
        print_error("not one JSON object:\n%s\n", out);
        fail();
    }
    return j;
}

static double number(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v)) {
        print_error("JSON has no number '%s'\n", key);
        fail();
    }
    return v->valuedouble;
}

static void test_bench_gemm_json(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_equal(jg_cli_run("JOULEGRAD_ISA=ref", "bench gemm --m 37 --n 29 --k 41 --threads 1 --json",
                         0, out), 0);
    cJSON *j = parse_json_or_fail(out);
    assert_true(number(j, "gflops") > 0);
    assert_int_equal((int)number(j, "threads"), 1);
    assert_int_equal((int)number(j, "m"), 37);
    const cJSON *isa = cJSON_GetObjectItemCaseSensitive(j, "isa");
    assert_true(cJSON_IsString(isa));
    assert_string_equal(isa->valuestring, "ref");
    cJSON_Delete(j);
    free(out);
}

static void test_bench_conv_json(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_equal(jg_cli_run(NULL,
                         "bench conv --n 2 --c 3 --h 9 --w 9 --k 4 --kh 3 --kw 3 --stride 1 "
                         "--pad 1 --threads 1 --repeats 3 --json",
                         0, out), 0);
    cJSON *j = parse_json_or_fail(out);
    const cJSON *isa = cJSON_GetObjectItemCaseSensitive(j, "isa");
    assert_true(cJSON_IsString(isa));
    assert_string_equal(isa->valuestring, jg_isa_name(jg_kernels_isa()));
    assert_int_equal((int)number(j, "threads"), 1);
    cJSON_Delete(j);
    free(out);
}

/* bench step --probe: steps with and without a measured run's probe, and
 * the parts. lenet5 has 12 layers: 4 L + 10 = 58 marks a step (data and
 * optimizer open and close the step bracket too). */
static void test_bench_step_probe_json(void **state)
{
    (void)state;
    char *out = jg_test_alloc_bytes(JG_CLI_OUT_MAX);
    assert_int_equal(jg_cli_run(NULL,
                         "bench step --model lenet5 --batch 8 --steps 5 --threads 1 --probe --json",
                         0, out), 0);
    cJSON *j = parse_json_or_fail(out);
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "probe_source");
    assert_true(cJSON_IsString(src));
    assert_true(!strcmp(src->valuestring, "estimate") || !strcmp(src->valuestring, "rapl"));
    assert_int_equal((int)number(j, "marks_per_step"), 58);
    assert_int_equal((int)number(j, "steps"), 5);
    assert_true(number(j, "probed_median_ms") > 0);
    assert_true(number(j, "us_per_mark") > 0);
    assert_true(number(j, "step_done_median_us") > 0);
    assert_true(isfinite(number(j, "probe_overhead")));
    cJSON_Delete(j);
    assert_int_equal(jg_cli_run(NULL, "bench step --steps 0", 1, out), 2);
    assert_int_equal(jg_cli_run(NULL, "bench step --probe --bogus", 1, out), 2);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_mpi_not_built),
        cmocka_unit_test(test_bench_gemm_bad_flags),
        cmocka_unit_test(test_isa_override_errors),
        cmocka_unit_test(test_bench_gemm_json),
        cmocka_unit_test(test_bench_conv_json),
        cmocka_unit_test(test_bench_step_probe_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
