/* SPDX-License-Identifier: MIT */
/*
 * wino_tmpl.h - the loops of the Winograd F(2x2, 3x3) kernels, written once
 * over a tuple type; included by wino_avx2.c (a tuple is two ymm) and
 * wino_avx512.c (one zmm) after they define:
 *   WT, WT_ZERO(), WT_LOAD(p), WT_STORE(p, t), WT_FMA(a, b, c) = a*b + c,
 *   WT_ADD(a, b); TB x KB (GEMM block: tiles x output channels) and
 *   WKB x WCB (weight-gradient block), each <= 4 x 6; WINO_FN(name);
 *   in_tile(p, wp) -> WT, out_tile(y, m, g, k, oy, ox, bias, accumulate),
 *   dy_tile(__m128 e) -> WT (the transforms: ISA lane shuffles).
 *
 * Generates (per ISA, <isa> = avx2 | avx512; twins in wino_ref.c):
 *   jg_f32_wino_in_tf_<isa>    jg_f32_wino_gemm_out_<isa>
 *   jg_f32_wino_dy_tf_<isa>    jg_f32_wino_wgrad_<isa>
 *
 * Block sizes are constants after inlining (switches over the partial
 * sizes), which keeps the accumulators in registers.
 */
#include "conv.h"
#include "wino_x86.h" /* jg_wino_load_dy */

void WINO_FN(in_tf)(float *v, const float *xp, const jg_wino_geom_t *g, int t0, int nt,
                    ptrdiff_t ts, ptrdiff_t cs)
{
    const size_t plane = (size_t)g->hp * g->wp;
    for (int t = t0; t < t0 + nt; t++) {
        const float *p = xp + (size_t)(2 * (t / g->tw)) * g->wp + 2 * (t % g->tw);
        float *o = v + 16 * (t - t0) * ts;
        for (int c = 0; c < g->cin; c++, p += plane, o += 16 * cs) WT_STORE(o, in_tile(p, g->wp));
    }
}

void WINO_FN(dy_tf)(float *d, const float *dy, const jg_wino_geom_t *g, int t0, int nt,
                    ptrdiff_t ts, ptrdiff_t ks)
{
    const size_t plane = (size_t)g->oh * g->ow;
    for (int t = t0; t < t0 + nt; t++) {
        const int oy = 2 * (t / g->tw), ox = 2 * (t % g->tw);
        const float *p = dy + (size_t)oy * g->ow + ox;
        float *o = d + 16 * (t - t0) * ts;
        for (int k = 0; k < g->cout; k++, p += plane, o += 16 * ks)
            WT_STORE(o, dy_tile(jg_wino_load_dy(p, g, oy, ox)));
    }
}

/* tb tiles from t (v: their tuples, cin apart) x kb output channels from k0 */
static inline __attribute__((always_inline)) void
gemm_block(const int tb, const int kb, float *y, const float *v, const float *u,
           const float *bias, const jg_wino_geom_t *g, int t, int k0, int accumulate)
{
    const int cin = g->cin;
    WT acc[TB][KB];
#pragma GCC unroll 6
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 6
        for (int j = 0; j < kb; j++) acc[i][j] = WT_ZERO();
    const float *uk = u + 16 * (size_t)k0 * cin;
    for (int c = 0; c < cin; c++) {
        WT uc[KB];
#pragma GCC unroll 6
        for (int j = 0; j < kb; j++) uc[j] = WT_LOAD(uk + 16 * ((size_t)j * cin + c));
#pragma GCC unroll 6
        for (int i = 0; i < tb; i++) {
            const WT vt = WT_LOAD(v + 16 * ((size_t)i * cin + c));
#pragma GCC unroll 6
            for (int j = 0; j < kb; j++) acc[i][j] = WT_FMA(vt, uc[j], acc[i][j]);
        }
    }
    int oy[TB], ox[TB]; /* top-left output of each tile */
#pragma GCC unroll 6
    for (int i = 0; i < tb; i++) oy[i] = 2 * ((t + i) / g->tw), ox[i] = 2 * ((t + i) % g->tw);
#pragma GCC unroll 6
    for (int i = 0; i < tb; i++)
#pragma GCC unroll 6
        for (int j = 0; j < kb; j++)
            out_tile(y, acc[i][j], g, k0 + j, oy[i], ox[i], bias, accumulate);
}

/* s(k0.., c0..) += sum over nt tiles of d(t, k) . v(t, c), kb x cb tuples;
 * d (cout, ld) and v (cin, ld) tuples */
static inline __attribute__((always_inline)) void
wgrad_block(const int kb, const int cb, float *s, const float *d, const float *v,
            const jg_wino_geom_t *g, int nt, ptrdiff_t ld, int k0, int c0)
{
    WT acc[WKB][WCB];
#pragma GCC unroll 6
    for (int i = 0; i < kb; i++)
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++) acc[i][j] = WT_ZERO();
    for (int t = 0; t < nt; t++) {
        const float *dt = d + 16 * (k0 * ld + t), *vt = v + 16 * (c0 * ld + t);
        WT vc[WCB];
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++) vc[j] = WT_LOAD(vt + 16 * j * ld);
#pragma GCC unroll 6
        for (int i = 0; i < kb; i++) {
            const WT dk = WT_LOAD(dt + 16 * i * ld);
#pragma GCC unroll 6
            for (int j = 0; j < cb; j++) acc[i][j] = WT_FMA(dk, vc[j], acc[i][j]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < kb; i++) {
        float *si = s + 16 * ((size_t)(k0 + i) * g->cin + c0);
#pragma GCC unroll 6
        for (int j = 0; j < cb; j++) WT_STORE(si + 16 * j, WT_ADD(WT_LOAD(si + 16 * j), acc[i][j]));
    }
}

/* One function per first block size, switching over the second (a case per
 * partial size up to the full block). */
#define WINO_CASE(call, n) \
    case n: call; break
#define WINO_SWITCH6(x, full, call1, call2, call3, call4, call5, call6) \
    switch (x) { \
        WINO_CASE(call1, 1); \
        WINO_CASE(call2, 2); \
        WINO_CASE(call3, 3); \
        WINO_CASE(call4, 4); \
        WINO_CASE(call5, 5); \
        default: call6; break; \
    }

#define GEMM_FOR_TB(tb)                                                                     \
    static void gemm_tb##tb(int kb, float *y, const float *v, const float *u,              \
                            const float *bias, const jg_wino_geom_t *g, int t, int k0,     \
                            int accumulate)                                                 \
    {                                                                                       \
        WINO_SWITCH6(kb < KB ? kb : KB, KB,                                                 \
                     gemm_block(tb, 1 < KB ? 1 : KB, y, v, u, bias, g, t, k0, accumulate),  \
                     gemm_block(tb, 2 < KB ? 2 : KB, y, v, u, bias, g, t, k0, accumulate),  \
                     gemm_block(tb, 3 < KB ? 3 : KB, y, v, u, bias, g, t, k0, accumulate),  \
                     gemm_block(tb, 4 < KB ? 4 : KB, y, v, u, bias, g, t, k0, accumulate),  \
                     gemm_block(tb, 5 < KB ? 5 : KB, y, v, u, bias, g, t, k0, accumulate),  \
                     gemm_block(tb, KB, y, v, u, bias, g, t, k0, accumulate))               \
    }
GEMM_FOR_TB(1)
#if TB >= 2
GEMM_FOR_TB(2)
#endif
#if TB >= 3
GEMM_FOR_TB(3)
#endif
#if TB >= 4
GEMM_FOR_TB(4)
#endif

/* Output-channel blocks outer: a block's U tuples (KB x cin, 12 KiB for 32
 * input channels) stay in L1 while the image's V tuples stream from L2;
 * tile blocks outer streamed all of U from L2 once per 4 tiles (one thread,
 * 64 x 32 x 14 x 14 -> 64: forward 2.87-2.90 -> 2.75-2.88 ms, backward-data
 * 3.38-3.42 -> 3.32 ms). */
void WINO_FN(gemm_out)(float *y, const float *v, const float *u, const float *bias,
                       const jg_wino_geom_t *g, int t0, int nt, int accumulate)
{
    for (int k0 = 0; k0 < g->cout; k0 += KB) {
        const int kb = g->cout - k0 < KB ? g->cout - k0 : KB;
        for (int i = 0; i < nt; i += TB) {
            const int tb = nt - i < TB ? nt - i : TB;
            const float *vb = v + 16 * (size_t)i * g->cin;
            switch (tb) {
            case 1: gemm_tb1(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
#if TB >= 2
            case 2: gemm_tb2(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
#endif
#if TB >= 3
            case 3: gemm_tb3(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
#endif
#if TB >= 4
            case 4: gemm_tb4(kb, y, vb, u, bias, g, t0 + i, k0, accumulate); break;
#endif
            default: break;
            }
        }
    }
}

#define WGRAD_FOR_KB(kb)                                                                    \
    static void wgrad_kb##kb(int cb, float *s, const float *d, const float *v,             \
                             const jg_wino_geom_t *g, int nt, ptrdiff_t ld, int k0, int c0) \
    {                                                                                       \
        WINO_SWITCH6(cb < WCB ? cb : WCB, WCB,                                              \
                     wgrad_block(kb, 1 < WCB ? 1 : WCB, s, d, v, g, nt, ld, k0, c0),        \
                     wgrad_block(kb, 2 < WCB ? 2 : WCB, s, d, v, g, nt, ld, k0, c0),        \
                     wgrad_block(kb, 3 < WCB ? 3 : WCB, s, d, v, g, nt, ld, k0, c0),        \
                     wgrad_block(kb, 4 < WCB ? 4 : WCB, s, d, v, g, nt, ld, k0, c0),        \
                     wgrad_block(kb, 5 < WCB ? 5 : WCB, s, d, v, g, nt, ld, k0, c0),        \
                     wgrad_block(kb, WCB, s, d, v, g, nt, ld, k0, c0))                      \
    }
WGRAD_FOR_KB(1)
#if WKB >= 2
WGRAD_FOR_KB(2)
#endif
#if WKB >= 3
WGRAD_FOR_KB(3)
#endif
#if WKB >= 4
WGRAD_FOR_KB(4)
#endif

void WINO_FN(wgrad)(float *s, const float *d, const float *v, const jg_wino_geom_t *g, int nt,
                    ptrdiff_t ld)
{
    for (int k0 = 0; k0 < g->cout; k0 += WKB) {
        const int kb = g->cout - k0 < WKB ? g->cout - k0 : WKB;
        for (int c0 = 0; c0 < g->cin; c0 += WCB) {
            const int cb = g->cin - c0 < WCB ? g->cin - c0 : WCB;
            switch (kb) {
            case 1: wgrad_kb1(cb, s, d, v, g, nt, ld, k0, c0); break;
#if WKB >= 2
            case 2: wgrad_kb2(cb, s, d, v, g, nt, ld, k0, c0); break;
#endif
#if WKB >= 3
            case 3: wgrad_kb3(cb, s, d, v, g, nt, ld, k0, c0); break;
#endif
#if WKB >= 4
            case 4: wgrad_kb4(cb, s, d, v, g, nt, ld, k0, c0); break;
#endif
            default: break;
            }
        }
    }
}
