/* SPDX-License-Identifier: MIT */
/* util.c - helpers of the run layer (run_internal.h): one-line errors and the
 * lock of an output directory. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

int jg_run_lock_dir(const char *dir, int *fd, jg_run_error_t *err)
{
    *fd = -1;
    int rc = jg_mkdir_p(dir);
    if (rc) return jg_run_fail(err, rc, "cannot create --out %s: %s", dir, strerror(-rc));
    rc = jg_dir_lock(dir, fd);
    if (rc == -EBUSY)
        return jg_run_fail(err, rc, "%s is in use by another joulegrad process (pid %ld): wait "
                           "for it to finish, or choose another --out", dir,
                           jg_dir_lock_holder(dir));
    if (rc) return jg_run_fail(err, rc, "cannot lock %s: %s", dir, strerror(-rc));
    return 0;
}

void jg_run_unlock_dir(const char *dir, int fd, int remove_empty)
{
    jg_dir_unlock(fd);
    if (!remove_empty || fd < 0) return;
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/" JG_DIR_LOCK_NAME, dir);
    unlink(lock);
    rmdir(dir); // only when nothing else is in it
}

int jg_run_agreed(int rc, jg_run_error_t *err)
{
    const int all = jg_cl_agree(rc);
    if (all && !rc) jg_run_fail(err, all, "another rank failed (the first rank's message says why)");
    return all;
}
