/* SPDX-License-Identifier: MIT */
/* norm_neon.c - the batch-norm kernels for neon: the loops of norm_tmpl.h over
 * the macro layer of vec_neon.h. */
#include "simd/vec_neon.h"

#include "norm/norm_tmpl.h"
