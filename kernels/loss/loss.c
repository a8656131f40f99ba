/* SPDX-License-Identifier: MIT */
/*
 * loss.c - dispatch and public entry points of softmax cross-entropy.
 *
 * Rows are split over OpenMP threads only when n*k exceeds LOSS_PAR_MIN.
 * The loss is deterministic for a fixed thread count: each thread sums its
 * contiguous block of row losses in row order (in double) and the blocks
 * are added in thread order.
 */
#include "loss/loss.h"

#define LOSS_PAR_MIN 32768 /* logits below this stay on one thread */
#define LOSS_MAX_THREADS 64 /* partial sums live on the stack */

typedef struct {
    double (*fwd_rows)(float *, const float *, const int32_t *, int, int);
    void (*bwd_rows)(float *, const float *, const int32_t *, int, int, float);
} loss_table_t;

static loss_table_t loss_tab;

#define LOSS_FILL(isa)                                                \
    do {                                                              \
        loss_tab.fwd_rows = jg_f32_softmax_xent_rows_##isa;           \
        loss_tab.bwd_rows = jg_f32_softmax_xent_backward_rows_##isa;  \
    } while (0)

void jg_loss_select(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX2: LOSS_FILL(avx2); break;
    case JG_ISA_AVX512: LOSS_FILL(avx512); break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON: LOSS_FILL(neon); break;
#endif
    default: LOSS_FILL(ref); break;
    }
}

/* Threads for n rows of k: 1 for small work, never more than rows. */
static int loss_threads(int n, int k)
{
    int nt = jg_nthreads();
    if ((size_t)n * (size_t)k <= LOSS_PAR_MIN) nt = 1;
    if (nt > LOSS_MAX_THREADS) nt = LOSS_MAX_THREADS;
    if (nt > n) nt = n;
    return nt;
}

int jg_softmax_xent_forward(float *loss, float *probs, const float *logits,
                            const int32_t *labels, int n, int k)
{
    const int err = jg_softmax_xent_check(probs, logits, labels, n, k);
    if (err) return err;
    JG_CHECK(loss);
    jg_kernels_ensure_init();
    const int nt = loss_threads(n, k);
    double part[LOSS_MAX_THREADS];
#pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)
    for (int t = 0; t < nt; t++) {
        const int r0 = (int)((int64_t)n * t / nt), r1 = (int)((int64_t)n * (t + 1) / nt);
        part[t] = loss_tab.fwd_rows(probs + (size_t)r0 * k, logits + (size_t)r0 * k,
                                    labels + r0, r1 - r0, k);
    }
    double total = 0.0;
    for (int t = 0; t < nt; t++) total += part[t];
    *loss = (float)(total / n);
    return 0;
}

int jg_softmax_xent_backward(float *dlogits, const float *probs,
                             const int32_t *labels, int n, int k, float scale)
{
    const int err = jg_softmax_xent_check(dlogits, probs, labels, n, k);
    if (err) return err;
    jg_kernels_ensure_init();
    const int nt = loss_threads(n, k);
    const float s = scale / (float)n;
#pragma omp parallel for num_threads(nt) schedule(static) if(nt > 1)
    for (int t = 0; t < nt; t++) {
        const int r0 = (int)((int64_t)n * t / nt), r1 = (int)((int64_t)n * (t + 1) / nt);
        loss_tab.bwd_rows(dlogits + (size_t)r0 * k, probs + (size_t)r0 * k, labels + r0,
                          r1 - r0, k, s);
    }
    return 0;
}
