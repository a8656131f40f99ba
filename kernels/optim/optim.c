/* SPDX-License-Identifier: MIT */
/*
 * optim.c - dispatch and public entry points of the optimizer updates.
 *
 * n == 0 is a valid empty update (returns 0); NULL pointers are -EINVAL.
 * Parameters are cut into fixed chunks of OPTIM_CHUNK; threads only above
 * OPTIM_PAR_MIN. Every element is updated independently, so results do not
 * depend on the thread count.
 */
#include "optim/optim.h"

#define OPTIM_CHUNK 16384
#define OPTIM_PAR_MIN 32768

typedef struct {
    void (*sgd)(float *, float *, const float *, size_t, float, float, float, int);
    void (*adam)(float *, float *, float *, const float *, size_t, const jg_adam_consts_t *);
} optim_table_t;

static optim_table_t optim;

#define OPTIM_FILL(isa)                            \
    do {                                           \
        optim.sgd = jg_f32_sgd_update_##isa;       \
        optim.adam = jg_f32_adam_update_##isa;     \
    } while (0)

void jg_optim_select(jg_isa_t isa)
{
    switch (isa) {
#if defined(__x86_64__)
    case JG_ISA_AVX2: OPTIM_FILL(avx2); break;
    case JG_ISA_AVX512: OPTIM_FILL(avx512); break;
#endif
#if defined(__aarch64__)
    case JG_ISA_NEON: OPTIM_FILL(neon); break;
#endif
    default: OPTIM_FILL(ref); break;
    }
}

#define OPTIM_CHUNKS(n, call)                                                       \
    do {                                                                            \
        const size_t n_ = (n);                                                      \
        const ptrdiff_t nchunks_ = (ptrdiff_t)((n_ + OPTIM_CHUNK - 1) / OPTIM_CHUNK); \
        const int par_ = n_ > OPTIM_PAR_MIN && jg_nthreads() > 1;                   \
        (void)par_; /* unused without OpenMP */                                 \
        _Pragma("omp parallel for num_threads(jg_nthreads()) schedule(static) if(par_)") \
        for (ptrdiff_t c_ = 0; c_ < nchunks_; c_++) {                               \
            const size_t o = (size_t)c_ * OPTIM_CHUNK;                              \
            const size_t len = n_ - o < OPTIM_CHUNK ? n_ - o : OPTIM_CHUNK;         \
            call;                                                                   \
        }                                                                           \
    } while (0)

int jg_sgd_update(float *w, float *v, const float *g, size_t n, float lr,
                  float momentum, float weight_decay, int nesterov)
{
    const int err = jg_sgd_check(w, v, g, lr, momentum, weight_decay, nesterov);
    if (err) return err;
    jg_kernels_ensure_init();
    /* v may be NULL without momentum; the variant never touches it then */
    OPTIM_CHUNKS(n, optim.sgd(w + o, v ? v + o : NULL, g + o, len, lr, momentum,
                              weight_decay, nesterov));
    return 0;
}

int jg_adam_update(float *w, float *m, float *v, const float *g, size_t n,
                   float lr, float beta1, float beta2, float eps,
                   float weight_decay, int decoupled, int64_t t)
{
    const int err = jg_adam_check(w, m, v, g, lr, beta1, beta2, eps, weight_decay, t);
    if (err) return err;
    jg_kernels_ensure_init();
    jg_adam_consts_t c;
    jg_adam_consts(&c, lr, beta1, beta2, eps, weight_decay, decoupled, t);
    OPTIM_CHUNKS(n, optim.adam(w + o, m + o, v + o, g + o, len, &c));
    return 0;
}
