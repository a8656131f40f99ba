/* SPDX-License-Identifier: MIT */
/* bench_common.h - timing, statistics, peak FLOP rate and option parsing
 * shared by the benchmarks. */
#ifndef JG_BENCH_COMMON_H
#define JG_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "jg_kernels.h"

/* Monotonic wall clock in seconds. */
double jg_bench_now_s(void);

/* Median of v[0..n) (sorts v in place); 0 for n == 0. */
double jg_bench_median(double *v, int n);

/* The machine's peak for one ISA, measured rather than looked up:
 * clock_ghz from a chain of dependent integer adds (one per cycle),
 * fma_per_cycle from many independent vector FMAs on one core (rounded to a
 * whole number of FMA pipes), both timed in thread CPU time so a busy
 * machine does not lower them; peak_gflops = threads * clock * lanes * 2 *
 * fma_per_cycle. */
typedef struct {
    double clock_ghz;
    double fma_per_cycle; /* vector FMAs retired per cycle per core */
    int lanes;            /* float32 lanes per vector */
    int threads;
    double peak_gflops;   /* 0 when it could not be measured */
} jg_bench_peak_t;
int jg_bench_peak(jg_isa_t isa, int threads, jg_bench_peak_t *p);

/* Seeded uniform [-1, 1) data. */
void jg_bench_fill(float *p, size_t n, uint64_t seed);

/* Max over i of |got - want| / (atol + |want|). */
double jg_bench_max_err(const float *got, const float *want, size_t n, double atol);

/* Strict integer parse in [lo, hi]: 0 or -EINVAL. */
int jg_bench_parse_int(const char *s, long lo, long hi, int *out);

/* Applies JOULEGRAD_ISA / --threads: sets the thread count, prints a one-line
 * error and returns non-zero on failure. */
int jg_bench_setup(int threads);

#endif
