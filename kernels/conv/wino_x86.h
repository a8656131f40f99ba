/* SPDX-License-Identifier: MIT */
/*
 * wino_x86.h - the 128-bit (SSE) pieces shared by wino_avx2.c and
 * wino_avx512.c: storing one transformed 2x2 output tile and loading one 2x2
 * tile of dy. Include only from those files.
 */
#ifndef JG_WINO_X86_H
#define JG_WINO_X86_H

#include <immintrin.h>

#include "conv.h"

/* y(k, oy + a, ox + b) (+)= row_a[b] (+ bias[k]) for the parts of the tile
 * inside the output plane; row0/row1 hold the tile's two rows in their low
 * two lanes. */
static inline void jg_wino_store_tile(float *y, __m128 row0, __m128 row1, const jg_wino_geom_t *g,
                                      int k, int oy, int ox, const float *bias, int accumulate)
{
    if (bias) {
        const __m128 b = _mm_set1_ps(bias[k]);
        row0 = _mm_add_ps(row0, b);
        row1 = _mm_add_ps(row1, b);
    }
    float *d0 = y + ((size_t)k * g->oh + oy) * g->ow + ox, *d1 = d0 + g->ow;
    if (ox + 1 < g->ow && oy + 1 < g->oh) {
        /* __m64 accesses may alias floats */
        if (accumulate) {
            row0 = _mm_add_ps(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)d0), row0);
            row1 = _mm_add_ps(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)d1), row1);
        }
        _mm_storel_pi((__m64 *)(void *)d0, row0);
        _mm_storel_pi((__m64 *)(void *)d1, row1);
        return;
    }
    /* a tile on the bottom or right edge of an odd-sized output */
    float o0[4], o1[4];
    _mm_storeu_ps(o0, row0);
    _mm_storeu_ps(o1, row1);
    const int nb = ox + 1 < g->ow ? 2 : 1;
    for (int b = 0; b < nb; b++) d0[b] = accumulate ? d0[b] + o0[b] : o0[b];
    if (oy + 1 < g->oh)
        for (int b = 0; b < nb; b++) d1[b] = accumulate ? d1[b] + o1[b] : o1[b];
}

/* (e0 e1 e2 e3) = the 2x2 tile of one dy plane at p = (oy, ox), zero outside
 * the plane. */
static inline __m128 jg_wino_load_dy(const float *p, const jg_wino_geom_t *g, int oy, int ox)
{
    if (oy + 1 < g->oh && ox + 1 < g->ow)
        return _mm_loadh_pi(_mm_loadl_pi(_mm_setzero_ps(), (const __m64 *)(const void *)p),
                            (const __m64 *)(const void *)(p + g->ow));
    const int b1 = ox + 1 < g->ow, a1 = oy + 1 < g->oh;
    return _mm_setr_ps(p[0], b1 ? p[1] : 0.0f, a1 ? p[g->ow] : 0.0f,
                       a1 && b1 ? p[g->ow + 1] : 0.0f);
}

#endif /* JG_WINO_X86_H */
