/* SPDX-License-Identifier: MIT */
/*
 * internal.h - helpers shared by the dataset loaders: error formatting,
 * whole-file reads, in-memory gunzip, checked size arithmetic, the seeded
 * PRNG and the ubyte -> [0, 1] table. Not installed.
 */
#ifndef JG_DATASETS_INTERNAL_H
#define JG_DATASETS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "jg_common.h"
#include "jg_datasets.h"

#if defined(__GNUC__) || defined(__clang__)
#define JG_DATA_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define JG_DATA_PRINTF(a, b)
#endif

/* Writes "<name>: <fmt...>" into err (when not NULL) and returns code. */
int jg_data_fail(jg_data_error_t *err, int code, const char *name,
                 const char *fmt, ...) JG_DATA_PRINTF(4, 5);

/* Clears err->msg (when not NULL). */
void jg_data_clear_error(jg_data_error_t *err);

/* Reads the whole regular file (at most JG_DATA_MAX_FILE_BYTES) into a
 * malloc'd buffer (*buf is non-NULL even for a zero-byte file) with
 * jg_read_regular: a FIFO or device is refused ("not a regular file",
 * -EINVAL) instead of blocking or being read; too large is -EOVERFLOW. */
int jg_data_read_file(const char *path, unsigned char **buf, size_t *len,
                      jg_data_error_t *err);

/* When src starts with the gzip magic, inflates every member into a
 * malloc'd buffer (*out, *out_len, *gz = 1); otherwise *out = NULL,
 * *out_len = 0, *gz = 0 and the caller uses src as is. */
int jg_data_maybe_gunzip(const unsigned char *src, size_t len, const char *name,
                         unsigned char **out, size_t *out_len, int *gz,
                         jg_data_error_t *err);

/* *r = a * b; returns 0, or -EOVERFLOW when the product exceeds limit. */
int jg_data_mul(size_t a, size_t b, size_t limit, size_t *r);

/* ubyte v -> v / 255 exactly rounded. */
extern const float jg_data_u8_to_unit[256];

/* Converts n ubytes to [0, 1] floats. */
void jg_data_u8_to_float(float *dst, const unsigned char *src, size_t n);

/* Uniform in [0, bound) without modulo bias; bound >= 1. */
uint32_t jg_data_rng_below(uint64_t *state, uint32_t bound);
/* Uniform float in [0, 1). */
float jg_data_rng_unit(uint64_t *state);

/* strdup that returns NULL on failure (strdup is POSIX, not C11). */
char *jg_data_strdup(const char *s);

/* Copies n_names strings into ds->class_names (ds->classes must equal
 * n_names). */
int jg_data_set_class_names(jg_dataset_t *ds, const char *const *names,
                            int n_names);

/* Joins dir and name with '/' into a malloc'd string. */
char *jg_data_path_join(const char *dir, const char *name);

#endif /* JG_DATASETS_INTERNAL_H */
