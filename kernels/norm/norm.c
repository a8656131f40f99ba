/* SPDX-License-Identifier: MIT */
/*
 * norm.c - batch normalisation 2d: argument checks, the split over channels
 * and the dispatch table. A channel is owned by one thread (static split), so
 * its statistics and dgamma/dbeta are reduced in the same order for any
 * thread count.
 */
#include "norm.h"

#include <math.h>

/* Below this many elements a parallel region costs more than it saves. */
#define NORM_PAR_MIN_WORK (1 << 15)

static const jg_norm_kernels_t norm_ref = {
    jg_f32_bn_moments_ref,
    jg_f32_bn_apply_ref,
    jg_f32_bn_bwd_sums_ref,
    jg_f32_bn_bwd_apply_ref,
};

static jg_norm_kernels_t norm_table = {
    jg_f32_bn_moments_ref,
    jg_f32_bn_apply_ref,
    jg_f32_bn_bwd_sums_ref,
    jg_f32_bn_bwd_apply_ref,
};

void jg_norm_select(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX2:
        norm_table = (jg_norm_kernels_t){jg_f32_bn_moments_avx2, jg_f32_bn_apply_avx2,
                                         jg_f32_bn_bwd_sums_avx2, jg_f32_bn_bwd_apply_avx2};
        break;
    case JG_ISA_AVX512:
        norm_table = (jg_norm_kernels_t){jg_f32_bn_moments_avx512, jg_f32_bn_apply_avx512,
                                         jg_f32_bn_bwd_sums_avx512, jg_f32_bn_bwd_apply_avx512};
        break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON:
        norm_table = (jg_norm_kernels_t){jg_f32_bn_moments_neon, jg_f32_bn_apply_neon,
                                         jg_f32_bn_bwd_sums_neon, jg_f32_bn_bwd_apply_neon};
        break;
#endif
    default:
        norm_table = norm_ref;
        break;
    }
}

static int norm_parallel(int n, int c, int hw)
{
    return (double)n * c * hw >= NORM_PAR_MIN_WORK && c >= 2;
}

static int bn_train(const jg_norm_kernels_t *k, int threaded, float *y, float *mean,
                    float *rstd, float *running_mean, float *running_var, const float *x,
                    const float *gamma, const float *beta, int n, int c, int hw, float eps,
                    float momentum)
{
    JG_CHECK(y && mean && rstd && x && gamma && beta);
    JG_CHECK(n > 0 && c > 0 && hw > 0);
    JG_CHECK((long long)n * hw >= 2); /* unbiased variance needs M >= 2 (as PyTorch) */
    JG_CHECK(eps >= 0.0f && isfinite(momentum));
    const size_t cs = (size_t)c * hw;
    const double m = (double)n * hw;
    const int par = threaded && norm_parallel(n, c, hw);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (int ch = 0; ch < c; ch++) {
        const size_t off = (size_t)ch * hw;
        double mu, var;
        k->moments(&mu, &var, x + off, n, hw, cs);
        const double r = 1.0 / sqrt(var + (double)eps);
        mean[ch] = (float)mu;
        rstd[ch] = (float)r;
        k->apply(y + off, x + off, n, hw, cs, (float)mu, (float)((double)gamma[ch] * r),
                 beta[ch]);
        if (running_mean)
            running_mean[ch] = (float)((1.0 - momentum) * running_mean[ch] + momentum * mu);
        if (running_var)
            running_var[ch] =
                (float)((1.0 - momentum) * running_var[ch] + momentum * var * m / (m - 1.0));
    }
    return 0;
}

static int bn_infer(const jg_norm_kernels_t *k, int threaded, float *y, const float *x,
                    const float *gamma, const float *beta, const float *running_mean,
                    const float *running_var, int n, int c, int hw, float eps)
{
    JG_CHECK(y && x && gamma && beta && running_mean && running_var);
    JG_CHECK(n > 0 && c > 0 && hw > 0);
    JG_CHECK(eps >= 0.0f);
    const size_t cs = (size_t)c * hw;
    const int par = threaded && norm_parallel(n, c, hw);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (int ch = 0; ch < c; ch++) {
        const size_t off = (size_t)ch * hw;
        const double scale = gamma[ch] / sqrt((double)running_var[ch] + (double)eps);
        k->apply(y + off, x + off, n, hw, cs, running_mean[ch], (float)scale, beta[ch]);
    }
    return 0;
}

static int bn_backward(const jg_norm_kernels_t *k, int threaded, int set, float *dx,
                       float *dgamma, float *dbeta, const float *dy, const float *x,
                       const float *mean, const float *rstd, const float *gamma, int n, int c,
                       int hw)
{
    JG_CHECK(dx && dgamma && dbeta && dy && x && mean && rstd && gamma);
    JG_CHECK(n > 0 && c > 0 && hw > 0);
    const size_t cs = (size_t)c * hw;
    const double m = (double)n * hw;
    const int par = threaded && norm_parallel(n, c, hw);
    (void)par;
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if (par)
    for (int ch = 0; ch < c; ch++) {
        const size_t off = (size_t)ch * hw;
        double sdy, sdyxc;
        k->bwd_sums(&sdy, &sdyxc, dy + off, x + off, n, hw, cs, mean[ch]);
        const double r = rstd[ch], a = (double)gamma[ch] * r;
        /* dx = a/M (M dy - sum dy - xhat sum dy*xhat), xhat = (x - mean) r */
        k->bwd_apply(dx + off, dy + off, x + off, n, hw, cs, mean[ch], (float)a,
                     (float)(-a * r * r * sdyxc / m), (float)(-a * sdy / m), set);
        dgamma[ch] += (float)(sdyxc * r);
        dbeta[ch] += (float)sdy;
    }
    return 0;
}

int jg_batchnorm2d_forward_train(float *y, float *mean, float *rstd, float *running_mean,
                                 float *running_var, const float *x, const float *gamma,
                                 const float *beta, int n, int c, int hw, float eps,
                                 float momentum)
{
    jg_kernels_ensure_init();
    return bn_train(&norm_table, 1, y, mean, rstd, running_mean, running_var, x, gamma, beta, n,
                    c, hw, eps, momentum);
}

int jg_batchnorm2d_forward_infer(float *y, const float *x, const float *gamma,
                                 const float *beta, const float *running_mean,
                                 const float *running_var, int n, int c, int hw, float eps)
{
    jg_kernels_ensure_init();
    return bn_infer(&norm_table, 1, y, x, gamma, beta, running_mean, running_var, n, c, hw,
                    eps);
}

int jg_batchnorm2d_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                            const float *x, const float *mean, const float *rstd,
                            const float *gamma, int n, int c, int hw)
{
    jg_kernels_ensure_init();
    return bn_backward(&norm_table, 1, 0, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, hw);
}

int jg_batchnorm2d_backward_set(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *mean, const float *rstd,
                                const float *gamma, int n, int c, int hw)
{
    jg_kernels_ensure_init();
    return bn_backward(&norm_table, 1, 1, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, hw);
}

int jg_batchnorm2d_forward_train_ref(float *y, float *mean, float *rstd, float *running_mean,
                                     float *running_var, const float *x, const float *gamma,
                                     const float *beta, int n, int c, int hw, float eps,
                                     float momentum)
{
    return bn_train(&norm_ref, 0, y, mean, rstd, running_mean, running_var, x, gamma, beta, n,
                    c, hw, eps, momentum);
}

int jg_batchnorm2d_forward_infer_ref(float *y, const float *x, const float *gamma,
                                     const float *beta, const float *running_mean,
                                     const float *running_var, int n, int c, int hw, float eps)
{
    return bn_infer(&norm_ref, 0, y, x, gamma, beta, running_mean, running_var, n, c, hw, eps);
}

int jg_batchnorm2d_backward_ref(float *dx, float *dgamma, float *dbeta, const float *dy,
                                const float *x, const float *mean, const float *rstd,
                                const float *gamma, int n, int c, int hw)
{
    return bn_backward(&norm_ref, 0, 0, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, hw);
}

int jg_batchnorm2d_backward_set_ref(float *dx, float *dgamma, float *dbeta, const float *dy,
                                    const float *x, const float *mean, const float *rstd,
                                    const float *gamma, int n, int c, int hw)
{
    return bn_backward(&norm_ref, 0, 1, dx, dgamma, dbeta, dy, x, mean, rstd, gamma, n, c, hw);
}
