/* SPDX-License-Identifier: MIT */
/*
 * test_energy_sim.c - the meter core through the sim backend on a virtual
 * clock: exact totals, quantisation units, wraps (one and several between
 * two samples, with watchdog polls), a gap longer than the watchdog window,
 * faults (stuck, read error, gone), totals without double counting, and the
 * update period on the real clock.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "jg_energy.h"

#define MS 1000000LL
/* Real-clock update period: the median of 16 intervals on a loaded 2-core
 * machine; 25% covers scheduling noise while still catching a wrong period. */
#define PERIOD_RTOL 0.25

static int64_t vnow;

/* Oracle, written independently of sim.c: energy in nJ (mW * us), then
 * count = floor(E * 2^shift / 1e9 nJ), uJ = floor(count * 1e6 / 2^shift). */
static uint64_t oracle_uj(const jg_sim_segment_t *p, int n, int shift, int64_t period_ns,
                          int64_t t_ns)
{
    const int64_t tick = t_ns / period_ns * period_ns;
    uint64_t e_nj = 0;
    int64_t t = 0;
    for (int i = 0; t < tick; i = (i + 1) % n) {
        const int64_t d = tick - t < p[i].duration_ns ? tick - t : p[i].duration_ns;
        assert_int_equal(d % 1000, 0); /* test profiles use whole microseconds */
        e_nj += p[i].power_mw * (uint64_t)(d / 1000);
        t += d;
    }
    const uint64_t count = (e_nj << shift) / 1000000000ull;
    return (uint64_t)((count * 1000000ull) >> shift);
}

static void one_zone(jg_sim_cfg_t *cfg, const jg_sim_segment_t *p, int n, int shift,
                     uint64_t range_uj)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nzones = 1;
    cfg->zones[0] = (jg_sim_zone_cfg_t){.name = "package-0", .kind = JG_ZONE_PACKAGE,
                                        .package = 0, .parent = -1, .profile = p,
                                        .nsegments = n, .range_uj = range_uj};
    cfg->energy_unit_shift = shift;
    cfg->virtual_now_ns = &vnow;
}

static const jg_sim_segment_t profile[] = {
    {10 * MS, 30000}, {5 * MS, 61000}, {17 * MS + 500000, 12345}, {3 * MS, 0}};
#define NPROF ((int)(sizeof(profile) / sizeof(profile[0])))

static void test_exact_totals(void **state)
{
    (void)state;
    const int shifts[] = {16, 14};
    for (int k = 0; k < 2; k++) {
        jg_sim_cfg_t cfg;
        one_zone(&cfg, profile, NPROF, shifts[k], 0);
        vnow = 0;
        jg_meter_t *m = NULL;
        assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
        assert_int_equal(jg_meter_source(m), JG_ENERGY_SOURCE_SIM);
        jg_energy_sample_t s0, s1, prev;
        assert_int_equal(jg_meter_read(m, &s0), 0);
        prev = s0;
        // Irregular read times, never aligned with the 1 ms ticks.
        for (int i = 1; i <= 300; i++) {
            vnow += 333333 + (i % 7) * 111111;
            assert_int_equal(jg_meter_read(m, &s1), 0);
            const uint64_t want = oracle_uj(profile, NPROF, shifts[k], MS, s1.t_ns) -
                                  oracle_uj(profile, NPROF, shifts[k], MS, prev.t_ns);
            jg_energy_figure_t fig;
            assert_int_equal(jg_meter_figure(m, &prev, &s1, 0, &fig), 0);
            assert_true(fig.valid);
            assert_int_equal(fig.uj, want);
            assert_int_equal(jg_meter_energy_uj(m, &prev, &s1, 0), (int64_t)want);
            prev = s1;
        }
        const uint64_t want = oracle_uj(profile, NPROF, shifts[k], MS, s1.t_ns);
        jg_energy_figure_t fig;
        assert_int_equal(jg_meter_figure(m, &s0, &s1, JG_ZONE_TOTAL, &fig), 0);
        assert_true(fig.valid);
        assert_int_equal(fig.uj, want);
        assert_true(fabs(fig.j - (double)want * 1e-6) < 1e-9);
        assert_string_equal(jg_energy_source_name(fig.source), "sim");
        assert_int_equal(jg_sim_expected_uj(&cfg, 0, s1.t_ns), want);
        jg_meter_close(m);
    }
}

/* At 20 mW the counter moves one or two units per 1 ms tick, so every
 * change of the raw value is a whole number of units (within the 1 uJ
 * truncation of energy_uj). */
static void test_quantisation_units(void **state)
{
    (void)state;
    static const jg_sim_segment_t low[] = {{1 * MS, 20}};
    const int shifts[] = {16, 14};
    const double unit_uj[] = {15.2587890625, 61.03515625};
    for (int k = 0; k < 2; k++) {
        jg_sim_cfg_t cfg;
        one_zone(&cfg, low, 1, shifts[k], 0);
        vnow = 0;
        jg_meter_t *m = NULL;
        assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
        jg_energy_sample_t a, b;
        jg_meter_read(m, &a);
        int changes = 0;
        for (int i = 0; i < 200; i++) {
            vnow += 250000; /* four reads per tick: sees each update */
            jg_meter_read(m, &b);
            const int64_t d = jg_meter_energy_uj(m, &a, &b, 0);
            assert_true(d >= 0);
            if (d > 0) {
                const double units = (double)d / unit_uj[k];
                const double frac = fabs(units - round(units)) * unit_uj[k];
                assert_true(round(units) >= 1.0);
                assert_true(frac <= 1.0 + 1e-9);
                changes++;
            }
            a = b;
        }
        assert_true(changes > 0);
        // Changes only at 1 ms ticks: never more than one per four reads.
        assert_true(changes <= 50);
        jg_meter_close(m);
    }
}

static void test_wraps_and_gap(void **state)
{
    (void)state;
    static const jg_sim_segment_t flat[] = {{1 * MS, 30000}}; /* 30 W */
    const uint64_t range = 1000000;                             /* 1 J: wraps every 33.3 ms */
    jg_sim_cfg_t cfg;
    one_zone(&cfg, flat, 1, 16, range);
    vnow = 0;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    jg_zone_info_t info;
    assert_int_equal(jg_meter_zone_info(m, 0, &info), 0);
    assert_int_equal(info.range_uj, range);
    assert_int_equal(info.window_ns, 33333333); /* 1 J / 30 W */
    assert_int_equal(jg_meter_poll_interval_ns(m), 33333333 / 2);

    // One wrap between two reads 25 ms apart.
    jg_energy_sample_t s0, s1;
    vnow = 20 * MS + 1;
    jg_meter_read(m, &s0);
    vnow = 45 * MS + 1;
    jg_meter_read(m, &s1);
    assert_true(s1.raw_uj[0] < s0.raw_uj[0]); /* it did wrap */
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0),
                     (int64_t)(oracle_uj(flat, 1, 16, MS, s1.t_ns) -
                               oracle_uj(flat, 1, 16, MS, s0.t_ns)));

    // Several wraps between two samples, kept by watchdog polls.
    s0 = s1;
    for (int i = 0; i < 20; i++) {
        vnow += jg_meter_poll_interval_ns(m);
        assert_int_equal(jg_meter_poll(m), 0);
    }
    jg_meter_read(m, &s1);
    const uint64_t want =
        oracle_uj(flat, 1, 16, MS, s1.t_ns) - oracle_uj(flat, 1, 16, MS, s0.t_ns);
    assert_true(want > 5 * range); /* more than five wraps */
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0), (int64_t)want);

    // A gap longer than the window: invalid, not a guess.
    s0 = s1;
    vnow += info.window_ns + 1;
    jg_meter_read(m, &s1);
    jg_energy_figure_t fig;
    assert_int_equal(jg_meter_figure(m, &s0, &s1, 0, &fig), 0);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_GAP);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0), JG_ENERGY_INVALID_UJ);
    // Later figures that do not span the gap are valid again.
    s0 = s1;
    vnow += 10 * MS;
    jg_meter_read(m, &s1);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0),
                     (int64_t)(oracle_uj(flat, 1, 16, MS, s1.t_ns) -
                               oracle_uj(flat, 1, 16, MS, s0.t_ns)));
    jg_meter_close(m);
}

static void three_zones(jg_sim_cfg_t *cfg, const jg_sim_segment_t *pkg,
                        const jg_sim_segment_t *core, const jg_sim_segment_t *dram)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->nzones = 3;
    cfg->zones[0] = (jg_sim_zone_cfg_t){"package-0", JG_ZONE_PACKAGE, 0, -1, pkg, 1, 0};
    cfg->zones[1] = (jg_sim_zone_cfg_t){"core", JG_ZONE_CORE, 0, 0, core, 1, 0};
    cfg->zones[2] = (jg_sim_zone_cfg_t){"dram", JG_ZONE_DRAM, 0, 0, dram, 1, 0};
    cfg->energy_unit_shift = 14;
    cfg->virtual_now_ns = &vnow;
}

static void test_total_no_double_count(void **state)
{
    (void)state;
    static const jg_sim_segment_t pkg[] = {{1 * MS, 40000}}, core[] = {{1 * MS, 25000}},
                                  dram[] = {{1 * MS, 5000}}, psys[] = {{1 * MS, 70000}};
    jg_sim_cfg_t cfg;
    three_zones(&cfg, pkg, core, dram);
    vnow = 0;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    jg_zone_info_t info;
    jg_meter_zone_info(m, 1, &info);
    assert_false(info.counted); /* core is inside package */
    jg_energy_sample_t s0, s1;
    jg_meter_read(m, &s0);
    vnow = 100 * MS;
    jg_meter_read(m, &s1);
    const int64_t p = jg_meter_energy_uj(m, &s0, &s1, 0), d = jg_meter_energy_uj(m, &s0, &s1, 2);
    assert_true(p > 0 && d > 0);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, JG_ZONE_TOTAL), p + d);
    jg_meter_close(m);

    // With psys present the total is psys alone.
    cfg.nzones = 4;
    cfg.zones[3] = (jg_sim_zone_cfg_t){"psys", JG_ZONE_PSYS, -1, -1, psys, 1, 0};
    vnow = 0;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    jg_meter_read(m, &s0);
    vnow = 100 * MS;
    jg_meter_read(m, &s1);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, JG_ZONE_TOTAL),
                     jg_meter_energy_uj(m, &s0, &s1, 3));
    assert_true(jg_meter_energy_uj(m, &s0, &s1, 3) > 6900000);
    jg_meter_close(m);
}

static void test_faults(void **state)
{
    (void)state;
    static const jg_sim_segment_t pkg[] = {{1 * MS, 40000}}, core[] = {{1 * MS, 25000}},
                                  dram[] = {{1 * MS, 5000}};
    jg_sim_cfg_t cfg;
    three_zones(&cfg, pkg, core, dram);
    vnow = 0;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    jg_energy_sample_t s0, s1;
    jg_energy_figure_t fig;
    vnow = 10 * MS;
    jg_meter_read(m, &s0);

    // Counter stops changing: fine for fewer than JG_METER_STUCK_PERIODS
    // update periods, flagged after.
    assert_int_equal(jg_meter_sim_inject(m, 2, JG_SIM_FAULT_FREEZE), 0);
    for (int i = 0; i < JG_METER_STUCK_PERIODS - 10; i++) {
        vnow += MS;
        jg_meter_read(m, &s1);
    }
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 2), 0);
    for (int i = 0; i < 20; i++) {
        vnow += MS;
        jg_meter_read(m, &s1);
    }
    jg_meter_figure(m, &s0, &s1, 2, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_STUCK);
    jg_meter_figure(m, &s0, &s1, JG_ZONE_TOTAL, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.zone, 2);
    assert_true(jg_meter_energy_uj(m, &s0, &s1, 0) > 0); /* others unaffected */
    jg_zone_info_t info;
    jg_meter_zone_info(m, 2, &info);
    assert_int_equal(info.status, JG_ZONE_STUCK);
    // It resumes: spans across the fault stay invalid, new ones are valid.
    jg_meter_sim_inject(m, 2, JG_SIM_FAULT_NONE);
    vnow += MS;
    jg_meter_read(m, &s0);
    vnow += 10 * MS;
    jg_meter_read(m, &s1);
    assert_true(jg_meter_energy_uj(m, &s0, &s1, 2) > 0);

    // A read error mid-run, then recovery.
    s0 = s1;
    jg_meter_sim_inject(m, 1, JG_SIM_FAULT_READ_ERROR);
    vnow += MS;
    jg_meter_read(m, &s1);
    jg_meter_figure(m, &s0, &s1, 1, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_READ_ERROR);
    jg_meter_zone_info(m, 1, &info);
    assert_int_equal(info.err, -EIO);
    jg_meter_sim_inject(m, 1, JG_SIM_FAULT_NONE);
    vnow += MS;
    jg_meter_read(m, &s1);
    jg_meter_figure(m, &s0, &s1, 1, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_READ_ERROR);
    s0 = s1;
    vnow += 5 * MS;
    jg_meter_read(m, &s1);
    assert_true(jg_meter_energy_uj(m, &s0, &s1, 1) > 0);

    // The zone disappears.
    s0 = s1;
    jg_meter_sim_inject(m, 0, JG_SIM_FAULT_GONE);
    vnow += MS;
    jg_meter_read(m, &s1);
    jg_meter_figure(m, &s0, &s1, JG_ZONE_TOTAL, &fig);
    assert_false(fig.valid);
    assert_int_equal(fig.why, JG_ZONE_GONE);
    assert_int_equal(fig.zone, 0);
    assert_true(jg_meter_energy_uj(m, &s0, &s1, 2) > 0);
    jg_meter_close(m);
}

static void test_update_period_real_clock(void **state)
{
    (void)state;
    static const jg_sim_segment_t flat[] = {{1 * MS, 30000}};
    jg_sim_cfg_t cfg;
    one_zone(&cfg, flat, 1, 16, 0);
    cfg.virtual_now_ns = NULL;
    jg_meter_t *m = NULL;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    int64_t period = 0;
    assert_int_equal(jg_meter_measure_update_ns(m, 0, 16, 2000 * MS, &period), 0);
    print_message("sim update period (real clock): %lld ns\n", (long long)period);
    assert_true(fabs((double)period - 1e6) <= PERIOD_RTOL * 1e6);
    int64_t cost = 0;
    assert_int_equal(jg_meter_measure_read_ns(m, 1024, &cost), 0);
    assert_true(cost > 0);
    jg_meter_close(m);

    // On a virtual clock that never moves the counter never changes.
    one_zone(&cfg, flat, 1, 16, 0);
    vnow = 0;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    assert_int_equal(jg_meter_measure_update_ns(m, 0, 4, 20 * MS, &period), -ETIMEDOUT);
    jg_meter_close(m);
}

static void test_invalid_args(void **state)
{
    (void)state;
    jg_sim_cfg_t cfg;
    jg_meter_t *m = NULL;
    one_zone(&cfg, profile, NPROF, 16, 0);
    assert_int_equal(jg_meter_open_sim(NULL, &cfg), -EINVAL);
    assert_int_equal(jg_meter_open_sim(&m, NULL), -EINVAL);
    cfg.nzones = 0;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    cfg.nzones = JG_METER_MAX_ZONES + 1;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    one_zone(&cfg, profile, NPROF, 11, 0);
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    one_zone(&cfg, profile, NPROF, 16, 0);
    cfg.update_period_ns = -1;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    one_zone(&cfg, NULL, 1, 16, 0);
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    one_zone(&cfg, profile, 0, 16, 0);
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    static const jg_sim_segment_t zero_len[] = {{0, 1000}};
    one_zone(&cfg, zero_len, 1, 16, 0);
    assert_int_equal(jg_meter_open_sim(&m, &cfg), -EINVAL);
    assert_null(m);

    one_zone(&cfg, profile, NPROF, 16, 0);
    vnow = 0;
    assert_int_equal(jg_meter_open_sim(&m, &cfg), 0);
    jg_energy_sample_t s0, s1;
    jg_energy_figure_t fig;
    assert_int_equal(jg_meter_read(NULL, &s0), -EINVAL);
    assert_int_equal(jg_meter_read(m, NULL), -EINVAL);
    jg_meter_read(m, &s0);
    s1 = s0;
    assert_int_equal(jg_meter_figure(m, &s0, &s1, 1, &fig), -EINVAL);
    assert_int_equal(jg_meter_figure(m, &s0, &s1, -2, &fig), -EINVAL);
    assert_int_equal(jg_meter_figure(m, NULL, &s1, 0, &fig), -EINVAL);
    assert_int_equal(jg_meter_figure(m, &s0, &s1, 0, NULL), -EINVAL);
    s1.nzones = 2;
    assert_int_equal(jg_meter_figure(m, &s0, &s1, 0, &fig), -EINVAL);
    assert_int_equal(jg_meter_energy_uj(m, &s0, &s1, 0), JG_ENERGY_INVALID_UJ);
    assert_int_equal(jg_meter_sim_inject(m, 1, JG_SIM_FAULT_FREEZE), -EINVAL);
    assert_int_equal(jg_meter_sim_inject(m, 0, (jg_sim_fault_t)9), -EINVAL);
    jg_zone_info_t info;
    assert_int_equal(jg_meter_zone_info(m, 1, &info), -EINVAL);
    assert_int_equal(jg_meter_zone_info(m, 0, NULL), -EINVAL);
    int64_t v;
    assert_int_equal(jg_meter_measure_update_ns(m, 0, 0, MS, &v), -EINVAL);
    assert_int_equal(jg_meter_measure_read_ns(m, 1, &v), -EINVAL);
    jg_meter_close(m);
    jg_meter_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_totals),
        cmocka_unit_test(test_quantisation_units),
        cmocka_unit_test(test_wraps_and_gap),
        cmocka_unit_test(test_total_no_double_count),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_update_period_real_clock),
        cmocka_unit_test(test_invalid_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
