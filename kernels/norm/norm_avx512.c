/* SPDX-License-Identifier: MIT */
/* norm_avx512.c - the batch-norm kernels for avx512: the loops of norm_tmpl.h over
 * the macro layer of vec_avx512.h. */
#include "simd/vec_avx512.h"

#include "norm/norm_tmpl.h"
