/* SPDX-License-Identifier: MIT */
/* cifar.c - CIFAR-10 binary batches: records of 1 label byte + 3072 pixel
 * bytes already in (C, H, W) = (3, 32, 32) planar order. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define CIFAR_C 3
#define CIFAR_HW 32
#define CIFAR_PIXELS (CIFAR_C * CIFAR_HW * CIFAR_HW)
#define CIFAR_RECORD (1 + CIFAR_PIXELS)
#define CIFAR_CLASSES 10
#define CIFAR_TRAIN_FILES 5

static const char *const cifar_names[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer",
    "dog",      "frog",       "horse", "ship", "truck",
};

/* A batch after optional gunzip, validated: *records records at p. */
typedef struct {
    const unsigned char *p;
    size_t records;
    unsigned char *owned;
} cifar_batch_t;

static int check_batch(cifar_batch_t *b, const void *buf, size_t len,
                       const char *name, jg_data_error_t *err)
{
    memset(b, 0, sizeof *b);
    int gz = 0;
    size_t dlen = 0;
    int rc = jg_data_maybe_gunzip(buf, len, name, &b->owned, &dlen, &gz, err);
    if (rc) return rc;
    const unsigned char *p = gz ? b->owned : buf;
    if (!gz) dlen = len;
    const char *what = gz ? "decompressed file" : "file";
    if (len == 0) return jg_data_fail(err, -EBADMSG, name, "empty file (0 bytes)");
    if (dlen == 0 || dlen % CIFAR_RECORD != 0)
        return jg_data_fail(err, -EBADMSG, name,
                            "truncated or not a CIFAR-10 batch: the %s has %zu bytes, "
                            "not a positive multiple of the %d-byte record",
                            what, dlen, CIFAR_RECORD);
    const size_t records = dlen / CIFAR_RECORD;
    if (records > INT_MAX || records > JG_DATA_MAX_VALUES / CIFAR_PIXELS)
        return jg_data_fail(err, -EOVERFLOW, name, "%zu records exceed the cap", records);
    for (size_t r = 0; r < records; r++) {
        const unsigned label = p[r * CIFAR_RECORD];
        if (label >= CIFAR_CLASSES)
            return jg_data_fail(err, -EBADMSG, name,
                                "label %u in record %zu is >= the %d classes", label, r,
                                CIFAR_CLASSES);
    }
    b->p = p;
    b->records = records;
    return 0;
}

/* x: (records, 3, 32, 32), y: (records). */
static void fill_batch(float *x, int32_t *y, const cifar_batch_t *b)
{
    for (size_t r = 0; r < b->records; r++) {
        const unsigned char *rec = b->p + r * CIFAR_RECORD;
        y[r] = rec[0];
        jg_data_u8_to_float(x + r * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
    }
}

int jg_data_parse_cifar10_mem(const void *buf, size_t len, const char *name,
                              jg_dataset_t *out, jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!name) name = "<memory>";
    if (!out) return jg_data_fail(err, -EINVAL, name, "NULL output");
    memset(out, 0, sizeof *out);
    if (!buf && len) return jg_data_fail(err, -EINVAL, name, "NULL buffer");
    cifar_batch_t b;
    int rc = check_batch(&b, buf ? buf : "", len, name, err);
    if (!rc)
        rc = jg_dataset_alloc(out, (int)b.records, CIFAR_C, CIFAR_HW, CIFAR_HW,
                              CIFAR_CLASSES, err);
    if (!rc) {
        fill_batch(out->x, out->y, &b);
        if (jg_data_set_class_names(out, cifar_names, CIFAR_CLASSES)) {
            rc = jg_data_fail(err, -ENOMEM, name, "out of memory");
            jg_dataset_free(out);
        }
    }
    free(b.owned);
    return rc;
}

/* Reads batches.meta.txt: exactly 10 non-blank lines, trimmed, each a
 * valid class name (jg_class_name_check), all distinct. */
static int read_meta(const char *path, char names[CIFAR_CLASSES][JG_CLASS_NAME_MAX + 1],
                     jg_data_error_t *err)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = jg_data_read_file(path, &buf, &len, err);
    if (rc) return rc;
    int k = 0, line = 0;
    size_t i = 0;
    while (i < len && !rc) {
        size_t e = i;
        while (e < len && buf[e] != '\n') e++;
        size_t a = i, z = e;
        line++;
        while (a < z && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\r')) a++;
        while (z > a && (buf[z - 1] == ' ' || buf[z - 1] == '\t' || buf[z - 1] == '\r')) z--;
        char why[256];
        if (z > a) {
            if (k == CIFAR_CLASSES)
                rc = jg_data_fail(err, -EBADMSG, path, "more than %d class names",
                                  CIFAR_CLASSES);
            else if (jg_class_name_check((const char *)buf + a, z - a, why, sizeof why))
                rc = jg_data_fail(err, -EINVAL, path, "line %d: class name %s", line, why);
            else {
                memcpy(names[k], buf + a, z - a);
                names[k][z - a] = '\0';
                k++;
            }
        }
        i = e + 1;
    }
    free(buf);
    if (!rc && k != CIFAR_CLASSES)
        rc = jg_data_fail(err, -EBADMSG, path, "%d class names, expected %d", k,
                          CIFAR_CLASSES);
    if (!rc) {
        const char *ptrs[CIFAR_CLASSES];
        char why[JG_CLASS_NAME_MAX + 128];
        for (int c = 0; c < CIFAR_CLASSES; c++) ptrs[c] = names[c];
        rc = jg_class_names_check(ptrs, CIFAR_CLASSES, why, sizeof why);
        if (rc) jg_data_fail(err, rc, path, "%s", rc == -ENOMEM ? "out of memory" : why);
    }
    return rc;
}

int jg_data_load_cifar10(const char *dir, int train, jg_dataset_t *out,
                         jg_data_error_t *err)
{
    jg_data_clear_error(err);
    if (!out) return jg_data_fail(err, -EINVAL, "jg_data_load_cifar10", "NULL output");
    memset(out, 0, sizeof *out);
    if (!dir) return jg_data_fail(err, -EINVAL, "jg_data_load_cifar10", "NULL dir");
    struct stat st;
    if (stat(dir, &st) != 0)
        return jg_data_fail(err, -ENOENT, dir,
                            "CIFAR-10 directory not found: pass the directory holding "
                            "data_batch_1.bin .. data_batch_5.bin and test_batch.bin");
    if (!S_ISDIR(st.st_mode)) return jg_data_fail(err, -ENOTDIR, dir, "not a directory");

    const int nfiles = train ? CIFAR_TRAIN_FILES : 1;
    cifar_batch_t batches[CIFAR_TRAIN_FILES];
    unsigned char *raw[CIFAR_TRAIN_FILES] = {0};
    memset(batches, 0, sizeof batches);
    char *meta = NULL;
    size_t total = 0;
    int rc = 0;
    for (int f = 0; f < nfiles && !rc; f++) {
        char base[32];
        if (train)
            snprintf(base, sizeof base, "data_batch_%d.bin", f + 1);
        else
            snprintf(base, sizeof base, "test_batch.bin");
        char *path = jg_data_path_join(dir, base);
        if (!path) {
            rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
            break;
        }
        size_t len = 0;
        rc = jg_data_read_file(path, &raw[f], &len, err);
        if (!rc) rc = check_batch(&batches[f], raw[f], len, path, err);
        free(path);
        if (!rc && batches[f].owned) {
            free(raw[f]);  /* the decompressed copy is what we keep */
            raw[f] = NULL;
        }
        total += batches[f].records;
    }
    if (!rc && total > INT_MAX)
        rc = jg_data_fail(err, -EOVERFLOW, dir, "%zu records exceed the cap", total);
    if (!rc)
        rc = jg_dataset_alloc(out, (int)total, CIFAR_C, CIFAR_HW, CIFAR_HW, CIFAR_CLASSES,
                              err);
    if (!rc) {
        size_t at = 0;
        for (int f = 0; f < nfiles; f++) {
            fill_batch(out->x + at * CIFAR_PIXELS, out->y + at, &batches[f]);
            at += batches[f].records;
        }
        meta = jg_data_path_join(dir, "batches.meta.txt");
        if (!meta) rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
    }
    if (!rc) {
        char names[CIFAR_CLASSES][JG_CLASS_NAME_MAX + 1];
        const char *ptrs[CIFAR_CLASSES];
        for (int k = 0; k < CIFAR_CLASSES; k++) ptrs[k] = cifar_names[k];
        if (stat(meta, &st) == 0) {
            rc = read_meta(meta, names, err);
            for (int k = 0; k < CIFAR_CLASSES; k++) ptrs[k] = names[k];
        }
        if (!rc && jg_data_set_class_names(out, ptrs, CIFAR_CLASSES))
            rc = jg_data_fail(err, -ENOMEM, dir, "out of memory");
    }
    free(meta);
    for (int f = 0; f < nfiles; f++) {
        free(raw[f]);
        free(batches[f].owned);
    }
    if (rc) jg_dataset_free(out);
    return rc;
}
