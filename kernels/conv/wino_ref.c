/* SPDX-License-Identifier: MIT */
/*
 * wino_ref.c - scalar Winograd F(2x2, 3x3) kernels: the twins of
 * wino_avx512.c with the same float operations in the same order (the
 * lane-wise multiply-add is fmaf, a single rounding like the vector FMA), so
 * the SIMD kernels match them bit for bit. Tuples are 16 floats, point
 * xi = 4 * i + j of the 4x4 transform grid.
 */
#include <math.h>

#include "conv.h"

/* out = (r0 - r2, r1 + r2, r2 - r1, r1 - r3): one B^T step over 4 values
 * with stride st */
static void bt4(float *o, const float *r, int st)
{
    const float r0 = r[0], r1 = r[st], r2 = r[2 * st], r3 = r[3 * st];
    o[0] = r0 - r2;
    o[st] = r1 + r2;
    o[2 * st] = r2 - r1;
    o[3 * st] = r1 - r3;
}

void jg_f32_wino_in_tf_ref(float *v, const float *xp, const jg_wino_geom_t *g, int t0, int nt,
                           ptrdiff_t ts, ptrdiff_t cs)
{
    const size_t plane = (size_t)g->hp * g->wp;
    for (int t = t0; t < t0 + nt; t++) {
        const int ty = t / g->tw, tx = t % g->tw;
        for (int c = 0; c < g->cin; c++) {
            const float *p = xp + c * plane + (size_t)(2 * ty) * g->wp + 2 * tx;
            float d[16], r[16];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) d[4 * i + j] = p[(size_t)i * g->wp + j];
            for (int j = 0; j < 4; j++) bt4(r + j, d + j, 4); /* rows: B^T d */
            float *o = v + 16 * ((t - t0) * ts + c * cs);
            for (int i = 0; i < 4; i++) bt4(o + 4 * i, r + 4 * i, 1); /* columns: . B */
        }
    }
}

/* (e0 + (e1 + e2), e1 - (e2 + e3)): one A^T step over 4 values, stride st */
static void at4(float *o, const float *e, int st)
{
    const float w1 = e[st] + e[2 * st], w2 = e[2 * st] + e[3 * st];
    o[0] = e[0] + w1;
    o[1] = e[st] - w2;
}

/* y(k, 2ty + a, 2tx + b) of one tile from M (16 floats). */
static void out_tile(float *y, const float m[16], const jg_wino_geom_t *g, int k, int ty, int tx,
                     float bias, int has_bias, int accumulate)
{
    float r[8], o[4];
    for (int j = 0; j < 4; j++) {
        float two[2];
        at4(two, m + j, 4); /* rows: A^T M */
        r[j] = two[0];
        r[4 + j] = two[1];
    }
    at4(o, r, 1); /* columns: . A */
    at4(o + 2, r + 4, 1);
    for (int a = 0; a < 2; a++) {
        const int oy = 2 * ty + a;
        if (oy >= g->oh) break;
        for (int b = 0; b < 2; b++) {
            const int ox = 2 * tx + b;
            if (ox >= g->ow) break;
            float val = o[2 * a + b];
            if (has_bias) val = val + bias;
            float *dst = y + ((size_t)k * g->oh + oy) * g->ow + ox;
            *dst = accumulate ? *dst + val : val;
        }
    }
}

void jg_f32_wino_gemm_out_ref(float *y, const float *v, const float *u, const float *bias,
                              const jg_wino_geom_t *g, int t0, int nt, int accumulate)
{
    for (int t = t0; t < t0 + nt; t++) {
        const float *vt = v + 16 * (size_t)(t - t0) * g->cin; // (cin, 16)
        for (int k = 0; k < g->cout; k++) {
            const float *uk = u + 16 * (size_t)k * g->cin;     // (cin, 16)
            float m[16] = {0};
            for (int c = 0; c < g->cin; c++)
                for (int e = 0; e < 16; e++) m[e] = fmaf(vt[16 * c + e], uk[16 * c + e], m[e]);
            out_tile(y, m, g, k, t / g->tw, t % g->tw, bias ? bias[k] : 0.0f, bias != NULL,
                     accumulate);
        }
    }
}

void jg_f32_wino_dy_tf_ref(float *d, const float *dy, const jg_wino_geom_t *g, int t0, int nt,
                           ptrdiff_t ts, ptrdiff_t ks)
{
    for (int t = t0; t < t0 + nt; t++) {
        const int ty = t / g->tw, tx = t % g->tw;
        for (int k = 0; k < g->cout; k++) {
            float e[4]; /* the 2x2 tile, 0 outside the plane */
            for (int a = 0; a < 2; a++)
                for (int b = 0; b < 2; b++) {
                    const int oy = 2 * ty + a, ox = 2 * tx + b;
                    e[2 * a + b] = oy < g->oh && ox < g->ow
                                       ? dy[((size_t)k * g->oh + oy) * g->ow + ox]
                                       : 0.0f;
                }
            /* rows: A e, A = (1 0; 1 1; 1 -1; 0 -1) */
            const float q[8] = {e[0], e[1], e[0] + e[2], e[1] + e[3],
                                e[0] - e[2], e[1] - e[3], -e[2], -e[3]};
            float *o = d + 16 * ((t - t0) * ts + k * ks);
            for (int i = 0; i < 4; i++) { /* columns: . A^T */
                const float x0 = q[2 * i], x1 = q[2 * i + 1];
                o[4 * i + 0] = x0;
                o[4 * i + 1] = x0 + x1;
                o[4 * i + 2] = x0 - x1;
                o[4 * i + 3] = -x1;
            }
        }
    }
}

void jg_f32_wino_wgrad_ref(float *s, const float *d, const float *v, const jg_wino_geom_t *g,
                           int nt, ptrdiff_t ld)
{
    for (int k = 0; k < g->cout; k++) {
        for (int c = 0; c < g->cin; c++) {
            float acc[16] = {0};
            for (int t = 0; t < nt; t++) {
                const float *dk = d + 16 * (k * ld + t);
                const float *vc = v + 16 * (c * ld + t);
                for (int e = 0; e < 16; e++) acc[e] = fmaf(dk[e], vc[e], acc[e]);
            }
            float *sk = s + 16 * ((size_t)k * g->cin + c);
            for (int e = 0; e < 16; e++) sk[e] = sk[e] + acc[e];
        }
    }
}

const jg_wino_kernels_t jg_wino_kernels_ref = {
    jg_f32_wino_pad_ref,
    jg_f32_wino_in_tf_ref,
    jg_f32_wino_gemm_out_ref,
    jg_f32_wino_dy_tf_ref,
    jg_f32_wino_wgrad_ref,
};
