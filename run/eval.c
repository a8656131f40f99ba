/* SPDX-License-Identifier: MIT */
/* eval.c - a checkpoint's test accuracy (jg_run_eval) and the top classes of
 * image files (jg_run_predict). Both rebuild the model from the checkpoint
 * and normalise inputs with the mean/std stored in it. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_run.h"
#include "run_internal.h"

/* Evaluation batches: the run's batch size, within these bounds. */
#define MAX_EVAL_BATCH 65536

int jg_run_open_checkpoint(const char *path, jg_checkpoint_t *ck, jg_model_t **model,
                           jg_run_error_t *err)
{
    jg_nn_error_t nerr = {{0}};
    memset(ck, 0, sizeof *ck);
    *model = NULL;
    int rc = jg_checkpoint_load(path, ck, &nerr);
    if (!rc) rc = jg_checkpoint_model(ck, model, &nerr);
    if (rc) return jg_run_fail(err, rc == -EINVAL ? -EBADMSG : rc, "%s",
                        nerr.msg[0] ? nerr.msg : strerror(-rc));
    const jg_checkpoint_meta_t *m = &ck->meta;
    if (m->c < 1 || m->c > JG_DATA_MAX_CHANNELS)
        return jg_run_fail(err, -EBADMSG, "%s: %d input channels (at most %d supported)", path, m->c,
                    JG_DATA_MAX_CHANNELS);
    for (int c = 0; c < m->c; c++)
        if (!(m->std[c] > 0.0f) || !isfinite(m->std[c]) || !isfinite(m->mean[c]))
            return jg_run_fail(err, -EBADMSG, "%s: bad normalisation for channel %d (mean %g, std %g)",
                        path, c, (double)m->mean[c], (double)m->std[c]);
    return 0;
}

int jg_run_eval(const jg_run_eval_config_t *cfg, jg_run_eval_result_t *res, jg_run_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!res) return jg_run_fail(err, -EINVAL, "no result");
    memset(res, 0, sizeof *res);
    if (!cfg || !cfg->checkpoint || cfg->test_limit < 0)
        return jg_run_fail(err, -EINVAL, "bad evaluation settings");
    jg_model_t *model = NULL;
    jg_data_prepared_t dp;
    memset(&dp, 0, sizeof dp);
    int rc = jg_run_open_checkpoint(cfg->checkpoint, &res->ck, &model, err);
    if (rc) goto done;
    const jg_checkpoint_meta_t *m = &res->ck.meta;
    res->data = cfg->data;
    if (!res->data.name) {
        if (!jg_data_source_known(m->dataset)) {
            rc = jg_run_fail(err, -EINVAL, "the checkpoint's dataset '%.63s' is not one joulegrad "
                      "loads: pass --data", m->dataset);
            goto done;
        }
        res->data.name = m->dataset;
    }
    res->data.c = m->c;
    res->data.h = m->h;
    res->data.w = m->w;
    jg_data_prep_config_t dcfg = {
        .source = res->data, .test = 1, .test_limit = cfg->test_limit, .given_norm = 1,
    };
    memcpy(dcfg.mean, m->mean, sizeof dcfg.mean);
    memcpy(dcfg.std, m->std, sizeof dcfg.std);
    jg_data_error_t derr = {{0}};
    rc = jg_data_prepare(&dcfg, &dp, &derr);
    if (rc) {
        jg_run_fail(err, rc, "%s", derr.msg);
        goto done;
    }
    const jg_dataset_t *test = &dp.test;
    if (test->c != m->c || test->h != m->h || test->w != m->w || test->classes != m->classes) {
        rc = jg_run_fail(err, -EBADMSG, "the test images are %dx%dx%d with %d classes but the "
                  "checkpoint expects %dx%dx%d with %d", test->c, test->h, test->w,
                  test->classes, m->c, m->h, m->w, m->classes);
        goto done;
    }
    // A model knows the classes it was trained on: data with other classes
    // would give an accuracy of nothing.
    jg_nn_error_t nerr = {{0}};
    rc = jg_nn_class_names_compare(m->class_names, m->classes, "the checkpoint",
                                   (const char *const *)test->class_names, test->classes,
                                   "the data", &nerr);
    if (rc) {
        rc = jg_run_fail(err, -EBADMSG, "%s; evaluate on data with the same classes", nerr.msg);
        goto done;
    }
    res->n_test = test->n;
    int batch = m->batch < 1 ? 1 : m->batch > MAX_EVAL_BATCH ? MAX_EVAL_BATCH : m->batch;
    if (batch > test->n) batch = test->n;
    rc = jg_model_reserve(model, batch);
    const jg_nn_data_t tv = jg_run_data_view(test);
    if (!rc) rc = jg_evaluate(model, &tv, &res->eval);
    if (rc) {
        jg_run_fail(err, rc, "evaluating %s: %s", cfg->checkpoint, strerror(-rc));
        goto done;
    }
    res->class_names = dp.test.class_names;
    dp.test.class_names = NULL;
done:
    jg_model_destroy(model);
    jg_data_prepared_free(&dp);
    return rc;
}

void jg_run_eval_result_free(jg_run_eval_result_t *res)
{
    if (!res) return;
    for (int k = 0; res->class_names && k < res->eval.classes; k++) free(res->class_names[k]);
    free(res->class_names);
    res->class_names = NULL;
    jg_eval_free(&res->eval);
    jg_checkpoint_free(&res->ck);
}

int jg_run_predict(jg_model_t *model, const jg_checkpoint_t *ck, const char *image,
                   jg_run_top_t *top, jg_run_error_t *err)
{
    const jg_checkpoint_meta_t *m = &ck->meta;
    if (!model || !image || !top || m->classes < 1)
        return jg_run_fail(err, -EINVAL, "bad prediction arguments");
    if (m->c != 1 && m->c != 3)
        return jg_run_fail(err, -EINVAL, "%d input channels; images load as 1 or 3", m->c);
    const size_t hw = (size_t)m->h * (size_t)m->w;
    float *x = malloc((size_t)m->c * hw * sizeof *x); // (1, C, H, W)
    if (!x) return jg_run_fail(err, -ENOMEM, "out of memory for a %dx%dx%d image", m->c, m->h, m->w);
    jg_data_error_t derr = {{0}};
    int rc = jg_data_load_image(image, m->c, m->h, m->w, x, &derr);
    if (rc) {
        free(x);
        return jg_run_fail(err, rc, "%s", derr.msg);
    }
    for (int c = 0; c < m->c; c++)
        for (size_t p = 0; p < hw; p++)
            x[(size_t)c * hw + p] = (x[(size_t)c * hw + p] - m->mean[c]) / m->std[c];
    const float *logits = NULL; // (1, classes)
    rc = jg_model_forward(model, x, 1, 0, &logits);
    free(x);
    if (rc) return jg_run_fail(err, rc, "%s: forward pass failed: %s", image, strerror(-rc));
    // Softmax in double, max-shifted.
    double mx = logits[0], sum = 0;
    for (int k = 1; k < m->classes; k++) mx = logits[k] > mx ? logits[k] : mx;
    for (int k = 0; k < m->classes; k++) sum += exp((double)logits[k] - mx);
    top->n = m->classes < JG_RUN_TOP_K ? m->classes : JG_RUN_TOP_K;
    for (int t = 0; t < top->n; t++) {
        top->cls[t] = -1;
        for (int k = 0; k < m->classes; k++) {
            int taken = 0;
            for (int u = 0; u < t; u++) taken |= top->cls[u] == k;
            if (!taken && (top->cls[t] < 0 || logits[k] > logits[top->cls[t]])) top->cls[t] = k;
        }
        top->p[t] = exp((double)logits[top->cls[t]] - mx) / sum;
    }
    return 0;
}
