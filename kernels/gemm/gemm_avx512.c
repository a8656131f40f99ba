/* SPDX-License-Identifier: MIT */
/* gemm_avx512.c - AVX-512F SGEMM micro-kernel, MR x 32 tile.
 *
 * Row-major C puts vectors along n: a row of the tile is two zmm, so the
 * tile lives in 2*MR accumulators; per k step it loads two B vectors and
 * broadcasts MR values of A straight from memory (folded into the FMA as an
 * embedded {1to16} broadcast), i.e. 2*MR FMAs for 2 + MR loads. Zen 5 retires
 * two 512-bit FMAs per cycle with 4-cycle latency, so >= 8 independent
 * accumulators keep both pipes busy; 2*MR >= 24 leaves room for latency
 * jitter. */
#include <immintrin.h>

#include "gemm.h"


/* C(MR, 16*NV) = alpha * sum_p a(p, :)^T b(p, :) + beta * C; NV = 1 or 2
 * zmm per tile row. */
static inline __attribute__((always_inline)) void
ukernel_avx512(const int mr, const int nv, int kc, float alpha, const float *restrict a,
               const float *restrict b, float beta, float *restrict c, ptrdiff_t ldc)
{
    __m512 acc0[JG_SGEMM_MR_MAX], acc1[JG_SGEMM_MR_MAX]; // (MR, 16*NV) in NV*MR zmm
#pragma GCC unroll 16
    for (int i = 0; i < mr; i++) {
        acc0[i] = acc1[i] = _mm512_setzero_ps();
        /* C is read (beta != 0) or written after kc steps: fetch its lines
         * now (a row of 16 * NV floats spans at most NV + 1 lines). */
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 16 * nv - 1), _MM_HINT_T0);
        if (nv == 2) _mm_prefetch((const char *)(c + i * ldc + 16), _MM_HINT_T0);
    }
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b);
        const __m512 b1 = nv == 2 ? _mm512_load_ps(b + 16) : b0;
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            acc0[i] = _mm512_fmadd_ps(ai, b0, acc0[i]);
            if (nv == 2) acc1[i] = _mm512_fmadd_ps(ai, b1, acc1[i]);
        }
        a += mr;
        b += 16 * nv;
    }
    const __m512 va = _mm512_set1_ps(alpha);
    if (beta == 0.0f) {
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            _mm512_storeu_ps(c + i * ldc, _mm512_mul_ps(va, acc0[i]));
            if (nv == 2) _mm512_storeu_ps(c + i * ldc + 16, _mm512_mul_ps(va, acc1[i]));
        }
    } else {
        const __m512 vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
        for (int i = 0; i < mr; i++) {
            float *ci = c + i * ldc;
            _mm512_storeu_ps(ci, _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci),
                                                 _mm512_mul_ps(va, acc0[i])));
            if (nv == 2)
                _mm512_storeu_ps(ci + 16, _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16),
                                                          _mm512_mul_ps(va, acc1[i])));
        }
    }
}

void jg_f32_gemm_ukernel_14x32_avx512(int kc, float alpha, const float *a,
                                      const float *b, float beta, float *c,
                                      ptrdiff_t ldc)
{
    ukernel_avx512(14, 2, kc, alpha, a, b, beta, c, ldc);
}

/* 16 x 16: half the FMAs per B load of 14x32, but 16-row and 16-column
 * tiles fit the conv shapes (64 output channels, 14x14 = 196 pixels, 288 =
 * 32*3*3 deep) that 14x32 covers only 77-88% (see pick_config in gemm.c). */
void jg_f32_gemm_ukernel_16x16_avx512(int kc, float alpha, const float *a,
                                      const float *b, float beta, float *c,
                                      ptrdiff_t ldc)
{
    ukernel_avx512(16, 1, kc, alpha, a, b, beta, c, ldc);
}

/* Transposes the 16 x 16 block src (rows of stride ld; rows >= nrows read as
 * zero) and stores column c of it, as lanes `mask`, at dst + c * dst_ld. */
static inline __attribute__((always_inline)) void
transpose16_store(const float *src, ptrdiff_t ld, int nrows, float *dst,
                  ptrdiff_t dst_ld, __mmask16 mask)
{
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++)
        r[i] = i < nrows ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps();
    /* pairs of rows interleaved inside each 128-bit lane */
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    /* r[4q + j], lane L: rows 4q..4q+3 of column 4L + j */
    for (int q = 0; q < 4; q++) {
        r[4 * q + 0] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0x44);
        r[4 * q + 1] = _mm512_shuffle_ps(t[4 * q], t[4 * q + 2], 0xee);
        r[4 * q + 2] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0x44);
        r[4 * q + 3] = _mm512_shuffle_ps(t[4 * q + 1], t[4 * q + 3], 0xee);
    }
    /* gather lane L of r[j], r[4 + j], r[8 + j], r[12 + j]: column 4L + j */
    for (int j = 0; j < 4; j++) {
        const __m512 u0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88);
        const __m512 u1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd);
        const __m512 u2 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        const __m512 u3 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
        _mm512_mask_storeu_ps(dst + (0 + j) * dst_ld, mask, _mm512_shuffle_f32x4(u0, u2, 0x88));
        _mm512_mask_storeu_ps(dst + (8 + j) * dst_ld, mask, _mm512_shuffle_f32x4(u0, u2, 0xdd));
        _mm512_mask_storeu_ps(dst + (4 + j) * dst_ld, mask, _mm512_shuffle_f32x4(u1, u3, 0x88));
        _mm512_mask_storeu_ps(dst + (12 + j) * dst_ld, mask, _mm512_shuffle_f32x4(u1, u3, 0xdd));
    }
}

/* d(p, i) = src(i, p) for i < rows, 0 up to w; d: (kc, w), src: (rows, ld);
 * w <= 32, in groups of 16 columns of d. The portable packer writes with
 * stride w one float at a time; 16 x 16 register transposes cut pack time
 * ~4x, which is ~15% of a 256^3 SGEMM. */
void jg_f32_gemm_pack_t_avx512(float *restrict d, const float *restrict src, ptrdiff_t ld,
                               int kc, int w, int rows)
{
    int p = 0;
    for (; p + 16 <= kc; p += 16) {
        for (int c0 = 0; c0 < w; c0 += 16) {
            const int lanes = w - c0 < 16 ? w - c0 : 16;
            const int nr = rows - c0 < 0 ? 0 : rows - c0 > 16 ? 16 : rows - c0;
            transpose16_store(src + c0 * ld + p, ld, nr, d + (size_t)p * w + c0, w,
                              (__mmask16)((1u << lanes) - 1u));
        }
    }
    for (; p < kc; p++)
        for (int i = 0; i < w; i++) d[(size_t)p * w + i] = i < rows ? src[i * ld + p] : 0.0f;
}

static const jg_sgemm_config_t config_16x16 = {
    .mr = 16, .nr = 16, .mc = 160, .kc = 384, .nc = 4096,
    .ukernel = jg_f32_gemm_ukernel_16x16_avx512,
    .pack_t = jg_f32_gemm_pack_t_avx512,
    .pack_n = jg_f32_gemm_pack_n_ref,
    .rel_speed = 0.95f,
};

const jg_sgemm_config_t jg_sgemm_config_avx512 = {
    .mr = 14, .nr = 32, .mc = 168, .kc = 384, .nc = 4096,
    .ukernel = jg_f32_gemm_ukernel_14x32_avx512,
    .pack_t = jg_f32_gemm_pack_t_avx512,
    .pack_n = jg_f32_gemm_pack_n_ref,
    .alt = &config_16x16,
};
