/* SPDX-License-Identifier: MIT */
/* study_fixture.c - the fakes, fixture and readers of study_fixture.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "study_fixture.h"


static double quality(const jg_tune_point_t *p)
{
    const double a = log10(p->v[0]) + 2, b = (p->v[1] - 0.9) * 5;
    return 0.95 * exp(-(a * a + b * b) / 4);
}

double fake_joules(const fake_t *f, const jg_tune_job_t *job)
{
    const double per_epoch = f->cheap ? J_PER_EPOCH : J_PER_EPOCH * (0.5 + job->params->v[1]);
    return per_epoch * (job->epochs - job->from_epochs);
}

int fake_eval(void *ctx, const jg_tune_job_t *job, jg_tune_trial_t *t, char *msg, size_t len)
{
    fake_t *f = ctx;
    if (++f->calls == f->fail_at) {
        snprintf(msg, len, "the fake evaluator fails call %d", f->calls);
        return f->fail_rc;
    }
    assert_true(job->epochs > job->from_epochs && job->params);
    assert_true((job->resume_path != NULL) == (job->from_epochs > 0));
    if (job->resume_path) { // the state this trial saved at from_epochs
        FILE *in = fopen(job->resume_path, "r");
        assert_non_null(in);
        long long trial;
        int epochs;
        assert_int_equal(fscanf(in, "trial %lld epochs %d", &trial, &epochs), 2);
        fclose(in);
        assert_int_equal(trial, job->trial);
        assert_int_equal(epochs, job->from_epochs);
        f->promotions++;
    }
    if (job->save_path) {
        FILE *out = fopen(job->save_path, "w");
        assert_non_null(out);
        fprintf(out, "trial %lld epochs %d\n", (long long)job->trial, job->epochs);
        fclose(out);
        f->saves++;
    }
    const double q = quality(job->params);
    t->epochs = job->epochs;
    t->val_accuracy = q * (1 - exp(-job->epochs / 2.0));
    t->test_accuracy = t->val_accuracy * 0.99;
    t->energy_j = fake_joules(f, job);
    snprintf(t->energy_source, sizeof t->energy_source, "sim");
    t->seconds = 0.001;
    snprintf(t->status, sizeof t->status, "ok");
    return 0;
}


void keep_line(void *ctx, int stream, const char *line)
{
    lines_t *l = ctx;
    l->notes += stream == JG_LOG_NOTE;
    const int n = snprintf(l->text + l->len, sizeof l->text - l->len, "%s\n", line);
    if (n > 0 && l->len + (size_t)n < sizeof l->text) l->len += (size_t)n;
}

int count(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}


/* A fresh directory and a study config: strategies, 6 trials of 1 epoch. */
fixture_t *setup(const char *strategies)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    strcpy(fx->root, "/tmp/jg_study_XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    snprintf(fx->dir, sizeof fx->dir, "%s/study", fx->root);
    assert_int_equal(jg_tune_space_parse(&fx->space, SPACE, &fx->err), 0);
    int n = 0;
    assert_int_equal(jg_tune_strategies_parse(strategies, NULL, fx->strats, &n, &fx->err), 0);
    for (int k = 0; k < n; k++) fx->settings[k] = "data=fake epochs=1";
    const jg_tune_study_config_t c = {
        .dir = fx->dir, .strategies = fx->strats, .n_strategies = n, .space = &fx->space,
        .seed = 7, .trials = 6, .epochs = 1, .model = "fake-model", .model_spec = "fake spec",
        .settings = fx->settings, .prog = "test_study",
    };
    fx->cfg = c;
    return fx;
}

void teardown(fixture_t *fx)
{
    jg_test_rm_rf(fx->root);
    free(fx->a);
    free(fx);
}

/* Opens and runs the study of fx->cfg with fx->f; returns run's (or
 * open's) code. */
int run(fixture_t *fx)
{
    memset(&fx->l, 0, sizeof fx->l);
    const jg_log_t log = {.fn = keep_line, .ctx = &fx->l};
    const jg_tune_evaluator_t ev = {.fn = fake_eval, .ctx = &fx->f, .energy_source = "sim"};
    jg_tune_study_t *s = NULL;
    int rc = jg_tune_study_open(&s, &fx->cfg, &log, &fx->err);
    if (!rc) rc = jg_tune_study_run(s, &ev, &log, &fx->err);
    jg_tune_study_close(s);
    return rc;
}

void run_ok(fixture_t *fx)
{
    if (run(fx)) fail_msg("%s", fx->err.msg);
}

/* dir/trials.jsonl read with jg_tune_log_read (events 0: the results) or
 * jg_tune_log_read_events (caller frees). */
static void *read_any(const char *dir, const jg_tune_space_t *sp, int events, int64_t *n)
{
    char path[512], warning[512];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    jg_tune_trial_t *t = NULL;
    jg_tune_log_event_t *e = NULL;
    jg_tune_error_t err;
    const int rc = events ? jg_tune_log_read_events(path, sp, "fake-model", 0, NULL, &e, n,
                                                    warning, sizeof warning, &err)
                          : jg_tune_log_read(path, sp, "fake-model", 0, NULL, &t, n, warning,
                                             sizeof warning, &err);
    if (rc) fail_msg("%s: %s", path, err.msg);
    return events ? (void *)e : (void *)t;
}

jg_tune_trial_t *read_log(const char *dir, const jg_tune_space_t *sp, int64_t *n)
{
    return read_any(dir, sp, 0, n);
}

jg_tune_log_event_t *read_events(const char *dir, const jg_tune_space_t *sp, int64_t *n)
{
    return read_any(dir, sp, 1, n);
}

void assert_same_records(const jg_tune_trial_t *a, int64_t na, const jg_tune_trial_t *b,
                                int64_t nb)
{
    assert_int_equal(na, nb);
    for (int64_t i = 0; i < na; i++)
        if (a[i].trial != b[i].trial || a[i].rung != b[i].rung || a[i].epochs != b[i].epochs ||
            memcmp(&a[i].params, &b[i].params, sizeof a[i].params) ||
            a[i].val_accuracy != b[i].val_accuracy || a[i].energy_j != b[i].energy_j)
            fail_msg("record %lld: trial %lld rung %d lr %.17g vs trial %lld rung %d lr %.17g",
                     (long long)i, (long long)a[i].trial, a[i].rung, a[i].params.v[0],
                     (long long)b[i].trial, b[i].rung, b[i].params.v[0]);
}

cJSON *read_json(const char *dir, const char *name)
{
    char *text = read_text(dir, name);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s/%s is not JSON", dir, name);
    return j;
}

double num(const cJSON *j, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(x)) fail_msg("no number '%s'", key);
    return x->valuedouble;
}

const char *str(const cJSON *j, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsString(x)) fail_msg("no string '%s'", key);
    return x->valuestring;
}

int count_lines(const char *dir, const char *name)
{
    char *text = read_text(dir, name);
    const int n = count(text, "\n");
    free(text);
    return n;
}

/* Seeded duration of (trial, rung) in [0.5, 1.5) s. */
static double afake_duration(uint64_t seed, int64_t trial, int rung)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(trial + 1)) ^
                             (0xc2b2ae3d27d4eb4full * (uint64_t)(rung + 2)));
    return 0.5 + (double)(jg_test_rng_u64(&r) >> 11) * 0x1.0p-53;
}

static int afake_submit(void *ctx, const jg_tune_job_t *job, char *msg, size_t cap)
{
    afake_t *a = ctx;
    (void)msg;
    (void)cap;
    assert_true(a->n_run < AFAKE_MAX && a->n_subs < AFAKE_LOG);
    double running_j = 0;
    for (int i = 0; i < a->n_run; i++) {
        if (a->run[i].job.trial == job->trial)
            fail_msg("trial %lld submitted while it runs", (long long)job->trial + 1);
        running_j += fake_joules(a->f, &a->run[i].job);
    }
    afake_job_t *r = &a->run[a->n_run++];
    r->job = *job;
    r->params = *job->params;
    r->job.params = &r->params;
    if (job->resume_path) snprintf(r->resume, sizeof r->resume, "%s", job->resume_path);
    if (job->save_path) snprintf(r->save, sizeof r->save, "%s", job->save_path);
    r->job.resume_path = job->resume_path ? r->resume : NULL;
    r->job.save_path = job->save_path ? r->save : NULL;
    r->job.strategy = NULL;
    r->seq = a->seq++;
    int k = 0;
    while (k < a->n_known && (a->known[k].trial != job->trial || a->known[k].rung != job->rung)) k++;
    if (k == a->n_known) { // first submission: its finish time from now
        assert_true(a->n_known < AFAKE_LOG);
        a->known[a->n_known].trial = job->trial;
        a->known[a->n_known].rung = job->rung;
        a->known[a->n_known++].done_s = a->now_s + afake_duration(a->seed, job->trial, job->rung);
    }
    r->done_s = a->known[k].done_s;
    a->subs[a->n_subs++] = (afake_sub_t){job->trial, job->rung, *job->params, a->finished};
    if (a->n_run > a->max_running) a->max_running = a->n_run;
    running_j += fake_joules(a->f, job);
    if (a->spent_j + running_j > a->peak_j) a->peak_j = a->spent_j + running_j;
    return 0;
}

static int afake_wait(void *ctx, jg_tune_trial_t *out, char *msg, size_t cap)
{
    afake_t *a = ctx;
    if (a->sleep_us) usleep((useconds_t)a->sleep_us);
    if (++a->waits == a->fail_wait_at) {
        a->n_run = 0; // the workers are lost with their jobs
        snprintf(msg, cap, "the fake worker pool fails wait %d", a->waits);
        return -EIO;
    }
    assert_true(a->n_run > 0);
    int f = 0;
    for (int i = 1; i < a->n_run; i++)
        if (a->run[i].done_s < a->run[f].done_s ||
            (a->run[i].done_s == a->run[f].done_s && a->run[i].seq < a->run[f].seq))
            f = i;
    afake_job_t job = a->run[f];
    job.job.params = &job.params;
    job.job.resume_path = job.job.resume_path ? job.resume : NULL;
    job.job.save_path = job.job.save_path ? job.save : NULL;
    memmove(a->run + f, a->run + f + 1, (size_t)(a->n_run - f - 1) * sizeof *a->run);
    a->n_run--;
    for (int i = 0; i < a->n_run; i++) { // pointers into the moved entries
        a->run[i].job.params = &a->run[i].params;
        if (a->run[i].job.resume_path) a->run[i].job.resume_path = a->run[i].resume;
        if (a->run[i].job.save_path) a->run[i].job.save_path = a->run[i].save;
    }
    a->now_s = job.done_s;
    out->trial = job.job.trial;
    out->rung = job.job.rung;
    const int rc = fake_eval(a->f, &job.job, out, msg, cap);
    if (!rc) {
        a->finished++;
        a->spent_j += out->energy_j;
    }
    return rc;
}

int run_async(fixture_t *fx, int slots)
{
    if (!fx->a) {
        fx->a = calloc(1, sizeof *fx->a);
        assert_non_null(fx->a);
        fx->a->seed = 99;
    }
    fx->a->f = &fx->f;
    memset(&fx->l, 0, sizeof fx->l);
    const jg_log_t log = {.fn = keep_line, .ctx = &fx->l};
    const jg_tune_async_evaluator_t ev = {
        .slots = slots, .submit = afake_submit, .wait = afake_wait, .ctx = fx->a,
        .energy_source = "sim",
    };
    jg_tune_study_t *s = NULL;
    int rc = jg_tune_study_open(&s, &fx->cfg, &log, &fx->err);
    if (!rc) rc = jg_tune_study_run_async(s, &ev, &log, &fx->err);
    jg_tune_study_close(s);
    return rc;
}

void run_async_ok(fixture_t *fx, int slots)
{
    if (run_async(fx, slots)) fail_msg("%s", fx->err.msg);
}

char *read_text(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = jg_read_file(path, 1 << 20, NULL);
    if (!text) fail_msg("cannot read %s", path);
    return text;
}
