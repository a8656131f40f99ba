/* SPDX-License-Identifier: MIT */
/*
 * test_energy_rapl.c - the real rapl backend against a fake powercap tree.
 * The process enters a private mount namespace (needs root) and mounts a
 * fresh tmpfs over /sys/class per test, so nothing reaches the host. The
 * tree is nested as in the kernel:
 *   /sys/class/powercap/intel-rapl/intel-rapl:0/{name,energy_uj,...}
 *                                   intel-rapl:0/intel-rapl:0:0  (core)
 *                                   intel-rapl:0/intel-rapl:0:1  (dram)
 * Counters are advanced in place by a helper at a known power.
 */
#define _GNU_SOURCE /* unshare, setresuid */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "jg_energy.h"

#define PKG_DIR "/sys/class/powercap/intel-rapl/intel-rapl:0"
#define CORE_DIR PKG_DIR "/intel-rapl:0:0"
#define DRAM_DIR PKG_DIR "/intel-rapl:0:1"
#define RANGE_UJ 100000000ull /* 100 J, small so a test run wraps */
#define NOBODY 65534

static int ns_ok;
static char ns_why[160];

typedef struct {
    const char *dir;
    uint64_t total_uj; /* unwrapped */
    uint64_t range_uj;
} fake_zone_t;

static fake_zone_t fz[3];

static void put(const char *dir, const char *file, const char *text, mode_t mode)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    // O_TRUNC keeps the inode: the meter's open descriptor sees the update.
    const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    const ssize_t n = (ssize_t)strlen(text);
    assert_int_equal(write(fd, text, (size_t)n), n);
    close(fd);
}

static void put_u64(const char *dir, const char *file, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
    put(dir, file, buf, 0444);
}

static void make_zone(fake_zone_t *z, const char *dir, const char *name, uint64_t start_uj,
                      uint64_t range_uj)
{
    assert_int_equal(mkdir(dir, 0755), 0);
    char buf[64];
    snprintf(buf, sizeof(buf), "%s\n", name);
    put(dir, "name", buf, 0444);
    put(dir, "enabled", "1\n", 0644);
    put_u64(dir, "max_energy_range_uj", range_uj);
    // energy_uj is root-only, as on kernels since 5.10.
    snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)start_uj);
    put(dir, "energy_uj", buf, 0400);
    *z = (fake_zone_t){dir, start_uj, range_uj};
}

/* The helper: zone z drew power_mw for ms milliseconds (mW * ms = uJ). */
static void advance(int z, uint64_t power_mw, uint64_t ms)
{
    fz[z].total_uj += power_mw * ms;
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)(fz[z].total_uj % fz[z].range_uj));
    put(fz[z].dir, "energy_uj", buf, 0400);
}

static int setup_tree(void **state)
{
    (void)state;
    if (!ns_ok) return 0;
    if (mount("none", "/sys/class", "tmpfs", 0, "mode=0755")) return -1;
    if (mkdir("/sys/class/powercap", 0755) || mkdir("/sys/class/powercap/intel-rapl", 0755))
        return -1;
    return 0;
}

static int teardown_tree(void **state)
{
    (void)state;
    if (ns_ok) umount2("/sys/class", MNT_DETACH);
    return 0;
}

static void build_package(void)
{
    make_zone(&fz[0], PKG_DIR, "package-0", 99000000, RANGE_UJ); /* wraps in 1 J */
    make_zone(&fz[1], CORE_DIR, "core", 123456, RANGE_UJ);
    make_zone(&fz[2], DRAM_DIR, "dram", 5, 65532610987ull);
}

#define NEED_NS()                                                                   \
    do {                                                                            \
        if (!ns_ok) {                                                               \
            char why_[600];                                                         \
            snprintf(why_, sizeof why_, "%s (the fake powercap tree needs root and "  \
                     "unshare(CLONE_NEWNS))", ns_why);                              \
            jg_test_skip_unless_ci(why_);                                           \
        }                                                                           \
    } while (0)

static jg_meter_t *open_rapl(double max_power_w)
{
    jg_energy_cfg_t cfg;
    jg_energy_status_t st;
    jg_energy_cfg_default(&cfg);
    cfg.mode = JG_ENERGY_MODE_RAPL;
    cfg.rapl_max_power_w = max_power_w;
    jg_meter_t *m = NULL;
    const int err = jg_meter_open(&m, &cfg, &st);
    if (err) print_message("rapl open: %d: %s\n", err, st.reason);
    assert_int_equal(err, 0);
    assert_int_equal(st.source, JG_ENERGY_SOURCE_RAPL);
    return m;
}

static void sleep_ms(int ms)
{
    const struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_discovery_and_joules(void **state)
{
    (void)state;
    NEED_NS();
    build_package();
    // 100 W bound: a 1 s watchdog window on the 100 J range.
    jg_meter_t *m = open_rapl(100.0);
    assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_RAPL);
    assert_int_equal(jg_meter_nzones(m), 3);
    jg_zone_info_t zi[3];
    const char *names[3] = {"package-0", "core", "dram"};
    const jg_zone_kind_t kinds[3] = {JG_ZONE_PACKAGE, JG_ZONE_CORE, JG_ZONE_DRAM};
    for (int z = 0; z < 3; z++) {
        assert_int_equal(jg_meter_zone_info(m, z, &zi[z]), 0);
        assert_string_equal(zi[z].name, names[z]);
        assert_int_equal(zi[z].kind, kinds[z]);
        assert_int_equal(zi[z].package, 0);
        assert_true(zi[z].readable);
        assert_int_equal(zi[z].status, JG_ZONE_OK);
    }
    assert_int_equal(zi[0].parent, -1);
    assert_int_equal(zi[1].parent, 0);
    assert_int_equal(zi[0].range_uj, RANGE_UJ);
    assert_int_equal(zi[2].range_uj, 65532610987ull);
    assert_int_equal(zi[0].window_ns, 1000000000);
    assert_true(zi[0].counted && !zi[1].counted && zi[2].counted);
    assert_string_equal(zi[1].path, "intel-rapl/intel-rapl:0/intel-rapl:0:0");

    jg_energy_sample_t s0, s[5];
    jg_meter_read(m, &s0);
    for (int i = 0; i < 5; i++) {
        advance(0, 40000, 500); /* 40 W for 0.5 s = 20 J; wraps in step 0 */
        advance(1, 25000, 500);
        advance(2, 5000, 500);
        jg_meter_read(m, &s[i]);
    }
    assert_true(s[0].raw_uj[0] < s0.raw_uj[0]); /* the package counter wrapped */
    jg_energy_sample_t *prev = &s0;
    for (int i = 0; i < 5; i++) {
        jg_energy_figure_t fig;
        assert_int_equal(jg_meter_figure(m, prev, &s[i], 0, &fig), 0);
        assert_true(fig.valid);
        assert_int_equal(fig.uj, 20000000);
        assert_string_equal(jg_energy_source_name(fig.source), "rapl");
        assert_int_equal(jg_meter_energy_uj(m, prev, &s[i], 1), 12500000);
        assert_int_equal(jg_meter_energy_uj(m, prev, &s[i], 2), 2500000);
        // package + dram; core is inside package.
        assert_int_equal(jg_meter_energy_uj(m, prev, &s[i], JG_ZONE_TOTAL), 22500000);
        prev = &s[i];
    }
    jg_energy_figure_t fig;
    jg_meter_figure(m, &s0, &s[4], JG_ZONE_TOTAL, &fig);
    assert_true(fig.valid);
    assert_true(fig.j == 112.5);
    jg_meter_close(m);
}

static void test_gap_longer_than_window(void **state)
{
    (void)state;
    NEED_NS();
    build_package();
    // 1 MW bound: a 100 us window, so a 5 ms gap cannot be unwrapped.
    jg_meter_t *m = open_rapl(1e6);
    jg_energy_sample_t s0, s1;
    jg_meter_read(m, &s0);
    advance(0, 40000, 10);
    sleep_ms(5);
    jg_meter_read(m, &s1);
    jg_energy_figure_t fig;
    jg_meter_figure(m, &s0, &s1, 0, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_GAP);
    jg_meter_close(m);
}

static void test_faults(void **state)
{
    (void)state;
    NEED_NS();
    build_package();
    jg_meter_t *m = open_rapl(100.0);
    jg_energy_sample_t s0, s1;
    jg_energy_figure_t fig;
    jg_meter_read(m, &s0);

    // A read error mid-run: garbage in core's energy_uj.
    advance(0, 40000, 10);
    put(CORE_DIR, "energy_uj", "garbage\n", 0400);
    jg_meter_read(m, &s1);
    jg_meter_figure(m, &s0, &s1, 1, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_READ_ERROR);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0), 400000); /* others fine */
    advance(1, 25000, 10); /* readable again */
    jg_meter_read(m, &s1);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 1), JG_ENERGY_INVALID_UJ);

    // The dram zone disappears; package keeps counting; core stops.
    s0 = s1;
    char cmd[] = "rm -rf '" DRAM_DIR "'";
    assert_int_equal(system(cmd), 0);
    for (int i = 0; i < 8; i++) {
        advance(0, 40000, 20);
        sleep_ms(20); /* 160 ms > JG_METER_STUCK_PERIODS x 1 ms */
        jg_meter_read(m, &s1);
    }
    jg_meter_figure(m, &s0, &s1, 2, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_GONE);
    jg_meter_figure(m, &s0, &s1, 1, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_STUCK);
    jg_meter_figure(m, &s0, &s1, JG_ZONE_TOTAL, &fig);
    assert_false(fig.valid);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0), 8 * 800000);
    jg_zone_info_t info;
    jg_meter_zone_info(m, 2, &info);
    assert_int_equal(info.status, JG_ZONE_GONE);
    jg_meter_zone_info(m, 1, &info);
    assert_int_equal(info.status, JG_ZONE_STUCK);
    jg_meter_close(m);
}

/* Root bypasses file modes, so the permission case runs as nobody in a
 * child; the child sends back what jg_meter_open reported. */
typedef struct {
    int err, fallback;
    jg_energy_source_t source;
    int nprobe, probe_readable;
    jg_zone_status_t probe_status;
    char reason[JG_ENERGY_TEXT_MAX], fix[JG_ENERGY_TEXT_MAX];
} child_report_t;

static void test_permission_denied(void **state)
{
    (void)state;
    NEED_NS();
    build_package();
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        child_report_t r;
        memset(&r, 0, sizeof(r));
        close(fds[0]);
        if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
            setresuid(NOBODY, NOBODY, NOBODY))
            r.err = -errno;
        else {
            jg_energy_cfg_t cfg;
            jg_energy_status_t st;
            jg_meter_t *m = NULL;
            jg_energy_cfg_default(&cfg);
            r.err = jg_meter_open(&m, &cfg, &st);
            r.source = jg_meter_source(m);
            r.fallback = st.fallback;
            memcpy(r.reason, st.reason, sizeof(r.reason));
            memcpy(r.fix, st.fix, sizeof(r.fix));
            jg_meter_close(m);
            jg_zone_info_t zones[JG_METER_MAX_ZONES];
            r.nprobe = jg_energy_rapl_probe(zones, JG_METER_MAX_ZONES, &st);
            if (r.nprobe > 0) {
                r.probe_readable = zones[0].readable;
                r.probe_status = zones[0].status;
            }
        }
        const ssize_t n = write(fds[1], &r, sizeof(r));
        _exit(n == (ssize_t)sizeof(r) ? 0 : 1);
    }
    close(fds[1]);
    child_report_t r;
    assert_int_equal(read(fds[0], &r, sizeof(r)), (ssize_t)sizeof(r));
    close(fds[0]);
    int wstatus = 0;
    assert_int_equal(waitpid(pid, &wstatus, 0), pid);
    assert_true(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    print_message("as nobody: reason: %s\nfix: %s\n", r.reason, r.fix);
    assert_int_equal(r.err, 0);
    assert_int_equal(r.source, JG_ENERGY_SOURCE_ESTIMATE);
    assert_true(r.fallback);
    assert_non_null(strstr(r.reason, "permission denied"));
    assert_non_null(strstr(r.reason, "intel-rapl:0/energy_uj"));
    assert_non_null(strstr(r.fix, "chgrp powercap"));
    assert_non_null(strstr(r.fix, "chmod g+r"));
    assert_int_equal(r.nprobe, 3);
    assert_false(r.probe_readable);
    assert_int_equal(r.probe_status, JG_ZONE_PERMISSION);
}

static void test_auto_selection(void **state)
{
    (void)state;
    NEED_NS();
    jg_energy_cfg_t cfg;
    jg_energy_status_t st;
    jg_meter_t *m = NULL;
    jg_energy_cfg_default(&cfg);
    // powercap present but no zones: the driver is not loaded.
    assert_int_equal(jg_meter_open(&m, &cfg, &st), 0);
    assert_int_equal(st.source, JG_ENERGY_SOURCE_ESTIMATE);
    assert_true(st.fallback);
    assert_non_null(strstr(st.reason, "no zones"));
    jg_meter_close(m);
    // No powercap at all, as on this VM.
    assert_int_equal(system("rm -rf /sys/class/powercap"), 0);
    assert_int_equal(jg_meter_open(&m, &cfg, &st), 0);
    assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_ESTIMATE);
    assert_non_null(strstr(st.reason, "no /sys/class/powercap"));
    assert_non_null(strstr(st.fix, "--energy estimate"));
    jg_meter_close(m);
    // With a readable tree auto picks rapl.
    assert_int_equal(mkdir("/sys/class/powercap", 0755), 0);
    assert_int_equal(mkdir("/sys/class/powercap/intel-rapl", 0755), 0);
    build_package();
    assert_int_equal(jg_meter_open(&m, &cfg, &st), 0);
    assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_RAPL);
    assert_false(st.fallback);
    assert_string_equal(st.reason, "");
    jg_meter_close(m);
}

static int enter_namespace(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        snprintf(ns_why, sizeof(ns_why), "not root");
        return 0;
    }
    if (unshare(CLONE_NEWNS)) {
        snprintf(ns_why, sizeof(ns_why), "unshare(CLONE_NEWNS): %s", strerror(errno));
        return 0;
    }
    // Private propagation: our mounts never reach the host's namespace.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
        snprintf(ns_why, sizeof(ns_why), "mount MS_PRIVATE: %s", strerror(errno));
        return 0;
    }
    ns_ok = 1;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_discovery_and_joules, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_gap_longer_than_window, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_faults, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_permission_denied, setup_tree, teardown_tree),
        cmocka_unit_test_setup_teardown(test_auto_selection, setup_tree, teardown_tree),
    };
    return cmocka_run_group_tests(tests, enter_namespace, NULL);
}
