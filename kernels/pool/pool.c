/* SPDX-License-Identifier: MIT */
/* Placeholder: the pool family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_pool_select(jg_isa_t isa)
{
    (void)isa;
}
