/* SPDX-License-Identifier: MIT */
/*
 * act.c - dispatch table and public entry points of the act family:
 * ReLU, leaky ReLU, sigmoid, tanh (forward and backward) and the row-bias
 * helpers used by linear and conv layers.
 *
 * Conventions
 *  - n == 0 is a valid empty input for the size_t APIs: the call returns 0
 *    and touches nothing. NULL pointers are -EINVAL even then.
 *  - Element-wise work is cut into fixed chunks of ACT_CHUNK floats and the
 *    chunks are spread over OpenMP threads only above ACT_PAR_MIN elements
 *    (below that the fork costs more than the loop). Every element is
 *    computed the same whatever chunk holds it, so results do not depend on
 *    the thread count.
 *  - bias_grad is parallelised over columns, never rows: each column is
 *    summed by one thread in row order, so it is deterministic.
 */
#include "act/act.h"

#define ACT_CHUNK 16384  /* floats per chunk: 64 KiB per operand */
#define ACT_PAR_MIN 32768 /* fewer elements than this stay on one thread */
#define ACT_COL_BLOCK 64  /* bias_grad column split granularity */

typedef struct {
    void (*relu_forward)(float *, const float *, size_t);
    void (*relu_backward)(float *, const float *, const float *, size_t);
    void (*relu_backward_set)(float *, const float *, const float *, size_t);
    void (*leaky_relu_forward)(float *, const float *, float, size_t);
    void (*leaky_relu_backward)(float *, const float *, const float *, float, size_t);
    void (*sigmoid_forward)(float *, const float *, size_t);
    void (*sigmoid_backward)(float *, const float *, const float *, size_t);
    void (*tanh_forward)(float *, const float *, size_t);
    void (*tanh_backward)(float *, const float *, const float *, size_t);
    void (*bias_add_rows)(float *, const float *, int, int, int);
    void (*bias_grad_rows)(float *, const float *, int, int, int);
} act_table_t;

static act_table_t act;

#define ACT_FILL(isa)                                                   \
    do {                                                                \
        act.relu_forward = jg_f32_relu_forward_##isa;                   \
        act.relu_backward = jg_f32_relu_backward_##isa;                 \
        act.relu_backward_set = jg_f32_relu_backward_set_##isa;         \
        act.leaky_relu_forward = jg_f32_leaky_relu_forward_##isa;       \
        act.leaky_relu_backward = jg_f32_leaky_relu_backward_##isa;     \
        act.sigmoid_forward = jg_f32_sigmoid_forward_##isa;             \
        act.sigmoid_backward = jg_f32_sigmoid_backward_##isa;           \
        act.tanh_forward = jg_f32_tanh_forward_##isa;                   \
        act.tanh_backward = jg_f32_tanh_backward_##isa;                 \
        act.bias_add_rows = jg_f32_bias_add_rows_##isa;                 \
        act.bias_grad_rows = jg_f32_bias_grad_rows_##isa;               \
    } while (0)

void jg_act_select(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX2: ACT_FILL(avx2); break;
    case JG_ISA_AVX512: ACT_FILL(avx512); break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON: ACT_FILL(neon); break;
#endif
    default: ACT_FILL(ref); break;
    }
}

/* Runs `call` once per chunk [o, o + len) of n elements; threads only for
 * large n (see the top comment). */
#define ACT_CHUNKS(n, call)                                                         \
    do {                                                                            \
        const size_t n_ = (n);                                                      \
        const ptrdiff_t nchunks_ = (ptrdiff_t)((n_ + ACT_CHUNK - 1) / ACT_CHUNK);   \
        const int par_ = n_ > ACT_PAR_MIN && jg_nthreads() > 1;                     \
        (void)par_; /* unused without OpenMP */                                 \
        _Pragma("omp parallel for num_threads(jg_nthreads()) schedule(static) if(par_)") \
        for (ptrdiff_t c_ = 0; c_ < nchunks_; c_++) {                               \
            const size_t o = (size_t)c_ * ACT_CHUNK;                                \
            const size_t len = n_ - o < ACT_CHUNK ? n_ - o : ACT_CHUNK;             \
            call;                                                                   \
        }                                                                           \
    } while (0)

int jg_relu_forward(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.relu_forward(y + o, x + o, len));
    return 0;
}

int jg_relu_backward(float *dx, const float *dy, const float *x, size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.relu_backward(dx + o, dy + o, x + o, len));
    return 0;
}

int jg_relu_backward_set(float *dx, const float *dy, const float *x, size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.relu_backward_set(dx + o, dy + o, x + o, len));
    return 0;
}

int jg_leaky_relu_forward(float *y, const float *x, float slope, size_t n)
{
    JG_CHECK(y && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.leaky_relu_forward(y + o, x + o, slope, len));
    return 0;
}

int jg_leaky_relu_backward(float *dx, const float *dy, const float *x, float slope,
                           size_t n)
{
    JG_CHECK(dx && dy && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.leaky_relu_backward(dx + o, dy + o, x + o, slope, len));
    return 0;
}

int jg_sigmoid_forward(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.sigmoid_forward(y + o, x + o, len));
    return 0;
}

int jg_sigmoid_backward(float *dx, const float *dy, const float *y, size_t n)
{
    JG_CHECK(dx && dy && y);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.sigmoid_backward(dx + o, dy + o, y + o, len));
    return 0;
}

int jg_tanh_forward(float *y, const float *x, size_t n)
{
    JG_CHECK(y && x);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.tanh_forward(y + o, x + o, len));
    return 0;
}

int jg_tanh_backward(float *dx, const float *dy, const float *y, size_t n)
{
    JG_CHECK(dx && dy && y);
    jg_kernels_ensure_init();
    ACT_CHUNKS(n, act.tanh_backward(dx + o, dy + o, y + o, len));
    return 0;
}

/* y: (rows, ld); split over blocks of whole rows. */
int jg_bias_add_rows(float *y, const float *b, int rows, int cols, int ld)
{
    JG_BIAS_CHECK(y, b, rows, cols, ld);
    jg_kernels_ensure_init();
    const int rb = cols >= ACT_CHUNK ? 1 : ACT_CHUNK / cols; /* rows per block */
    const int nblocks = (int)(((int64_t)rows + rb - 1) / rb);
    const int par = (size_t)rows * (size_t)cols > ACT_PAR_MIN && nblocks > 1 &&
                    jg_nthreads() > 1;
    (void)par; /* unused without OpenMP */
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if(par)
    for (int blk = 0; blk < nblocks; blk++) {
        const int r0 = blk * rb, nr = rows - r0 < rb ? rows - r0 : rb;
        act.bias_add_rows(y + (size_t)r0 * ld, b, nr, cols, ld);
    }
    return 0;
}

/* dy: (rows, ld); split over blocks of ACT_COL_BLOCK columns. */
int jg_bias_grad_rows(float *db, const float *dy, int rows, int cols, int ld)
{
    JG_BIAS_CHECK(db, dy, rows, cols, ld);
    jg_kernels_ensure_init();
    const int nblocks = (int)(((int64_t)cols + ACT_COL_BLOCK - 1) / ACT_COL_BLOCK);
    const int par = (size_t)rows * (size_t)cols > ACT_PAR_MIN && nblocks > 1 &&
                    jg_nthreads() > 1;
    (void)par; /* unused without OpenMP */
#pragma omp parallel for num_threads(jg_nthreads()) schedule(static) if(par)
    for (int blk = 0; blk < nblocks; blk++) {
        const int c0 = blk * ACT_COL_BLOCK;
        const int nc = cols - c0 < ACT_COL_BLOCK ? cols - c0 : ACT_COL_BLOCK;
        act.bias_grad_rows(db + c0, dy + c0, rows, nc, ld);
    }
    return 0;
}
