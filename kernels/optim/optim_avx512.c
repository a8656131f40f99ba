/* SPDX-License-Identifier: MIT */
/* optim_avx512.c - SGD and Adam for avx512: optim_tmpl.h over the macro
 * layer of act/vec_avx512.h. */
#include "simd/vec_avx512.h"

#include "optim/optim_tmpl.h"
