/* SPDX-License-Identifier: MIT */
/*
 * test_energy_estimate.c - the estimate backend (CPU time x assumed watts),
 * its thread list (a thread started after open counts from the refresh that
 * sees it, with its earlier CPU time added there; an exited one keeps its
 * share), mode parsing, and auto selection on a machine without powercap.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
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
    return jg_test_clock_s(CLOCK_PROCESS_CPUTIME_ID);
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
    jg_test_busy(CLOCK_PROCESS_CPUTIME_ID, 0.2);
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

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase;       /* 0 start, 1 burnt once, 2 go again, 3 burnt twice, 4 quit */
} phases_t;

static void wait_phase(phases_t *p, int phase)
{
    pthread_mutex_lock(&p->mu);
    while (p->phase < phase) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void set_phase(phases_t *p, int phase)
{
    pthread_mutex_lock(&p->mu);
    p->phase = phase;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

#define BURN_S 0.06
/* What the main thread may add around the burner's 60 ms (0.6 J): its own
 * few microseconds, or a few ms when a loaded VM charges steal time. */
#define OTHER_J 0.05

static void *burner(void *arg)
{
    phases_t *p = arg;
    jg_test_busy(CLOCK_THREAD_CPUTIME_ID, BURN_S);
    set_phase(p, 1);
    wait_phase(p, 2);
    jg_test_busy(CLOCK_THREAD_CPUTIME_ID, BURN_S);
    set_phase(p, 3);
    wait_phase(p, 4);
    return NULL;
}

static double figure_j(jg_meter_t *m, const jg_energy_sample_t *a, const jg_energy_sample_t *b)
{
    jg_energy_figure_t fig;
    assert_int_equal(jg_meter_figure(m, a, b, JG_ZONE_TOTAL, &fig), 0);
    assert_true(fig.valid);
    return fig.j;
}

static void test_new_thread(void **state)
{
    (void)state;
    jg_energy_cfg_t cfg;
    jg_energy_cfg_default(&cfg);
    cfg.assume_w_per_core = 10.0;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_estimate(&m, &cfg), 0);
    phases_t p = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, burner, &p), 0);
    clockid_t tc;
    assert_int_equal(pthread_getcpuclockid(th, &tc), 0);
    wait_phase(&p, 1); /* the main thread sleeps meanwhile */

    jg_energy_sample_t s0, s1, s2, s3;
    jg_meter_read(m, &s0);
    /* not seen yet: the burner's 60 ms are not in the counter */
    jg_meter_read(m, &s1);
    assert_true(figure_j(m, &s0, &s1) < OTHER_J);
    /* the refresh adds them at once */
    assert_int_equal(jg_meter_refresh(m), 0);
    const double burnt1 = jg_test_clock_s(tc);
    jg_meter_read(m, &s2);
    const double lump = figure_j(m, &s1, &s2);
    print_message("refresh: %.4f J for the new thread's %.4f s\n", lump, burnt1);
    assert_true(fabs(lump - 10.0 * burnt1) <= OTHER_J + EST_RTOL * 10.0 * burnt1);

    /* from now on it is read at every read */
    set_phase(&p, 2);
    wait_phase(&p, 3);
    jg_meter_read(m, &s3);
    const double burnt2 = jg_test_clock_s(tc) - burnt1;
    const double later = figure_j(m, &s2, &s3);
    print_message("tracked: %.4f J for %.4f s\n", later, burnt2);
    assert_true(fabs(later - 10.0 * burnt2) <= OTHER_J + EST_RTOL * 10.0 * burnt2);

    /* it exits: reads go on, the counter never goes back, refresh drops it */
    set_phase(&p, 4);
    assert_int_equal(pthread_join(th, NULL), 0);
    jg_energy_sample_t s4;
    jg_meter_read(m, &s4);
    assert_true(figure_j(m, &s3, &s4) < OTHER_J);
    assert_int_equal(jg_meter_refresh(m), 0);
    jg_meter_read(m, &s4);
    assert_true(figure_j(m, &s0, &s4) >= lump + later);
    assert_int_equal(jg_meter_refresh(NULL), -EINVAL);
    jg_meter_close(m);
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
        cmocka_unit_test(test_new_thread),
        cmocka_unit_test(test_mode_parse),
        cmocka_unit_test(test_off_and_bad_open),
        cmocka_unit_test(test_auto_without_powercap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
