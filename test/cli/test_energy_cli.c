/* SPDX-License-Identifier: MIT */
/*
 * test_energy_cli.c - `joulegrad energy` as a user meets it: exit codes,
 * one-line errors, and JSON that names the sources, the selection and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "harness.h"

static char out[JG_CLI_OUT_MAX];

/* Runs `joulegrad energy args`. */
static int run(const char *args, int merge_stderr)
{
    char full[512];
    snprintf(full, sizeof full, "energy %s", args);
    return jg_cli_run(NULL, full, merge_stderr, out);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *bad[] = {"--bogus", "--energy nope", "--assume-watts -1", "--assume-watts 0",
                         "--idle-watts x", "stray"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(run(bad[i], 1), 2);
        assert_int_equal(jg_cli_count_lines(out), 1);
        assert_non_null(strstr(out, "joulegrad energy:"));
    }
    assert_int_equal(run("--help", 0), 0);
    assert_non_null(strstr(out, "--assume-watts"));
}

static void test_text(void **state)
{
    (void)state;
    assert_int_equal(run("--energy estimate --assume-watts 7.5", 0), 0);
    assert_non_null(strstr(out, "selected: estimate"));
    assert_non_null(strstr(out, "7.5 W per busy core"));
    assert_non_null(strstr(out, "read cost:"));
    assert_int_equal(run("--energy off", 0), 0);
    assert_non_null(strstr(out, "selected: none"));
}

static void test_json(void **state)
{
    (void)state;
    assert_int_equal(run("--json", 0), 0);
    cJSON *root = cJSON_Parse(out);
    assert_non_null(root);
    const cJSON *sel = cJSON_GetObjectItem(root, "selected");
    assert_true(cJSON_IsString(sel));
    const cJSON *srcs = cJSON_GetObjectItem(root, "sources");
    assert_int_equal(cJSON_GetArraySize(srcs), 2);
    const cJSON *rapl = cJSON_GetArrayItem(srcs, 0);
    assert_string_equal(cJSON_GetObjectItem(rapl, "name")->valuestring, "rapl");
    const cJSON *zones = cJSON_GetObjectItem(root, "zones");
    assert_true(cJSON_GetArraySize(zones) >= 1);
    const cJSON *z0 = cJSON_GetArrayItem(zones, 0);
    assert_string_equal(cJSON_GetObjectItem(z0, "units")->valuestring, "uJ");
    assert_string_equal(cJSON_GetObjectItem(z0, "source")->valuestring, sel->valuestring);
    assert_true(cJSON_GetObjectItem(root, "read_cost_ns")->valuedouble > 0);
    if (access("/sys/class/powercap", F_OK) != 0) {
        // This VM: rapl unavailable with a reason, estimate selected.
        assert_string_equal(sel->valuestring, "estimate");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(root, "fallback")));
        assert_true(cJSON_IsFalse(cJSON_GetObjectItem(rapl, "available")));
        assert_non_null(strstr(cJSON_GetObjectItem(rapl, "reason")->valuestring,
                               "no /sys/class/powercap"));
        assert_non_null(cJSON_GetObjectItem(rapl, "fix"));
    }
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
