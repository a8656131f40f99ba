/* SPDX-License-Identifier: MIT */
/* loss_neon.c - softmax cross-entropy for neon: loss_tmpl.h over the
 * macro layer of act/vec_neon.h. */
#include "simd/vec_neon.h"

#include "loss/loss_tmpl.h"
