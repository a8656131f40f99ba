/* SPDX-License-Identifier: MIT */
/* data.c - which dataset a command reads, seeded subsets, class names and
 * the evaluation report shared by train and eval. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "jg_kernels.h"

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};
static const char *const cifar_names[10] = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
};

int jg_cli_data_known(const char *name)
{
    return name && (!strcmp(name, "fashion-mnist") || !strcmp(name, "cifar10") ||
                    !strcmp(name, "folder") || !strcmp(name, "synthetic"));
}

int jg_cli_parse_int(const char *s, long lo, long hi, long *v)
{
    char *end = NULL;
    errno = 0;
    const long x = strtol(s, &end, 10);
    if (errno == ERANGE) return -ERANGE;
    if (errno || end == s || *end) return -EINVAL;
    if (x < lo || x > hi) return -ERANGE;
    *v = x;
    return 0;
}

int jg_cli_flag_int(const char *prog, const char *flag, const char *text, long lo, long hi,
                    int *v)
{
    long x;
    if (jg_cli_parse_int(text, lo, hi, &x)) {
        fprintf(stderr, "%s: %s must be an integer in [%ld, %ld], got '%s'\n", prog, flag, lo,
                hi, text);
        return 2;
    }
    *v = (int)x;
    return 0;
}

int jg_cli_kernels_init(const char *prog)
{
    if (!jg_kernels_init()) return 0;
    fprintf(stderr, "%s: JOULEGRAD_ISA is invalid or unsupported here (expected ref, avx2, "
                    "avx512 or neon, as 'joulegrad info' lists)\n", prog);
    return 2;
}

int jg_cli_use_threads(const char *prog, int n)
{
    const int e = jg_kernels_set_threads(n);
    if (!e) return 0;
    fprintf(stderr, "%s: --threads %d: %s\n", prog, n,
            e == -ENOTSUP ? "not built with OpenMP (only 1 thread)" : strerror(-e));
    return 2;
}

int jg_cli_flag_seed(const char *prog, const char *text, uint64_t *seed)
{
    double d;
    if (jg_cli_parse_double(text, 0, JG_CLI_SEED_MAX, &d) || d != floor(d) ||
        strpbrk(text, ".eExX")) {
        fprintf(stderr, "%s: --seed must be an integer in [0, 2^53], got '%s'\n", prog, text);
        return 2;
    }
    *seed = (uint64_t)d;
    return 0;
}

int jg_cli_flag_data(const char *prog, const char *text, jg_cli_data_t *d)
{
    d->name = text;
    if (jg_cli_data_known(text)) return 0;
    fprintf(stderr, "%s: --data must be " JG_CLI_DATA_NAMES ", got '%s'\n", prog, text);
    return 2;
}

int jg_cli_flag_energy(const char *prog, const char *text, jg_energy_mode_t *mode)
{
    if (!jg_energy_mode_parse(text, mode)) return 0;
    fprintf(stderr, "%s: --energy must be auto, rapl, estimate or off, got '%s'\n", prog, text);
    return 2;
}

jg_nn_data_t jg_cli_data_view(const jg_dataset_t *d)
{
    const jg_nn_data_t v = {d->n, d->c, d->h, d->w, d->classes, d->x, d->y};
    return v;
}

int jg_cli_option_error(const char *prog, char *const *argv, int needs_value)
{
    fprintf(stderr, needs_value ? "%s: %s needs a value; run '%s --help'\n"
                                : "%s: unknown option '%s'; run '%s --help'\n",
            prog, argv[optind - 1], prog);
    return 2;
}

int jg_cli_flag_choice(const char *prog, const char *flag, const char *text,
                       const char *const *choices, int *index)
{
    int n = 0;
    while (choices[n] && strcmp(choices[n], text)) n++;
    if (choices[n]) {
        *index = n;
        return 0;
    }
    fprintf(stderr, "%s: %s must be ", prog, flag);
    for (int k = 0; choices[k]; k++)
        fprintf(stderr, "%s%s", k == 0 ? "" : choices[k + 1] ? ", " : " or ", choices[k]);
    fprintf(stderr, ", got '%s'\n", text);
    return 2;
}

int jg_cli_flag_watts(const char *prog, const char *flag, const char *text, int zero_ok,
                      double *w)
{
    if (!jg_cli_parse_double(text, 0, 1e6, w) && (zero_ok || *w > 0)) return 0;
    fprintf(stderr, "%s: %s must be a number of watts in %s0, 1e6], got '%s'\n", prog, flag,
            zero_ok ? "[" : "(", text);
    return 2;
}

int jg_cli_parse_double(const char *s, double lo, double hi, double *v)
{
    char *end = NULL;
    errno = 0;
    const double x = strtod(s, &end);
    if (errno == ERANGE) return -ERANGE;
    if (errno || end == s || *end || !isfinite(x)) return -EINVAL;
    if (x < lo || x > hi) return -ERANGE;
    *v = x;
    return 0;
}

int jg_cli_parse_size(const char *s, int *h, int *w)
{
    const char *x = strchr(s, 'x');
    if (!x || x == s || strchr(x + 1, 'x')) return -EINVAL;
    char hs[32];
    const size_t n = (size_t)(x - s);
    if (n >= sizeof hs) return -EINVAL;
    memcpy(hs, s, n);
    hs[n] = '\0';
    long hv, wv;
    if (jg_cli_parse_int(hs, 1, JG_CLI_MAX_SIDE, &hv) ||
        jg_cli_parse_int(x + 1, 1, JG_CLI_MAX_SIDE, &wv))
        return -EINVAL;
    *h = (int)hv;
    *w = (int)wv;
    return 0;
}

const char *jg_cli_data_dir(const jg_cli_data_t *d)
{
    if (!strcmp(d->name, "synthetic")) return "";
    if (d->dir) return d->dir;
    return strcmp(d->name, "fashion-mnist") ? "" : JG_DATA_FASHION_MNIST_DIR;
}

static int load_split(const jg_cli_data_t *d, int train, jg_dataset_t *out,
                      jg_data_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (!strcmp(d->name, "fashion-mnist")) {
        const int rc = jg_data_fashion_mnist(d->dir, train, out, err);
        // The loader's hint says "pass a data dir"; name the flag that does.
        const size_t n = strlen(err->msg);
        if (rc == -ENOENT && n + 20 < sizeof err->msg)
            snprintf(err->msg + n, sizeof err->msg - n, " (--data-dir DIR)");
        return rc;
    }
    if (!strcmp(d->name, "synthetic"))
        return jg_data_synthetic(train ? JG_CLI_SYN_TRAIN : JG_CLI_SYN_TEST, d->c ? d->c : 1,
                                 d->h ? d->h : 28, d->w ? d->w : 28, JG_CLI_SYN_CLASSES,
                                 train ? JG_CLI_SYN_SEED_TRAIN : JG_CLI_SYN_SEED_TEST, out, err);
    if (!d->dir) {
        snprintf(err->msg, sizeof err->msg,
                 "--data %s needs --data-dir DIR (%s)", d->name,
                 strcmp(d->name, "cifar10") ? "holding train/<class>/<image> and "
                                              "test/<class>/<image>"
                                            : "holding data_batch_1..5.bin and test_batch.bin");
        return -EINVAL;
    }
    if (!strcmp(d->name, "cifar10")) return jg_data_load_cifar10(d->dir, train, out, err);
    if (!strcmp(d->name, "folder")) {
        char sub[4096];
        const int k = snprintf(sub, sizeof sub, "%s/%s", d->dir, train ? "train" : "test");
        if (k < 0 || (size_t)k >= sizeof sub) {
            snprintf(err->msg, sizeof err->msg, "--data-dir: path too long");
            return -ENAMETOOLONG;
        }
        return jg_data_load_image_folder(sub, d->c ? d->c : 3, d->h, d->w, out, err);
    }
    snprintf(err->msg, sizeof err->msg, "unknown dataset '%s' (expected %s)", d->name,
             JG_CLI_DATA_NAMES);
    return -EINVAL;
}

int jg_cli_data_load(const jg_cli_data_t *d, int train, jg_dataset_t *out,
                     jg_data_error_t *err)
{
    const int rc = load_split(d, train, out, err);
    // Checkpoints keep a mean/std per channel for at most 4 channels.
    if (rc == 0 && train && out->c > 4) {
        snprintf(err->msg, sizeof err->msg, "%d channels; at most 4 are supported", out->c);
        jg_dataset_free(out);
        return -ENOTSUP;
    }
    return rc;
}

int jg_cli_random_subset(jg_dataset_t *out, jg_dataset_t *src, int n, uint64_t seed,
                         jg_data_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (n < 0 || n > src->n) return -EINVAL;
    int32_t *perm = malloc((size_t)(src->n ? src->n : 1) * sizeof *perm);  // (N)
    if (!perm) return -ENOMEM;
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

const char *const *jg_cli_known_class_names(const char *dataset, int classes)
{
    if (classes != 10 || !dataset) return NULL;
    if (!strcmp(dataset, "fashion-mnist")) return fashion_names;
    if (!strcmp(dataset, "cifar10")) return cifar_names;
    return NULL;
}

const char *jg_cli_class_name(const char *const *names, int k, char *buf, size_t cap)
{
    if (names && names[k]) return names[k];
    snprintf(buf, cap, "class %d", k);
    return buf;
}

void jg_cli_print_eval(FILE *f, const jg_eval_t *ev, const char *const *names)
{
    const int64_t correct = (int64_t)llround(ev->accuracy * ev->n);
    fprintf(f, "test accuracy %.2f%% (%lld/%d images), loss %.4f (mean cross-entropy)\n",
            100.0 * ev->accuracy, (long long)correct, ev->n, ev->loss);
    fprintf(f, "  %-16s %9s %7s\n", "class", "accuracy", "images");
    for (int k = 0; k < ev->classes; k++) {
        char buf[32];
        int64_t row = 0;
        for (int j = 0; j < ev->classes; j++) row += ev->confusion[(size_t)k * ev->classes + j];
        const double a = ev->class_accuracy[k];
        if (isnan(a))
            fprintf(f, "  %-16s %9s %7lld\n", jg_cli_class_name(names, k, buf, sizeof buf), "-",
                    (long long)row);
        else
            fprintf(f, "  %-16s %8.2f%% %7lld\n", jg_cli_class_name(names, k, buf, sizeof buf),
                    100.0 * a, (long long)row);
    }
}

void jg_cli_eval_json(cJSON *obj, const jg_eval_t *ev, const char *const *names)
{
    cJSON_AddNumberToObject(obj, "test_accuracy", ev->accuracy);
    cJSON_AddNumberToObject(obj, "test_loss", ev->loss);
    cJSON *ca = cJSON_AddObjectToObject(obj, "class_accuracy");
    cJSON *conf = cJSON_AddArrayToObject(obj, "confusion");
    for (int k = 0; k < ev->classes; k++) {
        char buf[32];
        const char *name = jg_cli_class_name(names, k, buf, sizeof buf);
        if (isnan(ev->class_accuracy[k]))
            cJSON_AddNullToObject(ca, name);
        else
            cJSON_AddNumberToObject(ca, name, ev->class_accuracy[k]);
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; j < ev->classes; j++)
            cJSON_AddItemToArray(
                row, cJSON_CreateNumber((double)ev->confusion[(size_t)k * ev->classes + j]));
        cJSON_AddItemToArray(conf, row);
    }
}
