/* SPDX-License-Identifier: MIT */
/*
 * gemm.h - internal to the gemm family.
 *
 * BLIS structure: gemm.c owns the portable NC/KC/MC loops and the packing;
 * each ISA contributes one register-blocked micro-kernel plus its block sizes
 * (jg_sgemm_config_t, one table per ISA, defined next to its micro-kernel).
 *
 * Packed layouts the micro-kernels read:
 *   A micro-panel: (kc, MR)  a[p * MR + i] = op(A)(i, p), rows past m are 0
 *   B micro-panel: (kc, NR)  b[p * NR + j] = op(B)(p, j), cols past n are 0
 * Packing buffers are 64-byte aligned and a B micro-panel starts at a
 * multiple of NR * kc floats, so with NR a multiple of 16 (8) the B loads of
 * the AVX-512 (AVX2) micro-kernel are aligned.
 */
#ifndef JG_GEMM_INTERNAL_H
#define JG_GEMM_INTERNAL_H

#include "internal.h"

/* Validates the arguments of jg_sgemm / jg_sgemm_ref: 0 or -EINVAL. */
int jg_sgemm_check(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                   const float *a, int lda, const float *b, int ldb,
                   const float *c, int ldc);

/* jg_sgemm on the calling thread only: no OpenMP region, packing buffers
 * thread-local. For callers that already parallelise over an outer loop
 * (conv2d over images). Same contract and return values as jg_sgemm. */
int jg_sgemm_serial(jg_trans_t ta, jg_trans_t tb, int m, int n, int k,
                    float alpha, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc);

/* Pre-packed A, for callers that multiply one A by many B (conv2d: the
 * filter times every image's column matrix). jg_sgemm_pack_a packs op(A)
 * (m, k) for products with n columns (n picks the tile) into ap, which needs
 * jg_sgemm_packed_a_floats(m, k) floats (a bound for every ISA; the
 * micro-kernels broadcast A, so any float alignment). jg_sgemm_packed_a is then jg_sgemm (par = 1) or jg_sgemm_serial
 * (par = 0) with that A, bit-identical to them; m, n, k and the ISA must be
 * the ones it was packed for. 0 or -EINVAL / -ENOMEM. */
size_t jg_sgemm_packed_a_floats(int m, int k);
int jg_sgemm_pack_a(float *ap, jg_trans_t ta, int m, int n, int k, const float *a, int lda);
int jg_sgemm_packed_a(int par, int m, int n, int k, float alpha, const float *ap,
                      jg_trans_t tb, const float *b, int ldb, float beta, float *c, int ldc);

/* One full MR x NR tile: C = alpha * A_panel * B_panel + beta * C, where
 * a: (kc, MR) and b: (kc, NR) are packed micro-panels, c: (MR, ldc >= NR).
 * beta == 0 must not read C. kc >= 1. */
typedef void (*jg_sgemm_ukernel_t)(int kc, float alpha, const float *a,
                                   const float *b, float beta, float *c,
                                   ptrdiff_t ldc);

/* Block sizes of one ISA (BLIS names): MR x NR register tile, MC rows of A
 * per L2 block, KC depth per block (A and B micro-panels in L1/L2), NC
 * columns of B per L3 block. mc % mr == 0, nc % nr == 0, mr <= JG_SGEMM_MR_MAX,
 * nr <= JG_SGEMM_NR_MAX. */
/* Packers, one micro-panel each: w (= MR or NR) floats wide, kc deep, with
 * the entries of source rows/columns past `rows` (< w at an edge) zero:
 *   pack_t  d(p, i) = src[i * ld + p]   A not transposed, B transposed
 *   pack_n  d(p, i) = src[p * ld + i]   A transposed, B not transposed
 * d: (kc, w). The _ref versions take any w <= JG_SGEMM_NR_MAX; an ISA's
 * packer takes the widths of that ISA's tiles. */
typedef void (*jg_sgemm_pack_t)(float *restrict d, const float *restrict src, ptrdiff_t ld,
                                int kc, int w, int rows);

typedef struct jg_sgemm_config {
    int mr, nr, mc, kc, nc;
    jg_sgemm_ukernel_t ukernel;
    jg_sgemm_pack_t pack_t, pack_n;
    /* Optional second tile for shapes the first covers badly, and its
     * steady-state speed relative to the first (measured): jg_sgemm_pick
     * takes it when its share of useful tile area times rel_speed is
     * higher. */
    const struct jg_sgemm_config *alt;
    float rel_speed;
} jg_sgemm_config_t;

/* The tile of cf (or of cf->alt) that wastes least on an m x n C. */
const jg_sgemm_config_t *jg_sgemm_pick(const jg_sgemm_config_t *cf, int m, int n);

/* jg_sgemm runs on one thread below this many multiply-adds (m * n * k).
 * Fork/join costs ~5-10 us on a quiet machine (when another process holds a
 * core, a woken OpenMP worker can wait a whole scheduler slice, 8 ms; see
 * docs/kernels.md on OMP_WAIT_POLICY). Measured on the 2-core Zen 4 KVM guest
 * (bench gemm, 2 threads): 128^3 (2^21 MACs) serial 85 GFLOPS vs OpenBLAS
 * 119 (ratio 0.71); parallel 147 GFLOPS (ratio 1.16). Below 2^21 the
 * fork/join is a larger share than the second core wins back. */
#define JG_SGEMM_PAR_MIN_MACS (1 << 21)

#define JG_SGEMM_MR_MAX 16
#define JG_SGEMM_NR_MAX 32

extern const jg_sgemm_config_t jg_sgemm_config_ref;
#if defined(__x86_64__)
extern const jg_sgemm_config_t jg_sgemm_config_avx2;
extern const jg_sgemm_config_t jg_sgemm_config_avx512;
#endif
#if defined(__aarch64__)
extern const jg_sgemm_config_t jg_sgemm_config_neon;
#endif

/* The block-size table of `isa` (the ref one for an ISA without a
 * micro-kernel in this build). */
const jg_sgemm_config_t *jg_sgemm_config(jg_isa_t isa);

/* The portable micro-kernels (gemm_ukernel_ref.c): the _ref twins of every
 * SIMD micro-kernel, one per tile shape in use. */
/* the ref ISA's own tile */
void jg_f32_gemm_ukernel_4x16_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc);
/* twin of jg_f32_gemm_ukernel_6x16_avx2 */
void jg_f32_gemm_ukernel_6x16_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc);
/* twin of jg_f32_gemm_ukernel_8x12_neon */
void jg_f32_gemm_ukernel_8x12_ref(int kc, float alpha, const float *a, const float *b,
                                  float beta, float *c, ptrdiff_t ldc);
/* twin of jg_f32_gemm_ukernel_14x32_avx512 */
void jg_f32_gemm_ukernel_14x32_ref(int kc, float alpha, const float *a, const float *b,
                                   float beta, float *c, ptrdiff_t ldc);
/* twin of jg_f32_gemm_ukernel_16x16_avx512 */
void jg_f32_gemm_ukernel_16x16_ref(int kc, float alpha, const float *a, const float *b,
                                   float beta, float *c, ptrdiff_t ldc);
/* any tile up to JG_SGEMM_MR_MAX x JG_SGEMM_NR_MAX */
void jg_f32_gemm_ukernel_ref(int mr, int nr, int kc, float alpha,
                             const float *a, const float *b, float beta,
                             float *c, ptrdiff_t ldc);
/* The portable packers (gemm_pack_ref.c), twins of every ISA packer. */
void jg_f32_gemm_pack_t_ref(float *restrict d, const float *restrict src, ptrdiff_t ld, int kc,
                            int w, int rows);
void jg_f32_gemm_pack_n_ref(float *restrict d, const float *restrict src, ptrdiff_t ld, int kc,
                            int w, int rows);
#if defined(__x86_64__)
/* AVX2 8 x 8 register transposes; any w <= JG_SGEMM_NR_MAX. */
void jg_f32_gemm_pack_t_avx2(float *restrict d, const float *restrict src, ptrdiff_t ld,
                             int kc, int w, int rows);
/* AVX-512 16 x 16 register transposes; w <= 32 (tiles 14x32 and 16x16). */
void jg_f32_gemm_pack_t_avx512(float *restrict d, const float *restrict src, ptrdiff_t ld,
                               int kc, int w, int rows);
#endif

#endif
