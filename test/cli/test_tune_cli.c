/* SPDX-License-Identifier: MIT */
/*
 * test_tune_cli.c - `joulegrad tune` as a user meets it: bad flags, the
 * study directory (trials.jsonl, best_vs_energy.csv, summary.json) for grid,
 * random and bayes, a 2x2 grid visiting exactly its 4 points, resume giving
 * the same proposals as a straight run, and resume refusing another space
 * or other settings; several strategies with their comparison, the energy
 * budget, ASHA early stopping (continuing from checkpoints exactly, and
 * surviving kill -9), the Pareto front, and ei-per-joule.
 * Synthetic data and a tiny net keep every study well under a second.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "harness.h"

#define MODEL "'conv(4,3,pad=1) relu maxpool(2) flatten linear(10)'"
#define FLAGS "--data synthetic --train-limit 300 --test-limit 200 --batch 32 --threads 1 " \
              "--epochs 1 --energy estimate --model " MODEL
#define SPACE3 "'lr=log:1e-3:1e-1,beta1=0.5:0.95,beta2=0.9:0.9999'"

static char out[JG_CLI_OUT_MAX];

/* One record of trials.jsonl as the tests compare them. */
typedef struct {
    int trial, rung, epochs;
    double val, test, joules;
    char params[160], status[16], strategy[32];
} rec_t;

/* Every trial record of dir/trials.jsonl (header first, skipped), each
 * checked for every field the issue promises. */
static int read_records(const char *dir, rec_t *r, int max)
{
    char path[600];
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
        rec_t *x = &r[n++];
        x->trial = (int)jg_cli_json_num(j, "trial") - 1; // the files count from 1
        const cJSON *rung = cJSON_GetObjectItemCaseSensitive(j, "rung");
        x->rung = rung ? (int)rung->valuedouble : -1;
        x->epochs = (int)jg_cli_json_num(j, "epochs");
        x->val = jg_cli_json_num(j, "val_accuracy");
        x->test = jg_cli_json_num(j, "test_accuracy");
        x->joules = jg_cli_json_num(j, "energy_j");
        assert_true(x->val >= 0 && x->val <= 1 && x->test >= 0 && x->test <= 1);
        assert_true(x->joules > 0 && x->epochs >= 0);
        assert_string_equal(jg_cli_json_str(j, "energy_source"), "estimate");
        assert_true(jg_cli_json_num(j, "seconds") >= 0);
        snprintf(x->status, sizeof x->status, "%s", jg_cli_json_str(j, "status"));
        assert_true(!strcmp(x->status, "ok") ? x->epochs >= 1 : !strcmp(x->status, "diverged"));
        snprintf(x->strategy, sizeof x->strategy, "%s", jg_cli_json_str(j, "strategy"));
        const cJSON *p = jg_cli_json_get(j, "params");
        assert_true(cJSON_IsObject(p));
        char *ps = cJSON_PrintUnformatted(p);
        snprintf(x->params, sizeof x->params, "%s", ps);
        free(ps);
        cJSON_Delete(j);
    }
    free(text);
    return n;
}

/* Trial records of trials.jsonl without early stopping: record i is trial i
 * of strategy. Fills params[i] with the compact JSON of trial i's params
 * (caller frees); returns the count. */
static int read_trials(const char *dir, const char *strategy, char **params, int max)
{
    rec_t *r = calloc((size_t)max, sizeof *r);
    assert_non_null(r);
    const int n = read_records(dir, r, max);
    for (int i = 0; i < n; i++) {
        assert_int_equal(r[i].trial, i);
        assert_string_equal(r[i].strategy, strategy);
        params[i] = strdup(r[i].params);
    }
    free(r);
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
    assert_non_null(strstr(csv, "\nrecord,trial,rung,epochs,energy_j,cumulative_j,val_accuracy,"
                                "best_val_accuracy,test_accuracy_of_best\n"));
    assert_non_null(strstr(csv, "energy source: estimate"));
    assert_int_equal(jg_cli_count_lines(csv), n + 2);
    // Best so far never drops; cumulative joules never drop.
    double prev_j = 0, prev_best = 0;
    const char *row = strchr(strchr(csv, '\n') + 1, '\n') + 1;
    for (int i = 0; i < n; i++) {
        int r, t, rung, ep;
        double ej, j, va, b, ta;
        assert_int_equal(sscanf(row, "%d,%d,%d,%d,%lf,%lf,%lf,%lf,%lf", &r, &t, &rung, &ep, &ej,
                                &j, &va, &b, &ta), 9);
        assert_int_equal(r, i + 1); // records count from 1, as on screen
        assert_true(ej > 0 && fabs(j - (prev_j + ej)) < 1e-5 && va <= b);
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
        for (const char *p = out; (p = strstr(p, "] trial ")); p++) lines++;
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

/* The same records, in the same order, with bit-identical accuracies. */
static void assert_same_records(const rec_t *a, int na, const rec_t *b, int nb)
{
    assert_int_equal(na, nb);
    for (int i = 0; i < na; i++)
        if (a[i].trial != b[i].trial || a[i].rung != b[i].rung || a[i].epochs != b[i].epochs ||
            strcmp(a[i].params, b[i].params) || a[i].val != b[i].val || a[i].test != b[i].test)
            fail_msg("record %d: trial %d rung %d %s val %.17g vs trial %d rung %d %s val %.17g",
                     i, a[i].trial, a[i].rung, a[i].params, a[i].val, b[i].trial, b[i].rung,
                     b[i].params, b[i].val);
}

static void test_new_usage_errors(void **state)
{
    (void)state;
    const char *d = jg_cli_path("bad2");
    static const char *const bad[] = {
        "--strategy random,anneal",                        /* unknown in a list */
        "--strategy random,random",                        /* twice */
        "--strategy random,",                              /* empty entry */
        "--strategy bayes-pi --acquisition ei",            /* no plain bayes */
        "--objective joules",
        "--objective pareto --strategy bayes-pi",          /* ParEGO uses EI */
        "--objective pareto --energy off",                 /* no joules */
        "--strategy bayes-ei-per-joule --energy off",
        "--energy-budget 0",
        "--energy-budget -5",
        "--energy-budget 100 --energy off",
        "--early-stop hyperband",
        "--min-epochs 2",                                  /* without asha */
        "--early-stop asha --min-epochs 3 --epochs 2",
        "--early-stop asha --eta 1",
        "--space 'lr=log:1e-3:1e-1,batch=8:128'",          /* batch must be int */
        "--space 'lr=log:1e-3:1e-1,batch=int:0:128'",
        "--optimizer rmsprop",
        "--assume-watts 5 --energy rapl",
        "--assume-watts 0",
        "--optimizer sgd --space 'lr=log:1e-3:1e-1,beta1=0.1:0.9'", /* an Adam knob */
        "--space 'lr=log:1e-3:1e-1,momentum=0:0.9'",                 /* an SGD knob */
        "--space 'lr=log:1e-3:1e-1,weight_decay=-1:0'",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char fmt[300];
        snprintf(fmt, sizeof fmt, "tune %s%s --trials 2 %s --out %%s",
                 strstr(bad[i], "--space") ? "" : "--space ",
                 strstr(bad[i], "--space") ? "" : "'lr=log:1e-3:1e-1'", bad[i]);
        const int rc = jg_cli_runf(1, out, fmt, d);
        if (rc != 2 || jg_cli_count_lines(out) != 1 || !strstr(out, "joulegrad tune: "))
            fail_msg("'%s': exit %d, output: %s", bad[i], rc, out);
    }
}

/* Several strategies: each study in DIR/<strategy> with the seed and trials
 * of a study run alone, and a comparison consistent with their files. */
static void test_several_strategies(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("several");
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random,bayes-pi --space " SPACE3
                                 " --trials 6 --seed 4 " FLAGS " --out %s", dir), 0);
    assert_non_null(strstr(out, "comparison"));
    assert_non_null(strstr(out, "[random] trial 6/6"));
    assert_non_null(strstr(out, "[bayes-pi] trial 6/6"));
    char alone[300], sub[320];
    snprintf(alone, sizeof alone, "%s-alone", dir);
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random --space " SPACE3
                                 " --trials 6 --seed 4 " FLAGS " --out %s", alone), 0);
    rec_t a[8], b[8];
    snprintf(sub, sizeof sub, "%s/random", dir);
    const int na = read_records(sub, a, 8), nb = read_records(alone, b, 8);
    assert_same_records(a, na, b, nb);

    cJSON *cmp = jg_cli_read_json(dir, "summary.json");
    const cJSON *arr = jg_cli_json_get(cmp, "strategies");
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    const double top = jg_cli_json_num(cmp, "best_val_accuracy");
    double top_seen = 0, common_seen = 1;
    static const char *const labels[2] = {"random", "bayes-pi"};
    for (int k = 0; k < 2; k++) {
        const cJSON *e = cJSON_GetArrayItem(arr, k);
        assert_string_equal(jg_cli_json_str(e, "strategy"), labels[k]);
        snprintf(sub, sizeof sub, "%s/%s", dir, labels[k]);
        check_outputs(sub, labels[k], 6);
        cJSON *s = jg_cli_read_json(sub, "summary.json");
        assert_true(fabs(jg_cli_json_num(e, "total_energy_j") -
                         jg_cli_json_num(s, "total_energy_j")) < 1e-9);
        const double best = jg_cli_json_num(s, "best_val_accuracy");
        assert_true(jg_cli_json_num(e, "best_val_accuracy") == best);
        if (best > top_seen) top_seen = best;
        if (best < common_seen) common_seen = best;
        cJSON_Delete(s);
        // Joules to 99% of the top: the first record at or above it, from the log.
        rec_t r[8];
        const int n = read_records(sub, r, 8);
        double cum = 0;
        int reached = -1;
        for (int i = 0; i < n && reached < 0; i++) {
            cum += r[i].joules;
            if (r[i].val >= 0.99 * top) reached = i;
        }
        const cJSON *j99 = cJSON_GetObjectItemCaseSensitive(e, "energy_to_99pct_j");
        if (reached < 0) {
            assert_null(j99);
        } else {
            assert_true(fabs(j99->valuedouble - cum) < 1e-6 * (1 + cum));
            assert_int_equal((int)jg_cli_json_num(e, "records_to_99pct"), reached + 1);
        }
    }
    assert_true(top == top_seen);
    assert_true(jg_cli_json_num(cmp, "common_best_val_accuracy") == common_seen);
    cJSON_Delete(cmp);
    snprintf(sub, sizeof sub, "%s/comparison.csv", dir);
    char *csv = jg_cli_read_text(sub);
    assert_int_equal(jg_cli_count_lines(csv), 4); // comment, header, 2 rows
    assert_non_null(strstr(csv, "\nrandom,6,"));
    assert_non_null(strstr(csv, "\nbayes-pi,6,"));
    free(csv);
    snprintf(sub, sizeof sub, "%s/best_vs_energy.gp", dir);
    csv = jg_cli_read_text(sub);
    assert_non_null(strstr(csv, "title 'bayes-pi'"));
    free(csv);
}

/* The budget stops a study before a trial that would overrun it; a resume
 * with a larger budget continues exactly where a straight run would be. */
static void test_energy_budget(void **state)
{
    (void)state;
    const char *full = jg_cli_path("budget-full");
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random --space " SPACE3
                                 " --trials 8 " FLAGS " --out %s", full), 0);
    rec_t f[8];
    assert_int_equal(read_records(full, f, 8), 8);
    // A budget of 1.5 first trials: the first always runs (nothing to predict
    // from yet), and the study stops within 8 trials unless this run's trials
    // cost a fifth of the first run's (timings differ between runs).
    const double budget = 1.5 * f[0].joules;
    const char *dir = jg_cli_path("budget");
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random --space " SPACE3
                                 " --trials 8 --energy-budget %.6f " FLAGS " --out %s", budget,
                                 dir), 0);
    assert_non_null(strstr(out, "energy budget: stopping before trial"));
    cJSON *s = jg_cli_read_json(dir, "summary.json");
    assert_string_equal(jg_cli_json_str(s, "stopped_by"), "energy-budget");
    const double spent = jg_cli_json_num(s, "total_energy_j");
    const double pred = jg_cli_json_num(s, "next_trial_predicted_j");
    const int n = (int)jg_cli_json_num(s, "trials");
    assert_true(n >= 1 && n < 8 && pred > 0 && spent + pred > budget);
    assert_true(fabs(jg_cli_json_num(s, "energy_budget_j") - budget) < 1e-6);
    cJSON_Delete(s);
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random --space " SPACE3
                                 " --trials 8 " FLAGS " --out %s --resume", dir), 0);
    rec_t r[8];
    const int nr = read_records(dir, r, 8);
    assert_same_records(f, 8, r, nr);
}

#define ASHA_FLAGS "--strategy sobol --space " SPACE3 " --trials 9 --epochs 9 --seed 2 " \
                   "--data synthetic --train-limit 300 --test-limit 200 --batch 32 " \
                   "--threads 1 --energy estimate --model " MODEL

/* ASHA: rungs of 1, 3 and 9 epochs; every trial starts at rung 0 once;
 * promotions continue from checkpoints bit-exactly (the same accuracies as
 * training the trial straight for that many epochs); the energy it saved is
 * reported; the checkpoints are gone at the end. */
static void test_asha(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("asha");
    assert_int_equal(jg_cli_runf(0, out, "tune " ASHA_FLAGS " --early-stop asha --out %s",
                                 dir), 0);
    assert_non_null(strstr(out, "early stopping (asha)"));
    rec_t r[40];
    const int n = read_records(dir, r, 40);
    assert_true(n > 9);
    int rung0[9] = {0}, top = -1;
    for (int i = 0; i < n; i++) {
        static const int epochs[3] = {1, 3, 9};
        assert_true(r[i].rung >= 0 && r[i].rung < 3 && r[i].trial >= 0 && r[i].trial < 9);
        assert_int_equal(r[i].epochs, epochs[r[i].rung]);
        if (r[i].rung == 0) rung0[r[i].trial]++;
        else assert_true(i > 0);
        if (r[i].rung == 2) top = i;
    }
    for (int t = 0; t < 9; t++) assert_int_equal(rung0[t], 1);
    assert_true(top >= 0); // 9 trials with eta 3 take one to the top rung
    cJSON *s = jg_cli_read_json(dir, "summary.json");
    assert_string_equal(jg_cli_json_str(s, "stopped_by"), "asha");
    const cJSON *es = jg_cli_json_get(s, "early_stopping");
    const double trained = jg_cli_json_num(es, "epochs_trained");
    assert_true(jg_cli_json_num(es, "epochs_without_stopping") == 81 && trained < 81);
    int sum = 0;
    for (int i = 0; i < n; i++) sum += r[i].epochs - (r[i].rung ? (r[i].rung == 1 ? 1 : 3) : 0);
    assert_true(trained == sum);
    assert_true(jg_cli_json_num(es, "energy_saved_estimate_j") > 0);
    assert_true(cJSON_IsTrue(jg_cli_json_get(es, "finished")));
    cJSON_Delete(s);
    char path[600];
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    assert_int_not_equal(access(path, F_OK), 0);

    // The top-rung trial trained 9 epochs straight gives the same accuracies.
    char plain[300];
    snprintf(plain, sizeof plain, "%s-plain", dir);
    assert_int_equal(jg_cli_runf(0, out, "tune " ASHA_FLAGS " --out %s", plain), 0);
    rec_t p[9];
    assert_int_equal(read_records(plain, p, 9), 9);
    const rec_t *x = &p[r[top].trial];
    assert_string_equal(x->params, r[top].params);
    if (x->val != r[top].val || x->test != r[top].test)
        fail_msg("trial %d: val %.17g test %.17g through rungs, %.17g %.17g straight",
                 r[top].trial, r[top].val, r[top].test, x->val, x->test);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int count_file_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    int n = 0;
    for (int c; (c = fgetc(f)) != EOF;) n += c == '\n';
    fclose(f);
    return n;
}

/* kill -9 in the middle of an ASHA study (after `records` records), then
 * --resume: the records equal an uninterrupted study's. */
static void test_asha_kill9_resume(void **state)
{
    (void)state;
    const char *straight = jg_cli_path("asha-straight");
    assert_int_equal(jg_cli_runf(0, out, "tune " ASHA_FLAGS " --early-stop asha --out %s",
                                 straight), 0);
    rec_t a[40], b[40];
    const int na = read_records(straight, a, 40);
    for (int records = 2; records <= 8; records += 3) {
        char dir[300], cmd[1200], log[340];
        snprintf(dir, sizeof dir, "%s-killed-%d", straight, records);
        snprintf(log, sizeof log, "%s/trials.jsonl", dir);
        snprintf(cmd, sizeof cmd, "exec %s tune " ASHA_FLAGS " --early-stop asha --out %s "
                 ">/dev/null 2>&1", JG_CLI_PATH, dir);
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
            _exit(127);
        }
        const double t0 = now_s();
        struct timespec nap = {0, 200000}; // 0.2 ms: a record takes a few ms
        int status;
        while (count_file_lines(log) < 1 + records) {
            if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("tune ended before the kill");
            if (now_s() - t0 > 120) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                fail_msg("no %d records after 120 s", records);
            }
            nanosleep(&nap, NULL);
        }
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(jg_cli_runf(1, out, "tune " ASHA_FLAGS " --early-stop asha --out %s "
                                     "--resume", dir), 0);
        const int nb = read_records(dir, b, 40);
        assert_same_records(a, na, b, nb);
    }
}

/* Every study reports its Pareto front: no front trial dominates another
 * and every other trial is dominated by one; pareto objective and
 * ei-per-joule run end to end. */
static void test_pareto_and_ei_per_joule(void **state)
{
    (void)state;
    // ei-per-joule over the batch size too: the one knob here that moves cost.
    static const char *const how[2] = {
        "--strategy bayes --objective pareto --space " SPACE3,
        "--strategy bayes-ei-per-joule --space 'lr=log:1e-3:1e-1,batch=int:8:128'",
    };
    for (int k = 0; k < 2; k++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s-%d", jg_cli_path("pareto"), k);
        assert_int_equal(jg_cli_runf(0, out, "tune %s --trials 8 --seed 6 " FLAGS " --out %s",
                                     how[k], dir), 0);
        rec_t r[8];
        const int n = read_records(dir, r, 8);
        assert_int_equal(n, 8);
        cJSON *s = jg_cli_read_json(dir, "summary.json");
        const cJSON *pf = jg_cli_json_get(s, "pareto_front");
        const int nf = cJSON_GetArraySize(pf);
        assert_true(nf >= 1 && nf <= n);
        int on_front[8] = {0};
        double prev_j = -1;
        for (int q = 0; q < nf; q++) {
            const cJSON *e = cJSON_GetArrayItem(pf, q);
            const int t = (int)jg_cli_json_num(e, "trial") - 1; // counted from 1
            on_front[t] = 1;
            // cJSON prints with 15 digits when they read back within an ulp or so.
            if (fabs(jg_cli_json_num(e, "energy_j") - r[t].joules) > 1e-12 * r[t].joules ||
                fabs(jg_cli_json_num(e, "val_accuracy") - r[t].val) > 1e-12 ||
                !(r[t].joules > prev_j))
                fail_msg("%s: front entry %d (trial %d): %.17g J val %.17g; log %.17g J val "
                         "%.17g; previous entry %.17g J (must be by joules ascending)", how[k],
                         q, t, jg_cli_json_num(e, "energy_j"), jg_cli_json_num(e, "val_accuracy"),
                         r[t].joules, r[t].val, prev_j);
            prev_j = r[t].joules;
        }
        for (int i = 0; i < n; i++) {
            int dominated = 0;
            for (int q = 0; q < n; q++)
                dominated |= on_front[q] && q != i && r[q].val >= r[i].val &&
                             r[q].joules <= r[i].joules &&
                             (r[q].val > r[i].val || r[q].joules < r[i].joules);
            if (on_front[i] == dominated)
                fail_msg("%s: trial %d (val %g, %g J) %s", how[k], i, r[i].val, r[i].joules,
                         on_front[i] ? "on the front but dominated" : "dominated by none");
        }
        cJSON_Delete(s);
        char path[340];
        snprintf(path, sizeof path, "%s/pareto.csv", dir);
        char *csv = jg_cli_read_text(path);
        assert_int_equal(jg_cli_count_lines(csv), nf + 2);
        free(csv);
        for (int i = 0; k == 1 && i < n; i++) { // an integer batch in [8, 128]
            cJSON *p = cJSON_Parse(r[i].params);
            const double b = jg_cli_json_num(p, "batch");
            assert_true(b >= 8 && b <= 128 && b == floor(b));
            cJSON_Delete(p);
        }
    }
}

/* SGD's knobs: each trial trains with the momentum and weight decay it
 * logged (a different optimizer is a different run: resume refuses it). */
static void test_sgd_space(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("sgd");
    assert_int_equal(jg_cli_runf(0, out, "tune --optimizer sgd --strategy random --space "
                                 "'lr=log:1e-3:1e-1,momentum=0:0.95,weight_decay=0:1e-3' "
                                 "--trials 3 " FLAGS " --out %s", dir), 0);
    rec_t r[3];
    assert_int_equal(read_records(dir, r, 3), 3);
    for (int i = 0; i < 3; i++) {
        cJSON *p = cJSON_Parse(r[i].params);
        const double m = jg_cli_json_num(p, "momentum"), wd = jg_cli_json_num(p, "weight_decay");
        assert_true(m >= 0 && m <= 0.95 && wd >= 0 && wd <= 1e-3);
        cJSON_Delete(p);
    }
    char dir2[300];
    snprintf(dir2, sizeof dir2, "%s-lr", dir);
    assert_int_equal(jg_cli_runf(0, out, "tune --optimizer sgd --strategy random --space "
                                 "'lr=log:1e-3:1e-1' --trials 1 " FLAGS " --out %s", dir2), 0);
    assert_int_equal(jg_cli_runf(1, out, "tune --optimizer adam --strategy random --space "
                                 "'lr=log:1e-3:1e-1' --trials 2 " FLAGS " --out %s --resume",
                                 dir2), 2);
    assert_int_equal(jg_cli_count_lines(out), 1);
    assert_non_null(strstr(out, "'optimizer=sgd' in the log, 'optimizer=adam' now"));
}

/* --resume with other settings (epochs, data subset, early stopping) is
 * refused naming the setting. */
static void test_resume_refuses_other_settings(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("settings");
    assert_int_equal(jg_cli_runf(0, out, "tune --strategy random --space " SPACE3
                                 " --trials 2 " FLAGS " --out %s", dir), 0);
    static const char *const other[] = {"--epochs 2", "--train-limit 250",
                                        "--early-stop asha --epochs 3"};
    static const char *const named[] = {"'epochs=1' in the log, 'epochs=2' now",
                                        "'train_limit=300' in the log, 'train_limit=250' now",
                                        "'epochs=1' in the log, 'epochs=3' now"};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(jg_cli_runf(1, out, "tune --strategy random --space " SPACE3
                                     " --trials 3 " FLAGS " %s --out %s --resume", other[k],
                                     dir), 2);
        assert_int_equal(jg_cli_count_lines(out), 1);
        if (!strstr(out, named[k])) fail_msg("'%s' gave: %s", other[k], out);
    }
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
        cmocka_unit_test(test_new_usage_errors),
        cmocka_unit_test(test_several_strategies),
        cmocka_unit_test(test_energy_budget),
        cmocka_unit_test(test_asha),
        cmocka_unit_test(test_asha_kill9_resume),
        cmocka_unit_test(test_pareto_and_ei_per_joule),
        cmocka_unit_test(test_resume_refuses_other_settings),
        cmocka_unit_test(test_sgd_space),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
