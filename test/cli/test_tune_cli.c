/* SPDX-License-Identifier: MIT */
/*
 * test_tune_cli.c - `joulegrad tune` as a user meets it: bad flags, the
 * study directory (trials.jsonl, best_vs_energy.csv, summary.json) for grid,
 * random and bayes, a 2x2 grid visiting exactly its 4 points, resume giving
 * the same proposals as a straight run, and resume refusing another space.
 * Synthetic data and a tiny net keep every study well under a second.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "harness.h"

#define MODEL "'conv(4,3,pad=1) relu maxpool(2) flatten linear(10)'"
#define FLAGS "--data synthetic --train-limit 300 --test-limit 200 --batch 32 --threads 1 " \
              "--epochs 1 --energy estimate --model " MODEL
#define SPACE3 "'lr=log:1e-3:1e-1,beta1=0.5:0.95,beta2=0.9:0.9999'"

static char out[JG_CLI_OUT_MAX];

/* Trial records of trials.jsonl (header skipped), checked for every field
 * the issue promises; returns the count and fills params[i] with the
 * compact JSON of trial i's params (caller frees). */
static int read_trials(const char *dir, const char *strategy, char **params, int max)
{
    char path[512];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    char *text = jg_cli_read_text(path);
    int n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *j = cJSON_Parse(line);
        assert_non_null(j);
        if (!strcmp(jg_cli_json_str(j, "type"), "header")) {
            assert_int_equal(n, 0);
            cJSON_Delete(j);
            continue;
        }
        assert_true(n < max);
        assert_int_equal((int)jg_cli_json_num(j, "trial"), n);
        assert_string_equal(jg_cli_json_str(j, "strategy"), strategy);
        const double va = jg_cli_json_num(j, "val_accuracy");
        const double ta = jg_cli_json_num(j, "test_accuracy");
        assert_true(va >= 0 && va <= 1 && ta >= 0 && ta <= 1);
        assert_true(jg_cli_json_num(j, "energy_j") > 0);
        assert_string_equal(jg_cli_json_str(j, "energy_source"), "estimate");
        assert_true(jg_cli_json_num(j, "seconds") >= 0);
        const char *st = jg_cli_json_str(j, "status");
        assert_true(!strcmp(st, "ok") || !strcmp(st, "diverged"));
        const cJSON *p = jg_cli_json_get(j, "params");
        assert_true(cJSON_IsObject(p));
        params[n++] = cJSON_PrintUnformatted(p);
        cJSON_Delete(j);
    }
    free(text);
    return n;
}

static void free_params(char **params, int n)
{
    for (int i = 0; i < n; i++) free(params[i]);
}

/* best_vs_energy.csv and summary.json agree with n trials. */
static void check_outputs(const char *dir, const char *strategy, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/best_vs_energy.csv", dir);
    char *csv = jg_cli_read_text(path);
    assert_non_null(strstr(csv, "trial,cumulative_j,best_val_accuracy,test_accuracy_of_best\n"));
    assert_int_equal(jg_cli_count_lines(csv), n + 1);
    // Best so far never drops; cumulative joules never drop.
    double prev_j = 0, prev_best = 0;
    const char *row = strchr(csv, '\n') + 1;
    for (int i = 0; i < n; i++) {
        int t;
        double j, b, ta;
        assert_int_equal(sscanf(row, "%d,%lf,%lf,%lf", &t, &j, &b, &ta), 4);
        assert_int_equal(t, i);
        assert_true(j >= prev_j && b >= prev_best && ta >= 0 && ta <= 1);
        prev_j = j;
        prev_best = b;
        row = strchr(row, '\n') + 1;
    }
    free(csv);

    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text = jg_cli_read_text(path);
    cJSON *s = cJSON_Parse(text);
    free(text);
    assert_non_null(s);
    assert_string_equal(jg_cli_json_str(s, "strategy"), strategy);
    assert_non_null(strstr(jg_cli_json_str(s, "space"), "lr=log:"));
    assert_int_equal((int)jg_cli_json_num(s, "trials"), n);
    assert_true(cJSON_IsObject(jg_cli_json_get(s, "best_params")));
    assert_true(fabs(jg_cli_json_num(s, "best_val_accuracy") - prev_best) < 1e-6);
    const double bt = jg_cli_json_num(s, "best_test_accuracy");
    assert_true(bt >= 0 && bt <= 1);
    assert_true(fabs(jg_cli_json_num(s, "total_energy_j") - prev_j) < 1e-5);
    assert_string_equal(jg_cli_json_str(s, "energy_source"), "estimate");
    cJSON_Delete(s);
}

static void test_usage_errors(void **state)
{
    (void)state;
    const char *d = jg_cli_path("bad");
    static const char *const bad[] = {
        "--space 'lr=log:1e-3:1e-1' --out %s",                       /* no --trials */
        "--trials 2 --out %s",                                       /* no --space */
        "--space 'lr=log:1e-3:1e-1' --trials 0 --out %s",
        "--space 'lr=log:1e-3:1e-1' --trials 2 --strategy anneal --out %s",
        "--space 'momentum=0:0.9' --trials 2 --out %s",              /* not an Adam knob */
        "--space 'beta1=0.5:1' --trials 2 --out %s",                 /* beta must be < 1 */
        "--space 'lr=log:1e-3:1e40' --trials 2 --out %s",            /* not a float */
        "--space 'lr=log:1e-3' --trials 2 --out %s",                 /* space syntax */
        "--space 'lr=log:1e-3:1e-1' --trials 2 --strategy grid --acquisition pi --out %s",
        "--space 'lr=log:1e-3:1e-1' --trials 2 --strategy bayes --acquisition poi --out %s",
        "--space 'lr=log:1e-3:1e-1' --trials 2 --val-fraction 0 --out %s",
        "--space 'lr=log:1e-3:1e-1' --trials 2 --frobnicate --out %s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char fmt[256];
        snprintf(fmt, sizeof fmt, "tune %s", bad[i]);
        assert_int_equal(jg_cli_runf(1, out, fmt, d), 2);
        assert_int_equal(jg_cli_count_lines(out), 1);
        assert_non_null(strstr(out, "joulegrad tune: "));
    }
    assert_int_equal(jg_cli_runf(1, out,
            "tune --space 'momentum=0:0.9' --trials 2 --out %s", d), 2);
    assert_non_null(strstr(out, "'momentum'"));
    assert_int_equal(jg_cli_runf(0, out, "tune --help"), 0);
    assert_non_null(strstr(out, "--acquisition"));
}

static void test_strategies_write_outputs(void **state)
{
    (void)state;
    static const char *const strategies[] = {"grid", "random", "bayes"};
    for (int k = 0; k < 3; k++) {
        const char *dir = jg_cli_path(strategies[k]);
        assert_int_equal(jg_cli_runf(0, out,
                "tune --strategy %s --space " SPACE3 " --trials 7 --seed 3 "
                                FLAGS " --out %s", strategies[k], dir), 0);
        // One progress line per trial, with joules and their source.
        int lines = 0;
        for (const char *p = out; (p = strstr(p, "\ntrial ")); p++) lines++;
        assert_int_equal(lines, 7);
        assert_non_null(strstr(out, "trial 7/7 "));
        assert_non_null(strstr(out, "J (estimate)"));
        char *params[8];
        const int n = read_trials(dir, strategies[k], params, 8);
        assert_int_equal(n, 7);
        for (int i = 0; i < n; i++) {
            cJSON *p = cJSON_Parse(params[i]);
            const double lr = jg_cli_json_num(p, "lr");
            const double b1 = jg_cli_json_num(p, "beta1");
            const double b2 = jg_cli_json_num(p, "beta2");
            assert_true(lr >= 1e-3 && lr <= 1e-1 && b1 >= 0.5 && b1 <= 0.95 && b2 >= 0.9 &&
                        b2 <= 0.9999);
            cJSON_Delete(p);
        }
        free_params(params, n);
        check_outputs(dir, strategies[k], 7);
        // The directory holds a study now: a second run must not clobber it.
        assert_int_equal(jg_cli_runf(1, out,
                "tune --strategy %s --space " SPACE3 " --trials 7 --seed 3 "
                                FLAGS " --out %s", strategies[k], dir), 2);
        assert_int_equal(jg_cli_count_lines(out), 1);
        assert_non_null(strstr(out, "--resume"));
    }
}

static void test_grid_visits_every_point(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("grid4");
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy grid --grid-points 2 --space "
                            "'lr=log:1e-3:1e-2,beta1=0.5:0.9' --trials 4 " FLAGS " --out %s",
                         dir), 0);
    char *params[4];
    assert_int_equal(read_trials(dir, "grid", params, 4), 4);
    static const char *const want[] = {
        "{\"lr\":0.001,\"beta1\":0.5}", "{\"lr\":0.001,\"beta1\":0.9}",
        "{\"lr\":0.01,\"beta1\":0.5}", "{\"lr\":0.01,\"beta1\":0.9}",
    };
    for (int w = 0; w < 4; w++) {
        int hits = 0;
        for (int i = 0; i < 4; i++) hits += !strcmp(params[i], want[w]);
        if (hits != 1) fail_msg("grid point %s visited %d times", want[w], hits);
    }
    free_params(params, 4);
    check_outputs(dir, "grid", 4);
}

/* A study of 2 trials resumed to 4 logs the same params as a straight run
 * of 4, for a feedback-free strategy and for bayes (whose first proposals
 * are its own n_init points and later ones depend on the observations). */
static void test_resume_matches_straight(void **state)
{
    (void)state;
    static const char *const strategies[] = {"random", "bayes"};
    for (int k = 0; k < 2; k++) {
        const char *s = strategies[k];
        char straight[256], resumed[300];
        snprintf(straight, sizeof straight, "%s", jg_cli_path(s));
        snprintf(resumed, sizeof resumed, "%s-resumed", straight);
        // bayes needs more than n_init = 5 trials to exercise the GP.
        const int total = k ? 7 : 4, first = k ? 6 : 2;
        char sflags[128];
        snprintf(sflags, sizeof sflags, "--strategy %s --acquisition pi", s);
        if (!k) snprintf(sflags, sizeof sflags, "--strategy %s", s);
        assert_int_equal(jg_cli_runf(0, out,
                "tune %s --space " SPACE3 " --trials %d --seed 5 " FLAGS
                " --out %s-straight", sflags, total, straight), 0);
        assert_int_equal(jg_cli_runf(0, out,
                "tune %s --space " SPACE3 " --trials %d --seed 5 " FLAGS
                " --out %s", sflags, first, resumed), 0);
        assert_int_equal(jg_cli_runf(0, out,
                "tune %s --space " SPACE3 " --trials %d --seed 5 " FLAGS
                " --out %s --resume", sflags, total, resumed), 0);
        assert_non_null(strstr(out, "resuming"));
        char path[300];
        snprintf(path, sizeof path, "%s-straight", straight);
        char *a[8], *b[8];
        assert_int_equal(read_trials(path, s, a, 8), total);
        assert_int_equal(read_trials(resumed, s, b, 8), total);
        for (int i = 0; i < total; i++)
            if (strcmp(a[i], b[i])) fail_msg("%s trial %d: %s vs %s", s, i, a[i], b[i]);
        free_params(a, total);
        free_params(b, total);
        check_outputs(resumed, s, total);
    }
}

static void test_resume_refuses_other_study(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("refuse");
    assert_int_equal(jg_cli_runf(0, out,
            "tune --strategy random --space " SPACE3 " --trials 2 " FLAGS
            " --out %s", dir), 0);
    // Another space, another model, another strategy: exit 2, one line.
    assert_int_equal(jg_cli_runf(1, out,
            "tune --strategy random --space 'lr=log:1e-4:1e-1' --trials 3 "
                            FLAGS " --out %s --resume", dir), 2);
    assert_int_equal(jg_cli_count_lines(out), 1);
    assert_non_null(strstr(out, "space"));
    assert_int_equal(jg_cli_runf(1, out,
            "tune --strategy random --space " SPACE3 " --trials 3 --data "
            "synthetic --train-limit 300 --test-limit 200 --batch 32 --threads 1 "
            "--epochs 1 --energy estimate --model 'flatten linear(10)' "
            "--out %s --resume", dir), 2);
    assert_int_equal(jg_cli_count_lines(out), 1);
    assert_non_null(strstr(out, "model"));
    assert_int_equal(jg_cli_runf(1, out,
            "tune --strategy sobol --space " SPACE3 " --trials 3 " FLAGS
            " --out %s --resume", dir), 2);
    assert_int_equal(jg_cli_count_lines(out), 1);
    // Nothing was appended by the refused runs.
    char *params[4];
    assert_int_equal(read_trials(dir, "random", params, 4), 2);
    free_params(params, 2);
}

/* The study's uniform lr often diverges: a NaN loss is a finished trial with
 * accuracy 0 and status "diverged", and the study goes on. */
static void test_diverged_trials(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("diverge");
    assert_int_equal(jg_cli_runf(0, out,
            "tune --strategy grid --grid-points 2 --space 'lr=log:1e-2:1e30' "
            "--trials 2 " FLAGS " --out %s", dir), 0);
    assert_non_null(strstr(out, "(diverged)"));
    char path[512];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    char *text = jg_cli_read_text(path);
    assert_non_null(strstr(text, "\"params\":{\"lr\":1e+30},\"val_accuracy\":0,"
                                 "\"test_accuracy\":0,"));
    assert_non_null(strstr(text, "\"status\":\"diverged\""));
    assert_non_null(strstr(text, "\"status\":\"ok\""));
    free(text);
    char *params[2];
    assert_int_equal(read_trials(dir, "grid", params, 2), 2);
    free_params(params, 2);
    check_outputs(dir, "grid", 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_strategies_write_outputs),
        cmocka_unit_test(test_grid_visits_every_point),
        cmocka_unit_test(test_resume_matches_straight),
        cmocka_unit_test(test_resume_refuses_other_study),
        cmocka_unit_test(test_diverged_trials),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
