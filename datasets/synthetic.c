/* SPDX-License-Identifier: MIT */
/* synthetic.c - seeded class-dependent blobs: a tiny CNN learns them in a
 * few epochs, which makes them the end-to-end training fixture. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SYN_MAX_CHANNELS 64
#define SYN_MAX_CLASSES 65536
#define SYN_BACKGROUND 0.1
#define SYN_NOISE 0.1        /* uniform noise amplitude, +- */
#define SYN_RING 0.3         /* blob centres on a ring, fraction of the side */
#define SYN_JITTER 0.08      /* centre jitter, fraction of the side, +- */
#define SYN_SIGMA 0.15       /* blob radius, fraction of the shorter side */

static const double two_pi = 6.283185307179586;

/* x(c, y, x) = bg + amp[k][c] exp(-|p - centre_k - jitter|^2 / 2 sigma^2)
 *              + noise, clamped to [0, 1]. Same seed, same data (up to
 * libm exp/cos rounding across platforms). */
int jg_data_synthetic(int n, int c, int h, int w, int classes, uint64_t seed,
                      jg_dataset_t *out, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_synthetic", "NULL output");
    memset(out, 0, sizeof *out);
    if (n <= 0 || c <= 0 || c > SYN_MAX_CHANNELS || h <= 0 || w <= 0 ||
        h > JG_DATA_MAX_DIM || w > JG_DATA_MAX_DIM || classes <= 0 ||
        classes > SYN_MAX_CLASSES)
        return jg_data_fail(err, -EINVAL, "jg_data_synthetic",
                            "bad shape n=%d c=%d h=%d w=%d classes=%d", n, c, h, w,
                            classes);
    int rc = jg_dataset_alloc(out, n, c, h, w, classes, err);
    if (rc) return rc;

    /* Balanced labels, shuffled by their own stream so the pixels of
     * example i do not depend on how the labels were drawn. */
    int32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm) {
        jg_dataset_free(out);
        return jg_data_fail(err, -ENOMEM, "jg_data_synthetic", "out of memory");
    }
    jg_data_permutation(perm, n, seed ^ 0x5eed1abe15ull);
    for (int i = 0; i < n; i++) out->y[i] = perm[i] % classes;
    free(perm);

    const double side = (double)(h < w ? h : w);
    double sigma = SYN_SIGMA * side;
    if (sigma < 0.5) sigma = 0.5;
    const double inv2s2 = 1.0 / (2.0 * sigma * sigma);
    const size_t hw = (size_t)h * (size_t)w;
    uint64_t st = seed;
    for (int i = 0; i < n; i++) {
        const int k = out->y[i];
        const double a = two_pi * (double)k / (double)classes;
        const double jx = (2.0 * jg_data_rng_unit(&st) - 1.0) * SYN_JITTER * (w - 1);
        const double jy = (2.0 * jg_data_rng_unit(&st) - 1.0) * SYN_JITTER * (h - 1);
        const double cx = 0.5 * (w - 1) + SYN_RING * (w - 1) * cos(a) + jx;
        const double cy = 0.5 * (h - 1) + SYN_RING * (h - 1) * sin(a) + jy;
        for (int ch = 0; ch < c; ch++) {
            /* Brightness steps with the class too (shifted per channel),
             * so even 1x1 images carry the label. */
            const double t = fmod((double)k / classes + (double)ch / c, 1.0);
            const double amp = 0.25 + 0.7 * t;
            float *p = out->x + ((size_t)i * (size_t)c + (size_t)ch) * hw;  // (H, W)
            for (int yy = 0; yy < h; yy++) {
                for (int xx = 0; xx < w; xx++) {
                    const double d2 = (xx - cx) * (xx - cx) + (yy - cy) * (yy - cy);
                    double v = SYN_BACKGROUND + amp * exp(-d2 * inv2s2) +
                               (2.0 * jg_data_rng_unit(&st) - 1.0) * SYN_NOISE;
                    v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
                    p[(size_t)yy * (size_t)w + (size_t)xx] = (float)v;
                }
            }
        }
    }
    return 0;
}
