/* SPDX-License-Identifier: MIT */
/*
 * conv.h - internal to the conv2d family.
 *
 * Two ways to compute each pass:
 *  - im2col + GEMM (portable C around the dispatched SGEMM; every ISA),
 *  - direct SIMD kernels for few input channels, where the GEMM depth
 *    C*KH*KW is too short for a GEMM to run well (first layer, C = 1).
 * jg_conv_select picks per ISA; the direct kernels also pick per shape.
 */
#ifndef JG_CONV_INTERNAL_H
#define JG_CONV_INTERNAL_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validates a shape (sizes >= 1, pads >= 0, output >= 1x1, every per-image
 * matrix dimension fits an int); fills oh, ow. 0 or -EINVAL. */
int jg_conv2d_check_shape(const jg_conv2d_shape_t *s, int *oh, int *ow);

/* col(c*KH*KW + i*KW + j, oh*OW + ow) = x(c, oh*sh + i - ph, ow*sw + j - pw),
 * 0 in the padding. x: (C, H, W) of one image; col: (C*KH*KW, OH*OW);
 * pad: jg_conv2d_pad_floats(s) floats of scratch (unused by the portable
 * version). */
typedef void (*jg_conv2d_im2col_fn)(float *restrict col, const float *restrict x,
                                    const jg_conv2d_shape_t *s, int oh, int ow,
                                    float *restrict pad);
/* The adjoint of im2col: dx(c, ih, iw) += every col entry that im2col read
 * from it, in a fixed order. dx: (C, H, W); col: (C*KH*KW, OH*OW). */
typedef void (*jg_conv2d_col2im_fn)(float *restrict dx, const float *restrict col,
                                    const jg_conv2d_shape_t *s, int oh, int ow,
                                    float *restrict pad);
/* The portable versions (im2col_ref.c): the twins of every ISA's. */
void jg_f32_conv2d_im2col_ref(float *restrict col, const float *restrict x,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad);
void jg_f32_conv2d_col2im_ref(float *restrict dx, const float *restrict col,
                              const jg_conv2d_shape_t *s, int oh, int ow, float *restrict pad);
#if defined(__x86_64__) || defined(_M_X64)
/* stride_w == 1: row copies from a zero-padded plane with masked vectors;
 * other strides use the portable version. */
void jg_f32_conv2d_im2col_avx512(float *restrict col, const float *restrict x,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad);
void jg_f32_conv2d_col2im_avx512(float *restrict dx, const float *restrict col,
                                 const jg_conv2d_shape_t *s, int oh, int ow,
                                 float *restrict pad);
#endif
/* Bit mask of the first min(remaining, 16) lanes of a 16-float vector (the
 * AVX-512 files turn it into a __mmask16). remaining >= 1. */
static inline unsigned jg_conv2d_tail_bits(int remaining)
{
    return remaining >= 16 ? 0xffffu : (1u << remaining) - 1u;
}

/* Floats of one zero-padded input plane set: C * (H + 2ph) * (W + 2pw). */
size_t jg_conv2d_pad_floats(const jg_conv2d_shape_t *s);

/* Direct kernel for one image and all K filters; returns 0 when it did the
 * work, 1 when this shape is not one it handles (caller uses im2col+GEMM).
 * y: (K, OH, OW); x: (C, H, W); w: (K, C, KH, KW); bias: (K) or NULL;
 * scratch: jg_conv2d_direct_scratch_floats(s) floats. */
typedef int (*jg_conv2d_direct_fwd_fn)(float *y, const float *x, const float *w,
                                       const float *bias,
                                       const jg_conv2d_shape_t *s, int oh,
                                       int ow, float *scratch);
/* Direct dw += sum over nimg consecutive images (1 <= nimg <=
 * JG_CONV_DIRECT_GROUP) of dy (*) x (same handles/declines rule).
 * dw: (K, C, KH, KW); dy: nimg x (K, OH, OW); x: nimg x (C, H, W). The
 * SIMD kernels sum the group in vector lanes and reduce them once. */
typedef int (*jg_conv2d_direct_bwdw_fn)(float *dw, const float *dy,
                                        const float *x,
                                        const jg_conv2d_shape_t *s, int oh,
                                        int ow, int nimg, float *scratch);
/* Images per direct dW call: one horizontal reduction per (channel, tap) per
 * group, not per image (14x14 planes spent a third of their time in them). */
#define JG_CONV_DIRECT_GROUP 8

/* 1 when the direct kernels take this shape (same rule for every ISA). */
/* Largest GEMM depth C*KH*KW the direct kernels take. Measured (Zen 4 guest,
 * 2 threads, bench conv, medians of 2): paper-simplecnn's second conv
 * (512,3,14,14) -> 9 3x3, CKK 27: forward 0.85 ms direct vs 1.14 ms
 * im2col+GEMM; the first default layer has CKK 9. Deeper filters (CKK 288)
 * go through the GEMM. */
#define JG_CONV_DIRECT_MAX_CKK 32

int jg_conv2d_direct_ok(const jg_conv2d_shape_t *s, int oh, int ow);
/* Per-thread scratch of the direct kernels: JG_CONV_DIRECT_GROUP zero-padded
 * input planes. */
size_t jg_conv2d_direct_scratch_floats(const jg_conv2d_shape_t *s, int oh, int ow);
/* xp(c, y, x) = x(c, y - ph, x - pw), zero outside; xp: (C, H+2ph, W+2pw). */
void jg_conv2d_pad_input(float *xp, const float *x, const jg_conv2d_shape_t *s);
/* The set-up of a SIMD direct dW call: tap_off[t] (JG_CONV_DIRECT_MAX_CKK
 * entries) = the offset of tap t = (c, i, j) in a padded plane, and the nimg
 * images of x padded one after another into scratch. Returns the floats
 * between two padded planes, or 0 for a call the kernels do not take
 * (jg_conv2d_direct_ok, nimg outside 1..JG_CONV_DIRECT_GROUP). */
size_t jg_conv2d_direct_bwdw_prep(size_t *tap_off, float *scratch, const float *x,
                                  const jg_conv2d_shape_t *s, int oh, int ow, int nimg);
/* Block b of nb as even as they come over k channels: [*k0, *k0 + *kb). */
static inline void jg_conv2d_kblock(int k, int nb, int b, int *k0, int *kb)
{
    *k0 = (int)((long)k * b / nb);
    *kb = (int)((long)k * (b + 1) / nb) - *k0;
}

int jg_f32_conv2d_direct_fwd_ref(float *y, const float *x, const float *w,
                                 const float *bias, const jg_conv2d_shape_t *s,
                                 int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_ref(float *dw, const float *dy, const float *x,
                                  const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                  float *scratch);
#if defined(__x86_64__) || defined(_M_X64)
int jg_f32_conv2d_direct_fwd_avx2(float *y, const float *x, const float *w, const float *bias,
                                  const jg_conv2d_shape_t *s, int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_avx2(float *dw, const float *dy, const float *x,
                                   const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                   float *scratch);
int jg_f32_conv2d_direct_fwd_avx512(float *y, const float *x, const float *w,
                                    const float *bias, const jg_conv2d_shape_t *s,
                                    int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_avx512(float *dw, const float *dy, const float *x,
                                     const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                     float *scratch);
#endif
#if defined(__aarch64__)
int jg_f32_conv2d_direct_fwd_neon(float *y, const float *x, const float *w, const float *bias,
                                  const jg_conv2d_shape_t *s, int oh, int ow, float *scratch);
int jg_f32_conv2d_direct_bwdw_neon(float *dw, const float *dy, const float *x,
                                   const jg_conv2d_shape_t *s, int oh, int ow, int nimg,
                                   float *scratch);
#endif

/* ---- Winograd F(2x2, 3x3) ------------------------------------------------
 * For 3x3 stride-1 convolutions with enough channels (jg_conv2d_wino_ok).
 * Each 2x2 output tile is A^T [sum_c U(k,c) . V(c,tile)] A with the 16-point
 * transforms V = B^T d B of the 4x4 input patch d and U = G g G^T of the
 * filter g, 2.25x fewer multiplications than direct. The 16 points of a
 * tile sit in the 16 lanes of one AVX-512 register ("tuple GEMM": every
 * multiply-add is lane-wise, no broadcasts), so a tuple is 16 floats:
 *   V: (tiles, cin, 16)   U: (cout, cin, 16)   S (weight gradient): (cout, cin, 16)
 * Forward runs y (cout, oh, ow) from x (cin, h, w); backward-data is the
 * forward of dy with the flipped, transposed filter and padding 2 - p;
 * backward-weights is dW = G^T [sum_tiles (A dY A^T) . (B^T d B)] G.
 * The _ref kernels (wino_ref.c) do the same float operations in the same
 * order (fmaf for the lane-wise multiply-add), so the SIMD kernels
 * (wino_avx512.c: a tuple is one zmm; wino_avx2.c: two ymm) are
 * bit-identical to them. NEON has none: conv2d runs im2col + GEMM there. */
typedef struct {
    int cin, cout;   /* channels summed over / produced */
    int h, w;        /* input plane */
    int ph, pw;      /* zero padding on each side (<= 2) */
    int oh, ow;      /* output plane: h + 2ph - 2, w + 2pw - 2 */
    int th, tw;      /* 2x2 tiles: ceil(oh / 2), ceil(ow / 2) */
    int hp, wp;      /* padded input plane covering every tile: 2th + 2, 2tw + 2 */
} jg_wino_geom_t;

/* Tiles per block: V (and dY^) of one block stay in L2 (64 tiles x 64
 * channels x 64 bytes = 256 KiB). */
#define JG_WINO_TILE_BLOCK 64
/* Tuples between channels in the weight gradient's channel-major layout:
 * one more than a block, so that channels are not 4 KiB apart (the same L1
 * set: dW took 4.1 instead of 3.0 ms on the second default layer). */
#define JG_WINO_WGRAD_LD (JG_WINO_TILE_BLOCK + 1)
/* Smallest cin and cout the Winograd path takes (below, the transforms
 * cost more than the 2.25x saved; measured in docs/kernels.md). */
#define JG_WINO_MIN_CHANNELS 8

/* 1 when shape s runs through Winograd (3x3, stride 1, pads <= 2, channels
 * >= JG_WINO_MIN_CHANNELS) on an ISA that has the kernels. */
int jg_conv2d_wino_ok(const jg_conv2d_shape_t *s);
/* Geometry of the forward (bwd = 0: cin = C, cout = K) or of the
 * backward-data pass (bwd = 1: cin = K, cout = C, pads 2 - p) of s. */
void jg_wino_geom(jg_wino_geom_t *g, const jg_conv2d_shape_t *s, int bwd);
/* U (K, C, 16) from w (K, C, 3, 3); for backward-data U' (C, K, 16) from the
 * flipped filter w'(c, k, i, j) = w(k, c, 2 - i, 2 - j). */
void jg_wino_filter_fwd(float *u, const float *w, int k, int c);
void jg_wino_filter_bwd(float *u, const float *w, int k, int c);
/* dw (K, C, 3, 3) += G^T S G for S (K, C, 16). */
void jg_wino_wgrad_out(float *dw, const float *s, int k, int c);

/* ISA kernels:
 *  pad:      xp (cin, hp, wp) = x (cin, h, w) shifted by the pads, zero elsewhere
 * and over tiles [t0, t0 + nt) (t = ty * tw + tx):
 *  in_tf:    v = B^T d B of the 4x4 patches of xp; the tuple of tile t and
 *            channel c at v + 16 ((t - t0) ts + c cs): (nt, cin) for the
 *            GEMM (ts = cin, cs = 1), (cin, ld) for the weight gradient
 *  gemm_out: y (cout, oh, ow) = (accumulate ? y : 0) + bias + A^T M A,
 *            M(k, t) = sum_c u(k, c) . v(t, c), v (nt, cin); bias may be NULL
 *  dy_tf:    d = A dy A^T of the 2x2 tiles of dy (cout, oh, ow), zero outside
 *            the plane; tuple (t, k) at d + 16 ((t - t0) ts + k ks)
 *  wgrad:    s (cout, cin, 16) += sum_t d(t, k) . v(t, c), with d (cout, ld)
 *            and v (cin, ld): every channel's tiles contiguous, as the sum
 *            over t walks them (the (t, channel) order put the streams 4 KiB
 *            apart, in the same L1 sets) */
typedef struct {
    void (*pad)(float *xp, const float *x, const jg_wino_geom_t *g);
    void (*in_tf)(float *v, const float *xp, const jg_wino_geom_t *g, int t0, int nt,
                  ptrdiff_t ts, ptrdiff_t cs);
    void (*gemm_out)(float *y, const float *v, const float *u, const float *bias,
                     const jg_wino_geom_t *g, int t0, int nt, int accumulate);
    void (*dy_tf)(float *d, const float *dy, const jg_wino_geom_t *g, int t0, int nt,
                  ptrdiff_t ts, ptrdiff_t ks);
    void (*wgrad)(float *s, const float *d, const float *v, const jg_wino_geom_t *g, int nt,
                  ptrdiff_t ld);
} jg_wino_kernels_t;

extern const jg_wino_kernels_t jg_wino_kernels_ref;
#if defined(__x86_64__) || defined(_M_X64)
extern const jg_wino_kernels_t jg_wino_kernels_avx2;
extern const jg_wino_kernels_t jg_wino_kernels_avx512;
#endif
/* jg_f32_wino_{in_tf,gemm_out,dy_tf,wgrad}_<isa> (and the ref padding) */
#define JG_WINO_DECLARE(isa)                                                              \
    void jg_f32_wino_in_tf_##isa(float *v, const float *xp, const jg_wino_geom_t *g,      \
                                 int t0, int nt, ptrdiff_t ts, ptrdiff_t cs);              \
    void jg_f32_wino_gemm_out_##isa(float *y, const float *v, const float *u,             \
                                    const float *bias, const jg_wino_geom_t *g, int t0,   \
                                    int nt, int accumulate);                              \
    void jg_f32_wino_dy_tf_##isa(float *d, const float *dy, const jg_wino_geom_t *g,      \
                                 int t0, int nt, ptrdiff_t ts, ptrdiff_t ks);              \
    void jg_f32_wino_wgrad_##isa(float *s, const float *d, const float *v,                \
                                 const jg_wino_geom_t *g, int nt, ptrdiff_t ld);
void jg_f32_wino_pad_ref(float *xp, const float *x, const jg_wino_geom_t *g);
JG_WINO_DECLARE(ref)
#if defined(__x86_64__) || defined(_M_X64)
JG_WINO_DECLARE(avx2)
JG_WINO_DECLARE(avx512)
void jg_f32_wino_pad_avx512(float *xp, const float *x, const jg_wino_geom_t *g);
#endif

#ifdef __cplusplus
}
#endif

#endif /* JG_CONV_INTERNAL_H */
