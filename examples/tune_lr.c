/* SPDX-License-Identifier: MIT */
/*
 * tune_lr.c - a tuning study through the library: which learning rate
 * trains best, and what did each trial cost in joules?
 *
 *   usage: tune_lr OUT_DIR [DATA_DIR [TRIALS]]
 *
 * Runs Bayesian optimisation (expected improvement) over Adam's learning
 * rate for TRIALS trials (default 8) of one epoch each on 5000 Fashion-MNIST
 * images, with every trial's joules measured (rapl when readable, else a
 * labelled estimate). The study writes OUT_DIR (which must not exist):
 * trials.jsonl, summary.json, best_vs_energy.csv, pareto.csv and figures.
 * Then it reads the trial log back and prints one line per trial
 *
 *   TRIAL LR VAL_ACCURACY JOULES SOURCE
 *
 * and a last line `best TRIAL LR VAL_ACCURACY`.
 *
 * Build it against an installed joulegrad:
 *   cc -O2 tune_lr.c $(pkg-config --cflags --libs joulegrad) -o tune_lr
 *
 * Exercises: add "batch=int:32:512" to the space; which batch size costs the
 * fewest joules per point of accuracy? Try .strategies = "random" with the
 * same seed and compare the joules spent before the best trial.
 */
#include <stdio.h>
#include <stdlib.h>

#include <joulegrad.h>

#define SPACE "lr=log:1e-5:1e-1"

/* The study's progress lines go to stderr; stdout keeps the table. */
static void progress(void *ctx, int stream, const char *line)
{
    (void)ctx;
    (void)stream;
    fprintf(stderr, "%s\n", line);
}

int main(int argc, char **argv)
{
    const int trials = argc > 3 ? atoi(argv[3]) : 8;
    if (argc < 2 || argc > 4 || trials < 1) {
        fprintf(stderr, "usage: tune_lr OUT_DIR [DATA_DIR [TRIALS]]\n");
        return 2;
    }
    if (jg_kernels_init()) {
        fprintf(stderr, "tune_lr: JOULEGRAD_ISA is not valid on this CPU\n");
        return 2;
    }
    jg_run_tune_config_t cfg;
    jg_run_tune_config_default(&cfg); /* bayes (EI), default model, Adam, batch 64 */
    cfg.space = SPACE;
    cfg.trials = trials;
    cfg.epochs = 1;
    cfg.train_limit = 5000;
    cfg.test_limit = 2000;
    cfg.out = argv[1];
    cfg.data.dir = argc > 2 ? argv[2] : JG_DATA_FASHION_MNIST_DIR;
    const jg_log_t log = {.fn = progress};
    jg_run_error_t err;
    if (jg_run_tune(&cfg, &log, &err)) {
        fprintf(stderr, "tune_lr: %s\n", err.msg);
        return 1;
    }

    /* The trial log is the study's record: read it back. */
    jg_tune_space_t space;
    jg_tune_error_t terr;
    char path[4200], warning[256];
    snprintf(path, sizeof path, "%s/trials.jsonl", argv[1]);
    jg_tune_trial_t *t = NULL;
    int64_t n = 0;
    if (jg_tune_space_parse(&space, SPACE, &terr) ||
        jg_tune_log_read(path, &space, NULL, 0, NULL, &t, &n, warning, sizeof warning, &terr)) {
        fprintf(stderr, "tune_lr: %s\n", terr.msg);
        return 1;
    }
    int64_t best = 0;
    for (int64_t i = 0; i < n; i++) {
        printf("%lld %.6g %.4f %.3f %s\n", (long long)t[i].trial + 1, t[i].params.v[0],
               t[i].val_accuracy, t[i].energy_j, t[i].energy_source);
        if (t[i].val_accuracy > t[best].val_accuracy) best = i;
    }
    if (n > 0)
        printf("best %lld %.6g %.4f\n", (long long)t[best].trial + 1, t[best].params.v[0],
               t[best].val_accuracy);
    free(t);
    return n > 0 ? 0 : 1;
}
