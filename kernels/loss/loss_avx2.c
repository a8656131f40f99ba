/* SPDX-License-Identifier: MIT */
/* loss_avx2.c - softmax cross-entropy for avx2: loss_tmpl.h over the
 * macro layer of act/vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "loss/loss_tmpl.h"
