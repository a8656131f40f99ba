/* SPDX-License-Identifier: MIT */
/* lock.c - one process per output directory: an exclusive flock on
 * DIR/.joulegrad.lock. The kernel drops it when the process exits, however
 * it exits (kill -9 included), so a killed run never blocks the next one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "jg_common.h"

int jg_dir_lock(const char *dir, int *fd)
{
    char path[4200];
    if (!dir || !fd) return -EINVAL;
    *fd = -1;
    if (snprintf(path, sizeof path, "%s/" JG_DIR_LOCK_NAME, dir) >= (int)sizeof path)
        return -ENAMETOOLONG;
    const int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) return -errno;
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno == EWOULDBLOCK ? -EBUSY : -errno;
        close(f);
        return e;
    }
    // The holder's pid, for people who look; the lock is the flock, not the text.
    char pid[32];
    const int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) == 0 && write(f, pid, (size_t)n) < 0) {
        /* the pid is informative only */
    }
    *fd = f;
    return 0;
}

long jg_dir_lock_holder(const char *dir)
{
    char path[4200];
    if (snprintf(path, sizeof path, "%s/" JG_DIR_LOCK_NAME, dir) >= (int)sizeof path) return 0;
    char *text = jg_read_file(path, 64, NULL);
    const long pid = text ? strtol(text, NULL, 10) : 0;
    free(text);
    return pid > 0 ? pid : 0;
}

void jg_dir_unlock(int fd)
{
    if (fd >= 0) close(fd);
}
