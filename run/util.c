/* SPDX-License-Identifier: MIT */
/* util.c - helpers of the run layer (run_internal.h): one-line errors, the
 * lock of an output directory, agreement across ranks and the meter of a run. */
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

int jg_run_open_meter(jg_meter_t **meter, jg_energy_mode_t mode, double assume_w, double idle_w,
                      char *brief, size_t brief_cap, char *detail, size_t detail_cap,
                      jg_run_error_t *err)
{
    jg_energy_cfg_t ecfg;
    jg_energy_cfg_default(&ecfg);
    ecfg.mode = mode;
    ecfg.assume_w_per_core = assume_w;
    ecfg.idle_w = idle_w;
    jg_energy_status_t est;
    memset(&est, 0, sizeof est);
    if (brief_cap) brief[0] = '\0';
    if (detail_cap) detail[0] = '\0';
    const int rc = jg_meter_open(meter, &ecfg, &est);
    if (rc) {
        char line[JG_ENERGY_TEXT_MAX * 3];
        jg_energy_status_line(&est, line, sizeof line);
        return jg_run_fail(err, rc, "--energy: %s", line);
    }
    if (est.fallback && brief_cap) jg_energy_status_brief(&est, brief, (int)brief_cap);
    if (est.fallback && detail_cap) jg_energy_status_line(&est, detail, (int)detail_cap);
    return 0;
}

void jg_run_poll_meter(jg_meter_t *meter, double now, double *last_s)
{
    const int64_t poll_ns = jg_meter_poll_interval_ns(meter); // 0 without a meter
    if (poll_ns > 0 && now - *last_s >= 0.5e-9 * (double)poll_ns) {
        jg_meter_poll(meter);
        *last_s = now;
    }
}
