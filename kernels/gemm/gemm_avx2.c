/* SPDX-License-Identifier: MIT */
/* gemm_avx2.c - AVX2+FMA SGEMM micro-kernel, 6 x 16 tile.
 *
 * 16 ymm registers: 12 accumulators (6 rows x 2 vectors along n), 2 B vectors
 * and 1 broadcast of A; 12 independent FMAs per k step cover 2 pipes x
 * 4-5 cycles of latency. */
#include <immintrin.h>

#include "gemm.h"

#define MR 6
#define NR 16

/* C(6, 16) = alpha * sum_p a(p, :)^T b(p, :) + beta * C */
void jg_f32_gemm_ukernel_6x16_avx2(int kc, float alpha, const float *restrict a,
                                   const float *restrict b, float beta,
                                   float *restrict c, ptrdiff_t ldc)
{
    __m256 acc0[MR], acc1[MR]; // (6, 16) in 12 ymm
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        acc0[i] = acc1[i] = _mm256_setzero_ps();
        /* C is read (beta != 0) or written after kc steps: fetch its lines
         * now (a row of 16 floats spans at most 2 lines). */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        /* the A micro-panel streams from L2: ~10 k steps ahead */
        _mm_prefetch((const char *)(a + 64), _MM_HINT_T0);
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(a + i);
            acc0[i] = _mm256_fmadd_ps(ai, b0, acc0[i]);
            acc1[i] = _mm256_fmadd_ps(ai, b1, acc1[i]);
        }
        a += MR;
        b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (beta == 0.0f) {
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            _mm256_storeu_ps(c + i * ldc, _mm256_mul_ps(va, acc0[i]));
            _mm256_storeu_ps(c + i * ldc + 8, _mm256_mul_ps(va, acc1[i]));
        }
    } else {
        const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            float *ci = c + i * ldc;
            _mm256_storeu_ps(ci, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci),
                                                 _mm256_mul_ps(va, acc0[i])));
            _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(vb, _mm256_loadu_ps(ci + 8),
                                                     _mm256_mul_ps(va, acc1[i])));
        }
    }
}

/* col[j] = column j of the 8 x 8 block src (rows of stride ld; rows >=
 * nrows read as zero). */
static inline __attribute__((always_inline)) void
transpose8(const float *src, ptrdiff_t ld, int nrows, __m256 col[8])
{
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = i < nrows ? _mm256_loadu_ps(src + i * ld) : _mm256_setzero_ps();
    /* pairs of rows interleaved inside each 128-bit half */
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4q + j], half H: rows 4q..4q+3 of column 4H + j */
    for (int q = 0; q < 2; q++) {
        r[4 * q + 0] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        r[4 * q + 1] = _mm256_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
        r[4 * q + 2] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        r[4 * q + 3] = _mm256_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
    }
    for (int j = 0; j < 4; j++) {
        col[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);
        col[4 + j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31);
    }
}

/* d(p, i) = src(i, p) for i < rows, 0 up to w; d: (kc, w), src: (rows, ld);
 * in groups of 8 columns of d, 8 deep. A group narrower than 8 (w = 6 for
 * A panels) is stored with full 8-lane stores whose spill lands on the
 * first columns of the next row of d, which a later store overwrites: so
 * that group goes first, rows go in order, and only a store that would run
 * past the end of d is masked (vmaskmovps stores are slow on AMD). The
 * portable packer (one float at a time, stride w) took 7.5% of a 1024^3
 * SGEMM on one thread (perf). */
void jg_f32_gemm_pack_t_avx2(float *restrict d, const float *restrict src, ptrdiff_t ld, int kc,
                             int w, int rows)
{
    const int tail = w % 8;           /* columns in the narrow group, if any */
    const int first = w - tail;       /* its first column */
    const size_t end = (size_t)kc * w; /* floats in d */
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    int p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int g = 0; g < (w + 7) / 8; g++) {
            const int c0 = tail ? (g == 0 ? first : (g - 1) * 8) : g * 8;
            const int nr = rows - c0 < 0 ? 0 : rows - c0 > 8 ? 8 : rows - c0;
            __m256 col[8];
            transpose8(src + c0 * ld + p, ld, nr, col);
            for (int j = 0; j < 8; j++) {
                const size_t at = (size_t)(p + j) * w + c0;
                if (at + 8 > end)
                    _mm256_maskstore_ps(d + at, mask, col[j]);
                else
                    _mm256_storeu_ps(d + at, col[j]);
            }
        }
    }
    for (; p < kc; p++)
        for (int i = 0; i < w; i++) d[(size_t)p * w + i] = i < rows ? src[i * ld + p] : 0.0f;
}

/* KC = 512 keeps a B micro-panel (32 KiB) in L1 and halves the passes over
 * C against 256; MC = 96. Measured on the Zen 4 guest at 1024^3 (median of
 * 3, GFLOPS 1 / 2 threads): MC 144 KC 256 99 / 185, MC 144 KC 384 102 / 193,
 * MC 96 KC 512 102 / 198. */
const jg_sgemm_config_t jg_sgemm_config_avx2 = {
    .mr = MR, .nr = NR, .mc = 96, .kc = 512, .nc = 4096,
    .ukernel = jg_f32_gemm_ukernel_6x16_avx2,
    .pack_t = jg_f32_gemm_pack_t_avx2,
    .pack_n = jg_f32_gemm_pack_n_ref,
};
