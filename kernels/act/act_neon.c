/* SPDX-License-Identifier: MIT */
/* act_neon.c - the act variants for neon: the loops of act_tmpl.h over
 * the macro layer of vec_neon.h. */
#include "simd/vec_neon.h"

#include "act/act_tmpl.h"
