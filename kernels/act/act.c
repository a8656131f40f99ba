/* SPDX-License-Identifier: MIT */
/* Placeholder: the act family is being written; see kernels/jg_kernels.h. */
#include "internal.h"

void jg_act_select(jg_isa_t isa)
{
    (void)isa;
}
