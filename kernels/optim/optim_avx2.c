/* SPDX-License-Identifier: MIT */
/* optim_avx2.c - SGD and Adam for avx2: optim_tmpl.h over the macro
 * layer of act/vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "optim/optim_tmpl.h"
