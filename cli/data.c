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

int jg_cli_flag_data(const char *prog, const char *text, jg_data_source_t *d)
{
    d->name = text;
    if (jg_data_source_known(text)) return 0;
    fprintf(stderr, "%s: --data must be " JG_DATA_SOURCE_NAMES ", got '%s'\n", prog, text);
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
