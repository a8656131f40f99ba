/* SPDX-License-Identifier: MIT */
/*
 * harness.h - helpers shared by the CMocka tests: seeded data, tolerant
 * comparisons that report the first bad element, and a loop over every ISA
 * this machine can run.
 */
#ifndef JG_TEST_HARNESS_H
#define JG_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "jg_kernels.h"

/* Deterministic PRNG (splitmix64) so every failure is reproducible. */
typedef struct { uint64_t s; } jg_test_rng_t;
void jg_test_rng_seed(jg_test_rng_t *r, uint64_t seed);
uint64_t jg_test_rng_u64(jg_test_rng_t *r);
/* Uniform in [lo, hi). */
float jg_test_rng_uniform(jg_test_rng_t *r, float lo, float hi);
void jg_test_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed);

/* Aborts the test when allocation fails; memory is not zeroed unless _zero. */
float *jg_test_alloc(size_t n);
float *jg_test_alloc_zero(size_t n);
void *jg_test_alloc_bytes(size_t bytes);

/* Passes when |got - want| <= atol + rtol * |want| for every element; on
 * failure prints what, the index and both values, then fails the test. */
void jg_test_assert_close(const char *what, const float *got, const float *want,
                          size_t n, double rtol, double atol);
void jg_test_assert_close_d(const char *what, const float *got,
                            const double *want, size_t n, double rtol,
                            double atol);

/* The ISAs this machine can run, ref first, or only JOULEGRAD_ISA when it
 * is set. Returns the count. */
int jg_test_isas(jg_isa_t out[JG_ISA_COUNT]);

/* Central finite difference in double of f at x[i] (x modified then
 * restored): (f(x + h e_i) - f(x - h e_i)) / 2h. */
typedef double (*jg_test_scalar_fn)(const double *x, void *ctx);
double jg_test_fd(jg_test_scalar_fn f, double *x, size_t i, double h, void *ctx);

/* A test that cannot run here (no root for the fake powercap tree, no
 * Fashion-MNIST): skips it with why, except under CI (the CI environment
 * variable is set, as .ci/run does), where everything it needs is installed
 * and a skip would hide a test that never ran: there it fails with why. */
void jg_test_skip_unless_ci(const char *why);

/* Removes path and, for a directory, everything below it, depth first with
 * lstat so symlinks are removed, never followed (tests only delete their own
 * mkdtemp trees). Prints a warning for what it cannot remove. */
void jg_test_rm_rf(const char *path);

/* clock (CLOCK_MONOTONIC, or a process or thread CPU clock) in seconds. */
double jg_test_clock_s(clockid_t clock);
/* Keeps the calling thread busy with arithmetic until clock has advanced by
 * seconds (a CPU clock: that much CPU time; CLOCK_MONOTONIC: wall time). */
void jg_test_busy(clockid_t clock, double seconds);

#endif /* JG_TEST_HARNESS_H */
