/* SPDX-License-Identifier: MIT */
/* act_avx2.c - the act variants for avx2: the loops of act_tmpl.h over
 * the macro layer of vec_avx2.h. */
#include "simd/vec_avx2.h"

#include "act/act_tmpl.h"
