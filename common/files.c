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

int jg_read_regular(const char *path, size_t cap, unsigned char **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    const int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -errno;
    struct stat st;
    int rc = 0;
    if (fstat(fd, &st) != 0) rc = -errno;
    else if (S_ISDIR(st.st_mode)) rc = -EISDIR;
    else if (!S_ISREG(st.st_mode)) rc = -EINVAL; /* FIFO, device (/dev/zero), socket */
    else if (st.st_size < 0 || (uint64_t)st.st_size > cap) {
        *len = st.st_size < 0 ? 0 : (size_t)st.st_size;
        rc = -EFBIG;
    } else {
        const int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) rc = -errno;
    }
    const size_t n = rc ? 0 : (size_t)st.st_size;
    // One spare byte: a file that grew since fstat is noticed, and the NUL.
    unsigned char *p = rc ? NULL : malloc(n + 1);
    if (!rc && !p) rc = -ENOMEM;
    size_t got = 0;
    while (!rc && got <= n) {
        const ssize_t k = read(fd, p + got, n + 1 - got);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) rc = -EIO;
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(fd);
    if (!rc && got != n) rc = -EIO; /* shrank or grew while being read */
    if (rc) {
        free(p);
        return rc;
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    return 0;
}

const char *jg_read_regular_why(int rc, char *buf, size_t cap)
{
    switch (rc) {
    case -EISDIR: return "is a directory, not a file";
    case -EINVAL: return "not a regular file (a FIFO, device or socket)";
    case -EFBIG: return "larger than the size limit";
    case -ENOMEM: return "out of memory for its contents";
    case -EIO: return "read error, or the file changed size while being read";
    }
    snprintf(buf, cap, "cannot open: %s", strerror(-rc));
    return buf;
}

char *jg_read_file(const char *path, size_t cap, size_t *len)
{
    unsigned char *p;
    size_t n;
    if (jg_read_regular(path, cap, &p, &n)) return NULL;
    if (len) *len = n;
    return (char *)p;
}
