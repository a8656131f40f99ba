/* SPDX-License-Identifier: MIT */
/* Placeholder: the optim family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_optim_select(jg_isa_t isa)
{
    (void)isa;
}
