/* SPDX-License-Identifier: MIT */
/* Trial log: append/read round trip, proposal lines among the results, torn
 * final line dropped with a warning (and repaired), corrupt middle line
 * reported by number, refusal of another space or model, and recovery after
 * kill -9 of a writer. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "harness.h"
#include "jg_tuning.h"

static const char *SPACE = "lr=log:1e-5:1e-1,beta1=0.1:0.999,batch=int:32:512,opt=cat:adam|sgd";

typedef struct {
    char dir[64];
    char path[128];
    jg_tune_space_t space;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/jg_triallog_XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/trials.jsonl", f->dir);
    jg_tune_error_t err;
    if (jg_tune_space_parse(&f->space, SPACE, &err)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    jg_test_rm_rf(f->dir);
    free(f);
    return 0;
}

static jg_tune_trial_t trial(int64_t i)
{
    jg_tune_trial_t t = { .trial = i };
    strcpy(t.strategy, "random");
    t.params.v[0] = 1e-5 * pow(1.1, (double)(i % 90));
    t.params.v[1] = 0.1 + 0.001 * (double)(i % 800);
    t.params.v[2] = 32 + (double)(i % 400);
    t.params.v[3] = (double)(i % 2);
    t.val_accuracy = 0.5 + 1e-4 * (double)i;
    t.test_accuracy = 0.25 + 1e-4 * (double)i;
    t.energy_j = 123.456 + (double)i;
    strcpy(t.energy_source, "rapl");
    t.seconds = 1.0 / 3.0 + (double)i;
    strcpy(t.status, "ok");
    t.epochs = 1 + (int)(i % 9);
    t.rung = (int)(i % 3) - 1; /* -1 (none) is not written */
    return t;
}

static void assert_trial_eq(const jg_tune_trial_t *got, const jg_tune_trial_t *want)
{
    assert_int_equal(got->trial, want->trial);
    assert_string_equal(got->strategy, want->strategy);
    for (int d = 0; d < 4; d++) assert_true(got->params.v[d] == want->params.v[d]);
    assert_true(got->val_accuracy == want->val_accuracy);
    assert_true(got->test_accuracy == want->test_accuracy);
    assert_true(got->energy_j == want->energy_j);
    assert_true(got->seconds == want->seconds);
    assert_string_equal(got->energy_source, want->energy_source);
    assert_string_equal(got->status, want->status);
    assert_int_equal(got->epochs, want->epochs);
    assert_int_equal(got->rung, want->rung);
}

static void create_log(fx_t *f, const char *model)
{
    jg_tune_log_meta_t m = { .seed = 18446744073709551615ull, .created_s = 1700000000 };
    strcpy(m.model, model);
    strcpy(m.strategy, "random");
    strcpy(m.run, "data=fashion-mnist epochs=3 batch=512");
    jg_tune_error_t err;
    const int rc = jg_tune_log_create(f->path, &f->space, &m, &err);
    if (rc) fail_msg("create: %d %s", rc, err.msg);
}

static void append(fx_t *f, int64_t i)
{
    const jg_tune_trial_t t = trial(i);
    jg_tune_error_t err;
    const int rc = jg_tune_log_append(f->path, &f->space, &t, &err);
    if (rc) fail_msg("append %lld: %d %s", (long long)i, rc, err.msg);
}

/* Reads and expects success; returns the count and the warning. */
static int64_t read_ok(fx_t *f, int repair, char *warn, size_t warn_len)
{
    jg_tune_trial_t *t = NULL;
    int64_t n = -1;
    jg_tune_error_t err;
    const int rc = jg_tune_log_read(f->path, &f->space, "paper-simplecnn", repair, NULL, &t,
                                    &n, warn, warn_len, &err);
    if (rc) fail_msg("read: %d %s", rc, err.msg);
    for (int64_t i = 0; i < n; i++) {
        const jg_tune_trial_t want = trial(i);
        assert_trial_eq(&t[i], &want);
    }
    free(t);
    return n;
}

static void append_raw(const char *path, const char *bytes)
{
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    assert_int_equal(fwrite(bytes, 1, strlen(bytes), fp), strlen(bytes));
    fclose(fp);
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    char *b = jg_test_alloc_bytes(1 << 20);
    const size_t n = fread(b, 1, (1 << 20) - 1, fp);
    b[n] = '\0';
    fclose(fp);
    return b;
}

static void spit(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p++) n++;
    return n;
}

static void test_round_trip(void **state)
{
    fx_t *f = *state;
    create_log(f, "paper-simplecnn");
    jg_tune_error_t err;
    jg_tune_log_meta_t m = { .seed = 1 };
    assert_int_equal(jg_tune_log_create(f->path, &f->space, &m, &err), -EEXIST);
    for (int i = 0; i < 5; i++) append(f, i);
    jg_tune_trial_t *t = NULL;
    int64_t n = 0;
    char warn[256] = "x";
    assert_int_equal(jg_tune_log_read(f->path, &f->space, "paper-simplecnn", 0, &m, &t, &n,
                                      warn, sizeof warn, &err), 0);
    assert_int_equal(n, 5);
    assert_string_equal(warn, "");
    assert_string_equal(m.model, "paper-simplecnn");
    assert_string_equal(m.strategy, "random");
    assert_true(m.seed == 18446744073709551615ull);
    assert_int_equal(m.created_s, 1700000000);
    assert_string_equal(m.run, "data=fashion-mnist epochs=3 batch=512");
    for (int i = 0; i < 5; i++) {
        const jg_tune_trial_t want = trial(i);
        assert_trial_eq(&t[i], &want);
    }
    free(t);
    /* the file is what the docs promise: header first, params by name */
    char *text = slurp(f->path);
    assert_true(!strncmp(text, "{\"type\":\"header\",\"version\":2,\"space\":\"lr=log:1e-05:0.1,", 55));
    /* trials count from 1 in the file, as on screen; index 0 in memory */
    assert_non_null(strstr(text, "{\"type\":\"trial\",\"trial\":1,"));
    assert_null(strstr(text, "\"trial\":0,"));
    assert_non_null(strstr(text, "\"params\":{\"lr\":1e-05,\"beta1\":0.1,\"batch\":32,\"opt\":\"adam\"}"));
    assert_non_null(strstr(text, "\"opt\":\"sgd\""));
    free(text);
    /* a header-only log has no trials */
    jg_test_rm_rf(f->path);
    create_log(f, "paper-simplecnn");
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 0);
    /* out-of-space params and non-finite metrics are refused before writing */
    jg_tune_trial_t bad = trial(0);
    bad.params.v[2] = 1000;
    assert_int_equal(jg_tune_log_append(f->path, &f->space, &bad, &err), -EINVAL);
    bad = trial(0);
    bad.energy_j = NAN;
    assert_int_equal(jg_tune_log_append(f->path, &f->space, &bad, &err), -EINVAL);
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 0);
}

/* Writes body (compact JSON ending in '}') sealed as the log seals it. */
static void write_sealed(FILE *fp, const char *body)
{
    const size_t n = strlen(body);
    const unsigned long crc = crc32(0L, (const Bytef *)body, (uInt)n) & 0xffffffffUL;
    fprintf(fp, "%.*s,\"checksum\":\"%08lx\"}\n", (int)(n - 1), body, crc);
}

/* A log written before "run", "epochs" and "rung" existed still reads. */
static void test_reads_older_records(void **state)
{
    fx_t *f = *state;
    char space[512];
    assert_int_equal(jg_tune_space_format(&f->space, space, sizeof space), 0);
    char hdr[1024];
    snprintf(hdr, sizeof hdr, "{\"type\":\"header\",\"version\":1,\"space\":\"%s\","
             "\"space_hash\":\"%016llx\",\"model\":\"m\",\"strategy\":\"random\","
             "\"seed\":\"7\",\"created\":5}", space,
             (unsigned long long)jg_tune_space_hash(&f->space));
    FILE *fp = fopen(f->path, "wb");
    assert_non_null(fp);
    write_sealed(fp, hdr);
    write_sealed(fp, "{\"type\":\"trial\",\"trial\":0,\"strategy\":\"random\",\"params\":"
                     "{\"lr\":0.001,\"beta1\":0.5,\"batch\":64,\"opt\":\"sgd\"},"
                     "\"val_accuracy\":0.5,\"test_accuracy\":0.4,\"energy_j\":12,"
                     "\"energy_source\":\"estimate\",\"seconds\":1,\"status\":\"ok\"}");
    fclose(fp);
    jg_tune_trial_t *t = NULL;
    int64_t n = 0;
    jg_tune_log_meta_t m;
    jg_tune_error_t err;
    const int rc = jg_tune_log_read(f->path, &f->space, "m", 0, &m, &t, &n, NULL, 0, &err);
    if (rc) fail_msg("read: %d %s", rc, err.msg);
    assert_int_equal(n, 1);
    assert_string_equal(m.run, "");
    assert_int_equal(t[0].epochs, 0);
    assert_int_equal(t[0].rung, -1);
    assert_true(t[0].params.v[3] == 1 && t[0].energy_j == 12);
    assert_int_equal(t[0].trial, 0); /* version 1 counted from 0 */
    assert_int_equal(m.version, 1);
    free(t);
    /* a version 1 log goes on in its own numbering: index 1 is "trial":1 */
    jg_tune_trial_t next = trial(1);
    next.trial = 1;
    assert_int_equal(jg_tune_log_append(f->path, &f->space, &next, &err), 0);
    char *text = slurp(f->path);
    assert_non_null(strstr(text, "{\"type\":\"trial\",\"trial\":1,"));
    free(text);
    assert_int_equal(jg_tune_log_read(f->path, &f->space, "m", 0, &m, &t, &n, NULL, 0, &err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(t[1].trial, 1);
    free(t);
    /* a record with a negative rung is refused, naming the field */
    jg_tune_trial_t bad = trial(0);
    bad.rung = -2;
    assert_int_equal(jg_tune_log_append(f->path, &f->space, &bad, &err), -EINVAL);
}

static void test_torn_final_line(void **state)
{
    fx_t *f = *state;
    create_log(f, "paper-simplecnn");
    for (int i = 0; i < 3; i++) append(f, i);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    append_raw(f->path, "{\"type\":\"trial\",\"trial\":3,\"strat");
    char warn[256] = "";
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 3);
    assert_non_null(strstr(warn, ":5: dropped torn final line"));
    assert_non_null(strstr(warn, "no newline"));
    /* appending onto a torn tail is refused, not silently glued */
    const jg_tune_trial_t t3 = trial(3);
    jg_tune_error_t err;
    assert_int_equal(jg_tune_log_append(f->path, &f->space, &t3, &err), -EIO);
    assert_non_null(strstr(err.msg, "repair"));
    /* repair truncates to the last good line, then appends work */
    assert_int_equal(read_ok(f, 1, warn, sizeof warn), 3);
    assert_non_null(strstr(warn, "truncated"));
    struct stat st2;
    assert_int_equal(stat(f->path, &st2), 0);
    assert_int_equal(st2.st_size, st.st_size);
    append(f, 3);
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 4);
    assert_string_equal(warn, "");

    /* a complete final line with a bad checksum is dropped the same way */
    char *text = slurp(f->path);
    char *last = strstr(text, "\"trial\":3,");
    assert_non_null(last);
    char *acc = strstr(last, "\"energy_j\":126.456");
    assert_non_null(acc);
    acc[12] = '7'; /* 126.456 -> 127.456 */
    spit(f->path, text);
    free(text);
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 3);
    assert_non_null(strstr(warn, "checksum mismatch"));
}

/* Proposal lines (a study with several jobs in flight): written between the
 * results in event order, read back in order by read_events with exact
 * params, skipped by read; a torn proposal line at the end is dropped like a
 * torn result, a corrupt one in the middle is an error. */
static void test_proposal_lines(void **state)
{
    fx_t *f = *state;
    create_log(f, "paper-simplecnn");
    jg_tune_error_t err;
    // proposals 0 1 2, result 1, proposal 3, results 0 2 (0-based trials)
    const int kind[] = {1, 1, 1, 0, 1, 0, 0};
    const int64_t which[] = {0, 1, 2, 1, 3, 0, 2};
    for (int i = 0; i < 7; i++) {
        const jg_tune_trial_t t = trial(which[i]);
        const int rc = kind[i] ? jg_tune_log_append_proposal(f->path, &f->space, &t, &err)
                               : jg_tune_log_append(f->path, &f->space, &t, &err);
        if (rc) fail_msg("append %d: %s", i, err.msg);
    }
    char *text = slurp(f->path);
    assert_non_null(strstr(text, "\n{\"type\":\"proposal\",\"trial\":1,\"strategy\":\"random\","
                                 "\"params\":{\"lr\":1e-05,"));
    assert_int_equal(count_of(text, "\"type\":\"proposal\""), 4);
    assert_int_equal(count_of(text, "val_accuracy"), 3);
    free(text);
    jg_tune_log_event_t *ev = NULL;
    int64_t n = 0;
    char warn[256];
    int rc = jg_tune_log_read_events(f->path, &f->space, NULL, 0, NULL, &ev, &n, warn,
                                     sizeof warn, &err);
    if (rc) fail_msg("read_events: %s", err.msg);
    assert_int_equal(n, 7);
    for (int i = 0; i < 7; i++) {
        const jg_tune_trial_t want = trial(which[i]);
        assert_int_equal(ev[i].kind, kind[i] ? JG_TUNE_EVENT_PROPOSAL : JG_TUNE_EVENT_RESULT);
        assert_int_equal(ev[i].t.trial, want.trial);
        assert_memory_equal(&ev[i].t.params, &want.params, sizeof want.params);
        assert_int_equal(ev[i].t.epochs, want.epochs);
        assert_int_equal(ev[i].t.rung, want.rung);
        if (kind[i]) assert_true(ev[i].t.val_accuracy == 0 && ev[i].t.status[0] == '\0');
        else assert_trial_eq(&ev[i].t, &want);
    }
    free(ev);
    jg_tune_trial_t *t = NULL;
    assert_int_equal(jg_tune_log_read(f->path, &f->space, NULL, 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(t[0].trial, 1);
    assert_int_equal(t[1].trial, 0);
    assert_int_equal(t[2].trial, 2);
    free(t);

    char *good = slurp(f->path);
    const jg_tune_trial_t t4 = trial(4);
    assert_int_equal(jg_tune_log_append_proposal(f->path, &f->space, &t4, &err), 0);
    text = slurp(f->path);
    text[strlen(text) - 5] = '\0'; // tear the proposal just appended
    spit(f->path, text);
    free(text);
    assert_int_equal(jg_tune_log_read_events(f->path, &f->space, NULL, 1, NULL, &ev, &n, warn,
                                             sizeof warn, &err), 0);
    assert_int_equal(n, 7);
    assert_non_null(strstr(warn, ":9: dropped torn final line"));
    free(ev);
    // a proposal line in the middle with its trial changed: an error naming it
    char *p = strstr(good, "\"type\":\"proposal\",\"trial\":2,");
    assert_non_null(p);
    p[26] = '5';
    spit(f->path, good);
    free(good);
    assert_int_equal(jg_tune_log_read_events(f->path, &f->space, NULL, 0, NULL, &ev, &n, warn,
                                             sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, ":3: corrupt record: checksum mismatch"));
}

static void test_corrupt_middle_line(void **state)
{
    fx_t *f = *state;
    create_log(f, "paper-simplecnn");
    for (int i = 0; i < 5; i++) append(f, i);
    char *text = slurp(f->path);
    /* line 3 = trial 1: change one digit of its energy */
    char *rec = strstr(text, "\"energy_j\":124.456");
    assert_non_null(rec);
    rec[13] = '9';
    spit(f->path, text);
    jg_tune_trial_t *t = NULL;
    int64_t n = 0;
    char warn[256];
    jg_tune_error_t err;
    assert_int_equal(jg_tune_log_read(f->path, &f->space, NULL, 1, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "trials.jsonl:3: corrupt record: checksum mismatch"));
    assert_null(t);
    /* a repair read never truncates on an error */
    char *after = slurp(f->path);
    assert_string_equal(after, text);
    free(after);
    /* invalid JSON in the middle, and a corrupt header */
    rec[0] = '#';
    spit(f->path, text);
    assert_int_equal(jg_tune_log_read(f->path, &f->space, NULL, 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, ":3: corrupt record: not valid JSON"));
    text[2] = 'X';
    spit(f->path, text);
    assert_int_equal(jg_tune_log_read(f->path, &f->space, NULL, 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, ":1: corrupt header"));
    spit(f->path, "");
    assert_int_equal(jg_tune_log_read(f->path, &f->space, NULL, 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "empty log"));
    free(text);
}

static void test_refuses_other_space_or_model(void **state)
{
    fx_t *f = *state;
    create_log(f, "paper-simplecnn");
    append(f, 0);
    jg_tune_space_t *other = jg_test_alloc_bytes(sizeof *other);
    jg_tune_error_t err;
    jg_tune_trial_t *t = NULL;
    int64_t n = 0;
    char warn[256];
    assert_int_equal(jg_tune_space_parse(other, "lr=log:1e-5:1e-1,beta1=0.2:0.999,"
                                         "batch=int:32:512,opt=cat:adam|sgd", &err), 0);
    assert_int_equal(jg_tune_log_read(f->path, other, "paper-simplecnn", 0, NULL, &t, &n,
                                      warn, sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "refused: different space: dimension 2 is "
                                    "'beta1=lin:0.1:0.999' in the log, 'beta1=lin:0.2:0.999'"));
    assert_int_equal(jg_tune_space_parse(other, "lr=log:1e-5:1e-1", &err), 0);
    assert_int_equal(jg_tune_log_read(f->path, other, NULL, 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "log has 4 dimensions, study has 1"));
    assert_int_equal(jg_tune_log_read(f->path, &f->space, "default", 0, NULL, &t, &n, warn,
                                      sizeof warn, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "different model: log has 'paper-simplecnn', study has 'default'"));
    assert_int_equal(read_ok(f, 0, warn, sizeof warn), 1);
    free(other);
}

/* A child appends trials 0, 1, ... and reports each finished append on a
 * pipe; it is killed with SIGKILL at a random moment. Every reported record
 * must be read back, at most one more (written but not yet reported), and
 * the study can append the next trial. */
static void test_kill9_recovery(void **state)
{
    fx_t *f = *state;
    const unsigned seed = (unsigned)time(NULL);
    srand(seed);
    int64_t total = 0;
    for (int round = 0; round < 3; round++) {
        jg_test_rm_rf(f->path);
        create_log(f, "paper-simplecnn");
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            for (int64_t i = 0; i < 100000; i++) {
                const jg_tune_trial_t t = trial(i);
                if (jg_tune_log_append(f->path, &f->space, &t, NULL)) _exit(2);
                if (write(fds[1], &i, sizeof i) != sizeof i) _exit(3);
            }
            _exit(0);
        }
        close(fds[1]);
        const long delay_us = 2000 + rand() % 30000;
        usleep((useconds_t)delay_us);
        assert_int_equal(kill(pid, SIGKILL), 0);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        int64_t confirmed = -1, i;
        while (read(fds[0], &i, sizeof i) == sizeof i) confirmed = i;
        close(fds[0]);
        char warn[256];
        const int64_t n = read_ok(f, 1, warn, sizeof warn);
        if (n < confirmed + 1 || n > confirmed + 2)
            fail_msg("srand %u round %d: %lld records read, %lld confirmed", seed, round,
                     (long long)n, (long long)confirmed + 1);
        append(f, n);
        assert_int_equal(read_ok(f, 0, warn, sizeof warn), n + 1);
        assert_string_equal(warn, "");
        total += n;
    }
    assert_true(total > 0); /* the child did get to write */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_older_records, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proposal_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_final_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_other_space_or_model, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kill9_recovery, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
