/* SPDX-License-Identifier: MIT */
/*
 * cmd_eval.c - `joulegrad eval` (test-set accuracy of a checkpoint,
 * jg_run_eval) and `joulegrad predict` (top-3 classes of image files,
 * jg_run_predict).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "cli_util.h"
#include "flags.h"
#include "jg_kernels.h"
#include "jg_run.h"

static int set_threads(const char *prog, const char *text)
{
    long t;
    if (jg_cli_parse_int(text, 1, JG_CLI_MAX_THREADS, &t)) {
        fprintf(stderr, "%s: --threads must be an integer in [1, %d], got '%s'\n", prog,
                JG_CLI_MAX_THREADS, text);
        return 2;
    }
    return jg_cli_use_threads(prog, (int)t);
}

/* The class names to show: the data's, else the dataset's standard ones. */
static const char *const *names_of(char **names, const char *dataset, int classes)
{
    return names ? (const char *const *)names : jg_data_standard_class_names(dataset, classes);
}

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
            JG_DATA_FASHION_MNIST_DIR, JG_CLI_MAX_THREADS);
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


    const jg_run_eval_config_t cfg = {.checkpoint = path, .data = data, .test_limit = (int)limit};
    jg_run_eval_result_t res;
    jg_run_error_t err = {{0}};
    rc = jg_run_eval(&cfg, &res, &err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        jg_run_eval_result_free(&res);
        return jg_cli_exit_code(rc);
    }
    const jg_checkpoint_meta_t *m = &res.ck.meta;
    const char *const *names = m->class_names ? m->class_names
                               : names_of(res.class_names, res.data.name, res.eval.classes);
    int exit_code = 0;
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "checkpoint", path);
        cJSON_AddStringToObject(root, "spec", m->spec);
        cJSON *d = cJSON_AddObjectToObject(root, "data");
        cJSON_AddStringToObject(d, "name", res.data.name);
        cJSON_AddStringToObject(d, "dir", jg_data_source_dir(&res.data));
        cJSON_AddNumberToObject(root, "test_images", res.n_test);
        jg_run_eval_json(root, &res.eval, names);
        cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
        cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
        char *text = cJSON_Print(root);
        jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
        cJSON_Delete(root);
        if (text) puts(text);
        else exit_code = 1;
        free(text);
    } else {
        printf("checkpoint %s: %s, trained %d epoch%s on %s\n", path, m->spec,
               m->state.epochs_done, m->state.epochs_done == 1 ? "" : "s", m->dataset);
        jg_sbuf_t b = {0};
        jg_run_eval_text(&b, &res.eval, names);
        if (b.p) fputs(b.p, stdout);
        free(b.p);
    }
    jg_run_eval_result_free(&res);
    return exit_code;
}

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
    jg_model_t *model = NULL;
    jg_run_error_t err = {{0}};
    int rc = jg_run_open_checkpoint(path, &ck, &model, &err);
    if (!rc && (rc = jg_model_reserve(model, 1)))
        snprintf(err.msg, sizeof err.msg, "%s", strerror(-rc));
    // The checkpoint's own names (v2), else the dataset's standard ones.
    const char *const *names = ck.meta.class_names ? ck.meta.class_names
                               : names_of(NULL, ck.meta.dataset, ck.meta.classes);
    for (int i = optind; !rc && i < argc; i++) {
        jg_run_top_t top;
        rc = jg_run_predict(model, &ck, argv[i], &top, &err);
        if (rc) break;
        printf("%s:", argv[i]);
        for (int t = 0; t < top.n; t++) {
            char buf[32];
            printf("%s %s %.1f%%", t ? "," : "", jg_run_class_name(names, top.cls[t], buf, sizeof buf),
                   100.0 * top.p[t]);
        }
        printf("\n");
    }
    if (rc) fprintf(stderr, "%s: %s\n", prog, err.msg);
    jg_model_destroy(model);
    jg_checkpoint_free(&ck);
    return rc ? 1 : 0;
}
