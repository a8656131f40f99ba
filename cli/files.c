/* SPDX-License-Identifier: MIT */
/* files.c - mkdir -p and crash-safe whole-file replacement for run outputs
 * (epochs.csv, summary.json) that must survive kill -9. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"

int jg_cli_mkdir_p(const char *path)
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

int jg_cli_write_atomic(const char *path, const void *data, size_t len)
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

char *jg_cli_read_file(const char *path, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *p = NULL;
    long n = -1;
    if (!fseek(f, 0, SEEK_END)) n = ftell(f);
    if (n >= 0 && (size_t)n <= cap && !fseek(f, 0, SEEK_SET) && (p = malloc((size_t)n + 1))) {
        if (fread(p, 1, (size_t)n, f) == (size_t)n) {
            p[n] = '\0';
            if (len) *len = (size_t)n;
        } else {
            free(p);
            p = NULL;
        }
    }
    fclose(f);
    return p;
}
