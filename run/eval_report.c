/* SPDX-License-Identifier: MIT */
/* eval_report.c - an evaluation as text (accuracy, loss, per-class table) and
 * as JSON fields, shared by train, eval and the reproduction. */
#include <math.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "jg_run.h"

jg_nn_data_t jg_run_data_view(const jg_dataset_t *d)
{
    const jg_nn_data_t v = {d->n, d->c, d->h, d->w, d->classes, d->x, d->y};
    return v;
}

const char *jg_run_class_name(const char *const *names, int k, char *buf, size_t cap)
{
    if (names && names[k]) return names[k];
    snprintf(buf, cap, "class %d", k);
    return buf;
}

void jg_run_eval_text(jg_sbuf_t *out, const jg_eval_t *ev, const char *const *names)
{
    const int64_t correct = (int64_t)llround(ev->accuracy * ev->n);
    jg_sb_printf(out, "test accuracy %.2f%% (%lld/%d images), loss %.4f (mean cross-entropy)\n",
                 100.0 * ev->accuracy, (long long)correct, ev->n, ev->loss);
    jg_sb_printf(out, "  %-16s %9s %7s\n", "class", "accuracy", "images");
    for (int k = 0; k < ev->classes; k++) {
        char buf[32];
        int64_t row = 0;
        for (int j = 0; j < ev->classes; j++) row += ev->confusion[(size_t)k * ev->classes + j];
        const double a = ev->class_accuracy[k];
        if (isnan(a))
            jg_sb_printf(out, "  %-16s %9s %7lld\n", jg_run_class_name(names, k, buf, sizeof buf),
                         "-", (long long)row);
        else
            jg_sb_printf(out, "  %-16s %8.2f%% %7lld\n",
                         jg_run_class_name(names, k, buf, sizeof buf), 100.0 * a, (long long)row);
    }
}

void jg_run_eval_json(struct cJSON *obj, const jg_eval_t *ev, const char *const *names)
{
    cJSON_AddNumberToObject(obj, "test_accuracy", ev->accuracy);
    cJSON_AddNumberToObject(obj, "test_loss", ev->loss);
    cJSON *ca = cJSON_AddObjectToObject(obj, "class_accuracy");
    cJSON *conf = cJSON_AddArrayToObject(obj, "confusion");
    for (int k = 0; k < ev->classes; k++) {
        char buf[32];
        const char *name = jg_run_class_name(names, k, buf, sizeof buf);
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
