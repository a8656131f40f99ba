/* SPDX-License-Identifier: MIT */
/* optim_neon.c - SGD and Adam for neon: optim_tmpl.h over the macro
 * layer of act/vec_neon.h. */
#include "simd/vec_neon.h"

#include "optim/optim_tmpl.h"
