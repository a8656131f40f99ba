/* SPDX-License-Identifier: MIT */
/* Placeholder: the loss family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_loss_select(jg_isa_t isa)
{
    (void)isa;
}
