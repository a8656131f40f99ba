/* SPDX-License-Identifier: MIT */
/* loss_avx512.c - softmax cross-entropy for avx512: loss_tmpl.h over the
 * macro layer of act/vec_avx512.h. */
#include "simd/vec_avx512.h"

#include "loss/loss_tmpl.h"
