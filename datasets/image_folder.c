/* SPDX-License-Identifier: MIT */
/* image_folder.c - dir/<class>/<image> trees decoded with stb_image (PNG,
 * JPEG, BMP, ...) and resized with stb_image_resize; both are compiled
 * into Debian's libstb, so only the headers are included here. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>
#include <stb_image_resize.h>

#include "internal.h"

/* Largest decoded source image in pixels (64 Mpx, 768 MiB as RGB floats). */
#define SRC_MAX_PIXELS ((size_t)1 << 26)

typedef struct {
    char **v;
    size_t n, cap;
} strvec_t;

static void strvec_free(strvec_t *s)
{
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Takes ownership of str (freed on failure). */
static int strvec_push(strvec_t *s, char *str)
{
    if (!str) return -ENOMEM;
    if (s->n == s->cap) {
        const size_t ncap = s->cap ? s->cap * 2 : 16;
        char **nv = realloc(s->v, ncap * sizeof *nv);
        if (!nv) {
            free(str);
            return -ENOMEM;
        }
        s->v = nv;
        s->cap = ncap;
    }
    s->v[s->n++] = str;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Non-hidden entry names of dir, sorted bytewise (strcmp) so the order does
 * not depend on the file system or the locale. */
static int list_dir(const char *dir, strvec_t *out, jg_data_error_t *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        const int e = errno ? errno : EIO;
        return jg_data_fail(err, -e, dir, "cannot open directory: %s", strerror(e));
    }
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        if (strvec_push(out, jg_data_strdup(de->d_name))) {
            rc = jg_data_fail(err, -ENOMEM, dir, "out of memory listing");
            break;
        }
    }
    closedir(d);
    if (rc) {
        strvec_free(out);
        return rc;
    }
    if (out->n > 1) qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return 0;
}

/* Decodes one image file into x: (channels, h, w), values in [0, 1]. */
static int load_one(float *x, const char *path, int channels, int h, int w,
                    jg_data_error_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = jg_data_read_file(path, &buf, &len, err);
    if (rc) return rc;
    if (len == 0) {
        free(buf);
        return jg_data_fail(err, -EBADMSG, path, "empty file (0 bytes), not an image");
    }
    if (len > INT_MAX) {
        free(buf);
        return jg_data_fail(err, -EOVERFLOW, path, "file too large for stb_image");
    }
    int iw = 0, ih = 0, comp = 0;
    if (!stbi_info_from_memory(buf, (int)len, &iw, &ih, &comp)) {
        const char *why = stbi_failure_reason();
        free(buf);
        return jg_data_fail(err, -EBADMSG, path,
                            "not an image stb_image can decode (PNG/JPEG/BMP/...): %s",
                            why ? why : "unknown format");
    }
    if (iw <= 0 || ih <= 0 || iw > JG_DATA_MAX_SRC_DIM || ih > JG_DATA_MAX_SRC_DIM ||
        (size_t)iw * (size_t)ih > SRC_MAX_PIXELS) {
        free(buf);
        return jg_data_fail(err, -EOVERFLOW, path,
                            "image of %dx%d exceeds the %dx%d / %zu-pixel cap", iw, ih,
                            JG_DATA_MAX_SRC_DIM, JG_DATA_MAX_SRC_DIM, SRC_MAX_PIXELS);
    }
    int lw = 0, lh = 0;
    unsigned char *px = stbi_load_from_memory(buf, (int)len, &lw, &lh, &comp, channels);
    free(buf);
    if (!px) {
        const char *why = stbi_failure_reason();
        return jg_data_fail(err, -EBADMSG, path, "corrupt image: %s",
                            why ? why : "decode failed");
    }
    if (lw != iw || lh != ih) {
        stbi_image_free(px);
        return jg_data_fail(err, -EBADMSG, path, "inconsistent image header");
    }
    const size_t src_n = (size_t)iw * (size_t)ih * (size_t)channels;
    const size_t dst_n = (size_t)w * (size_t)h * (size_t)channels;
    float *src = malloc(src_n * sizeof *src);  // (IH, IW, C)
    float *dst = (iw == w && ih == h) ? src : malloc(dst_n * sizeof *dst);  // (H, W, C)
    if (!src || !dst) {
        stbi_image_free(px);
        if (dst != src) free(dst);
        free(src);
        return jg_data_fail(err, -ENOMEM, path, "out of memory decoding %dx%d", iw, ih);
    }
    jg_data_u8_to_float(src, px, src_n);
    stbi_image_free(px);
    if (dst != src &&
        !stbir_resize_float(src, iw, ih, 0, dst, w, h, 0, channels)) {
        free(src);
        free(dst);
        return jg_data_fail(err, -ENOMEM, path, "resize %dx%d -> %dx%d failed", iw, ih,
                            w, h);
    }
    /* Interleaved (H, W, C) -> planar (C, H, W); the resampling filters
     * overshoot slightly at edges, so clamp back into [0, 1]. */
    const size_t hw = (size_t)h * (size_t)w;
    for (size_t p = 0; p < hw; p++) {
        for (int c = 0; c < channels; c++) {
            float v = dst[p * (size_t)channels + (size_t)c];
            v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            x[(size_t)c * hw + p] = v;
        }
    }
    if (dst != src) free(dst);
    free(src);
    return 0;
}

int jg_data_load_image(const char *path, int channels, int h, int w, float *out,
                       jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!path || !out || (channels != 1 && channels != 3) || h <= 0 || w <= 0 ||
        h > JG_DATA_MAX_DIM || w > JG_DATA_MAX_DIM)
        return jg_data_fail(err, -EINVAL, path ? path : "jg_data_load_image",
                            "bad arguments: channels=%d (1 or 3) size=%dx%d (1..%d)",
                            channels, h, w, JG_DATA_MAX_DIM);
    return load_one(out, path, channels, h, w, err);
}

int jg_data_load_image_folder(const char *dir, int channels, int h, int w,
                              jg_dataset_t *out, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_load_image_folder", "NULL output");
    memset(out, 0, sizeof *out);
    if (!dir || (channels != 1 && channels != 3) || h <= 0 || w <= 0 ||
        h > JG_DATA_MAX_DIM || w > JG_DATA_MAX_DIM)
        return jg_data_fail(err, -EINVAL, dir ? dir : "jg_data_load_image_folder",
                            "bad arguments: channels=%d (1 or 3) size=%dx%d (1..%d)",
                            channels, h, w, JG_DATA_MAX_DIM);
    struct stat st;
    if (stat(dir, &st) != 0)
        return jg_data_fail(err, -ENOENT, dir, "image folder not found");
    if (!S_ISDIR(st.st_mode)) return jg_data_fail(err, -ENOTDIR, dir, "not a directory");

    strvec_t top, classes = {0}, files = {0};
    int32_t *labels = NULL;
    size_t labels_cap = 0;
    int rc = list_dir(dir, &top, err);
    if (rc) return rc;
    for (size_t i = 0; i < top.n && !rc; i++) {
        char *p = jg_data_path_join(dir, top.v[i]);
        if (!p) {
            rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
            break;
        }
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            if (strvec_push(&classes, jg_data_strdup(top.v[i])))
                rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
        }
        free(p);
    }
    if (!rc && classes.n == 0)
        rc = jg_data_fail(err, -EBADMSG, dir, "no class sub-folders (expected dir/<class>/<image>)");
    if (!rc && classes.n > INT_MAX)
        rc = jg_data_fail(err, -EOVERFLOW, dir, "too many classes");
    if (!rc) {
        /* the names reach JSON keys and messages: valid UTF-8, no controls */
        char why[JG_CLASS_NAME_MAX + 128];
        rc = jg_class_names_check((const char *const *)classes.v, (int)classes.n, why,
                                  sizeof why);
        if (rc == -ENOMEM) jg_data_fail(err, rc, dir, "out of memory");
        else if (rc) jg_data_fail(err, rc, dir, "bad class folder name (%s): rename it", why);
    }

    for (size_t k = 0; k < classes.n && !rc; k++) {
        char *cdir = jg_data_path_join(dir, classes.v[k]);
        strvec_t names;
        if (!cdir) {
            rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
            break;
        }
        rc = list_dir(cdir, &names, err);
        if (!rc && names.n == 0)
            rc = jg_data_fail(err, -EBADMSG, cdir, "class folder holds no images");
        for (size_t i = 0; i < names.n && !rc; i++) {
            char *p = jg_data_path_join(cdir, names.v[i]);
            if (!p) {
                rc = jg_data_fail(err, -ENOMEM, cdir, "out of memory");
                break;
            }
            const int found = stat(p, &st) == 0;
            if (!found || !S_ISREG(st.st_mode)) {
                rc = jg_data_fail(err, -EBADMSG, p, "%s",
                                  found && S_ISDIR(st.st_mode)
                                      ? "nested directory inside a class folder"
                                      : "not a regular file");
                free(p);
                break;
            }
            if (files.n == labels_cap) {
                labels_cap = labels_cap ? labels_cap * 2 : 64;
                int32_t *nl = realloc(labels, labels_cap * sizeof *nl);
                if (!nl) {
                    free(p);
                    rc = jg_data_fail(err, -ENOMEM, cdir, "out of memory");
                    break;
                }
                labels = nl;
            }
            labels[files.n] = (int32_t)k;
            if (strvec_push(&files, p)) rc = jg_data_fail(err, -ENOMEM, cdir, "out of memory");
        }
        strvec_free(&names);
        free(cdir);
    }
    if (!rc && files.n > INT_MAX)
        rc = jg_data_fail(err, -EOVERFLOW, dir, "too many images");
    if (!rc) {
        rc = jg_dataset_alloc(out, (int)files.n, channels, h, w, (int)classes.n, err);
        if (rc) jg_data_fail(err, rc, dir, "%zu images of %dx%dx%d do not fit", files.n,
                             channels, h, w);
    }
    if (!rc && jg_data_set_class_names(out, (const char *const *)classes.v,
                                       (int)classes.n))
        rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
    const size_t chw = (size_t)channels * (size_t)h * (size_t)w;
    for (size_t i = 0; i < files.n && !rc; i++) {
        rc = load_one(out->x + i * chw, files.v[i], channels, h, w, err);
        out->y[i] = labels[i];
    }
    if (rc) jg_dataset_free(out);
    free(labels);
    strvec_free(&files);
    strvec_free(&classes);
    strvec_free(&top);
    return rc;
}
