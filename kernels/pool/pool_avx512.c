/* SPDX-License-Identifier: MIT */
/* pool_avx512.c - the pool plane kernels for avx512: the loops of pool_tmpl.h over
 * the macro layer of vec_avx512.h. */
#include "simd/vec_avx512.h"

#include "pool/pool_tmpl.h"
