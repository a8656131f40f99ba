/* SPDX-License-Identifier: MIT */
/* conv_direct_neon.c - the direct conv2d kernels for neon: the loops of
 * conv_direct_tmpl.h over the macro layer of vec_neon.h. */
#include "simd/vec_neon.h"

#include "conv/conv_direct_tmpl.h"
