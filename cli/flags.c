/* SPDX-License-Identifier: MIT */
/* flags.c - the shared flag table (flags.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "flags.h"

static const struct option shared[] = {
    {"model", required_argument, NULL, JG_F_MODEL},
    {"epochs", required_argument, NULL, JG_F_EPOCHS},
    {"batch", required_argument, NULL, JG_F_BATCH},
    {"seed", required_argument, NULL, JG_F_SEED},
    {"threads", required_argument, NULL, JG_F_THREADS},
    {"data", required_argument, NULL, JG_F_DATA},
    {"data-dir", required_argument, NULL, JG_F_DATA_DIR},
    {"image-size", required_argument, NULL, JG_F_IMAGE_SIZE},
    {"channels", required_argument, NULL, JG_F_CHANNELS},
    {"train-limit", required_argument, NULL, JG_F_TRAIN_LIMIT},
    {"test-limit", required_argument, NULL, JG_F_TEST_LIMIT},
    {"val-fraction", required_argument, NULL, JG_F_VAL_FRACTION},
    {"energy", required_argument, NULL, JG_F_ENERGY},
    {"assume-watts", required_argument, NULL, JG_F_ASSUME_WATTS},
    {"optimizer", required_argument, NULL, JG_F_OPTIMIZER},
};

int jg_cli_flags_table(struct option *opts, int cap, unsigned mask, const struct option *own)
{
    int n = 0;
    for (size_t i = 0; i < sizeof shared / sizeof *shared; i++) {
        if (!(mask & JG_F(shared[i].val))) continue;
        if (n >= cap - 1) return -ENOSPC;
        opts[n++] = shared[i];
    }
    for (; own && own->name; own++) {
        if (n >= cap - 1) return -ENOSPC;
        opts[n++] = *own;
    }
    memset(&opts[n], 0, sizeof *opts);
    return 0;
}

int jg_cli_flags_parse(const char *prog, int c, const char *arg, jg_cli_run_flags_t *f)
{
    if (c < JG_F_MODEL || c >= JG_F_END) return -1;
    f->given |= JG_F(c);
    long l;
    int k;
    switch (c) {
    case JG_F_MODEL: f->model = arg; return 0;
    case JG_F_EPOCHS: return jg_cli_flag_int(prog, "--epochs", arg, 1, JG_CLI_MAX_EPOCHS, &f->epochs);
    case JG_F_BATCH: return jg_cli_flag_int(prog, "--batch", arg, 1, JG_CLI_MAX_BATCH, &f->batch);
    case JG_F_SEED: return jg_cli_flag_seed(prog, arg, &f->seed);
    case JG_F_THREADS:
        return jg_cli_flag_int(prog, "--threads", arg, 1, JG_CLI_MAX_THREADS, &f->threads);
    case JG_F_DATA: return jg_cli_flag_data(prog, arg, &f->data);
    case JG_F_DATA_DIR: f->data.dir = arg; return 0;
    case JG_F_IMAGE_SIZE:
        if (!jg_cli_parse_size(arg, &f->data.h, &f->data.w)) return 0;
        fprintf(stderr, "%s: --image-size must be HxW with sides in [1, %d], got '%s'\n", prog,
                JG_CLI_MAX_SIDE, arg);
        return 2;
    case JG_F_CHANNELS:
        if (!jg_cli_parse_int(arg, 1, 3, &l) && l != 2) {
            f->data.c = (int)l;
            return 0;
        }
        fprintf(stderr, "%s: --channels must be 1 or 3, got '%s'\n", prog, arg);
        return 2;
    case JG_F_TRAIN_LIMIT:
        return jg_cli_flag_int(prog, "--train-limit", arg, 1, 2147483647L, &f->train_limit);
    case JG_F_TEST_LIMIT:
        return jg_cli_flag_int(prog, "--test-limit", arg, 1, 2147483647L, &f->test_limit);
    case JG_F_VAL_FRACTION:
        if (!jg_cli_parse_double(arg, 0, 1, &f->val_fraction) && f->val_fraction < 1) return 0;
        fprintf(stderr, "%s: --val-fraction must be a number in [0, 1), got '%s'\n", prog, arg);
        return 2;
    case JG_F_ENERGY: return jg_cli_flag_energy(prog, arg, &f->energy);
    case JG_F_ASSUME_WATTS:
        return jg_cli_flag_watts(prog, "--assume-watts", arg, 0, &f->assume_w);
    case JG_F_OPTIMIZER: {
        static const char *const choices[] = {"sgd", "adam", "adamw", NULL};
        if (jg_cli_flag_choice(prog, "--optimizer", arg, choices, &k)) return 2;
        jg_optim_kind_parse(arg, &f->optimizer);
        f->optimizer_name = arg;
        return 0;
    }
    default: return -1;
    }
}

int jg_cli_flags_check(const char *prog, const jg_cli_run_flags_t *f)
{
    const char *dn = f->data.name;
    const int shaped = !strcmp(dn, "folder") || !strcmp(dn, "synthetic");
    const unsigned shape_flags = JG_F(JG_F_IMAGE_SIZE) | JG_F(JG_F_CHANNELS);
    if ((f->given & shape_flags) && !shaped) {
        fprintf(stderr, "%s: %s applies to --data folder or synthetic only\n", prog,
                f->given & JG_F(JG_F_IMAGE_SIZE) ? "--image-size" : "--channels");
        return 2;
    }
    if (!strcmp(dn, "folder") && !(f->given & JG_F(JG_F_IMAGE_SIZE))) {
        fprintf(stderr, "%s: --data folder needs --image-size HxW (images are resized)\n", prog);
        return 2;
    }
    if ((f->given & JG_F(JG_F_DATA_DIR)) && !strcmp(dn, "synthetic")) {
        fprintf(stderr, "%s: --data-dir does not apply to --data synthetic\n", prog);
        return 2;
    }
    if (f->assume_w > 0 &&
        (f->energy == JG_ENERGY_MODE_RAPL || f->energy == JG_ENERGY_MODE_OFF)) {
        fprintf(stderr, "%s: --assume-watts applies to the estimate source only\n", prog);
        return 2;
    }
    return f->threads ? jg_cli_use_threads(prog, f->threads) : 0;
}

int jg_cli_getopt(const char *prog, int argc, char **argv, unsigned mask, const jg_cli_own_t *own,
                  jg_cli_run_flags_t *f)
{
    struct option opts[64];
    if (jg_cli_flags_table(opts, 64, mask, own->opts)) return 2;
    optind = 1;
    opterr = 0;
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (c == own->help) {
            own->usage(stdout);
            return 0;
        }
        int rc = jg_cli_flags_parse(prog, c, optarg, f);
        if (rc < 0) rc = own->parse(own->ctx, c, optarg);
        if (rc < 0)
            return jg_cli_option_error(prog, argv, (optopt >= own->lo && optopt < own->hi) ||
                                                       (optopt >= JG_F_MODEL && optopt < JG_F_END));
        if (rc) return rc;
    }
    return -1;
}
