/* SPDX-License-Identifier: MIT */
/* norm_avx2.c - the batch-norm kernels for avx2: the loops of norm_tmpl.h over
 * the macro layer of vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "norm/norm_tmpl.h"
