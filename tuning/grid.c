/* SPDX-License-Identifier: MIT */
/* Grid strategy: the full product of per-dimension values, visited in a
 * seeded Fisher-Yates order so proposal i depends only on (space, seed,
 * grid_points, i). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "tune_internal.h"

/* Fills vals with the values of dimension d; returns how many. vals holds
 * max(n, n_cats) entries. */
static int dim_values(const jg_tune_dim_t *d, int n, double *vals)
{
    int m = 0;
    switch (d->kind) {
    case JG_TUNE_LIN:
        for (int k = 0; k < n; k++)
            vals[m++] = k == n - 1 ? d->hi : d->lo + (d->hi - d->lo) * k / (n - 1);
        break;
    case JG_TUNE_LOG: /* geometric spacing: equal steps in ln x */
        for (int k = 0; k < n; k++)
            vals[m++] = k == n - 1 ? d->hi : d->lo * exp(log(d->hi / d->lo) * k / (n - 1));
        break;
    case JG_TUNE_INT: /* rounded, increasing, so duplicates are adjacent */
        for (int k = 0; k < n; k++) {
            const double x = round(d->lo + (d->hi - d->lo) * k / (n - 1));
            if (m == 0 || vals[m - 1] != x) vals[m++] = x;
        }
        break;
    case JG_TUNE_CAT:
        for (int k = 0; k < d->n_cats; k++) vals[m++] = k;
        break;
    }
    return m;
}

int jg_tune_grid_init(struct jg_tune_strategy *s, int grid_points, jg_tune_error_t *err)
{
    const int n = grid_points ? grid_points : JG_TUNE_GRID_POINTS_DEFAULT;
    if (n < 2 || n > 1000)
        return jg_tune_fail(err, -EINVAL, "grid: %d points per dimension, want 2..1000", n);
    int64_t total = 1;
    for (int d = 0; d < s->space.n_dims; d++) {
        const int cap = n > JG_TUNE_MAX_CATS ? n : JG_TUNE_MAX_CATS;
        s->vals[d] = malloc((size_t)cap * sizeof(double));
        if (!s->vals[d]) return jg_tune_fail(err, -ENOMEM, "grid: out of memory");
        s->n_vals[d] = dim_values(&s->space.dims[d], n, s->vals[d]);
        total *= s->n_vals[d];
        if (total > JG_TUNE_GRID_MAX)
            return jg_tune_fail(err, -E2BIG,
                                "grid: more than %d points; use fewer points per dimension",
                                JG_TUNE_GRID_MAX);
    }
    s->n_points = total;
    s->order = malloc((size_t)total * sizeof *s->order);
    if (!s->order) return jg_tune_fail(err, -ENOMEM, "grid: out of memory");
    for (int64_t i = 0; i < total; i++) s->order[i] = (uint32_t)i;
    /* Fisher-Yates; the tiny modulo bias of a 64-bit draw is irrelevant here. */
    uint64_t st = s->seed ^ 0x6772696400000000ull; /* "grid" */
    for (int64_t i = total - 1; i > 0; i--) {
        const int64_t j = (int64_t)(jg_splitmix64(&st) % (uint64_t)(i + 1));
        const uint32_t t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
    return 0;
}

int jg_tune_grid_propose(const struct jg_tune_strategy *s, int64_t i, jg_tune_point_t *p,
                         jg_tune_error_t *err)
{
    if (i >= s->n_points)
        return jg_tune_fail(err, -ERANGE, "grid: proposal %lld past the %lld grid points",
                            (long long)i, (long long)s->n_points);
    /* Mixed radix, last dimension fastest. */
    uint64_t idx = s->order[i];
    for (int d = s->space.n_dims - 1; d >= 0; d--) {
        p->v[d] = s->vals[d][idx % (uint64_t)s->n_vals[d]];
        idx /= (uint64_t)s->n_vals[d];
    }
    return 0;
}
