/* SPDX-License-Identifier: MIT */
/*
 * pool.c - max/avg pooling: argument checks, the split over (n,c) planes and
 * the dispatch table. Each plane is owned by one thread (static split), so
 * the result is the same for any thread count, including backward, where
 * overlapping windows add into the same dx element in a fixed order.
 */
#include "pool.h"

#include <limits.h>
#include <string.h>

/* Below this many window reads a parallel region costs more than it saves. */
#define POOL_PAR_MIN_WORK (1 << 15)

static const jg_pool_kernels_t pool_ref = {
    jg_f32_maxpool_fwd_plane_ref,
    jg_f32_maxpool_bwd_plane_ref,
    jg_f32_avgpool_fwd_plane_ref,
    jg_f32_avgpool_bwd_plane_ref,
};

static jg_pool_kernels_t pool_table = {
    jg_f32_maxpool_fwd_plane_ref,
    jg_f32_maxpool_bwd_plane_ref,
    jg_f32_avgpool_fwd_plane_ref,
    jg_f32_avgpool_bwd_plane_ref,
};

void jg_pool_select(jg_isa_t isa)
{
    pool_table = pool_ref;
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX2:
        pool_table.max_fwd = jg_f32_maxpool_fwd_plane_avx2;
        pool_table.avg_fwd = jg_f32_avgpool_fwd_plane_avx2;
        pool_table.avg_bwd = jg_f32_avgpool_bwd_plane_avx2;
        break;
    case JG_ISA_AVX512:
        pool_table.max_fwd = jg_f32_maxpool_fwd_plane_avx512;
        pool_table.avg_fwd = jg_f32_avgpool_fwd_plane_avx512;
        pool_table.avg_bwd = jg_f32_avgpool_bwd_plane_avx512;
        break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON:
        pool_table.max_fwd = jg_f32_maxpool_fwd_plane_neon;
        pool_table.avg_fwd = jg_f32_avgpool_fwd_plane_neon;
        pool_table.avg_bwd = jg_f32_avgpool_bwd_plane_neon;
        break;
#endif
    default:
        /* max-pool backward is a scatter-add: scalar on every ISA */
        break;
    }
}

int jg_pool2d_out_hw(const jg_pool2d_shape_t *s, int *oh, int *ow)
{
    JG_CHECK(s && oh && ow);
    JG_CHECK(s->n > 0 && s->c > 0 && s->h > 0 && s->w > 0);
    JG_CHECK(s->kh > 0 && s->kw > 0 && s->stride_h > 0 && s->stride_w > 0);
    JG_CHECK(s->pad_h >= 0 && s->pad_w >= 0);
    JG_CHECK(s->pad_h <= s->kh / 2 && s->pad_w <= s->kw / 2);
    /* argmax is an int32 index inside one plane */
    JG_CHECK((long long)s->h * s->w <= INT32_MAX);
    const long long eh = (long long)s->h + 2LL * s->pad_h - s->kh;
    const long long ew = (long long)s->w + 2LL * s->pad_w - s->kw;
    JG_CHECK(eh >= 0 && ew >= 0); /* window larger than the padded input */
    *oh = (int)(eh / s->stride_h + 1);
    *ow = (int)(ew / s->stride_w + 1);
    return 0;
}

/* Work (window reads) large enough to be worth threads. */
static int pool_parallel(const jg_pool2d_shape_t *s, int oh, int ow)
{
    const double work = (double)s->n * s->c * oh * ow * s->kh * s->kw;
    return work >= POOL_PAR_MIN_WORK && (long long)s->n * s->c >= 2;
}

static int maxpool_fwd(const jg_pool_kernels_t *k, int threaded, float *y, int32_t *argmax,
                       const float *x, const jg_pool2d_shape_t *s)
{
    int oh, ow;
    const int rc = jg_pool2d_out_hw(s, &oh, &ow);
    if (rc) return rc;
    JG_CHECK(y && argmax && x);
    const long long planes = (long long)s->n * s->c;
    const size_t ihw = (size_t)s->h * s->w, ohw = (size_t)oh * ow;
    const int par = threaded && pool_parallel(s, oh, ow);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (long long p = 0; p < planes; p++)
        k->max_fwd(y + p * ohw, argmax + p * ohw, x + p * ihw, s, oh, ow);
    return 0;
}

/* set: each dx plane is zeroed right before its scatter (in cache) */
static int maxpool_bwd(const jg_pool_kernels_t *k, int threaded, int set, float *dx,
                       const float *dy, const int32_t *argmax, const jg_pool2d_shape_t *s)
{
    int oh, ow;
    const int rc = jg_pool2d_out_hw(s, &oh, &ow);
    if (rc) return rc;
    JG_CHECK(dx && dy && argmax);
    const long long planes = (long long)s->n * s->c;
    const size_t ihw = (size_t)s->h * s->w, ohw = (size_t)oh * ow;
    const int par = threaded && pool_parallel(s, oh, ow);
    (void)par;
    long long bad = 0;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par) reduction(+ : bad)
    for (long long p = 0; p < planes; p++) {
        if (set) memset(dx + p * ihw, 0, sizeof(float) * ihw);
        bad += k->max_bwd(dx + p * ihw, dy + p * ohw, argmax + p * ohw, (int)ihw, (int)ohw);
    }
    return bad ? -EINVAL : 0;
}

static int avgpool_fwd(const jg_pool_kernels_t *k, int threaded, float *y, const float *x,
                       const jg_pool2d_shape_t *s)
{
    int oh, ow;
    const int rc = jg_pool2d_out_hw(s, &oh, &ow);
    if (rc) return rc;
    JG_CHECK(y && x);
    const long long planes = (long long)s->n * s->c;
    const size_t ihw = (size_t)s->h * s->w, ohw = (size_t)oh * ow;
    const int par = threaded && pool_parallel(s, oh, ow);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (long long p = 0; p < planes; p++) k->avg_fwd(y + p * ohw, x + p * ihw, s, oh, ow);
    return 0;
}

static int avgpool_bwd(const jg_pool_kernels_t *k, int threaded, float *dx, const float *dy,
                       const jg_pool2d_shape_t *s)
{
    int oh, ow;
    const int rc = jg_pool2d_out_hw(s, &oh, &ow);
    if (rc) return rc;
    JG_CHECK(dx && dy);
    const long long planes = (long long)s->n * s->c;
    const size_t ihw = (size_t)s->h * s->w, ohw = (size_t)oh * ow;
    const int par = threaded && pool_parallel(s, oh, ow);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (long long p = 0; p < planes; p++) k->avg_bwd(dx + p * ihw, dy + p * ohw, s, oh, ow);
    return 0;
}

int jg_maxpool2d_forward(float *y, int32_t *argmax, const float *x, const jg_pool2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return maxpool_fwd(&pool_table, 1, y, argmax, x, s);
}

int jg_maxpool2d_backward(float *dx, const float *dy, const int32_t *argmax,
                          const jg_pool2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return maxpool_bwd(&pool_table, 1, 0, dx, dy, argmax, s);
}

int jg_maxpool2d_backward_set(float *dx, const float *dy, const int32_t *argmax,
                              const jg_pool2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return maxpool_bwd(&pool_table, 1, 1, dx, dy, argmax, s);
}

int jg_avgpool2d_forward(float *y, const float *x, const jg_pool2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return avgpool_fwd(&pool_table, 1, y, x, s);
}

int jg_avgpool2d_backward(float *dx, const float *dy, const jg_pool2d_shape_t *s)
{
    jg_kernels_ensure_init();
    return avgpool_bwd(&pool_table, 1, dx, dy, s);
}

int jg_maxpool2d_forward_ref(float *y, int32_t *argmax, const float *x,
                             const jg_pool2d_shape_t *s)
{
    return maxpool_fwd(&pool_ref, 0, y, argmax, x, s);
}

int jg_maxpool2d_backward_ref(float *dx, const float *dy, const int32_t *argmax,
                              const jg_pool2d_shape_t *s)
{
    return maxpool_bwd(&pool_ref, 0, 0, dx, dy, argmax, s);
}

int jg_maxpool2d_backward_set_ref(float *dx, const float *dy, const int32_t *argmax,
                                  const jg_pool2d_shape_t *s)
{
    return maxpool_bwd(&pool_ref, 0, 1, dx, dy, argmax, s);
}

int jg_avgpool2d_forward_ref(float *y, const float *x, const jg_pool2d_shape_t *s)
{
    return avgpool_fwd(&pool_ref, 0, y, x, s);
}

int jg_avgpool2d_backward_ref(float *dx, const float *dy, const jg_pool2d_shape_t *s)
{
    return avgpool_bwd(&pool_ref, 0, dx, dy, s);
}
