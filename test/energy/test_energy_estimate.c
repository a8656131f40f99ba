/* SPDX-License-Identifier: MIT */
/*
 * test_energy_estimate.c - the estimate backend (CPU time x assumed watts),
 * mode parsing, and auto selection on a machine without powercap.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "jg_energy.h"

/* Busy loop: the meter's CPU-time reads and ours bracket slightly different
 * intervals (a few us of a ~200 ms loop), so 2% plus 1 mJ is ample. */
#define EST_RTOL 0.02
#define EST_ATOL_J 1e-3
/* Idle watts over a 100 ms sleep: wall-clock bracketing differs by the
 * read overhead only; 5% covers timer slack. */
#define IDLE_RTOL 0.05

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile double sink;

static void busy(double seconds)
{
    const double t0 = cpu_s();
    double x = 1.0;
    while (cpu_s() - t0 < seconds)
        for (int i = 0; i < 10000; i++) x = x * 1.0000001 + 1e-9;
    sink = x;
}

static void test_busy_loop(void **state)
{
    (void)state;
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.mode = JG_ENERGY_MODE_ESTIMATE;
    cfg.assume_w_per_core = 12.5;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_estimate(&m, &cfg), 0);
    assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_ESTIMATE);
    assert_int_equal(jg_meter_nzones(m), 1);
    jg_zone_info_t info;
    assert_int_equal(jg_meter_zone_info(m, 0, &info), 0);
    assert_string_equal(info.name, "cpu");
    assert_int_equal(info.kind, JG_ZONE_CPU);
    assert_true(info.counted);

    jg_energy_sample_t s0, s1;
    const double c0 = cpu_s();
    jg_meter_read(m, &s0);
    busy(0.2);
    jg_meter_read(m, &s1);
    const double c1 = cpu_s();
    jg_energy_figure_t fig;
    assert_int_equal(jg_meter_figure(m, &s0, &s1, JG_ZONE_TOTAL, &fig), 0);
    assert_true(fig.valid);
    assert_string_equal(jg_energy_source_name(fig.source), "estimate");
    const double want = (c1 - c0) * 12.5;
    print_message("estimate: %.4f J for %.4f cpu s at 12.5 W (want %.4f J)\n", fig.j, c1 - c0,
                  want);
    assert_true(fabs(fig.j - want) <= EST_ATOL_J + EST_RTOL * want);
    jg_meter_close(m);
}

static void test_idle_watts(void **state)
{
    (void)state;
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.assume_w_per_core = 0; /* <= 0 selects the default */
    cfg.idle_w = 20.0;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_estimate(&m, &cfg), 0);
    jg_energy_sample_t s0, s1;
    jg_meter_read(m, &s0);
    const double c0 = cpu_s();
    const struct timespec ts = {0, 100000000};
    nanosleep(&ts, NULL);
    const double c1 = cpu_s();
    jg_meter_read(m, &s1);
    jg_energy_figure_t fig;
    jg_meter_figure(m, &s0, &s1, 0, &fig);
    assert_true(fig.valid);
    // A sleeping process is idle, not stuck.
    const double want = fig.dt_s * 20.0 + (c1 - c0) * JG_ESTIMATE_DEFAULT_W_PER_CORE;
    assert_true(fabs(fig.j - want) <= EST_ATOL_J + IDLE_RTOL * want);
    assert_true(fig.j >= 1.9);
    jg_meter_close(m);

    cfg.idle_w = -1;
    assert_int_equal(jg_meter_open_estimate(&m, &cfg), -EINVAL);
    assert_null(m);
    assert_int_equal(jg_meter_open_estimate(NULL, &cfg), -EINVAL);
    assert_int_equal(jg_meter_open_estimate(&m, NULL), -EINVAL);
}

static void test_mode_parse(void **state)
{
    (void)state;
    jg_energy_mode_t mode;
    assert_int_equal(jg_energy_mode_parse("auto", &mode), 0);
    assert_int_equal(mode, JG_ENERGY_MODE_AUTO);
    assert_int_equal(jg_energy_mode_parse("rapl", &mode), 0);
    assert_int_equal(mode, JG_ENERGY_MODE_RAPL);
    assert_int_equal(jg_energy_mode_parse("estimate", &mode), 0);
    assert_int_equal(mode, JG_ENERGY_MODE_ESTIMATE);
    assert_int_equal(jg_energy_mode_parse("off", &mode), 0);
    assert_int_equal(mode, JG_ENERGY_MODE_OFF);
    assert_int_equal(jg_energy_mode_parse("Auto", &mode), -EINVAL);
    assert_int_equal(jg_energy_mode_parse("", &mode), -EINVAL);
    assert_int_equal(jg_energy_mode_parse(NULL, &mode), -EINVAL);
    assert_int_equal(jg_energy_mode_parse("off", NULL), -EINVAL);
    assert_string_equal(jg_energy_source_name(JG_ENERGY_SOURCE_RAPL), "rapl");
    assert_string_equal(jg_energy_source_name(JG_ENERGY_SOURCE_NONE), "off");
}

static void test_off_and_bad_open(void **state)
{
    (void)state;
    jg_energy_cfg_t cfg;
    jg_energy_status_t st;
    jg_meter_t *m = (jg_meter_t *)&cfg; /* must be overwritten */
    jg_energy_cfg_default(&cfg);
    cfg.mode = JG_ENERGY_MODE_OFF;
    assert_int_equal(jg_meter_open(&m, &cfg, &st), 0);
    assert_null(m);
    assert_int_equal(st.source, JG_ENERGY_SOURCE_NONE);
    assert_int_equal(jg_meter_open(NULL, &cfg, &st), -EINVAL);
    assert_int_equal(jg_meter_open(&m, NULL, &st), -EINVAL);
    assert_int_equal(jg_meter_open(&m, &cfg, NULL), -EINVAL);
    cfg.mode = (jg_energy_mode_t)42;
    assert_int_equal(jg_meter_open(&m, &cfg, &st), -EINVAL);
}

/* On this VM there is no /sys/class/powercap: auto must fall back to
 * estimate and say why and how to fix it. */
static void test_auto_without_powercap(void **state)
{
    (void)state;
    if (access("/sys/class/powercap", F_OK) == 0) {
        print_message("skip: this machine has /sys/class/powercap (test_energy_rapl covers "
                      "the fake-tree cases)\n");
        skip();
    }
    jg_energy_cfg_t cfg;
    jg_energy_status_t st;
    jg_meter_t *m = NULL;
    jg_energy_cfg_default(&cfg);
    assert_int_equal(jg_meter_open(&m, &cfg, &st), 0);
    assert_non_null(m);
    assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_ESTIMATE);
    assert_int_equal(st.source, JG_ENERGY_SOURCE_ESTIMATE);
    assert_true(st.fallback);
    assert_int_equal(st.rapl_err, -ENODEV);
    print_message("reason: %s\nfix: %s\n", st.reason, st.fix);
    assert_non_null(strstr(st.reason, "no /sys/class/powercap"));
    assert_non_null(strstr(st.fix, "--energy estimate"));
    assert_non_null(strstr(st.fix, "modprobe"));
    char line[2 * JG_ENERGY_TEXT_MAX];
    assert_int_equal(jg_energy_status_line(&st, line, (int)sizeof(line)), 0);
    assert_null(strchr(line, '\n'));
    assert_non_null(strstr(line, "energy: estimate"));
    assert_non_null(strstr(line, "no /sys/class/powercap"));
    assert_non_null(strstr(line, "fix:"));
    assert_int_equal(jg_energy_status_line(&st, line, 0), -EINVAL);
    assert_int_equal(jg_energy_status_line(NULL, line, 8), -EINVAL);
    jg_meter_close(m);

    cfg.mode = JG_ENERGY_MODE_RAPL;
    assert_int_equal(jg_meter_open(&m, &cfg, &st), -ENODEV);
    assert_null(m);
    assert_non_null(strstr(st.reason, "no /sys/class/powercap"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_loop),
        cmocka_unit_test(test_idle_watts),
        cmocka_unit_test(test_mode_parse),
        cmocka_unit_test(test_off_and_bad_open),
        cmocka_unit_test(test_auto_without_powercap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
