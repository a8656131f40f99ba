/* SPDX-License-Identifier: MIT */
/*
 * cmd_eval.c - `joulegrad eval` (test-set accuracy of a checkpoint) and
 * `joulegrad predict` (top-3 classes of image files). Both rebuild the model
 * from the checkpoint and normalise inputs with the mean/std stored in it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "jg_kernels.h"
#include "jg_nn.h"

#define MAX_THREADS 1024
#define MAX_EVAL_BATCH 65536
#define TOP_K 3

/* Loads path into *ck and builds its model; prints the checkpoint module's
 * one-line message and returns 1 on failure. */
static int open_checkpoint(const char *prog, const char *path, jg_checkpoint_t *ck,
                           jg_model_t **model)
{
    jg_nn_error_t err = {{0}};
    int rc = jg_checkpoint_load(path, ck, &err);
    if (!rc) rc = jg_checkpoint_model(ck, model, &err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, err.msg[0] ? err.msg : strerror(-rc));
        return 1;
    }
    const jg_checkpoint_meta_t *m = &ck->meta;
    if (m->c < 1 || m->c > 4) {
        fprintf(stderr, "%s: %s: %d input channels (at most 4 supported)\n", prog, path, m->c);
        return 1;
    }
    for (int c = 0; c < m->c; c++)
        if (!(m->std[c] > 0.0f) || !isfinite(m->std[c]) || !isfinite(m->mean[c])) {
            fprintf(stderr, "%s: %s: bad normalisation for channel %d (mean %g, std %g)\n",
                    prog, path, c, (double)m->mean[c], (double)m->std[c]);
            return 1;
        }
    return 0;
}

static int set_threads(const char *prog, const char *text)
{
    long t;
    if (jg_cli_parse_int(text, 1, MAX_THREADS, &t)) {
        fprintf(stderr, "%s: --threads must be an integer in [1, %d], got '%s'\n", prog,
                MAX_THREADS, text);
        return 2;
    }
    return jg_cli_use_threads(prog, (int)t);
}

/* ------------------------------------------------------------------ */
/* eval                                                                */
/* ------------------------------------------------------------------ */

static void eval_usage(FILE *f)
{
    fprintf(f,
"usage: joulegrad eval --checkpoint FILE [options]\n"
"\n"
"Rebuilds the model stored in FILE, normalises the test set with the mean/std\n"
"stored in it and prints accuracy, loss and per-class accuracy. Batches are\n"
"the checkpoint's batch size, so the figures match the run's summary.json.\n"
"\n"
"  --checkpoint FILE   a checkpoint.jgc written by 'joulegrad train' (required)\n"
"  --data D            fashion-mnist, cifar10, folder or synthetic (default: the\n"
"                      dataset the checkpoint was trained on)\n"
"  --data-dir DIR      as for train (default for fashion-mnist: %s)\n"
"  --test-limit N      the first N test images (default: all)\n"
"  --threads T         kernel threads, 1..%d (default: OpenMP default)\n"
"  --json              print JSON instead of text\n",
            JG_DATA_FASHION_MNIST_DIR, MAX_THREADS);
}

int jg_cli_eval(int argc, char **argv)
{
    static const char *prog = "joulegrad eval";
    static const struct option opts[] = {
        {"checkpoint", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"data-dir", required_argument, NULL, 'D'},
        {"test-limit", required_argument, NULL, 'n'},
        {"threads", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (jg_cli_kernels_init(prog)) return 2;
    const char *path = NULL;
    jg_data_source_t data = {0};
    long limit = 0;
    int json = 0, rc;
    optind = 1;
    opterr = 0;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'd':
            if (!jg_data_source_known(optarg)) {
                fprintf(stderr, "%s: --data must be " JG_DATA_SOURCE_NAMES ", got '%s'\n", prog,
                        optarg);
                return 2;
            }
            data.name = optarg;
            break;
        case 'D': data.dir = optarg; break;
        case 'n':
            if (jg_cli_parse_int(optarg, 1, 2147483647L, &limit)) {
                fprintf(stderr, "%s: --test-limit must be an integer in [1, 2147483647], got "
                                "'%s'\n", prog, optarg);
                return 2;
            }
            break;
        case 't':
            if ((rc = set_threads(prog, optarg))) return rc;
            break;
        case 'j': json = 1; break;
        case 'h': eval_usage(stdout); return 0;
        default:
            fprintf(stderr, "%s: bad option '%s'; run '%s --help'\n", prog, argv[optind - 1],
                    prog);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'; run '%s --help'\n", prog, argv[optind],
                prog);
        return 2;
    }
    if (!path) {
        fprintf(stderr, "%s: --checkpoint FILE is required\n", prog);
        return 2;
    }

    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    jg_model_t *model = NULL;
    jg_dataset_t test = {0};
    jg_eval_t ev;
    memset(&ev, 0, sizeof ev);
    int exit_code = 1;
    if (open_checkpoint(prog, path, &ck, &model)) goto done;
    const jg_checkpoint_meta_t *m = &ck.meta;
    if (!data.name) {
        if (!jg_data_source_known(m->dataset)) {
            fprintf(stderr, "%s: the checkpoint's dataset '%.63s' is not one joulegrad loads: "
                            "pass --data\n", prog, m->dataset);
            exit_code = 2;
            goto done;
        }
        data.name = m->dataset;
    }
    data.c = m->c;
    data.h = m->h;
    data.w = m->w;
    jg_data_error_t derr = {{0}};
    rc = jg_data_load_source(&data, 0, &test, &derr);
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, derr.msg);
        exit_code = rc == -EINVAL ? 2 : 1;
        goto done;
    }
    if (test.c != m->c || test.h != m->h || test.w != m->w || test.classes != m->classes) {
        fprintf(stderr, "%s: the test images are %dx%dx%d with %d classes but the checkpoint "
                        "expects %dx%dx%d with %d\n", prog, test.c, test.h, test.w, test.classes,
                m->c, m->h, m->w, m->classes);
        goto done;
    }
    if (limit) jg_data_limit(&test, (int)limit);
    jg_dataset_normalize(&test, m->mean, m->std);
    int batch = m->batch < 1 ? 1 : m->batch > MAX_EVAL_BATCH ? MAX_EVAL_BATCH : m->batch;
    if (batch > test.n) batch = test.n;
    rc = jg_model_reserve(model, batch);
    const jg_nn_data_t tv = jg_cli_data_view(&test);
    if (!rc) rc = jg_evaluate(model, &tv, &ev);
    if (rc) {
        fprintf(stderr, "%s: evaluating %s: %s\n", prog, path, strerror(-rc));
        goto done;
    }
    const char *const *names = test.class_names ? (const char *const *)test.class_names
                                                : jg_data_standard_class_names(data.name, test.classes);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "checkpoint", path);
        cJSON_AddStringToObject(root, "spec", m->spec);
        cJSON *d = cJSON_AddObjectToObject(root, "data");
        cJSON_AddStringToObject(d, "name", data.name);
        cJSON_AddStringToObject(d, "dir", jg_data_source_dir(&data));
        cJSON_AddNumberToObject(root, "test_images", test.n);
        jg_cli_eval_json(root, &ev, names);
        cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
        cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
        char *text = cJSON_Print(root);
        cJSON_Delete(root);
        if (!text) goto done;
        puts(text);
        free(text);
    } else {
        printf("checkpoint %s: %s, trained %d epochs on %s\n", path, m->spec,
               m->state.epochs_done, m->dataset);
        jg_cli_print_eval(stdout, &ev, names);
    }
    exit_code = 0;
done:
    jg_eval_free(&ev);
    jg_dataset_free(&test);
    jg_model_destroy(model);
    jg_checkpoint_free(&ck);
    return exit_code;
}

/* ------------------------------------------------------------------ */
/* predict                                                             */
/* ------------------------------------------------------------------ */

static void predict_usage(FILE *f)
{
    fputs("usage: joulegrad predict --checkpoint FILE IMAGE...\n"
          "\n"
          "Decodes each image (PNG, JPEG, BMP, ... via stb_image), converts it to the\n"
          "checkpoint's channels and size, normalises it with the stored mean/std and\n"
          "prints the top 3 classes with their softmax probabilities.\n"
          "\n"
          "  --checkpoint FILE   a checkpoint.jgc written by 'joulegrad train' (required)\n"
          "  --help              this text\n",
          f);
}

int jg_cli_predict(int argc, char **argv)
{
    static const char *prog = "joulegrad predict";
    static const struct option opts[] = {
        {"checkpoint", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (jg_cli_kernels_init(prog)) return 2;
    const char *path = NULL;
    optind = 1;
    opterr = 0;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (o == 'c') {
            path = optarg;
        } else if (o == 'h') {
            predict_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "%s: bad option '%s'; run '%s --help'\n", prog, argv[optind - 1],
                    prog);
            return 2;
        }
    }
    if (!path || optind >= argc) {
        fprintf(stderr, "%s: needs --checkpoint FILE and at least one IMAGE\n", prog);
        return 2;
    }

    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    jg_model_t *model = NULL;
    float *x = NULL;
    int exit_code = 1;
    if (open_checkpoint(prog, path, &ck, &model)) goto done;
    const jg_checkpoint_meta_t *m = &ck.meta;
    if (m->c != 1 && m->c != 3) {
        fprintf(stderr, "%s: %s: %d input channels; images load as 1 or 3\n", prog, path, m->c);
        goto done;
    }
    const size_t hw = (size_t)m->h * (size_t)m->w;
    x = malloc((size_t)m->c * hw * sizeof *x);  // (1, C, H, W)
    int rc = x ? jg_model_reserve(model, 1) : -ENOMEM;
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, strerror(-rc));
        goto done;
    }
    const char *const *names = jg_data_standard_class_names(m->dataset, m->classes);
    for (int i = optind; i < argc; i++) {
        jg_data_error_t derr = {{0}};
        rc = jg_data_load_image(argv[i], m->c, m->h, m->w, x, &derr);
        if (rc) {
            fprintf(stderr, "%s: %s\n", prog, derr.msg);
            goto done;
        }
        for (int c = 0; c < m->c; c++)
            for (size_t p = 0; p < hw; p++)
                x[(size_t)c * hw + p] = (x[(size_t)c * hw + p] - m->mean[c]) / m->std[c];
        const float *logits = NULL;  // (1, classes)
        rc = jg_model_forward(model, x, 1, 0, &logits);
        if (rc) {
            fprintf(stderr, "%s: %s: forward pass failed: %s\n", prog, argv[i], strerror(-rc));
            goto done;
        }
        // Softmax in double, max-shifted.
        double mx = logits[0], sum = 0;
        for (int k = 1; k < m->classes; k++) mx = logits[k] > mx ? logits[k] : mx;
        for (int k = 0; k < m->classes; k++) sum += exp((double)logits[k] - mx);
        int top[TOP_K];
        const int nk = m->classes < TOP_K ? m->classes : TOP_K;
        for (int t = 0; t < nk; t++) {
            top[t] = -1;
            for (int k = 0; k < m->classes; k++) {
                int taken = 0;
                for (int u = 0; u < t; u++) taken |= top[u] == k;
                if (!taken && (top[t] < 0 || logits[k] > logits[top[t]])) top[t] = k;
            }
        }
        printf("%s:", argv[i]);
        for (int t = 0; t < nk; t++) {
            char buf[32];
            printf("%s %s %.1f%%", t ? "," : "", jg_cli_class_name(names, top[t], buf, sizeof buf),
                   100.0 * exp((double)logits[top[t]] - mx) / sum);
        }
        printf("\n");
    }
    exit_code = 0;
done:
    free(x);
    jg_model_destroy(model);
    jg_checkpoint_free(&ck);
    return exit_code;
}
