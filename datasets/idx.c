/* SPDX-License-Identifier: MIT */
/* idx.c - IDX files (MNIST, Fashion-MNIST), plain or gzip, from memory or
 * disk, and the Fashion-MNIST loader with its default Debian location. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define IDX_MAGIC_IMAGES 0x00000803u  /* ubyte, 3 dims (N, H, W) */
#define IDX_MAGIC_LABELS 0x00000801u  /* ubyte, 1 dim (N) */
#define IDX_IMAGES_HEADER 16
#define IDX_LABELS_HEADER 8

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The buffer to parse after optional gunzip; *owned must be freed. */
typedef struct {
    const unsigned char *p;
    size_t len;
    unsigned char *owned;
    const char *what;  /* "file" or "decompressed file", for messages */
} idx_src_t;

static int open_src(idx_src_t *s, const void *buf, size_t len, const char *name,
                    jg_data_error_t *err)
{
    memset(s, 0, sizeof *s);
    int gz = 0;
    int rc = jg_data_maybe_gunzip(buf, len, name, &s->owned, &s->len, &gz, err);
    if (rc) return rc;
    s->p = gz ? s->owned : buf;
    if (!gz) s->len = len;
    s->what = gz ? "decompressed file" : "file";
    if (len == 0) return jg_data_fail(err, -EBADMSG, name, "empty file (0 bytes)");
    return 0;
}

/* Checks the magic and that the header is complete. */
static int check_header(const idx_src_t *s, const char *name, uint32_t want,
                        size_t header, jg_data_error_t *err)
{
    const char *kind = want == IDX_MAGIC_IMAGES ? "IDX images" : "IDX labels";
    if (s->len < 4)
        return jg_data_fail(err, -EBADMSG, name,
                            "truncated inside the %s header: the %s has %zu bytes, "
                            "the header needs %zu",
                            kind, s->what, s->len, header);
    const uint32_t magic = be32(s->p);
    if (magic != want)
        return jg_data_fail(err, -EBADMSG, name,
                            "wrong magic 0x%08x, expected 0x%08x (%s)%s", (unsigned)magic,
                            (unsigned)want, kind,
                            magic == IDX_MAGIC_IMAGES   ? ": this is an IDX images file"
                            : magic == IDX_MAGIC_LABELS ? ": this is an IDX labels file"
                                                        : "");
    if (s->len < header)
        return jg_data_fail(err, -EBADMSG, name,
                            "truncated inside the %s header: the %s has %zu bytes, "
                            "the header needs %zu",
                            kind, s->what, s->len, header);
    return 0;
}

static const char *mem_name(const char *name)
{
    return name ? name : "<memory>";
}

int jg_data_parse_idx_images_mem(const void *buf, size_t len, const char *name,
                                 jg_dataset_t *out, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    name = mem_name(name);
    if (!out) return jg_data_fail(err, -EINVAL, name, "NULL output");
    memset(out, 0, sizeof *out);
    if (!buf && len) return jg_data_fail(err, -EINVAL, name, "NULL buffer");
    idx_src_t s;
    int rc = open_src(&s, buf ? buf : "", len, name, err);
    if (!rc) rc = check_header(&s, name, IDX_MAGIC_IMAGES, IDX_IMAGES_HEADER, err);
    if (rc) goto done;

    const uint32_t n = be32(s.p + 4), h = be32(s.p + 8), w = be32(s.p + 12);
    if (h > JG_DATA_MAX_DIM || w > JG_DATA_MAX_DIM) {
        rc = jg_data_fail(err, -EOVERFLOW, name,
                          "header says images of %ux%u, more than the %dx%d cap",
                          (unsigned)h, (unsigned)w, JG_DATA_MAX_DIM, JG_DATA_MAX_DIM);
        goto done;
    }
    if (n == 0 || h == 0 || w == 0) {
        rc = jg_data_fail(err, -EBADMSG, name, "header says %u images of %ux%u: empty",
                          (unsigned)n, (unsigned)h, (unsigned)w);
        goto done;
    }
    size_t hw, total;
    if (n > INT_MAX || jg_data_mul(h, w, JG_DATA_MAX_VALUES, &hw) ||
        jg_data_mul(hw, n, JG_DATA_MAX_VALUES, &total)) {
        rc = jg_data_fail(err, -EOVERFLOW, name,
                          "header says %u images of %ux%u, more than the %zu-pixel cap",
                          (unsigned)n, (unsigned)h, (unsigned)w,
                          (size_t)JG_DATA_MAX_VALUES);
        goto done;
    }
    const size_t want = IDX_IMAGES_HEADER + total;
    if (s.len != want) {
        rc = jg_data_fail(err, -EBADMSG, name,
                          "%s: header says %u images of %ux%u (%zu bytes) but the %s "
                          "has %zu bytes",
                          s.len < want ? "truncated" : "trailing data", (unsigned)n,
                          (unsigned)h, (unsigned)w, want, s.what, s.len);
        goto done;
    }
    rc = jg_dataset_alloc(out, (int)n, 1, (int)h, (int)w, 0, err);
    if (rc) {
        jg_data_fail(err, rc, name, "out of memory for %u images of %ux%u", (unsigned)n,
                     (unsigned)h, (unsigned)w);
        goto done;
    }
    jg_data_u8_to_float(out->x, s.p + IDX_IMAGES_HEADER, total);
done:
    free(s.owned);
    return rc;
}

int jg_data_parse_idx_labels_mem(const void *buf, size_t len, const char *name,
                                 int classes, int32_t **labels, int *n_out,
                                 int *max_label, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    name = mem_name(name);
    if (!labels || !n_out) return jg_data_fail(err, -EINVAL, name, "NULL output");
    *labels = NULL;
    *n_out = 0;
    if (max_label) *max_label = -1;
    if ((!buf && len) || classes < 0)
        return jg_data_fail(err, -EINVAL, name, "NULL buffer or negative classes");
    idx_src_t s;
    int rc = open_src(&s, buf ? buf : "", len, name, err);
    if (!rc) rc = check_header(&s, name, IDX_MAGIC_LABELS, IDX_LABELS_HEADER, err);
    if (rc) goto done;

    const uint32_t n = be32(s.p + 4);
    if (n == 0) {
        rc = jg_data_fail(err, -EBADMSG, name, "header says 0 labels: empty");
        goto done;
    }
    if (n > INT_MAX) {
        rc = jg_data_fail(err, -EOVERFLOW, name, "header says %u labels, more than %d",
                          (unsigned)n, INT_MAX);
        goto done;
    }
    const size_t want = IDX_LABELS_HEADER + (size_t)n;
    if (s.len != want) {
        rc = jg_data_fail(err, -EBADMSG, name,
                          "%s: header says %u labels (%zu bytes) but the %s has %zu "
                          "bytes",
                          s.len < want ? "truncated" : "trailing data", (unsigned)n, want,
                          s.what, s.len);
        goto done;
    }
    const unsigned char *l = s.p + IDX_LABELS_HEADER;
    int mx = -1;
    for (uint32_t i = 0; i < n; i++) {
        if (classes > 0 && l[i] >= classes) {
            rc = jg_data_fail(err, -EBADMSG, name,
                              "label %d at index %u is >= the %d classes", l[i],
                              (unsigned)i, classes);
            goto done;
        }
        if (l[i] > mx) mx = l[i];
    }
    int32_t *y = malloc((size_t)n * sizeof *y);
    if (!y) {
        rc = jg_data_fail(err, -ENOMEM, name, "out of memory for %u labels", (unsigned)n);
        goto done;
    }
    for (uint32_t i = 0; i < n; i++) y[i] = l[i];
    *labels = y;
    *n_out = (int)n;
    if (max_label) *max_label = mx;
done:
    free(s.owned);
    return rc;
}

int jg_data_load_idx(const char *images_path, const char *labels_path,
                     int classes, jg_dataset_t *out, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_load_idx", "NULL output");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path || classes < 0)
        return jg_data_fail(err, -EINVAL, "jg_data_load_idx",
                            "NULL path or negative classes");
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = jg_data_read_file(images_path, &buf, &len, err);
    if (rc) return rc;
    rc = jg_data_parse_idx_images_mem(buf, len, images_path, out, err);
    free(buf);
    if (rc) return rc;

    rc = jg_data_read_file(labels_path, &buf, &len, err);
    if (rc) goto fail;
    int32_t *y = NULL;
    int n = 0, mx = -1;
    rc = jg_data_parse_idx_labels_mem(buf, len, labels_path, classes, &y, &n, &mx, err);
    free(buf);
    if (rc) goto fail;
    if (n != out->n) {
        free(y);
        rc = jg_data_fail(err, -EBADMSG, labels_path, "%d labels but %s has %d images", n,
                          images_path, out->n);
        goto fail;
    }
    free(out->y);
    out->y = y;
    out->classes = classes > 0 ? classes : mx + 1;
    return 0;
fail:
    jg_dataset_free(out);
    return rc;
}

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

/* dir/base.gz when it exists, else dir/base when it exists; NULL with an
 * error otherwise. */
static char *find_idx(const char *dir, const char *base, int *rc, jg_data_error_t *err)
{
    char gzname[64];
    snprintf(gzname, sizeof gzname, "%s.gz", base);
    const char *cands[2] = {gzname, base};
    for (int i = 0; i < 2; i++) {
        char *p = jg_data_path_join(dir, cands[i]);
        if (!p) {
            *rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
            return NULL;
        }
        struct stat st;
        if (stat(p, &st) == 0) return p;
        free(p);
    }
    *rc = jg_data_fail(err, -ENOENT, dir,
                       "missing %s (or %s): install the Debian package "
                       "'dataset-fashion-mnist' or pass a data dir holding the IDX files",
                       gzname, base);
    return NULL;
}

int jg_data_fashion_mnist(const char *dir, int train, jg_dataset_t *out,
                          jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_fashion_mnist", "NULL output");
    memset(out, 0, sizeof *out);
    if (!dir) dir = JG_DATA_FASHION_MNIST_DIR;
    struct stat st;
    if (stat(dir, &st) != 0)
        return jg_data_fail(err, -ENOENT, dir,
                            "Fashion-MNIST directory not found: install the Debian "
                            "package 'dataset-fashion-mnist' (sudo apt-get install "
                            "dataset-fashion-mnist) or pass a data dir");
    if (!S_ISDIR(st.st_mode))
        return jg_data_fail(err, -ENOTDIR, dir, "not a directory");
    const char *prefix = train ? "train" : "t10k";
    char base[64];
    int rc = 0;
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    char *images = find_idx(dir, base, &rc, err);
    if (!images) return rc;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    char *labels = find_idx(dir, base, &rc, err);
    if (!labels) {
        free(images);
        return rc;
    }
    rc = jg_data_load_idx(images, labels, 10, out, err);
    if (!rc && (out->h != 28 || out->w != 28)) {
        rc = jg_data_fail(err, -EBADMSG, images,
                          "Fashion-MNIST images must be 28x28, header says %dx%d", out->h,
                          out->w);
        jg_dataset_free(out);
    }
    if (!rc && jg_data_set_class_names(out, fashion_names, 10)) {
        rc = jg_data_fail(err, -ENOMEM, images, "out of memory");
        jg_dataset_free(out);
    }
    free(images);
    free(labels);
    return rc;
}
