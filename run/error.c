/* SPDX-License-Identifier: MIT */
/* error.c - the run layer's one-line errors. */
#include <stdarg.h>
#include <stdio.h>

#include "run_internal.h"

int jg_run_fail(jg_run_error_t *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}
