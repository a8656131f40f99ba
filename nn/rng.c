/* SPDX-License-Identifier: MIT */
/* Deterministic PRNG for initialisation and dropout: splitmix64 seeding and
 * xoshiro256** (Blackman & Vigna), Box-Muller normals in double. Integer
 * arithmetic only up to the final double conversion, so a seed gives the
 * same stream everywhere. */
#include <math.h>

#include "nn_internal.h"

void jg_nn_rng_seed(jg_nn_rng_t *r, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++) r->s[i] = jg_splitmix64(&st);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t jg_nn_rng_u64(jg_nn_rng_t *r)
{
    uint64_t *s = r->s;
    const uint64_t out = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double jg_nn_rng_double(jg_nn_rng_t *r)
{
    return (double)(jg_nn_rng_u64(r) >> 11) * 0x1.0p-53;
}

double jg_nn_rng_normal(jg_nn_rng_t *r)
{
    /* u1 in (0, 1] so log never sees 0; one of the pair is used, which keeps
     * the stream position independent of call history. */
    const double u1 = 1.0 - jg_nn_rng_double(r);
    const double u2 = jg_nn_rng_double(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void jg_nn_add(float *dx, const float *dy, size_t n)
{
    for (size_t i = 0; i < n; i++) dx[i] += dy[i];
}
