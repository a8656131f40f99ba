/* SPDX-License-Identifier: MIT */
/* Placeholder: the conv family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_conv_select(jg_isa_t isa)
{
    (void)isa;
}
