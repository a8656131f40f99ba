/* SPDX-License-Identifier: MIT */
/*
 * test_study.c - the study loop (jg_tune_study_*) without the program: a
 * fake evaluator whose accuracy is an analytic function of the point and
 * the epochs and whose joules are known exactly. Several strategies in one
 * call with their comparison; a study stopped by a failing evaluator or by
 * its trial count, then resumed, equals an uninterrupted one; the energy
 * budget stops where the prediction says; ASHA promotions continue from the
 * files the study names (the evaluator writes and reads them); a resume
 * with other settings is refused naming the difference; the files parse.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "jg_tuning.h"
#include "study_fixture.h"

static void test_strategy_list(void **state)
{
    (void)state;
    jg_tune_strat_t s[JG_TUNE_MAX_STRATEGIES];
    jg_tune_error_t err;
    int n = 0;
    assert_int_equal(jg_tune_strategies_parse("grid,bayes,bayes-ei-per-joule", "pi", s, &n,
                                              &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].kind, "grid");
    assert_string_equal(s[1].kind, "bayes");
    assert_int_equal(s[1].acq, JG_TUNE_ACQ_PI);
    assert_string_equal(s[2].label, "bayes-ei-per-joule");
    assert_int_equal(s[2].acq, JG_TUNE_ACQ_EI_PER_J);
    static const char *const bad[][2] = {
        {"random,", "empty entry in 'random,'"}, {"random,random", "'random' given twice"},
        {"anneal", "unknown strategy 'anneal'"}, {"", "--strategy: empty"},
        {"a,b,c,d,e,f,g,h,i", "unknown strategy 'a'"},
        {"grid,random,sobol,bayes,bayes-ei,bayes-pi,bayes-ucb,bayes-ei-per-joule,bayes-x",
         "at most 8 strategies"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(jg_tune_strategies_parse(bad[i][0], NULL, s, &n, &err), -EINVAL);
        if (!strstr(err.msg, bad[i][1])) fail_msg("'%s': %s", bad[i][0], err.msg);
    }
    assert_int_equal(jg_tune_strategies_parse("random", "pi", s, &n, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "--acquisition applies to --strategy bayes only"));
}

/* Four strategies in one call: each in DIR/<label> with 6 records (grid:
 * its 9 points cap nothing here), the same records as the strategy alone,
 * per-study files that agree with the log, and the comparison. */
static void test_several_strategies(void **state)
{
    (void)state;
    fixture_t *fx = setup("grid,random,sobol,bayes-ei");
    fx->cfg.grid_points = 3;
    run_ok(fx);
    const char *text = fx->l.text;
    assert_int_equal(fx->f.calls, 24);
    assert_int_equal(count(text, "] trial "), 24);
    assert_non_null(strstr(text, "[bayes-ei] trial 6/6 lr="));
    assert_non_null(strstr(text, "\ncomparison (best validation accuracy of any strategy "));
    assert_non_null(strstr(text, "/comparison.csv and "));
    assert_int_equal(fx->l.notes, 0);

    cJSON *cmp = read_json(fx->dir, "summary.json");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cmp, "strategies");
    assert_int_equal(cJSON_GetArraySize(arr), 4);
    double top = 0;
    for (int k = 0; k < 4; k++) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s/%s", fx->dir, fx->strats[k].label);
        int64_t n;
        jg_tune_trial_t *r = read_log(sub, &fx->space, &n);
        assert_int_equal(n, 6);
        double best = 0, joules = 0;
        for (int64_t i = 0; i < n; i++) {
            assert_int_equal(r[i].trial, i);
            assert_string_equal(r[i].strategy, fx->strats[k].label);
            best = fmax(best, r[i].val_accuracy);
            joules += r[i].energy_j;
        }
        free(r);
        top = fmax(top, best);
        cJSON *s = read_json(sub, "summary.json");
        assert_string_equal(str(s, "strategy"), fx->strats[k].label);
        assert_string_equal(str(s, "stopped_by"), "trials");
        assert_string_equal(str(s, "settings"), "data=fake epochs=1");
        assert_string_equal(str(s, "model"), "fake spec");
        assert_true(num(s, "best_val_accuracy") == best);
        assert_true(fabs(num(s, "total_energy_j") - joules) < 1e-9 * joules);
        assert_true(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(s, "pareto_front")));
        cJSON_Delete(s);
        const cJSON *e = cJSON_GetArrayItem(arr, k);
        assert_true(num(e, "records") == 6 && num(e, "best_val_accuracy") == best);
        assert_int_equal(count_lines(sub, "best_vs_energy.csv"), 6 + 2);
    }
    assert_true(num(cmp, "best_val_accuracy") == top);
    cJSON_Delete(cmp);
    assert_int_equal(count_lines(fx->dir, "comparison.csv"), 4 + 2);

    // random alone, same seed: the same records as inside the comparison.
    fixture_t *alone = setup("random");
    run_ok(alone);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/random", fx->dir);
    int64_t na, nb;
    jg_tune_trial_t *a = read_log(sub, &fx->space, &na);
    jg_tune_trial_t *b = read_log(alone->dir, &fx->space, &nb);
    assert_same_records(a, na, b, nb);
    free(a);
    free(b);
    teardown(fx);
    teardown(alone);
}

/* Stopped after `stop` records (the evaluator fails the next call, or the
 * trial count caps the study), then resumed: the records equal an
 * uninterrupted study's, proposals included (bayes' depend on the
 * observations replayed). */
static void resume_case(const char *strategy, int asha, int stop, int by_cap)
{
    fixture_t *fx[2] = {setup(strategy), setup(strategy)}; // straight, cut
    for (int i = 0; i < 2; i++) {
        fx[i]->cfg.trials = asha ? 9 : 8;
        fx[i]->cfg.asha = asha;
        fx[i]->cfg.epochs = asha ? 9 : 1;
    }
    fixture_t *cut = fx[1];
    run_ok(fx[0]);
    if (by_cap) {
        cut->cfg.trials = stop;
        run_ok(cut);
        cut->cfg.trials = fx[0]->cfg.trials;
    } else {
        cut->f.fail_at = stop + 1;
        cut->f.fail_rc = -EINVAL;
        // A failure while running is never the usage error -EINVAL.
        assert_int_equal(run(cut), -EIO);
        assert_non_null(strstr(cut->err.msg, "] trial "));
        assert_non_null(strstr(cut->err.msg, ": the fake evaluator fails call"));
        cut->f.fail_at = 0;
    }
    cut->cfg.resume = 1;
    run_ok(cut);
    char want[300];
    snprintf(want, sizeof want, "tune: resuming %s/trials.jsonl after %d records\n", cut->dir,
             stop);
    if (!strstr(cut->l.text, want)) fail_msg("no '%s' in:\n%s", want, cut->l.text);
    int64_t na, nb;
    jg_tune_trial_t *a = read_log(fx[0]->dir, &fx[0]->space, &na);
    jg_tune_trial_t *b = read_log(cut->dir, &cut->space, &nb);
    assert_same_records(a, na, b, nb);
    free(a);
    free(b);
    teardown(fx[0]);
    teardown(cut);
}

static void test_resume_equals_straight(void **state)
{
    (void)state;
    resume_case("random", 0, 3, 0);
    resume_case("bayes", 0, 6, 0); // past bayes' 5 initial points: the GP's proposals
    resume_case("bayes", 0, 6, 1);
    resume_case("sobol", 1, 7, 0); // ASHA: the scheduler's promotions replayed too
}

/* 10 J per trial (flat): a budget of 35 J stops before trial 4, whose
 * prediction (the median per epoch, 10 J) would take 30 J past 35 J; a
 * resume without a budget continues to the end. */
static void test_energy_budget(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    fx->cfg.energy_budget_j = 35;
    fx->f.cheap = 1;
    run_ok(fx);
    assert_int_equal(fx->f.calls, 3);
    assert_non_null(strstr(fx->l.text, "[random] energy budget: stopping before trial 4: its "
                                       "predicted 10.00 J would take the total from 30.00 J "
                                       "past 35 J\n"));
    assert_non_null(strstr(fx->l.text, "cumulative 30.00 J of 35 J\n"));
    cJSON *s = read_json(fx->dir, "summary.json");
    assert_string_equal(str(s, "stopped_by"), "energy-budget");
    assert_true(num(s, "next_trial_predicted_j") == 10 && num(s, "energy_budget_j") == 35);
    assert_true(num(s, "records") == 3);
    cJSON_Delete(s);
    fx->cfg.energy_budget_j = 0;
    fx->cfg.resume = 1;
    run_ok(fx);
    assert_int_equal(fx->f.calls, 6);
    teardown(fx);
}

/* ASHA (r 1, R 9, eta 3, 9 trials): every promotion continues from the file
 * its trial saved at the previous rung, top-rung jobs save nothing, and the
 * files are gone when the scheduler finishes. */
static void test_asha_promotions(void **state)
{
    (void)state;
    fixture_t *fx = setup("sobol");
    fx->cfg.trials = 9;
    fx->cfg.epochs = 9;
    fx->cfg.asha = 1;
    run_ok(fx);
    int64_t n;
    jg_tune_trial_t *r = read_log(fx->dir, &fx->space, &n);
    int promoted = 0, top = 0;
    for (int64_t i = 0; i < n; i++) {
        promoted += r[i].rung > 0;
        top += r[i].rung == 2;
        assert_int_equal(r[i].epochs, r[i].rung == 0 ? 1 : r[i].rung == 1 ? 3 : 9);
    }
    free(r);
    assert_int_equal(n, fx->f.calls);
    assert_true(promoted >= 3 && top >= 1); // 9 trials, eta 3: one reaches R
    assert_int_equal(fx->f.promotions, promoted);
    assert_int_equal(fx->f.saves, n - top); // every job below the top rung
    assert_non_null(strstr(fx->l.text, "[sobol] early stopping (asha): "));
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoints", fx->dir);
    assert_int_not_equal(access(path, F_OK), 0);
    cJSON *s = read_json(fx->dir, "summary.json");
    const cJSON *es = cJSON_GetObjectItemCaseSensitive(s, "early_stopping");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(es, "finished")));
    assert_true(num(es, "epochs_without_stopping") == 81 && num(es, "epochs_trained") < 81);
    cJSON_Delete(s);
    teardown(fx);
}

/* Configurations that do not fit: -EINVAL saying why. */
static void test_bad_configs(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    jg_tune_study_config_t c = fx->cfg;
    c.grid_points = 3;
    assert_int_equal(jg_tune_study_check(&c, &fx->err), -EINVAL);
    assert_string_equal(fx->err.msg, "--grid-points applies to --strategy grid only");
    c = fx->cfg;
    c.min_epochs = 2;
    assert_int_equal(jg_tune_study_check(&c, &fx->err), -EINVAL);
    c.asha = 1;
    c.epochs = 1;
    assert_int_equal(jg_tune_study_check(&c, &fx->err), -EINVAL);
    assert_string_equal(fx->err.msg, "--min-epochs 2 is more than --epochs 1");
    c = fx->cfg;
    c.energy_budget_j = 5;
    c.no_energy = 1;
    assert_int_equal(jg_tune_study_check(&c, &fx->err), -EINVAL);
    assert_string_equal(fx->err.msg, "--energy off leaves no joules for --energy-budget");
    c = fx->cfg;
    c.resume = 1;
    assert_int_equal(jg_tune_study_check_dir(&c, &fx->err), -EINVAL);
    assert_non_null(strstr(fx->err.msg, "cannot resume: no trials.jsonl in "));
    teardown(fx);
}

/* A study on disk and a run with another seed or other settings, or
 * without resume: -EINVAL naming what differs, nothing appended. */
static void test_refusals(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    fx->cfg.trials = 2;
    run_ok(fx);
    assert_int_equal(run(fx), -EINVAL);
    assert_non_null(strstr(fx->err.msg, "already holds a study: add --resume"));
    fx->cfg.resume = 1;
    fx->cfg.trials = 4;
    const char *other = "data=fake epochs=3";
    fx->cfg.settings = &other;
    assert_int_equal(run(fx), -EINVAL);
    char want[300];
    snprintf(want, sizeof want, "cannot resume %s/trials.jsonl: different settings: "
             "'epochs=1' in the log, 'epochs=3' now", fx->dir);
    assert_string_equal(fx->err.msg, want);
    fx->cfg.settings = fx->settings;
    fx->cfg.seed = 8;
    assert_int_equal(run(fx), -EINVAL);
    assert_non_null(strstr(fx->err.msg, "it was written with --strategy random --seed 7"));
    fx->cfg.seed = 7;
    fx->cfg.trials = 1; // fewer trials than the log holds
    assert_int_equal(run(fx), -EINVAL);
    assert_non_null(strstr(fx->err.msg, "more records than the study makes (1 trials)"));
    assert_int_equal(fx->f.calls, 2);
    teardown(fx);
}

/* A log torn in its last line: the resume drops it with a note (prefixed
 * with prog) and continues. */
static void test_torn_log_note(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    fx->cfg.trials = 2;
    run_ok(fx);
    char path[512];
    snprintf(path, sizeof path, "%s/trials.jsonl", fx->dir);
    FILE *out = fopen(path, "a");
    assert_non_null(out);
    fputs("{\"type\":\"trial\"", out);
    fclose(out);
    fx->cfg.resume = 1;
    fx->cfg.trials = 3;
    run_ok(fx);
    assert_int_equal(fx->l.notes, 1);
    assert_non_null(strstr(fx->l.text, "test_study: "));
    assert_non_null(strstr(fx->l.text, "dropped torn final line"));
    assert_int_equal(fx->f.calls, 3);
    teardown(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strategy_list),
        cmocka_unit_test(test_several_strategies),
        cmocka_unit_test(test_resume_equals_straight),
        cmocka_unit_test(test_energy_budget),
        cmocka_unit_test(test_asha_promotions),
        cmocka_unit_test(test_bad_configs),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_torn_log_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
