/* SPDX-License-Identifier: MIT */
/* act_avx512.c - the act variants for avx512: the loops of act_tmpl.h over
 * the macro layer of vec_avx512.h. */
#include "simd/vec_avx512.h"

#include "act/act_tmpl.h"
