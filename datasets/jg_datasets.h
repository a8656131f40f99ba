/* SPDX-License-Identifier: MIT */
/*
 * jg_datasets.h - image classification datasets held in memory as
 * (N, C, H, W) float pixels in [0, 1] plus int32 labels.
 *
 * Contract:
 *  - Every function returns 0 on success or a negative errno and never
 *    prints or exits. On error the caller-provided jg_data_error_t (may be
 *    NULL) holds one line "<file>: <problem>", and *out is left empty
 *    (zeroed), so jg_dataset_free(out) is always safe.
 *  - Error codes: -EINVAL bad argument from the caller, a path that is not
 *    a regular file (a FIFO or device: refused without blocking), or a class
 *    name that is not valid UTF-8, holds a control character or repeats
 *    another (the message shows it with bad bytes as \xNN); -ENOENT missing
 *    file or directory; -EBADMSG malformed content (wrong magic, truncated,
 *    size or count mismatch, label >= classes, not an image, empty file);
 *    -EOVERFLOW a size read from a file exceeds the caps below or
 *    overflows; -ENOMEM allocation failure; -EIO read error.
 *  - Nothing read from a file is trusted: every size is capped and checked
 *    for overflow, and the (decompressed) file size must match the header
 *    exactly before anything is allocated from it.
 *  - gzip is detected by its magic bytes (1f 8b), never by the extension,
 *    in both the file and the in-memory parsers.
 *  - Loading is deterministic: directory entries are sorted bytewise and
 *    every random choice comes from an explicit seed.
 */
#ifndef JG_DATASETS_H
#define JG_DATASETS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Debian package dataset-fashion-mnist installs the files here. */
#define JG_DATA_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Caps on sizes read from files (pixels per side, values per dataset,
 * bytes per file after decompression). */
#define JG_DATA_MAX_DIM 4096
#define JG_DATA_MAX_VALUES ((size_t)1 << 30)
#define JG_DATA_MAX_FILE_BYTES (((size_t)1 << 30) + 4096)
/* Largest source image the image-folder loader decodes, per side. */
#define JG_DATA_MAX_SRC_DIM 16384
/* jg_dataset_stats floors std here so normalising a constant channel does
 * not divide by zero. */
#define JG_DATA_STD_MIN 1e-6f

typedef struct {
    char msg[512];
} jg_data_error_t;

typedef struct {
    int n, c, h, w;      /* examples, channels, height, width */
    int classes;         /* labels are in [0, classes) */
    float *x;            /* (N, C, H, W) */
    int32_t *y;          /* (N) */
    char **class_names;  /* (classes) or NULL */
} jg_dataset_t;

/* Frees everything and zeroes *ds; safe on a zeroed or NULL dataset. */
void jg_dataset_free(jg_dataset_t *ds);

/* Allocates an empty (uninitialised pixels, zero labels) dataset of the
 * given shape; class_names stays NULL. */
int jg_dataset_alloc(jg_dataset_t *ds, int n, int c, int h, int w, int classes,
                     jg_data_error_t *err);

/* mean[c] = E[x(:, c, :, :)], std[c] = sqrt(E[(x - mean)^2]) (population,
 * computed in double, floored at JG_DATA_STD_MIN). mean, std: (C). */
int jg_dataset_stats(float *mean, float *std, const jg_dataset_t *ds);

/* x(:, c, :, :) = (x - mean[c]) / std[c]; std must be > 0 and finite. */
int jg_dataset_normalize(jg_dataset_t *ds, const float *mean, const float *std);

/* perm = a seeded uniform permutation of 0..n-1 (Fisher-Yates, splitmix64);
 * perm: (N). Same seed and n give the same permutation on every platform. */
int jg_data_permutation(int32_t *perm, int n, uint64_t seed);

/* out = copy of examples [start, start + count) of src (class names too). */
int jg_data_subset(jg_dataset_t *out, const jg_dataset_t *src, int start,
                   int count, jg_data_error_t *err);

/* Keeps the first n examples in place (for --train-limit); n >= ds->n is a
 * no-op. */
int jg_data_limit(jg_dataset_t *ds, int n);

/* Seeded split: with p = jg_data_permutation(src->n, seed), val gets
 * examples p[0..n_val) and train gets p[n_val..n), in that order.
 * 0 <= n_val <= src->n; an empty side is returned with n == 0, x == NULL. */
int jg_data_split(jg_dataset_t *train, jg_dataset_t *val,
                  const jg_dataset_t *src, int n_val, uint64_t seed,
                  jg_data_error_t *err);

/* IDX (MNIST layout): images magic 0x00000803 (N, H, W) ubytes, labels
 * magic 0x00000801 (N) ubytes, big-endian u32 dims; plain or gzip.
 * classes > 0 requires every label < classes; classes == 0 infers
 * max(label) + 1. Result has C = 1. */
int jg_data_load_idx(const char *images_path, const char *labels_path,
                     int classes, jg_dataset_t *out, jg_data_error_t *err);

/* In-memory IDX images (plain or gzip): sets n, c = 1, h, w, x; y is
 * zeroed and classes is 0. name (may be NULL) is only used in messages. */
int jg_data_parse_idx_images_mem(const void *buf, size_t len, const char *name,
                                 jg_dataset_t *out, jg_data_error_t *err);

/* In-memory IDX labels: *labels = malloc'd (N) array, *n = N,
 * *max_label = largest label. classes as in jg_data_load_idx. */
int jg_data_parse_idx_labels_mem(const void *buf, size_t len, const char *name,
                                 int classes, int32_t **labels, int *n,
                                 int *max_label, jg_data_error_t *err);

/* Fashion-MNIST from dir (NULL = JG_DATA_FASHION_MNIST_DIR) with the
 * standard file names {train,t10k}-{images-idx3,labels-idx1}-ubyte, each
 * with or without .gz. Checks 28x28 and 10 classes; sets class_names. */
int jg_data_fashion_mnist(const char *dir, int train, jg_dataset_t *out,
                          jg_data_error_t *err);

/* CIFAR-10 binary batches in dir: train = data_batch_1..5.bin, else
 * test_batch.bin. Records are 1 label byte + 3072 bytes (3, 32, 32); each
 * file size must be a positive multiple of 3073 and labels < 10. Class
 * names come from batches.meta.txt when present (10 non-blank lines, each
 * trimmed and a valid distinct class name, jg_class_name_check), else the
 * standard ones. */
int jg_data_load_cifar10(const char *dir, int train, jg_dataset_t *out,
                         jg_data_error_t *err);

/* In-memory CIFAR-10 batch (plain or gzip); name for error messages. */
int jg_data_parse_cifar10_mem(const void *buf, size_t len, const char *name,
                              jg_dataset_t *out, jg_data_error_t *err);

/* Image folder: dir/<class>/<image>, classes = sub-folders sorted by name,
 * files sorted by name, hidden entries (leading '.') skipped, other
 * top-level files ignored; a class folder name must be a valid class name
 * (jg_class_name_check: UTF-8, no control characters). PNG/JPEG/BMP (anything stb_image decodes),
 * converted to channels (1 = grey, 3 = RGB) and resized to h x w
 * (stb_image_resize, clamped to [0, 1]). A zero-byte file, a file that is
 * not an image or a nested directory is an error naming it. */
int jg_data_load_image_folder(const char *dir, int channels, int h, int w,
                              jg_dataset_t *out, jg_data_error_t *err);

/* One image file decoded exactly as an image-folder entry: converted to
 * channels (1 or 3), resized to h x w, clamped to [0, 1]. out: (channels,
 * h, w), caller-owned. */
int jg_data_load_image(const char *path, int channels, int h, int w, float *out,
                       jg_data_error_t *err);

/* Seeded synthetic data a small CNN can learn: class k is a Gaussian blob
 * at a class-specific position and per-channel brightness, plus jitter
 * and uniform noise, clamped to [0, 1]. Labels are balanced (i mod
 * classes) and shuffled. */
int jg_data_synthetic(int n, int c, int h, int w, int classes, uint64_t seed,
                      jg_dataset_t *out, jg_data_error_t *err);

/* ---- named sources and the preparation every run shares ------------------ */

/* Which dataset a run reads. */
typedef struct {
    const char *name; /* "fashion-mnist", "cifar10", "folder" or "synthetic" */
    const char *dir;  /* NULL: the dataset's default (fashion-mnist only) */
    int c, h, w;      /* folder and synthetic only; 0 = default (folder: 3
                         channels, h and w required; synthetic: 1x28x28) */
} jg_data_source_t;

#define JG_DATA_SOURCE_NAMES "fashion-mnist, cifar10, folder or synthetic"
/* synthetic: examples per split, classes and the fixed data seeds
 * (independent of the run's seed, so a seed changes the model, not the data). */
#define JG_DATA_SYN_TRAIN 6000
#define JG_DATA_SYN_TEST 1000
#define JG_DATA_SYN_CLASSES 10
#define JG_DATA_SYN_SEED_TRAIN 0x7a11ull
#define JG_DATA_SYN_SEED_TEST 0x7e57ull
/* Channels a normalisation (and a checkpoint) keeps a mean/std for. */
#define JG_DATA_MAX_CHANNELS 4

/* 1 when name is one of JG_DATA_SOURCE_NAMES. */
int jg_data_source_known(const char *name);
/* The directory a source is read from, for reports ("" for synthetic). */
const char *jg_data_source_dir(const jg_data_source_t *src);
/* The training (train = 1) or test split of src, pixels in [0, 1]: folder
 * reads dir/train or dir/test. cifar10 and folder need src->dir (-EINVAL
 * saying so); a training split with more than JG_DATA_MAX_CHANNELS channels
 * is -ENOTSUP. */
int jg_data_load_source(const jg_data_source_t *src, int train, jg_dataset_t *out,
                        jg_data_error_t *err);
/* The standard class names of a named dataset (fashion-mnist, cifar10), or
 * NULL when unknown or when classes does not match. */
const char *const *jg_data_standard_class_names(const char *name, int classes);
/* out = a seeded uniform random subset of n examples of src (classes are
 * balanced in expectation); src's class names move to out. */
int jg_data_random_subset(jg_dataset_t *out, jg_dataset_t *src, int n, uint64_t seed,
                          jg_data_error_t *err);

/* What a run trains, validates and tests on (jg_data_prepare). */
typedef struct {
    jg_data_source_t source;
    int train;            /* 1: load the training split (and validation) */
    int train_limit;      /* 0: every training image; else a random subset of
                             that many, drawn with subset_seed */
    uint64_t subset_seed;
    double val_fraction;  /* in [0, 1): a random fraction of the (subset of)
                             training images held out for validation with
                             split_seed, at least one image when > 0 */
    uint64_t split_seed;
    int test;             /* 1: load the test split too */
    int test_limit;       /* 0: every test image; else the first that many */
    int given_norm;       /* 1: normalise with mean/std below (a checkpoint's)
                             instead of the training images' statistics */
    float mean[JG_DATA_MAX_CHANNELS], std[JG_DATA_MAX_CHANNELS];
} jg_data_prep_config_t;

typedef struct {
    jg_dataset_t train, val, test; /* normalised; an unused split has n == 0 */
    float mean[JG_DATA_MAX_CHANNELS], std[JG_DATA_MAX_CHANNELS]; /* channels
                             past c hold 0 and 1 */
} jg_data_prepared_t;

/* The one data preparation of train, tune, profile, eval and reproduce:
 * load, subset, validation split, per-channel statistics of the training
 * images (after subset and split), normalisation of every split with them,
 * test set, and the shape checks (test images and class names must match
 * the training ones). Returns 0, -EINVAL for a configuration that cannot
 * work (unknown source, a validation fraction that leaves no training
 * image), -EBADMSG when the test split does not match the training split,
 * or the loaders' errors; err holds one line. */
int jg_data_prepare(const jg_data_prep_config_t *cfg, jg_data_prepared_t *out,
                    jg_data_error_t *err);
void jg_data_prepared_free(jg_data_prepared_t *p);

#ifdef __cplusplus
}
#endif

#endif /* JG_DATASETS_H */
