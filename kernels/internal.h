/* SPDX-License-Identifier: MIT */
/*
 * internal.h - shared by the kernel families; not installed.
 *
 * Each family (gemm, conv, act, pool, norm, loss, optim) keeps its own static
 * table of function pointers and exposes one jg_<family>_select(isa) that
 * points the table at that ISA's variants. cpu.c calls every select function
 * once at start-up and again on jg_kernels_set_isa. A family without a
 * variant for an ISA selects its _ref functions for it.
 */
#ifndef JG_KERNELS_INTERNAL_H
#define JG_KERNELS_INTERNAL_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "jg_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Fills the dispatch tables on first use; cheap afterwards. Every public
 * entry point that goes through a table calls it first. */
void jg_kernels_ensure_init(void);

/* Thread count for `#pragma omp parallel ... num_threads(jg_nthreads())`. */
int jg_nthreads(void);

void jg_gemm_select(jg_isa_t isa);
void jg_conv_select(jg_isa_t isa);
void jg_act_select(jg_isa_t isa);
void jg_pool_select(jg_isa_t isa);
void jg_norm_select(jg_isa_t isa);
void jg_loss_select(jg_isa_t isa);
void jg_optim_select(jg_isa_t isa);

/* Argument checks shared by the public wrappers. */
#define JG_CHECK(cond) \
    do { \
        if (!(cond)) return -EINVAL; \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* JG_KERNELS_INTERNAL_H */
