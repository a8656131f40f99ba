/* SPDX-License-Identifier: MIT */
/* Internal to jg_run: helpers any file of the run layer may use. */
#ifndef JG_RUN_INTERNAL_H
#define JG_RUN_INTERNAL_H

#include "jg_run.h"

/* printf into err (when not NULL) and return rc. */
int jg_run_fail(jg_run_error_t *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p dir, then jg_dir_lock it into *fd; -EBUSY names the process that
 * holds it. 0 or a negative errno with err set. */
int jg_run_lock_dir(const char *dir, int *fd, jg_run_error_t *err);
/* Releases the lock; with remove_empty, a directory this call created and
 * nothing was written to is removed again (its lock file first). */
void jg_run_unlock_dir(const char *dir, int fd, int remove_empty);

#endif
