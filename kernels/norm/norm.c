/* SPDX-License-Identifier: MIT */
/* Placeholder: the norm family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_norm_select(jg_isa_t isa)
{
    (void)isa;
}
