/* SPDX-License-Identifier: MIT */
/* Internal to jg_run: helpers any file of the run layer may use. */
#ifndef JG_RUN_INTERNAL_H
#define JG_RUN_INTERNAL_H

#include "jg_run.h"

/* printf into err (when not NULL) and return rc. */
int jg_run_fail(jg_run_error_t *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
