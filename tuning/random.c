/* SPDX-License-Identifier: MIT */
/* Strategy objects, and the feedback-free random strategies: uniform
 * (xoshiro256**) and quasi-random (scrambled Sobol). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_internal.h"

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* xoshiro256** (Blackman & Vigna). */
static uint64_t xoshiro_next(uint64_t s[4])
{
    const uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

/* Joe & Kuo (2008) new-joe-kuo-6.21201, dimensions 2..20: degree s of the
 * primitive polynomial, its coefficients a, initial direction numbers m. */
static const struct { int s, a, m[7]; } JOE_KUO[JG_TUNE_MAX_DIMS - 1] = {
    { 1, 0, { 1 } },
    { 2, 1, { 1, 3 } },
    { 3, 1, { 1, 3, 1 } },
    { 3, 2, { 1, 1, 1 } },
    { 4, 1, { 1, 1, 3, 3 } },
    { 4, 4, { 1, 3, 5, 13 } },
    { 5, 2, { 1, 1, 5, 5, 17 } },
    { 5, 4, { 1, 1, 5, 5, 5 } },
    { 5, 7, { 1, 1, 7, 11, 19 } },
    { 5, 11, { 1, 1, 5, 1, 1 } },
    { 5, 13, { 1, 1, 1, 3, 11 } },
    { 5, 14, { 1, 3, 5, 5, 31 } },
    { 6, 1, { 1, 3, 3, 9, 7, 49 } },
    { 6, 13, { 1, 1, 1, 15, 21, 21 } },
    { 6, 16, { 1, 3, 1, 13, 27, 49 } },
    { 6, 19, { 1, 1, 1, 15, 7, 5 } },
    { 6, 22, { 1, 3, 1, 15, 13, 25 } },
    { 6, 25, { 1, 1, 5, 5, 19, 61 } },
    { 7, 1, { 1, 3, 7, 11, 23, 15, 103 } },
};

/* dir[d][k] = v_{k+1} * 2^32 for 32 bits (Bratley & Fox recurrence). */
static void sobol_init(struct jg_tune_strategy *s)
{
    for (int k = 0; k < 32; k++) s->dir[0][k] = 1u << (31 - k); /* van der Corput */
    for (int d = 1; d < s->space.n_dims; d++) {
        const int deg = JOE_KUO[d - 1].s, a = JOE_KUO[d - 1].a;
        uint32_t *v = s->dir[d];
        for (int k = 0; k < deg; k++) v[k] = (uint32_t)JOE_KUO[d - 1].m[k] << (31 - k);
        for (int k = deg; k < 32; k++) {
            uint32_t x = v[k - deg] ^ (v[k - deg] >> deg);
            for (int j = 1; j < deg; j++)
                if ((a >> (deg - 1 - j)) & 1) x ^= v[k - j];
            v[k] = x;
        }
    }
    uint64_t st = s->seed ^ 0x736f626f6c000000ull; /* "sobol" */
    for (int d = 0; d < s->space.n_dims; d++)
        s->shift[d] = (uint32_t)(jg_splitmix64(&st) >> 32);
}

int jg_tune_strategy_create(jg_tune_strategy_t **out, const char *name,
                            const jg_tune_space_t *space, uint64_t seed,
                            int grid_points, jg_tune_error_t *err)
{
    if (!out || !name || !space) return jg_tune_fail(err, -EINVAL, "strategy: NULL argument");
    *out = NULL;
    if (space->n_dims < 1 || space->n_dims > JG_TUNE_MAX_DIMS)
        return jg_tune_fail(err, -EINVAL, "strategy: space has %d dimensions", space->n_dims);
    struct jg_tune_strategy *s = calloc(1, sizeof *s);
    if (!s) return jg_tune_fail(err, -ENOMEM, "strategy: out of memory");
    s->space = *space;
    s->seed = seed;
    int rc = 0;
    if (!strcmp(name, "grid")) {
        s->kind = JG_TUNE_S_GRID;
        rc = jg_tune_grid_init(s, grid_points, err);
    } else if (!strcmp(name, "random")) {
        s->kind = JG_TUNE_S_RANDOM;
        s->n_points = -1;
    } else if (!strcmp(name, "sobol")) {
        s->kind = JG_TUNE_S_SOBOL;
        s->n_points = -1;
        sobol_init(s);
    } else {
        rc = jg_tune_fail(err, -EINVAL, "strategy: unknown '%s' (want grid|random|sobol)", name);
    }
    if (rc) {
        jg_tune_strategy_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

void jg_tune_strategy_destroy(jg_tune_strategy_t *s)
{
    if (!s) return;
    for (int d = 0; d < JG_TUNE_MAX_DIMS; d++) free(s->vals[d]);
    free(s->order);
    free(s);
}

int64_t jg_tune_strategy_size(const jg_tune_strategy_t *s) { return s->n_points; }

const char *jg_tune_strategy_name(const jg_tune_strategy_t *s)
{
    static const char *names[] = { "grid", "random", "sobol" };
    return names[s->kind];
}

int jg_tune_strategy_propose(jg_tune_strategy_t *s, int64_t i, jg_tune_point_t *p,
                             jg_tune_error_t *err)
{
    if (!s || !p || i < 0) return jg_tune_fail(err, -EINVAL, "propose: bad argument");
    memset(p, 0, sizeof *p);
    if (s->kind == JG_TUNE_S_GRID) return jg_tune_grid_propose(s, i, p, err);
    double u[JG_TUNE_MAX_DIMS]; /* (n_dims) in [0,1) */
    if (s->kind == JG_TUNE_S_RANDOM) {
        /* A fresh stream per proposal: depends only on (seed, i). */
        uint64_t st = s->seed, xs[4];
        st ^= jg_splitmix64(&(uint64_t){ (uint64_t)i });
        for (int k = 0; k < 4; k++) xs[k] = jg_splitmix64(&st);
        for (int d = 0; d < s->space.n_dims; d++)
            u[d] = (double)(xoshiro_next(xs) >> 11) * 0x1p-53;
    } else {
        if (i >= (int64_t)1 << 32)
            return jg_tune_fail(err, -ERANGE, "sobol: more than 2^32 proposals");
        const uint32_t g = (uint32_t)i ^ ((uint32_t)i >> 1); /* Gray code */
        for (int d = 0; d < s->space.n_dims; d++) {
            uint32_t x = s->shift[d];
            for (int k = 0; k < 32; k++)
                if ((g >> k) & 1) x ^= s->dir[d][k];
            u[d] = (double)x * 0x1p-32;
        }
    }
    return jg_tune_space_from_unit(&s->space, u, p, err);
}
