/* SPDX-License-Identifier: MIT */
/* prepare.c - named dataset sources and the one data preparation shared by
 * every run: subset, validation split, statistics, normalisation, test set
 * and the checks that the splits match. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};
static const char *const cifar_names[10] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

/* err->msg = printf(fmt) without a file prefix; returns code. */
static int failf(jg_data_error_t *err, int code, const char *fmt, ...)
    JG_DATA_PRINTF(3, 4);
static int failf(jg_data_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

int jg_data_source_known(const char *name)
{
    return name && (!strcmp(name, "fashion-mnist") || !strcmp(name, "cifar10") ||
                    !strcmp(name, "folder") || !strcmp(name, "synthetic"));
}

const char *jg_data_source_dir(const jg_data_source_t *src)
{
    if (!strcmp(src->name, "synthetic")) return "";
    if (src->dir) return src->dir;
    return strcmp(src->name, "fashion-mnist") ? "" : JG_DATA_FASHION_MNIST_DIR;
}

static int load_split(const jg_data_source_t *d, int train, jg_dataset_t *out,
                      jg_data_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!strcmp(d->name, "fashion-mnist")) {
        const int rc = jg_data_fashion_mnist(d->dir, train, out, err);
        // The loader's hint says "pass a data dir"; name the flag that does.
        const size_t n = err ? strlen(err->msg) : 0;
        if (rc == -ENOENT && err && n + 20 < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, " (--data-dir DIR)");
        return rc;
    }
    if (!strcmp(d->name, "synthetic"))
        return jg_data_synthetic(train ? JG_DATA_SYN_TRAIN : JG_DATA_SYN_TEST, d->c ? d->c : 1,
                                 d->h ? d->h : 28, d->w ? d->w : 28, JG_DATA_SYN_CLASSES,
                                 train ? JG_DATA_SYN_SEED_TRAIN : JG_DATA_SYN_SEED_TEST, out,
                                 err);
    if (!jg_data_source_known(d->name))
        return failf(err, -EINVAL, "unknown dataset '%s' (expected %s)", d->name,
                     JG_DATA_SOURCE_NAMES);
    if (!d->dir)
        return failf(err, -EINVAL, "--data %s needs --data-dir DIR (%s)", d->name,
                     strcmp(d->name, "cifar10") ? "holding train/<class>/<image> and "
                                                  "test/<class>/<image>"
                                                : "holding data_batch_1..5.bin and "
                                                  "test_batch.bin");
    if (!strcmp(d->name, "cifar10")) return jg_data_load_cifar10(d->dir, train, out, err);
    char sub[4096];
    const int k = snprintf(sub, sizeof sub, "%s/%s", d->dir, train ? "train" : "test");
    if (k < 0 || (size_t)k >= sizeof sub)
        return failf(err, -ENAMETOOLONG, "--data-dir: path too long");
    return jg_data_load_image_folder(sub, d->c ? d->c : 3, d->h, d->w, out, err);
}

int jg_data_load_source(const jg_data_source_t *src, int train, jg_dataset_t *out,
                        jg_data_error_t *err)
{
    if (!src || !src->name || !out) return failf(err, -EINVAL, "no dataset source");
    const int rc = load_split(src, train, out, err);
    if (rc == 0 && train && out->c > JG_DATA_MAX_CHANNELS) {
        jg_dataset_free(out);
        return failf(err, -ENOTSUP, "%d channels; at most %d are supported", out->c,
                     JG_DATA_MAX_CHANNELS);
    }
    return rc;
}

const char *const *jg_data_standard_class_names(const char *name, int classes)
{
    if (classes != 10 || !name) return NULL;
    if (!strcmp(name, "fashion-mnist")) return fashion_names;
    if (!strcmp(name, "cifar10")) return cifar_names;
    return NULL;
}

int jg_data_random_subset(jg_dataset_t *out, jg_dataset_t *src, int n, uint64_t seed,
                          jg_data_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (n < 0 || n > src->n) return failf(err, -EINVAL, "subset of %d from %d images", n, src->n);
    int32_t *perm = malloc((size_t)(src->n ? src->n : 1) * sizeof *perm); // (N)
    if (!perm) return failf(err, -ENOMEM, "out of memory for a permutation of %d", src->n);
    jg_data_permutation(perm, src->n, seed);
    int rc = jg_dataset_alloc(out, n, src->c, src->h, src->w, src->classes, err);
    if (!rc) {
        const size_t chw = (size_t)src->c * (size_t)src->h * (size_t)src->w;
        for (int i = 0; i < n; i++) {
            memcpy(out->x + (size_t)i * chw, src->x + (size_t)perm[i] * chw,
                   chw * sizeof *out->x);
            out->y[i] = src->y[perm[i]];
        }
        out->class_names = src->class_names;
        src->class_names = NULL;
    }
    free(perm);
    return rc;
}

void jg_data_prepared_free(jg_data_prepared_t *p)
{
    if (!p) return;
    jg_dataset_free(&p->train);
    jg_dataset_free(&p->val);
    jg_dataset_free(&p->test);
}

/* Training subset, validation split, statistics, normalisation. */
static int prepare_train(const jg_data_prep_config_t *cfg, jg_data_prepared_t *p,
                         jg_data_error_t *err)
{
    jg_dataset_t full = {0}, sub = {0};
    int rc = jg_data_load_source(&cfg->source, 1, &full, err);
    if (rc) return rc;
    if (cfg->train_limit > 0 && cfg->train_limit < full.n) {
        rc = jg_data_random_subset(&sub, &full, cfg->train_limit, cfg->subset_seed, err);
        jg_dataset_free(&full);
    } else {
        sub = full;
    }
    int n_val = 0;
    if (!rc && cfg->val_fraction > 0) {
        n_val = (int)llround(cfg->val_fraction * sub.n);
        if (n_val < 1) n_val = 1;
        if (n_val >= sub.n)
            rc = failf(err, -EINVAL, "--val-fraction %g of %d images leaves none for training",
                       cfg->val_fraction, sub.n);
    }
    if (!rc && n_val) {
        rc = jg_data_split(&p->train, &p->val, &sub, n_val, cfg->split_seed, err);
        jg_dataset_free(&sub);
    } else if (!rc) {
        p->train = sub;
        memset(&sub, 0, sizeof sub);
    }
    jg_dataset_free(&sub);
    if (!rc && !cfg->given_norm) rc = jg_dataset_stats(p->mean, p->std, &p->train);
    if (!rc) rc = jg_dataset_normalize(&p->train, p->mean, p->std);
    if (!rc && p->val.n) rc = jg_dataset_normalize(&p->val, p->mean, p->std);
    if (rc && err && !err->msg[0])
        failf(err, rc, "preparing the training data: %s", strerror(-rc));
    return rc;
}

/* The test split, checked against the training split when there is one. */
static int prepare_test(const jg_data_prep_config_t *cfg, jg_data_prepared_t *p,
                        jg_data_error_t *err)
{
    int rc = jg_data_load_source(&cfg->source, 0, &p->test, err);
    if (rc) return rc;
    const jg_dataset_t *tr = &p->train, *te = &p->test;
    if (cfg->train && (te->c != tr->c || te->h != tr->h || te->w != tr->w ||
                       te->classes != tr->classes))
        return failf(err, -EBADMSG, "test images are %dx%dx%d with %d classes, training images "
                     "%dx%dx%d with %d", te->c, te->h, te->w, te->classes, tr->c, tr->h, tr->w,
                     tr->classes);
    for (int k = 0; cfg->train && tr->class_names && te->class_names && k < tr->classes; k++)
        if (strcmp(tr->class_names[k], te->class_names[k]))
            return failf(err, -EBADMSG, "class %d is '%.200s' in the training data but "
                         "'%.200s' in the test data", k, tr->class_names[k],
                         te->class_names[k]);
    if (!cfg->train && te->c > JG_DATA_MAX_CHANNELS)
        return failf(err, -ENOTSUP, "%d channels; at most %d are supported", te->c,
                     JG_DATA_MAX_CHANNELS);
    if (cfg->test_limit > 0) jg_data_limit(&p->test, cfg->test_limit);
    rc = jg_dataset_normalize(&p->test, p->mean, p->std);
    if (rc) return failf(err, rc, "normalising the test data: %s", strerror(-rc));
    return 0;
}

int jg_data_prepare(const jg_data_prep_config_t *cfg, jg_data_prepared_t *out,
                    jg_data_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!out) return failf(err, -EINVAL, "no output");
    memset(out, 0, sizeof *out);
    if (!cfg || (!cfg->train && !cfg->test) || !(cfg->val_fraction >= 0) ||
        !(cfg->val_fraction < 1) || cfg->train_limit < 0 || cfg->test_limit < 0)
        return failf(err, -EINVAL, "bad data preparation settings");
    for (int c = 0; c < JG_DATA_MAX_CHANNELS; c++) {
        out->mean[c] = cfg->given_norm ? cfg->mean[c] : 0.0f;
        out->std[c] = cfg->given_norm ? cfg->std[c] : 1.0f;
    }
    int rc = cfg->train ? prepare_train(cfg, out, err) : 0;
    if (!rc && cfg->test) rc = prepare_test(cfg, out, err);
    if (rc) jg_data_prepared_free(out);
    return rc;
}
