/* SPDX-License-Identifier: MIT */
/*
 * test_energy_cli.c - `joulegrad energy` as a user meets it: exit codes,
 * one-line errors, and JSON that names the sources, the selection and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"

#define OUT_MAX 65536

static char out[OUT_MAX];

static int run(const char *args, int merge_stderr)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "'%s' energy %s %s", JG_CLI_PATH, args,
             merge_stderr ? "2>&1" : "2>/dev/null");
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    const size_t len = fread(out, 1, OUT_MAX - 1, p);
    out[len] = '\0';
    const int status = pclose(p);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *bad[] = {"--bogus", "--energy nope", "--assume-watts -1", "--assume-watts 0",
                         "--idle-watts x", "stray"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(run(bad[i], 1), 2);
        assert_int_equal(count_lines(out), 1);
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
