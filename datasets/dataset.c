/* SPDX-License-Identifier: MIT */
/* dataset.c - dataset lifetime, statistics, normalisation, permutation,
 * subsets and the seeded train/validation split. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void jg_dataset_free(jg_dataset_t *ds)
{
    if (!ds) return;
    if (ds->class_names) {
        for (int k = 0; k < ds->classes; k++) free(ds->class_names[k]);
        free(ds->class_names);
    }
    free(ds->x);
    free(ds->y);
    memset(ds, 0, sizeof *ds);
}

int jg_dataset_alloc(jg_dataset_t *ds, int n, int c, int h, int w, int classes,
                     jg_data_error_t *err)
{
    if (!ds) return jg_data_fail(err, -EINVAL, "jg_dataset_alloc", "NULL dataset");
    memset(ds, 0, sizeof *ds);
    if (n < 0 || c <= 0 || h <= 0 || w <= 0 || classes < 0)
        return jg_data_fail(err, -EINVAL, "jg_dataset_alloc",
                            "bad shape n=%d c=%d h=%d w=%d classes=%d", n, c, h, w,
                            classes);
    size_t chw, total;
    if (jg_data_mul((size_t)c, (size_t)h, JG_DATA_MAX_VALUES, &chw) ||
        jg_data_mul(chw, (size_t)w, JG_DATA_MAX_VALUES, &chw) ||
        jg_data_mul(chw, (size_t)n, JG_DATA_MAX_VALUES, &total))
        return jg_data_fail(err, -EOVERFLOW, "jg_dataset_alloc",
                            "%d x %d x %d x %d values exceed the %zu-value cap", n, c, h,
                            w, (size_t)JG_DATA_MAX_VALUES);
    ds->n = n;
    ds->c = c;
    ds->h = h;
    ds->w = w;
    ds->classes = classes;
    if (n == 0) return 0;
    ds->x = malloc(total * sizeof *ds->x);
    ds->y = calloc((size_t)n, sizeof *ds->y);
    if (!ds->x || !ds->y) {
        jg_dataset_free(ds);
        return jg_data_fail(err, -ENOMEM, "jg_dataset_alloc",
                            "out of memory for %zu values", total);
    }
    return 0;
}

int jg_data_set_class_names(jg_dataset_t *ds, const char *const *names,
                            int n_names)
{
    if (n_names != ds->classes || n_names <= 0) return -EINVAL;
    char **p = calloc((size_t)n_names, sizeof *p);
    if (!p) return -ENOMEM;
    for (int k = 0; k < n_names; k++) {
        p[k] = jg_data_strdup(names[k]);
        if (!p[k]) {
            for (int j = 0; j < k; j++) free(p[j]);
            free(p);
            return -ENOMEM;
        }
    }
    ds->class_names = p;
    return 0;
}

static int valid_dataset(const jg_dataset_t *ds)
{
    return ds && ds->n >= 0 && ds->c > 0 && ds->h > 0 && ds->w > 0 &&
           (ds->n == 0 || (ds->x && ds->y));
}

int jg_dataset_stats(float *mean, float *std, const jg_dataset_t *ds)
{
    if (!mean || !std || !valid_dataset(ds) || ds->n == 0) return -EINVAL;
    const size_t hw = (size_t)ds->h * (size_t)ds->w;
    const size_t count = (size_t)ds->n * hw;
    for (int c = 0; c < ds->c; c++) {
        /* Two passes in double: the one-pass formula cancels badly when
         * the mean is large relative to the spread. */
        double s = 0.0;
        for (int i = 0; i < ds->n; i++) {
            const float *p = ds->x + ((size_t)i * (size_t)ds->c + (size_t)c) * hw;
            for (size_t j = 0; j < hw; j++) s += p[j];
        }
        const double m = s / (double)count;
        double v = 0.0;
        for (int i = 0; i < ds->n; i++) {
            const float *p = ds->x + ((size_t)i * (size_t)ds->c + (size_t)c) * hw;
            for (size_t j = 0; j < hw; j++) {
                const double d = p[j] - m;
                v += d * d;
            }
        }
        const float sd = (float)sqrt(v / (double)count);
        mean[c] = (float)m;
        std[c] = sd > JG_DATA_STD_MIN ? sd : JG_DATA_STD_MIN;
    }
    return 0;
}

int jg_dataset_normalize(jg_dataset_t *ds, const float *mean, const float *std)
{
    if (!mean || !std || !valid_dataset(ds)) return -EINVAL;
    for (int c = 0; c < ds->c; c++)
        if (!(std[c] > 0.0f) || !isfinite(std[c]) || !isfinite(mean[c])) return -EINVAL;
    const size_t hw = (size_t)ds->h * (size_t)ds->w;
    for (int i = 0; i < ds->n; i++) {
        for (int c = 0; c < ds->c; c++) {
            float *p = ds->x + ((size_t)i * (size_t)ds->c + (size_t)c) * hw;
            const float m = mean[c], s = std[c];
            for (size_t j = 0; j < hw; j++) p[j] = (p[j] - m) / s;
        }
    }
    return 0;
}

int jg_data_permutation(int32_t *perm, int n, uint64_t seed)
{
    if (!perm || n < 0) return -EINVAL;
    for (int i = 0; i < n; i++) perm[i] = i;
    uint64_t st = seed;
    for (int i = n - 1; i > 0; i--) {
        const uint32_t j = jg_data_rng_below(&st, (uint32_t)i + 1u);
        const int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    return 0;
}

/* out = examples idx[0..count) of src, or [start, start + count) when idx
 * is NULL. */
static int gather(jg_dataset_t *out, const jg_dataset_t *src,
                  const int32_t *idx, int start, int count, jg_data_error_t *err)
{
    int rc = jg_dataset_alloc(out, count, src->c, src->h, src->w, src->classes, err);
    if (rc) return rc;
    const size_t chw = (size_t)src->c * (size_t)src->h * (size_t)src->w;
    for (int i = 0; i < count; i++) {
        const size_t s = (size_t)(idx ? idx[i] : start + i);
        memcpy(out->x + (size_t)i * chw, src->x + s * chw, chw * sizeof *out->x);
        out->y[i] = src->y[s];
    }
    if (src->class_names &&
        jg_data_set_class_names(out, (const char *const *)src->class_names,
                                src->classes)) {
        jg_dataset_free(out);
        return jg_data_fail(err, -ENOMEM, "jg_data_subset", "out of memory");
    }
    return 0;
}

int jg_data_subset(jg_dataset_t *out, const jg_dataset_t *src, int start,
                   int count, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_subset", "NULL output");
    memset(out, 0, sizeof *out);
    if (!valid_dataset(src) || start < 0 || count < 0 || start > src->n ||
        count > src->n - start)
        return jg_data_fail(err, -EINVAL, "jg_data_subset",
                            "bad range start=%d count=%d", start, count);
    return gather(out, src, NULL, start, count, err);
}

int jg_data_limit(jg_dataset_t *ds, int n)
{
    if (!valid_dataset(ds) || n < 0) return -EINVAL;
    if (n < ds->n) ds->n = n;
    return 0;
}

int jg_data_split(jg_dataset_t *train, jg_dataset_t *val,
                  const jg_dataset_t *src, int n_val, uint64_t seed,
                  jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!train || !val || train == val)
        return jg_data_fail(err, -EINVAL, "jg_data_split", "NULL or aliased output");
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    if (!valid_dataset(src) || n_val < 0 || n_val > src->n)
        return jg_data_fail(err, -EINVAL, "jg_data_split", "bad validation size %d",
                            n_val);
    int32_t *perm = malloc((size_t)(src->n ? src->n : 1) * sizeof *perm);
    if (!perm) return jg_data_fail(err, -ENOMEM, "jg_data_split", "out of memory");
    jg_data_permutation(perm, src->n, seed);
    int rc = gather(val, src, perm, 0, n_val, err);
    if (!rc) rc = gather(train, src, perm + n_val, 0, src->n - n_val, err);
    free(perm);
    if (rc) {
        jg_dataset_free(train);
        jg_dataset_free(val);
    }
    return rc;
}
