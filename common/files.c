/* SPDX-License-Identifier: MIT */
/* files.c - mkdir -p, crash-safe whole-file replacement for outputs that must
 * survive kill -9, and a bounded whole-file read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jg_common.h"

int jg_mkdir_p(const char *path)
{
    char buf[4096];
    const size_t n = strlen(path);
    if (n == 0) return -EINVAL;
    if (n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    // Create each prefix ending before a '/', then the whole path.
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        const char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
        buf[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0) return -errno;
    return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        const ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int jg_write_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096], dir[4096];
    const int k = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (k < 0 || (size_t)k >= sizeof tmp) return -ENAMETOOLONG;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");

    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int rc = write_all(fd, data, len);
    if (!rc && fsync(fd) != 0) rc = -errno;
    if (close(fd) != 0 && !rc) rc = -errno;
    if (!rc && rename(tmp, path) != 0) rc = -errno;
    if (rc) {
        unlink(tmp);
        return rc;
    }
    // The rename itself is durable only once the directory is synced.
    const int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    if (fsync(dfd) != 0) rc = -errno;
    close(dfd);
    return rc;
}

char *jg_read_file(const char *path, size_t cap, size_t *len)
{
    // O_NONBLOCK: a FIFO in the way fails the S_ISREG check instead of blocking.
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    char *p = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size <= cap && (p = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        const size_t n = (size_t)st.st_size;
        while (got < n) {
            const ssize_t k = read(fd, p + got, n - got);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (got == n) {
            p[n] = '\0';
            if (len) *len = n;
        } else {
            free(p);
            p = NULL;
        }
    }
    close(fd);
    return p;
}
