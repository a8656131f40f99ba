/* SPDX-License-Identifier: MIT */
/*
 * test_mpi.c - joulegrad on Open MPI (mpirun --allow-run-as-root
 * --oversubscribe, small data): data-parallel training equals the one-rank
 * run up to float rounding and is bit-identical to itself; two ranks on one
 * node with a fake powercap tree count the node's energy once.
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

#define MPIRUN JG_MPIRUN " --allow-run-as-root --oversubscribe -n 2 "
/* No batch norm and no dropout: the shards' sum is then the whole batch's
 * gradient up to the order of float additions. */
#define SPEC "'conv(8,3,pad=1) relu maxpool(2) flatten linear(10)'"
#define FLAGS "--data synthetic --image-size 16x16 --train-limit 1200 --test-limit 400 " \
              "--batch 60 --epochs 2 --threads 1 --quiet --model " SPEC

static char out[JG_CLI_OUT_MAX];

/* Runs `sh -c cmd` and returns its exit status, output in out. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    const size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    const int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static cJSON *read_json(const char *dir, const char *file)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *text = jg_cli_read_text(path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s is not JSON", path);
    return j;
}

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
    assert_int_equal(sh(MPIRUN "'%s' train " FLAGS " --energy estimate --out %s 2>&1",
                        JG_CLI_PATH, two), 0);
    assert_int_equal(sh(MPIRUN "'%s' train " FLAGS " --energy off --out %s 2>&1", JG_CLI_PATH,
                        again), 0);
    cJSON *a = read_json(one, "summary.json"), *b = read_json(two, "summary.json");
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
    assert_int_equal(sh("(" MPIRUN "'%s' train " FLAGS " --energy off --out %s >/dev/null 2>&1 &"
                        " P=$!; while [ ! -e %s ]; do sleep 0.02; done; kill -9 $P; wait $P) "
                        ">/dev/null 2>&1; echo",
                        JG_CLI_PATH, killed, flag), 0);
    assert_int_equal(sh(MPIRUN "'%s' train " FLAGS " --energy off --out %s --resume 2>&1",
                        JG_CLI_PATH, killed), 0);
    if (!same_weights(again, killed)) fail_msg("the resumed 2-rank run differs from straight");
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
    const int rc = sh(MPIRUN "'%s' train --data synthetic --train-limit 1200 --test-limit 200 "
                      "--batch 60 --epochs 1 --threads 1 --quiet --energy rapl --out %s 2>&1",
                      JG_CLI_PATH, dir);
    writer_stop = 1;
    pthread_join(th, NULL);
    umount2("/sys/class", MNT_DETACH);
    if (rc) fail_msg("mpirun train --energy rapl: exit %d: %s", rc, out);
    cJSON *s = read_json(dir, "summary.json");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
