/* SPDX-License-Identifier: MIT */
/*
 * cpu.c - CPU feature detection and the dispatch tables.
 *
 * An ISA counts as supported only when three things hold: this build compiled
 * its variants, CPUID reports the instructions, and the OS saves the register
 * state (OSXSAVE + XGETBV), as cpuinfo does. Trusting CPUID alone crashes on
 * kernels or hypervisors that disable AVX state.
 */
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define JG_X86_64 1
#endif

static const char *const isa_names[JG_ISA_COUNT] = {"ref", "avx2", "avx512", "neon"};

static jg_isa_t current_isa = JG_ISA_REF;
static int nthreads = 1;
static int init_status;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

const char *jg_isa_name(jg_isa_t isa)
{
    return (unsigned)isa < JG_ISA_COUNT ? isa_names[isa] : "?";
}

int jg_isa_parse(const char *name, jg_isa_t *isa)
{
    if (!name || !isa) return -EINVAL;
    for (int i = 0; i < JG_ISA_COUNT; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            *isa = (jg_isa_t)i;
            return 0;
        }
    }
    return -EINVAL;
}

#ifdef JG_X86_64
static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static int x86_supports(jg_isa_t isa)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx || !fma) return 0;
    const uint64_t xcr0 = xgetbv0();
    if ((xcr0 & 0x6) != 0x6) return 0; /* XMM and YMM state */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (isa == JG_ISA_AVX2) return avx2;
    if (isa == JG_ISA_AVX512) return avx512f && (xcr0 & 0xe0) == 0xe0; /* opmask, ZMM */
    return 0;
}
#endif

int jg_kernels_isa_supported(jg_isa_t isa)
{
    switch (isa) {
    case JG_ISA_REF: return 1;
#ifdef JG_X86_64
    case JG_ISA_AVX2:
    case JG_ISA_AVX512: return x86_supports(isa);
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON: return 1; /* Advanced SIMD is mandatory on aarch64 */
#endif
    default: return 0;
    }
}

static void select_all(jg_isa_t isa)
{
    current_isa = isa;
    jg_gemm_select(isa);
    jg_conv_select(isa);
    jg_act_select(isa);
    jg_pool_select(isa);
    jg_norm_select(isa);
    jg_loss_select(isa);
    jg_optim_select(isa);
}

static jg_isa_t best_isa(void)
{
    static const jg_isa_t order[] = {JG_ISA_AVX512, JG_ISA_AVX2, JG_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (jg_kernels_isa_supported(order[i])) return order[i];
    return JG_ISA_REF;
}

static void init_once_fn(void)
{
#ifdef _OPENMP
    nthreads = omp_get_max_threads();
#endif
    jg_isa_t isa = best_isa();
    const char *env = getenv("JOULEGRAD_ISA");
    if (env && *env) {
        jg_isa_t want;
        if (jg_isa_parse(env, &want) != 0)
            init_status = -EINVAL;
        else if (!jg_kernels_isa_supported(want))
            init_status = -ENOTSUP;
        else
            isa = want;
    }
    select_all(isa);
}

void jg_kernels_ensure_init(void)
{
    pthread_once(&init_once, init_once_fn);
}

int jg_kernels_init(void)
{
    jg_kernels_ensure_init();
    return init_status;
}

jg_isa_t jg_kernels_isa(void)
{
    jg_kernels_ensure_init();
    return current_isa;
}

int jg_kernels_set_isa(jg_isa_t isa)
{
    jg_kernels_ensure_init();
    if ((unsigned)isa >= JG_ISA_COUNT || !jg_kernels_isa_supported(isa)) return -ENOTSUP;
    select_all(isa);
    return 0;
}

int jg_kernels_have_openmp(void)
{
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

int jg_kernels_set_threads(int n)
{
    jg_kernels_ensure_init();
    if (n < 1) return -EINVAL;
    if (n > 1 && !jg_kernels_have_openmp()) return -ENOTSUP;
    nthreads = n;
    return 0;
}

int jg_kernels_threads(void)
{
    jg_kernels_ensure_init();
    return nthreads;
}

int jg_nthreads(void)
{
    return nthreads;
}
