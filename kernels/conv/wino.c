/* SPDX-License-Identifier: MIT */
/*
 * wino.c - the portable parts of Winograd F(2x2, 3x3) (conv.h): geometry,
 * zero padding and the filter and weight-gradient transforms, shared by
 * every ISA so that the per-ISA kernels only differ where they must.
 *
 *   B^T = | 1  0 -1  0 |    G = | 1    0    0   |    A^T = | 1  1  1  0 |
 *         | 0  1  1  0 |        | 1/2  1/2  1/2 |          | 0  1 -1 -1 |
 *         | 0 -1  1  0 |        | 1/2 -1/2  1/2 |
 *         | 0  1  0 -1 |        | 0    0    1   |
 */
#include <string.h>

#include "conv.h"

void jg_wino_geom(jg_wino_geom_t *g, const jg_conv2d_shape_t *s, int bwd)
{
    int oh, ow;
    jg_conv2d_check_shape(s, &oh, &ow);
    if (!bwd) {
        g->cin = s->c, g->cout = s->k, g->h = s->h, g->w = s->w;
        g->ph = s->pad_h, g->pw = s->pad_w, g->oh = oh, g->ow = ow;
    } else {
        /* dx = the forward of dy with the flipped filter and padding 2 - p */
        g->cin = s->k, g->cout = s->c, g->h = oh, g->w = ow;
        g->ph = 2 - s->pad_h, g->pw = 2 - s->pad_w, g->oh = s->h, g->ow = s->w;
    }
    g->th = (g->oh + 1) / 2, g->tw = (g->ow + 1) / 2;
    g->hp = 2 * g->th + 2, g->wp = 2 * g->tw + 2;
}

void jg_f32_wino_pad_ref(float *xp, const float *x, const jg_wino_geom_t *g)
{
    const size_t plane = (size_t)g->hp * g->wp;
    memset(xp, 0, sizeof(float) * plane * (size_t)g->cin);
    /* input rows/columns that land inside the padded plane */
    const int rows = g->h < g->hp - g->ph ? g->h : g->hp - g->ph;
    const int cols = g->w < g->wp - g->pw ? g->w : g->wp - g->pw;
    /* rows are short (14..28 floats): a loop, not a memcpy call per row */
    for (int c = 0; c < g->cin; c++) {
        for (int r = 0; r < rows; r++) {
            float *restrict d = xp + c * plane + (size_t)(r + g->ph) * g->wp + g->pw;
            const float *restrict src = x + ((size_t)c * g->h + r) * g->w;
            for (int q = 0; q < cols; q++) d[q] = src[q];
        }
    }
}

/* u (4x4) = G g G^T for one 3x3 filter g (row-major), in double. */
static void filter_tf(float *u, const float g[9])
{
    double t[4][3]; /* G g */
    for (int j = 0; j < 3; j++) {
        const double g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
        t[0][j] = g0;
        t[1][j] = 0.5 * (g0 + g1 + g2);
        t[2][j] = 0.5 * (g0 - g1 + g2);
        t[3][j] = g2;
    }
    for (int i = 0; i < 4; i++) {
        const double a = t[i][0], b = t[i][1], c = t[i][2];
        u[4 * i + 0] = (float)a;
        u[4 * i + 1] = (float)(0.5 * (a + b + c));
        u[4 * i + 2] = (float)(0.5 * (a - b + c));
        u[4 * i + 3] = (float)c;
    }
}

void jg_wino_filter_fwd(float *u, const float *w, int k, int c)
{
    for (size_t f = 0; f < (size_t)k * c; f++) filter_tf(u + 16 * f, w + 9 * f);
}

void jg_wino_filter_bwd(float *u, const float *w, int k, int c)
{
    for (int kk = 0; kk < k; kk++) {
        for (int cc = 0; cc < c; cc++) {
            const float *g = w + 9 * ((size_t)kk * c + cc);
            float flip[9];
            for (int e = 0; e < 9; e++) flip[e] = g[8 - e];
            filter_tf(u + 16 * ((size_t)cc * k + kk), flip);
        }
    }
}

void jg_wino_wgrad_out(float *dw, const float *s, int k, int c)
{
    for (size_t f = 0; f < (size_t)k * c; f++) {
        const float *m = s + 16 * f;
        double t[3][4]; /* G^T S */
        for (int j = 0; j < 4; j++) {
            const double m0 = m[j], m1 = m[4 + j], m2 = m[8 + j], m3 = m[12 + j];
            t[0][j] = m0 + 0.5 * (m1 + m2);
            t[1][j] = 0.5 * (m1 - m2);
            t[2][j] = 0.5 * (m1 + m2) + m3;
        }
        float *o = dw + 9 * f;
        for (int i = 0; i < 3; i++) {
            const double a = t[i][0], b = t[i][1], cc = t[i][2], d = t[i][3];
            o[3 * i + 0] += (float)(a + 0.5 * (b + cc));
            o[3 * i + 1] += (float)(0.5 * (b - cc));
            o[3 * i + 2] += (float)(0.5 * (b + cc) + d);
        }
    }
}
