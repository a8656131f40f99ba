/* SPDX-License-Identifier: MIT */
/*
 * test_mpi.c - joulegrad on Open MPI (mpirun --allow-run-as-root
 * --oversubscribe, small data): data-parallel training equals the one-rank
 * run up to float rounding and is bit-identical to itself; two ranks on one
 * node with a fake powercap tree count the node's energy once; a study on a
 * pool of workers runs a serial study's trials, and a worker killed with
 * SIGKILL ends the job, then --resume completes the study keeping every
 * finished trial; a killed reproduction resumes keeping its finished
 * sub-runs.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_run.h"
#include "harness.h"
#include "jg_nn.h"

#define MPIRUN_N JG_MPIRUN " --allow-run-as-root --oversubscribe -n "
#define MPIRUN MPIRUN_N "2 "
/* No batch norm and no dropout: the shards' sum is then the whole batch's
 * gradient up to the order of float additions. */
#define SPEC "'conv(8,3,pad=1) relu maxpool(2) flatten linear(10)'"
#define FLAGS "--data synthetic --image-size 16x16 --train-limit 1200 --test-limit 400 " \
              "--batch 60 --epochs 2 --threads 1 --quiet --model " SPEC

static char out[JG_CLI_OUT_MAX];

/* The parameters and optimizer state of two checkpoints are bit-identical. */
static int same_weights(const char *a, const char *b)
{
    char pa[700], pb[700];
    snprintf(pa, sizeof pa, "%s/checkpoint.jgc", a);
    snprintf(pb, sizeof pb, "%s/checkpoint.jgc", b);
    jg_checkpoint_t x, y;
    jg_nn_error_t err;
    assert_int_equal(jg_checkpoint_load(pa, &x, &err), 0);
    assert_int_equal(jg_checkpoint_load(pb, &y, &err), 0);
    const int same = x.n_params == y.n_params && x.n_optim_state == y.n_optim_state &&
                     !memcmp(x.params, y.params, x.n_params * sizeof(float)) &&
                     !memcmp(x.optim_state, y.optim_state, x.n_optim_state * sizeof(float));
    jg_checkpoint_free(&x);
    jg_checkpoint_free(&y);
    return same;
}

/* 2 ranks x 1 thread against 1 rank: the same losses and accuracies up to
 * float rounding; a second 2-rank run is bit-identical; kill -9 then
 * --resume gives the uninterrupted run's weights bit for bit. */
static void test_data_parallel_equivalence(void **state)
{
    (void)state;
    const char *one = jg_cli_path("one"), *two = jg_cli_path("two"), *again = jg_cli_path("again");
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --energy estimate --out %s", one), 0);
    assert_int_equal(jg_cli_sh(out, MPIRUN "'%s' train " FLAGS " --energy estimate --out %s 2>&1",
                        JG_CLI_PATH, two), 0);
    assert_int_equal(jg_cli_sh(out, MPIRUN "'%s' train " FLAGS " --energy off --out %s 2>&1", JG_CLI_PATH,
                        again), 0);
    cJSON *a = jg_cli_read_json(one, "summary.json"), *b = jg_cli_read_json(two, "summary.json");
    const double la = jg_cli_json_num(a, "test_loss"), lb = jg_cli_json_num(b, "test_loss");
    if (fabs(la - lb) > 1e-4 * fabs(la)) fail_msg("test loss %.9g (1 rank) vs %.9g (2 ranks)", la, lb);
    assert_true(fabs(jg_cli_json_num(a, "test_accuracy") - jg_cli_json_num(b, "test_accuracy")) <=
                1.0 / 400 + 1e-12);
    assert_true(jg_cli_json_num(b, "ranks") == 2);
    const cJSON *en = jg_cli_json_get(b, "energy");
    // Every rank meters itself with the estimate: two parts, summed.
    assert_int_equal(cJSON_GetArraySize(jg_cli_json_get(en, "ranks")), 2);
    const cJSON *cl = jg_cli_json_get(en, "cluster");
    assert_true(jg_cli_json_num(cl, "ranks") == 2);
    assert_true(jg_cli_json_num(jg_cli_json_get(jg_cli_json_get(en, "by_type"), "comm"),
                                "forward_j") > 0); // the gradient sum is its own region
    cJSON_Delete(a);
    cJSON_Delete(b);
    if (!same_weights(two, again)) fail_msg("two 2-rank runs differ");
    // Killed after its first epoch, resumed: the same weights as straight.
    const char *killed = jg_cli_path("killed");
    char flag[700];
    snprintf(flag, sizeof flag, "%s/epochs.csv", killed);
    assert_int_equal(jg_cli_sh(out, "(" MPIRUN "'%s' train " FLAGS " --energy off --out %s >/dev/null 2>&1 &"
                        " P=$!; while [ ! -e %s ]; do sleep 0.02; done; kill -9 $P; wait $P) "
                        ">/dev/null 2>&1; echo",
                        JG_CLI_PATH, killed, flag), 0);
    assert_int_equal(jg_cli_sh(out, MPIRUN "'%s' train " FLAGS " --energy off --out %s --resume 2>&1",
                        JG_CLI_PATH, killed), 0);
    if (!same_weights(again, killed)) fail_msg("the resumed 2-rank run differs from straight");
}

/* ---- tune: rank 0 coordinates, the other ranks train the trials ---- */

#define TUNE_DATA "--data synthetic --train-limit 600 --test-limit 200 --batch 60 --threads 1 " \
                  "--model " SPEC
#define TUNE_FLAGS TUNE_DATA " --energy estimate"

/* The result lines of a trial log, keyed "trial params val test" and sorted
 * (the order in which trials finish differs between a pool and one
 * process). */
static int result_keys(const char *dir, char keys[][512], int cap)
{
    char path[700];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    char *text = jg_cli_read_text(path);
    int n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        if (!j) fail_msg("%s: a line is not JSON: %s", path, line);
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
        if (cJSON_IsString(type) && !strcmp(type->valuestring, "trial")) {
            assert_true(n < cap);
            char *params = cJSON_PrintUnformatted(jg_cli_json_get(j, "params"));
            snprintf(keys[n++], 512, "%06d %s %.17g %.17g", (int)jg_cli_json_num(j, "trial"),
                     params, jg_cli_json_num(j, "val_accuracy"),
                     jg_cli_json_num(j, "test_accuracy"));
            free(params);
        }
        cJSON_Delete(j);
    }
    free(text);
    qsort(keys, (size_t)n, 512, (int (*)(const void *, const void *))strcmp);
    return n;
}

static void same_trials(const char *a, const char *b, int expect)
{
    static char ka[64][512], kb[64][512];
    const int na = result_keys(a, ka, 64), nb = result_keys(b, kb, 64);
    assert_int_equal(na, expect);
    assert_int_equal(nb, expect);
    for (int i = 0; i < na; i++)
        if (strcmp(ka[i], kb[i])) fail_msg("serial %s\n  pool %s", ka[i], kb[i]);
}

/* grid, random and sobol on 2 workers: the serial study's trials, each
 * with the same accuracies (a trial's seed is the study's + its number). */
static void test_tune_pool_runs_the_serial_trials(void **state)
{
    (void)state;
    static const char *const strategies[] = {"grid", "random", "sobol"};
    for (int k = 0; k < 3; k++) {
        char a[64], b[64];
        snprintf(a, sizeof a, "serial-%s", strategies[k]);
        snprintf(b, sizeof b, "pool-%s", strategies[k]);
        const char *da = jg_cli_path(a), *db = jg_cli_path(b);
        const char *args = k ? "--space lr=log:1e-3:1e-1,batch=int:30:60 --trials 6"
                             : "--space lr=log:1e-3:1e-1,batch=int:30:60 --grid-points 3 "
                               "--trials 6";
        int rc = jg_cli_runf(1, out, "tune " TUNE_FLAGS " --strategy %s %s --out %s",
                             strategies[k], args, da);
        if (rc) fail_msg("serial tune: exit %d: %s", rc, out);
        rc = jg_cli_sh(out, MPIRUN_N "3 '%s' tune " TUNE_FLAGS " --strategy %s %s --out %s 2>&1",
                       JG_CLI_PATH, strategies[k], args, db);
        if (rc) fail_msg("mpirun -n 3 tune: exit %d: %s", rc, out);
        assert_non_null(strstr(out, "2 workers (ranks 1-2)"));
        same_trials(da, db, 6);
    }
}

/* Result lines of dir's log, in file order, into one text. */
static char *result_lines(const char *dir)
{
    char path[700];
    snprintf(path, sizeof path, "%s/trials.jsonl", dir);
    char *text = jg_cli_read_text(path), *res = calloc(1, strlen(text) + 1);
    assert_non_null(res);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "\"type\":\"trial\"")) strcat(strcat(res, line), "\n");
    free(text);
    return res;
}

/* Starts `mpirun -n 3 joulegrad ARGS --out DIR`, waits until FILE has at
 * least `lines` lines that contain `grep` (every line: "."), kills the
 * given rank with SIGKILL (found by its environment) and returns the job's
 * exit status, its output in out. */
static int kill_rank_during(const char *args, const char *dir, const char *file,
                            const char *grep, int lines, int rank)
{
    return jg_cli_sh(out, "(" MPIRUN_N "3 '%s' %s --out %s 2>&1 & "
                     "while [ \"$(cat %s/%s 2>/dev/null | grep -c '%s')\" -lt %d ]; "
                     "do sleep 0.02; done; "
                     "for p in $(pgrep -f '%s'); do "
                     "grep -qz '^OMPI_COMM_WORLD_RANK=%d$' /proc/$p/environ 2>/dev/null && "
                     "kill -9 $p; done; wait $!)",
                     JG_CLI_PATH, args, dir, dir, file, grep, lines, JG_CLI_PATH, rank);
}

/* bayes on 2 workers, one worker killed with SIGKILL after 3 results: the
 * job ends with an error naming the rank, every finished record stays, and
 * --resume completes the study (the running trials submitted again). */
static void test_tune_worker_killed_then_resumed(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("killed-study");
    // The default model on 3000 images: trials long enough to be killed in.
    const char *args = "tune --data synthetic --train-limit 3000 --test-limit 200 --threads 1 "
                       "--energy estimate --strategy bayes --space lr=log:1e-4:1e-1 --trials 10";
    const int rc = kill_rank_during(args, dir, "trials.jsonl", "\"type\":\"trial\"", 3, 1);
    if (rc == 0) fail_msg("the job survived its worker's SIGKILL: %s", out);
    if (!strstr(out, "rank 1")) fail_msg("the job's error does not name rank 1: %s", out);
    char *before = result_lines(dir);
    assert_true(jg_cli_count_lines(before) >= 3);
    const int rc2 = jg_cli_sh(out, MPIRUN_N "3 '%s' %s --out %s --resume 2>&1",
                              JG_CLI_PATH, args, dir);
    if (rc2) fail_msg("resume: exit %d: %s", rc2, out);
    if (strstr(out, "warning")) fail_msg("the resume replayed other proposals: %s", out);
    char *after = result_lines(dir);
    assert_int_equal(jg_cli_count_lines(after), 10);
    // Every finished record kept, in its place.
    assert_memory_equal(after, before, strlen(before));
    free(before);
    free(after);
}

/* reproduce over 3 ranks, rank 2 killed with SIGKILL after 10 sub-runs:
 * the job ends with an error naming it, and --resume finishes the
 * reproduction, keeping (skipping) every sub-run that had finished. */
static void test_reproduce_killed_then_resumed(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("repro");
    char progress[700];
    snprintf(progress, sizeof progress, "%s/progress.csv", dir);
    const char *args = "reproduce all --scale tiny --data synthetic --threads 1";
    const int rc = kill_rank_during(args, dir, "progress.csv", ".", 11, 2); // header + 10
    if (rc == 0) fail_msg("the job survived its rank's SIGKILL: %s", out);
    if (!strstr(out, "rank 2")) fail_msg("the job's error does not name rank 2: %s", out);
    char *before = jg_cli_read_text(progress);
    const int done = jg_cli_count_lines(before) - 1;
    free(before);
    const int rc2 = jg_cli_sh(out, MPIRUN_N "3 '%s' %s --out %s --resume 2>&1", JG_CLI_PATH,
                              args, dir);
    if (rc2) fail_msg("resume: exit %d: %s", rc2, out);
    // Every sub-run the first job finished is skipped, not run again.
    int skipped = 0;
    for (const char *p = out; (p = strstr(p, "done before: skipped")); p++) skipped++;
    if (skipped < done) fail_msg("%d sub-runs had finished, %d skipped: %s", done, skipped, out);
    assert_non_null(strstr(out, "wrote"));
    char report[700];
    snprintf(report, sizeof report, "%s/report.md", dir);
    free(jg_cli_read_text(report));
}

/* ---- RAPL: the node's packages read once ---- */

#define PKG "/sys/class/powercap/intel-rapl/intel-rapl:0"
#define WATTS 40.0

static volatile int writer_stop;

static void put(const char *file, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof path, PKG "/%s", file);
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0) return;
    if (write(fd, text, strlen(text)) < 0) { /* the reader sees the old value */ }
    close(fd);
}

/* The package draws WATTS: its counter advances every 0.5 ms. Each value
 * has the same width and overwrites the last in place (no truncation), so a
 * reader never sees an empty file, as with a real counter. */
static void *writer(void *arg)
{
    (void)arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const struct timespec nap = {0, 500000};
    const int fd = open(PKG "/energy_uj", O_WRONLY);
    while (fd >= 0 && !writer_stop) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        const double s = (double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec);
        char buf[32];
        const int n = snprintf(buf, sizeof buf, "%020llu\n",
                               (unsigned long long)(1000 + WATTS * 1e6 * s));
        if (pwrite(fd, buf, (size_t)n, 0) != n) break;
        nanosleep(&nap, NULL);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static void test_rapl_node_counted_once(void **state)
{
    (void)state;
    char why[200] = "";
    if (geteuid() != 0) snprintf(why, sizeof why, "not root");
    else if (unshare(CLONE_NEWNS)) snprintf(why, sizeof why, "unshare: %s", strerror(errno));
    else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
             mount("none", "/sys/class", "tmpfs", 0, "mode=0755"))
        snprintf(why, sizeof why, "mount: %s", strerror(errno));
    if (why[0]) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s (the fake powercap tree needs root and unshare)", why);
        jg_test_skip_unless_ci(msg);
        return;
    }
    assert_int_equal(mkdir("/sys/class/powercap", 0755), 0);
    assert_int_equal(mkdir("/sys/class/powercap/intel-rapl", 0755), 0);
    assert_int_equal(mkdir(PKG, 0755), 0);
    put("name", "package-0\n", 0444);
    put("enabled", "1\n", 0644);
    put("max_energy_range_uj", "262143328850\n", 0444);
    put("energy_uj", "00000000000000001000\n", 0400);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, writer, NULL), 0);
    // A real counter never stalls: keep the writer on time beside the busy
    // ranks (a counter silent for a while is given up as stuck).
    const struct sched_param prio = {.sched_priority = 10};
    pthread_setschedparam(th, SCHED_FIFO, &prio);
    const char *dir = jg_cli_path("rapl");
    // mpirun's ranks start in this mount namespace and see the fake tree. The
    // default model's steps last milliseconds: RAPL counters move every 1 ms,
    // and a zone silent over the trace's ring is given up as stuck.
    const int rc = jg_cli_sh(out, MPIRUN "'%s' train --data synthetic --train-limit 1200 --test-limit 200 "
                      "--batch 60 --epochs 1 --threads 1 --quiet --energy rapl --out %s 2>&1",
                      JG_CLI_PATH, dir);
    // tune: one worker alone on the node reads RAPL around its trials; two
    // sharing it estimate (auto) or are refused (rapl).
    static char tune_out[3][JG_CLI_OUT_MAX];
    int tune_rc[3];
    static const char *const tune_how[3] = {"2 '%s' tune %s --energy auto --out %s",
                                            "3 '%s' tune %s --energy auto --out %s",
                                            "3 '%s' tune %s --energy rapl --out %s"};
    for (int k = 0; k < 3; k++) {
        char cmd[1024], name[32];
        snprintf(name, sizeof name, "rapl-tune-%d", k);
        snprintf(cmd, sizeof cmd, "%s%s 2>&1", MPIRUN_N, tune_how[k]);
        tune_rc[k] = jg_cli_sh(tune_out[k], cmd, JG_CLI_PATH, TUNE_DATA " --strategy random "
                               "--space lr=log:1e-3:1e-1 --trials 2 --train-limit 1200",
                               jg_cli_path(name));
    }
    writer_stop = 1;
    pthread_join(th, NULL);
    umount2("/sys/class", MNT_DETACH);
    if (tune_rc[0] || !strstr(tune_out[0], "energy rapl, 1 workers"))
        fail_msg("tune on 1 worker: exit %d: %s", tune_rc[0], tune_out[0]);
    if (tune_rc[1] || !strstr(tune_out[1], "energy estimate, 2 workers") ||
        !strstr(tune_out[1], "2 workers share node 0's RAPL packages"))
        fail_msg("tune on 2 workers sharing a node: exit %d: %s", tune_rc[1], tune_out[1]);
    if (!tune_rc[2] || !strstr(tune_out[2], "start one worker per node"))
        fail_msg("tune --energy rapl on 2 workers sharing a node: exit %d: %s", tune_rc[2],
                 tune_out[2]);
    if (rc) fail_msg("mpirun train --energy rapl: exit %d: %s", rc, out);
    cJSON *s = jg_cli_read_json(dir, "summary.json");
    const cJSON *en = jg_cli_json_get(s, "energy");
    assert_string_equal(jg_cli_json_str(en, "source"), "rapl");
    if (!cJSON_IsTrue(jg_cli_json_get(en, "valid")))
        fail_msg("the node's figures are not valid: %s", jg_cli_json_str(en, "status"));
    const double j = jg_cli_json_num(en, "total_j"), secs = jg_cli_json_num(en, "seconds");
    // One reader for the node: WATTS over the bracketed steps, not 2 x WATTS.
    const double w = j / secs;
    if (!(w > 0.7 * WATTS && w < 1.3 * WATTS))
        fail_msg("the node drew %.1f W over the steps, the package %.1f W", w, WATTS);
    const cJSON *cl = jg_cli_json_get(en, "cluster");
    assert_non_null(strstr(jg_cli_json_str(cl, "readers"), "one per node"));
    assert_non_null(strstr(jg_cli_json_str(cl, "per_rank"), "attributed"));
    const cJSON *nodes = jg_cli_json_get(cl, "per_node");
    assert_int_equal(cJSON_GetArraySize(nodes), 1);
    assert_int_equal(cJSON_GetArraySize(jg_cli_json_get(en, "ranks")), 1); // one reader
    cJSON_Delete(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_parallel_equivalence),
        cmocka_unit_test(test_rapl_node_counted_once),
        cmocka_unit_test(test_tune_pool_runs_the_serial_trials),
        cmocka_unit_test(test_tune_worker_killed_then_resumed),
        cmocka_unit_test(test_reproduce_killed_then_resumed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
