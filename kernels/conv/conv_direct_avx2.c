/* SPDX-License-Identifier: MIT */
/* conv_direct_avx2.c - the direct conv2d kernels for avx2: the loops of
 * conv_direct_tmpl.h over the macro layer of vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "conv/conv_direct_tmpl.h"
