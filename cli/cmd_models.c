/* SPDX-License-Identifier: MIT */
/*
 * cmd_models.c - `joulegrad models [--json]`: every preset expanded for the
 * Fashion-MNIST input (1x28x28, 10 classes) with its parameter count and
 * forward FLOPs per image.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "jg_common.h"
#include "jg_nn.h"

#define IN_C 1
#define IN_H 28
#define IN_W 28
#define IN_CLASSES 10

static void usage(FILE *f)
{
    fputs("usage: joulegrad models [--json]\n"
          "\n"
          "Lists the model presets accepted by 'joulegrad train --model NAME' with\n"
          "their spec expanded for Fashion-MNIST input (1x28x28, 10 classes), the\n"
          "trainable parameter count and the FLOPs of one training-mode forward\n"
          "pass per image (loss included; docs/model-spec.md).\n"
          "\n"
          "  --json   print JSON instead of a table\n",
          f);
}

int jg_cli_models(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0;
    optind = 1;
    opterr = 0;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (o == 'j') {
            json = 1;
        } else if (o == 'h') {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "joulegrad models: bad option '%s'; run 'joulegrad models --help'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulegrad models: unexpected argument '%s'; run 'joulegrad models "
                        "--help'\n", argv[optind]);
        return 2;
    }

    int n = 0;
    const jg_nn_preset_t *presets = jg_nn_presets(&n);
    cJSON *root = json ? cJSON_CreateObject() : NULL;
    cJSON *list = NULL;
    if (json) {
        cJSON *in = cJSON_AddObjectToObject(root, "input");
        cJSON_AddNumberToObject(in, "c", IN_C);
        cJSON_AddNumberToObject(in, "h", IN_H);
        cJSON_AddNumberToObject(in, "w", IN_W);
        cJSON_AddNumberToObject(in, "classes", IN_CLASSES);
        list = cJSON_AddArrayToObject(root, "models");
    } else {
        printf("presets for input 1x28x28, 10 classes (Fashion-MNIST); FLOPs: one training "
               "forward per image, loss included\n");
        printf("%-24s %10s %12s  %s\n", "name", "params", "fwd MFLOP", "spec");
    }
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char spec[4096];
        jg_nn_error_t err = {{0}};
        jg_model_t *m = NULL;
        int e = jg_nn_preset_expand(presets[i].name, IN_C, IN_H, IN_W, IN_CLASSES, spec,
                                    sizeof spec, &err);
        if (!e) e = jg_model_create(&m, spec, IN_C, IN_H, IN_W, IN_CLASSES, 1, &err);
        if (e) {
            fprintf(stderr, "joulegrad models: preset %s: %s\n", presets[i].name, err.msg);
            rc = 1;
            continue;
        }
        const int64_t params = jg_model_n_params(m);
        const double flops = jg_model_fwd_flops(m);
        jg_model_destroy(m);
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "name", presets[i].name);
            cJSON_AddStringToObject(o, "parameters_accepted", presets[i].params);
            cJSON_AddStringToObject(o, "description", presets[i].description);
            cJSON_AddStringToObject(o, "spec", spec);
            cJSON_AddNumberToObject(o, "params", (double)params);
            cJSON_AddNumberToObject(o, "forward_flops_per_image", flops);
            cJSON_AddItemToArray(list, o);
        } else {
            printf("%-24s %10lld %12.3f  %s\n", presets[i].name, (long long)params, flops * 1e-6,
                   spec);
            if (presets[i].params[0])
                printf("%-24s %10s %12s  (parameters: %s)\n", "", "", "", presets[i].params);
        }
    }
    if (json) {
        char *text = cJSON_Print(root);
        jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
        if (text) puts(text);
        else rc = 1;
        free(text);
        cJSON_Delete(root);
    }
    return rc;
}
