/* SPDX-License-Identifier: MIT */
/* pool_avx2.c - the pool plane kernels for avx2: the loops of pool_tmpl.h over
 * the macro layer of vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "pool/pool_tmpl.h"
