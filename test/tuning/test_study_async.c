/* SPDX-License-Identifier: MIT */
/*
 * test_study_async.c - the study loop with an asynchronous evaluator
 * (jg_tune_study_run_async), against the fake of study_fixture.h whose jobs
 * finish in a seeded order: grid, random and sobol give a serial run's
 * trials at 2 and 4 slots; bayes with 4 slots is deterministic for a finish
 * order and, killed with jobs running, resumes to an uninterrupted run's
 * log, running those jobs again with their logged points; ASHA with 3
 * slots never promotes a running trial; the energy budget counts the jobs
 * running; a study process killed with SIGKILL at random moments leaves a
 * log that resumes to a complete study keeping every finished trial; a
 * serial log resumed with slots; an evaluator that returns a job that is
 * not running.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "study_fixture.h"

/* Records sorted by trial (then rung) into out (n). */
static int cmp_rec(const void *a, const void *b)
{
    const jg_tune_trial_t *x = a, *y = b;
    if (x->trial != y->trial) return x->trial < y->trial ? -1 : 1;
    return (x->rung > y->rung) - (x->rung < y->rung);
}

/* The same records, one per trial and rung, in any order. */
static void assert_same_set(jg_tune_trial_t *a, int64_t na, jg_tune_trial_t *b, int64_t nb)
{
    qsort(a, (size_t)na, sizeof *a, cmp_rec);
    qsort(b, (size_t)nb, sizeof *b, cmp_rec);
    assert_same_records(a, na, b, nb);
}

/* Events equal: kinds, jobs, points and results, in order. */
static void assert_same_events(const jg_tune_log_event_t *a, int64_t na,
                               const jg_tune_log_event_t *b, int64_t nb)
{
    assert_int_equal(na, nb);
    for (int64_t i = 0; i < na; i++) {
        const jg_tune_trial_t *x = &a[i].t, *y = &b[i].t;
        if (a[i].kind != b[i].kind || x->trial != y->trial || x->rung != y->rung ||
            memcmp(&x->params, &y->params, sizeof x->params) ||
            x->val_accuracy != y->val_accuracy || x->energy_j != y->energy_j)
            fail_msg("line %lld: %s trial %lld rung %d lr %.17g vs %s trial %lld rung %d "
                     "lr %.17g", (long long)i + 2, a[i].kind ? "proposal" : "result",
                     (long long)x->trial + 1, x->rung, x->params.v[0],
                     b[i].kind ? "proposal" : "result", (long long)y->trial + 1, y->rung,
                     y->params.v[0]);
    }
}

/* The logs of a and b hold the same lines. */
static void assert_same_logs(const fixture_t *a, const fixture_t *b)
{
    int64_t na, nb;
    jg_tune_log_event_t *x = read_events(a->dir, &a->space, &na);
    jg_tune_log_event_t *y = read_events(b->dir, &b->space, &nb);
    assert_same_events(x, na, y, nb);
    free(x);
    free(y);
}

/* The logs of a and b hold the same results, in any order. */
static void assert_same_results(const fixture_t *a, const fixture_t *b)
{
    int64_t na, nb;
    jg_tune_trial_t *x = read_log(a->dir, &a->space, &na);
    jg_tune_trial_t *y = read_log(b->dir, &b->space, &nb);
    assert_same_set(x, na, y, nb);
    free(x);
    free(y);
}

/* grid (3 x 3 points), random and sobol at 2 and 4 slots: the trials (each
 * trial's point and result) equal a serial run's, finished in another
 * order; the log has a proposal line per job, the serial one none, and the
 * progress lines name the trials running. */
static void test_same_trials_as_serial(void **state)
{
    (void)state;
    static const char *const strategies[] = {"grid", "random", "sobol"};
    int reordered = 0;
    for (int k = 0; k < 3; k++) {
        fixture_t *serial = setup(strategies[k]);
        serial->cfg.trials = 8;
        serial->cfg.grid_points = k == 0 ? 3 : 0;
        run_ok(serial);
        char *text = read_text(serial->dir, "trials.jsonl");
        assert_int_equal(count(text, "\"type\":\"proposal\""), 0);
        free(text);
        assert_null(strstr(serial->l.text, "running:"));
        for (int slots = 2; slots <= 4; slots += 2) {
            fixture_t *fx = setup(strategies[k]);
            fx->cfg.trials = 8;
            fx->cfg.grid_points = serial->cfg.grid_points;
            run_async_ok(fx, slots);
            assert_int_equal(fx->a->max_running, slots);
            int64_t n;
            jg_tune_trial_t *r = read_log(fx->dir, &fx->space, &n);
            for (int64_t i = 0; i < n; i++) reordered += r[i].trial != i;
            text = read_text(fx->dir, "trials.jsonl");
            assert_int_equal(count(text, "\"type\":\"proposal\""), 8);
            free(text);
            assert_non_null(strstr(fx->l.text, "; running: "));
            assert_non_null(strstr(fx->l.text, "; running: none\n"));
            assert_same_results(serial, fx);
            free(r);
            teardown(fx);
        }
        teardown(serial);
    }
    assert_true(reordered > 0); // the jobs did finish out of order
}

/* bayes with 4 slots, 14 trials (5 initial, then the GP with points
 * pending): two runs write the same log; a run whose worker pool fails
 * after `cut` results, then resumed, writes the same log too, its running
 * jobs submitted again first with the points of their proposal lines. */
static void bayes_kill_case(int cut)
{
    fixture_t *fx[3] = {setup("bayes"), setup("bayes"), setup("bayes")};
    for (int i = 0; i < 3; i++) fx[i]->cfg.trials = 14;
    run_async_ok(fx[0], 4);
    run_async_ok(fx[1], 4);
    assert_int_equal(count_lines(fx[0]->dir, "trials.jsonl"), 1 + 28);
    assert_same_logs(fx[0], fx[1]);
    fixture_t *k = fx[2];
    k->a = calloc(1, sizeof *k->a);
    k->a->seed = 99;
    k->a->fail_wait_at = cut + 1;
    assert_int_equal(run_async(k, 4), -EIO);
    assert_non_null(strstr(k->err.msg, "[bayes] the fake worker pool fails wait"));
    int64_t nk;
    jg_tune_log_event_t *ek = read_events(k->dir, &k->space, &nk);
    int proposed = 0;
    for (int64_t i = 0; i < nk; i++) proposed += ek[i].kind == JG_TUNE_EVENT_PROPOSAL;
    assert_int_equal(nk - proposed, cut);
    assert_int_equal(proposed - cut, 4); // four were running
    const int subs_before = k->a->n_subs;
    k->cfg.resume = 1;
    run_async_ok(k, 4);
    char want[300];
    snprintf(want, sizeof want, "tune: resuming %s/trials.jsonl after %d records; 4 jobs that "
             "were running start again first\n", k->dir, cut);
    if (!strstr(k->l.text, want)) fail_msg("no '%s' in:\n%s", want, k->l.text);
    assert_int_equal(k->l.notes, 0); // every replayed proposal was proposed again exactly
    // the first four submissions of the resumed run: the running jobs, same points
    int again = 0;
    for (int64_t i = 0; i < nk && again < 4; i++) {
        if (ek[i].kind != JG_TUNE_EVENT_PROPOSAL) continue;
        int done = 0;
        for (int64_t j = i + 1; j < nk; j++)
            done |= ek[j].kind == JG_TUNE_EVENT_RESULT && ek[j].t.trial == ek[i].t.trial;
        if (done) continue;
        const afake_sub_t *sub = &k->a->subs[subs_before + again++];
        assert_int_equal(sub->trial, ek[i].t.trial);
        assert_memory_equal(&sub->params, &ek[i].t.params, sizeof sub->params);
    }
    assert_int_equal(again, 4);
    assert_same_logs(fx[0], k);
    free(ek);
    for (int i = 0; i < 3; i++) teardown(fx[i]);
}

static void test_bayes_deterministic_and_resumed(void **state)
{
    (void)state;
    bayes_kill_case(3); // while the initial points run
    bayes_kill_case(8); // past them: the GP's proposals with points pending
}

/* ASHA (r 1, R 9, eta 3), 12 trials, 3 slots: the fake fails when a trial
 * is submitted while it runs; every trial has one rung-0 record; every
 * promotion reads the state its trial saved; the checkpoints are gone at
 * the end. Killed after 10 results and resumed: the same log. */
static void test_asha_slots(void **state)
{
    (void)state;
    fixture_t *fx = setup("sobol"), *cut = setup("sobol");
    for (fixture_t *f = fx; f; f = f == fx ? cut : NULL) {
        f->cfg.trials = 12;
        f->cfg.epochs = 9;
        f->cfg.asha = 1;
    }
    run_async_ok(fx, 3);
    int64_t n;
    jg_tune_trial_t *r = read_log(fx->dir, &fx->space, &n);
    int rung0[12] = {0}, promoted = 0;
    for (int64_t i = 0; i < n; i++) {
        if (r[i].rung == 0) rung0[r[i].trial]++;
        promoted += r[i].rung > 0;
    }
    for (int t = 0; t < 12; t++) assert_int_equal(rung0[t], 1);
    assert_true(promoted >= 4);
    assert_int_equal(fx->f.promotions, promoted);
    assert_int_equal(fx->a->max_running, 3);
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoints", fx->dir);
    assert_int_not_equal(access(path, F_OK), 0);
    free(r);

    cut->a = calloc(1, sizeof *cut->a);
    cut->a->seed = 99;
    cut->a->fail_wait_at = 11;
    assert_int_equal(run_async(cut, 3), -EIO);
    cut->cfg.resume = 1;
    run_async_ok(cut, 3);
    assert_same_logs(fx, cut);
    teardown(fx);
    teardown(cut);
}

/* 10 J per trial, a 45 J budget, 3 slots: the first trial runs alone (no
 * prediction yet), then jobs start while the spent joules plus 10 J per
 * running job and the next fit in 45 J; the study stops before trial 5
 * with nothing running, as a serial one does. At no time did the joules
 * spent and running exceed the budget. */
static void test_budget_counts_running(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    fx->cfg.trials = 10;
    fx->cfg.energy_budget_j = 45;
    fx->f.cheap = 1;
    run_async_ok(fx, 3);
    assert_int_equal(fx->f.calls, 4);
    assert_int_equal(fx->a->subs[1].finished_before, 1); // the first ran alone
    assert_int_equal(fx->a->max_running, 3);
    if (!(fx->a->peak_j <= 45)) fail_msg("%.2f J spent and running", fx->a->peak_j);
    assert_non_null(strstr(fx->l.text, "[random] energy budget: stopping before trial 5: its "
                                       "predicted 10.00 J would take the total from 40.00 J "
                                       "past 45 J\n"));
    cJSON *s = read_json(fx->dir, "summary.json");
    assert_string_equal(str(s, "stopped_by"), "energy-budget");
    assert_true(num(s, "records") == 4);
    cJSON_Delete(s);
    teardown(fx);
}

/* A study with 3 slots in a child process killed with SIGKILL at a random
 * moment, three times: the log reads back (at most a torn last line
 * dropped), and a resume completes the study: 12 trials, each once, every
 * record the killed run logged kept as it was. */
static void test_sigkill(void **state)
{
    (void)state;
    const unsigned seed = (unsigned)time(NULL);
    srand(seed);
    for (int round = 0; round < 3; round++) {
        fixture_t *fx = setup(round == 1 ? "bayes" : "random");
        fx->cfg.trials = 12;
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            fx->a = calloc(1, sizeof *fx->a);
            fx->a->seed = 99;
            fx->a->sleep_us = 3000;
            _exit(run_async(fx, 3) ? 1 : 0);
        }
        usleep((useconds_t)(5000 + rand() % 80000));
        kill(pid, SIGKILL);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        char path[256], warning[512];
        snprintf(path, sizeof path, "%s/trials.jsonl", fx->dir);
        if (access(path, F_OK)) { // killed before the log existed: nothing to resume
            teardown(fx);
            continue;
        }
        jg_tune_trial_t *before = NULL;
        int64_t nb = 0;
        assert_int_equal(jg_tune_log_read(path, &fx->space, "fake-model", 0, NULL, &before, &nb,
                                          warning, sizeof warning, &fx->err), 0);
        printf("round %d (%s): killed after %lld records\n", round, fx->strats[0].label,
               (long long)nb);
        fx->cfg.resume = 1;
        if (run_async(fx, 3)) fail_msg("srand %u round %d: %s", seed, round, fx->err.msg);
        int64_t n;
        jg_tune_trial_t *after = read_log(fx->dir, &fx->space, &n);
        assert_int_equal(n, 12);
        int seen[12] = {0};
        for (int64_t i = 0; i < n; i++) seen[after[i].trial]++;
        for (int t = 0; t < 12; t++) assert_int_equal(seen[t], 1);
        assert_same_records(before, nb, after, nb); // the finished ones kept, in order
        free(before);
        free(after);
        teardown(fx);
    }
}

/* A serial study stopped after 3 trials, resumed with 3 slots, ends with a
 * serial run's trials; an evaluator that returns a job that is not running
 * is an error (-EIO) naming it. */
static void test_serial_log_resumed_with_slots(void **state)
{
    (void)state;
    fixture_t *fx = setup("random"), *serial = setup("random");
    serial->cfg.trials = 8;
    run_ok(serial);
    fx->cfg.trials = 3;
    run_ok(fx);
    fx->cfg.trials = 8;
    fx->cfg.resume = 1;
    run_async_ok(fx, 3);
    assert_same_results(serial, fx);
    teardown(fx);
    teardown(serial);
}

static int bad_submit(void *ctx, const jg_tune_job_t *job, char *msg, size_t cap)
{
    (void)msg;
    (void)cap;
    *(int64_t *)ctx = job->trial;
    return 0;
}

static int bad_wait(void *ctx, jg_tune_trial_t *out, char *msg, size_t cap)
{
    (void)msg;
    (void)cap;
    out->trial = *(int64_t *)ctx + 5;
    out->rung = -1;
    return 0;
}

static void test_unknown_job(void **state)
{
    (void)state;
    fixture_t *fx = setup("random");
    int64_t last = -1;
    const jg_tune_async_evaluator_t ev = {
        .slots = 2, .submit = bad_submit, .wait = bad_wait, .ctx = &last, .energy_source = "x",
    };
    const jg_log_t log = {.fn = keep_line, .ctx = &fx->l};
    jg_tune_study_t *s = NULL;
    assert_int_equal(jg_tune_study_open(&s, &fx->cfg, &log, &fx->err), 0);
    assert_int_equal(jg_tune_study_run_async(s, &ev, &log, &fx->err), -EIO);
    assert_string_equal(fx->err.msg, "[random] the evaluator returned trial 7 rung -1, which is "
                                     "not running");
    const jg_tune_async_evaluator_t none = {.slots = 0, .submit = bad_submit, .wait = bad_wait};
    assert_int_equal(jg_tune_study_run_async(s, &none, &log, &fx->err), -EINVAL);
    jg_tune_study_close(s);
    teardown(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_trials_as_serial),
        cmocka_unit_test(test_bayes_deterministic_and_resumed),
        cmocka_unit_test(test_asha_slots),
        cmocka_unit_test(test_budget_counts_running),
        cmocka_unit_test(test_sigkill),
        cmocka_unit_test(test_serial_log_resumed_with_slots),
        cmocka_unit_test(test_unknown_job),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
