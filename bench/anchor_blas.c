/* SPDX-License-Identifier: MIT */
/*
 * anchor_blas.c - OpenBLAS and BLIS loaded with dlopen for `bench gemm`.
 * Both are called through their CBLAS interface; the CBLAS enums are fixed
 * by the standard (RowMajor 101, NoTrans 111, Trans 112), so no header is
 * needed and nothing is linked.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "anchors.h"

#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111
#define CBLAS_TRANS 112

typedef struct {
    const char *name, *soname, *debian;
} blas_lib_t;

static const blas_lib_t libs[JG_ANCHOR_BLAS_COUNT] = {
    {"OpenBLAS", "libopenblas.so.0", "libopenblas0"},
    {"BLIS", "libblis.so.4", "libblis4"},
};

static void *sym(void *h, const char *name, int *missing)
{
    void *p = dlsym(h, name);
    if (!p) *missing = 1;
    return p;
}

static int open_openblas(jg_anchor_blas_t *a, int threads, int *missing)
{
    void (*set_threads)(int) = (void (*)(int))sym(a->handle, "openblas_set_num_threads", missing);
    char *(*corename)(void) = (char *(*)(void))sym(a->handle, "openblas_get_corename", missing);
    if (*missing) return -ENOTSUP;
    set_threads(threads);
    snprintf(a->core, sizeof a->core, "%s", corename());
    return 0;
}

static int open_blis(jg_anchor_blas_t *a, int threads, int *missing, char *why, size_t cap)
{
    /* BLIS's own integer types are 64-bit (dim_t, gint_t) */
    void (*set_threads)(int64_t) = (void (*)(int64_t))sym(a->handle, "bli_thread_set_num_threads",
                                                          missing);
    int64_t (*int_size)(void) =
        (int64_t(*)(void))sym(a->handle, "bli_info_get_blas_int_type_size", missing);
    int (*arch_id)(void) = (int (*)(void))sym(a->handle, "bli_arch_query_id", missing);
    const char *(*arch_name)(int) = (const char *(*)(int))sym(a->handle, "bli_arch_string",
                                                              missing);
    if (*missing) return -ENOTSUP;
    if (int_size() != 32) {
        snprintf(why, cap, "BLIS: its CBLAS integers are %d-bit, not 32", (int)int_size());
        return -ENOTSUP;
    }
    set_threads(threads);
    snprintf(a->core, sizeof a->core, "%s", arch_name(arch_id()));
    return 0;
}

int jg_anchor_blas_open(jg_anchor_blas_t *a, jg_anchor_blas_kind_t kind, int threads, char *why,
                        size_t cap)
{
    memset(a, 0, sizeof *a);
    if ((unsigned)kind >= JG_ANCHOR_BLAS_COUNT || threads < 1) return -EINVAL;
    const blas_lib_t *l = &libs[kind];
    a->kind = kind;
    a->name = l->name;
    a->handle = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
    if (!a->handle) {
        snprintf(why, cap, "%s not found (%s); install the Debian package '%s' to compare",
                 l->name, l->soname, l->debian);
        return -ENOENT;
    }
    int missing = 0;
    a->sgemm = (void (*)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int))sym(a->handle, "cblas_sgemm", &missing);
    int err = kind == JG_ANCHOR_OPENBLAS ? open_openblas(a, threads, &missing)
                                         : open_blis(a, threads, &missing, why, cap);
    if (err && missing)
        snprintf(why, cap, "%s (%s) lacks an expected symbol: %s", l->name, l->soname,
                 dlerror());
    if (err) jg_anchor_blas_close(a);
    return err;
}

void jg_anchor_blas_sgemm(const jg_anchor_blas_t *a, jg_trans_t ta, jg_trans_t tb, int m, int n,
                          int k, float alpha, const float *A, int lda, const float *B, int ldb,
                          float beta, float *C, int ldc)
{
    a->sgemm(CBLAS_ROW_MAJOR, ta == JG_NOTRANS ? CBLAS_NO_TRANS : CBLAS_TRANS,
             tb == JG_NOTRANS ? CBLAS_NO_TRANS : CBLAS_TRANS, m, n, k, alpha, A, lda, B, ldb,
             beta, C, ldc);
}

void jg_anchor_blas_close(jg_anchor_blas_t *a)
{
    /* Not dlclose'd: OpenBLAS and BLIS keep worker threads that would run
     * unmapped code; the process exits soon after a benchmark anyway. */
    a->handle = NULL;
    a->sgemm = NULL;
}
