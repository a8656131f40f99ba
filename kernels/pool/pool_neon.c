/* SPDX-License-Identifier: MIT */
/* pool_neon.c - the pool plane kernels for neon: the loops of pool_tmpl.h over
 * the macro layer of vec_neon.h. */
#include "simd/vec_neon.h"

#include "pool/pool_tmpl.h"
