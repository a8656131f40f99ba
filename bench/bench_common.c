/* SPDX-License-Identifier: MIT */
#include "bench_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

double jg_bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* CPU time of the calling thread: the peak probes time themselves with it so
 * that time spent descheduled (a busy shared machine) does not look like a
 * slow clock or a missing FMA pipe. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double jg_bench_median(double *v, int n)
{
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void jg_bench_fill(float *p, size_t n, uint64_t seed)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((double)(s >> 40) / (double)(1ull << 23) - 1.0);
    }
}

double jg_bench_max_err(const float *got, const float *want, size_t n, double atol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const double d = got[i] - (double)want[i];
        const double e = (d < 0 ? -d : d) / (atol + (want[i] < 0 ? -want[i] : want[i]));
        if (!(e <= worst)) worst = e; /* NaN propagates as the worst */
    }
    return worst;
}

int jg_bench_parse_int(const char *s, long lo, long hi, int *out)
{
    if (!s || !*s) return -EINVAL;
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi) return -EINVAL;
    *out = (int)v;
    return 0;
}

int jg_bench_setup(int threads)
{
    int err = jg_kernels_init();
    if (err) {
        fprintf(stderr, "joulegrad: JOULEGRAD_ISA=%s is %s; use one of ref, avx2, avx512, neon "
                        "that this CPU supports\n",
                getenv("JOULEGRAD_ISA"), err == -ENOTSUP ? "not supported here" : "unknown");
        return 1;
    }
    err = jg_kernels_set_threads(threads);
    if (err) {
        fprintf(stderr, "joulegrad: cannot use %d threads: %s\n", threads,
                err == -ENOTSUP ? "this build has no OpenMP (reconfigure with -DJG_OPENMP=ON)"
                                : "the count must be >= 1");
        return 2;
    }
    return 0;
}

/* ---- peak measurement ---------------------------------------------------- */

/* Cycles are counted with a chain of dependent adds: each waits for the
 * previous, one per cycle on every core we target, so adds / seconds is the
 * clock the core actually ran at. */
static double measure_clock_ghz(void)
{
#if defined(__x86_64__) || defined(__aarch64__)
    const long iters = 20 * 1000 * 1000; /* 8 adds each: ~60 ms at 3 GHz */
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        uint64_t x = 0;
        long i = iters;
        const double t0 = thread_cpu_s();
#if defined(__x86_64__)
        __asm__ volatile("1:\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                         "dec %1\n\tjnz 1b"
                         : "+r"(x), "+r"(i));
#else
        __asm__ volatile("1:\n\t"
                         "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
                         "add %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\tadd %0, %0, #1\n\t"
                         "subs %1, %1, #1\n\tb.ne 1b"
                         : "+r"(x), "+r"(i)::"cc");
#endif
        const double dt = thread_cpu_s() - t0;
        const double ghz = 8.0 * (double)iters / dt * 1e-9;
        if (ghz > best) best = ghz;
    }
    return best;
#else
    return 0;
#endif
}

/* Twelve independent accumulators: more than FMA latency x pipes on current
 * cores, and few enough that AVX2's 16 registers hold them and the operands.
 * Written out so that no optimisation level keeps them in memory. */
#define FMA_CHAINS 12
#define FMA12(FMA, m, a) \
    acc0 = FMA(acc0, m, a), acc1 = FMA(acc1, m, a), acc2 = FMA(acc2, m, a), \
    acc3 = FMA(acc3, m, a), acc4 = FMA(acc4, m, a), acc5 = FMA(acc5, m, a), \
    acc6 = FMA(acc6, m, a), acc7 = FMA(acc7, m, a), acc8 = FMA(acc8, m, a), \
    acc9 = FMA(acc9, m, a), acc10 = FMA(acc10, m, a), acc11 = FMA(acc11, m, a)
#define FMA_PROBE(T, SET1, FMA, SINK)                                         \
    T acc0 = SET1(0), acc1 = SET1(1), acc2 = SET1(2), acc3 = SET1(3);         \
    T acc4 = SET1(4), acc5 = SET1(5), acc6 = SET1(6), acc7 = SET1(7);         \
    T acc8 = SET1(8), acc9 = SET1(9), acc10 = SET1(10), acc11 = SET1(11);     \
    const T m = SET1(0.999999f), a = SET1(1e-7f);                             \
    const double t0 = thread_cpu_s();                                         \
    for (long i = 0; i < iters; i++) FMA12(FMA, m, a);                        \
    const double dt = thread_cpu_s() - t0;                                    \
    acc0 = FMA(acc0, acc1, acc2), acc3 = FMA(acc3, acc4, acc5);               \
    acc6 = FMA(acc6, acc7, acc8), acc9 = FMA(acc9, acc10, acc11);             \
    acc0 = FMA(acc0, acc3, acc6), acc0 = FMA(acc0, acc9, a);                  \
    volatile float sink = SINK(acc0);                                         \
    (void)sink;                                                               \
    return dt

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static float sink512(__m512 v)
{
    return _mm512_reduce_add_ps(v);
}
__attribute__((target("avx512f"))) static double fma_seconds_avx512(long iters)
{
    FMA_PROBE(__m512, _mm512_set1_ps, _mm512_fmadd_ps, sink512);
}
__attribute__((target("avx2,fma"))) static float sink256(__m256 v)
{
    return _mm_cvtss_f32(_mm256_castps256_ps128(v));
}
__attribute__((target("avx2,fma"))) static double fma_seconds_avx2(long iters)
{
    FMA_PROBE(__m256, _mm256_set1_ps, _mm256_fmadd_ps, sink256);
}
#elif defined(__aarch64__)
static inline float32x4_t neon_fma(float32x4_t acc, float32x4_t m, float32x4_t a)
{
    return vfmaq_f32(a, acc, m);
}
static double fma_seconds_neon(long iters)
{
    FMA_PROBE(float32x4_t, vdupq_n_f32, neon_fma, vaddvq_f32);
}
#endif

int jg_bench_peak(jg_isa_t isa, int threads, jg_bench_peak_t *p)
{
    memset(p, 0, sizeof *p);
    p->threads = threads;
    p->clock_ghz = measure_clock_ghz();
    const long iters = 4 * 1000 * 1000;
    double sec = 0;
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX512: p->lanes = 16; sec = fma_seconds_avx512(iters); break;
    case JG_ISA_AVX2: p->lanes = 8; sec = fma_seconds_avx2(iters); break;
#elif defined(__aarch64__)
    case JG_ISA_NEON: p->lanes = 4; sec = fma_seconds_neon(iters); break;
#endif
    default: p->lanes = 1; break; /* scalar: no meaningful vector peak */
    }
    if (sec > 0 && p->clock_ghz > 0) {
        const double raw = (double)iters * FMA_CHAINS / (sec * p->clock_ghz * 1e9);
        p->fma_per_cycle = raw < 1.25 ? 1 : (double)(int)(raw + 0.5);
        p->peak_gflops = threads * p->clock_ghz * p->lanes * 2 * p->fma_per_cycle;
    }
    return p->peak_gflops > 0 ? 0 : -ENOTSUP;
}
