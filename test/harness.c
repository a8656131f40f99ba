/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>

void jg_test_rng_seed(jg_test_rng_t *r, uint64_t seed)
{
    r->s = seed;
}

uint64_t jg_test_rng_u64(jg_test_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

float jg_test_rng_uniform(jg_test_rng_t *r, float lo, float hi)
{
    const double u = (double)(jg_test_rng_u64(r) >> 40) / (double)(1ull << 24);
    return (float)(lo + (hi - lo) * u);
}

void jg_test_fill_uniform(float *p, size_t n, float lo, float hi, uint64_t seed)
{
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = jg_test_rng_uniform(&r, lo, hi);
}

void *jg_test_alloc_bytes(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    assert_non_null(p);
    return p;
}

float *jg_test_alloc(size_t n)
{
    return jg_test_alloc_bytes(n * sizeof(float));
}

float *jg_test_alloc_zero(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static void report_close(const char *what, size_t n, double rtol, double atol,
                         size_t bad, double got, double want, size_t nbad)
{
    if (nbad == 0) return;
    print_error("%s: %zu of %zu elements off (rtol %g, atol %g); first at [%zu]: "
                "got %.9g want %.9g\n",
                what, nbad, n, rtol, atol, bad, got, want);
    fail();
}

void jg_test_assert_close(const char *what, const float *got, const float *want,
                          size_t n, double rtol, double atol)
{
    size_t nbad = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double g = got[i], w = want[i];
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            if (nbad++ == 0) bad = i;
        }
    }
    report_close(what, n, rtol, atol, bad, nbad ? got[bad] : 0, nbad ? want[bad] : 0, nbad);
}

void jg_test_assert_close_d(const char *what, const float *got,
                            const double *want, size_t n, double rtol, double atol)
{
    size_t nbad = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double g = got[i], w = want[i];
        if (!(fabs(g - w) <= atol + rtol * fabs(w))) {
            if (nbad++ == 0) bad = i;
        }
    }
    report_close(what, n, rtol, atol, bad, nbad ? got[bad] : 0, nbad ? want[bad] : 0, nbad);
}

int jg_test_isas(jg_isa_t out[JG_ISA_COUNT])
{
    /* JOULEGRAD_ISA pins the run to one ISA (CI forces ref this way). */
    const char *env = getenv("JOULEGRAD_ISA");
    jg_isa_t pinned;
    if (env && *env && jg_isa_parse(env, &pinned) == 0) {
        assert_true(jg_kernels_isa_supported(pinned));
        out[0] = pinned;
        return 1;
    }
    int n = 0;
    for (int i = 0; i < JG_ISA_COUNT; i++)
        if (jg_kernels_isa_supported((jg_isa_t)i)) out[n++] = (jg_isa_t)i;
    return n;
}

double jg_test_fd(jg_test_scalar_fn f, double *x, size_t i, double h, void *ctx)
{
    const double x0 = x[i];
    x[i] = x0 + h;
    const double fp = f(x, ctx);
    x[i] = x0 - h;
    const double fm = f(x, ctx);
    x[i] = x0;
    return (fp - fm) / (2 * h);
}

void jg_test_rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char sub[1024];
            const int k = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
            if (k > 0 && (size_t)k < sizeof sub) jg_test_rm_rf(sub);
        }
        if (d) closedir(d);
    }
    if (remove(path) != 0) fprintf(stderr, "warning: could not remove %s\n", path);
}

double jg_test_clock_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static volatile double busy_sink;

void jg_test_busy(clockid_t clock, double seconds)
{
    const double t0 = jg_test_clock_s(clock);
    double x = 1.0;
    while (jg_test_clock_s(clock) - t0 < seconds)
        for (int i = 0; i < 1000; i++) x = x * 1.0000001 + 1e-9;
    busy_sink = x;
}

void jg_test_skip_unless_ci(const char *why)
{
    const char *ci = getenv("CI");
    if (ci && *ci && strcmp(ci, "0") && strcmp(ci, "false"))
        fail_msg("not run under CI: %s", why);
    print_message("skip: %s\n", why);
    skip();
}
