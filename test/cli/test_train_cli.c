/* SPDX-License-Identifier: MIT */
/*
 * test_train.c - `joulegrad train`, `eval`, `predict` and `models` as a user
 * meets them: bad flags, the run directory (checkpoint, epochs.csv,
 * summary.json), resume after a clean stop, after Ctrl-C and after kill -9
 * (bit-identical weights), eval agreeing with the summary, predict on a PNG,
 * corrupt checkpoints, and the Fashion-MNIST accuracy floor of the issue.
 * Synthetic data keeps every run well under a second; the Fashion-MNIST test
 * is skipped when the Debian package is not installed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <stb_image_write.h>

#include "cli_run.h"
#include "harness.h"
#include "jg_datasets.h"
#include "jg_nn.h"

/* A small net with every kind of state a resume must restore: batchnorm
 * running statistics, the dropout stream and Adam's moments. */
#define SYN_SPEC "conv(16,3,pad=1) batchnorm relu maxpool(2) dropout(0.25) flatten linear(10)"
#define SYN_MODEL "'" SYN_SPEC "'"
#define SYN_FLAGS "--data synthetic --image-size 16x16 --batch 32 --threads 2 --test-limit 500 " \
                  "--energy off --quiet --model " SYN_MODEL
/* Issue requirement: 1 epoch on 2000 images with the default model. */
#define FM_MIN_ACCURACY 0.70
#define WAIT_TIMEOUT_S 120.0

static char out[JG_CLI_OUT_MAX];

/* Rows of epochs.csv after its header. */
static int csv_rows(const char *path)
{
    char *text = jg_cli_read_text(path);
    assert_non_null(strstr(text, "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,"
                                 "seconds,images\n"));
    const int rows = jg_cli_count_lines(text) - 1;
    free(text);
    return rows;
}

/* Every field summary.json promises, with sane types and values. */
static void check_summary(const cJSON *s, const char *model, int epochs, int n_train,
                          int n_val, int n_test, int classes)
{
    assert_string_equal(jg_cli_json_str(s, "model"), model);
    assert_non_null(strstr(jg_cli_json_str(s, "spec"), "linear(10)"));
    const double acc = jg_cli_json_num(s, "test_accuracy");
    assert_true(acc >= 0 && acc <= 1);
    assert_true(jg_cli_json_num(s, "test_loss") > 0);
    const cJSON *ca = jg_cli_json_get(s, "class_accuracy");
    assert_true(cJSON_IsObject(ca));
    assert_int_equal(cJSON_GetArraySize(ca), classes);
    const cJSON *conf = jg_cli_json_get(s, "confusion");
    assert_int_equal(cJSON_GetArraySize(conf), classes);
    double total = 0, diag = 0;
    for (int k = 0; k < classes; k++) {
        const cJSON *row = cJSON_GetArrayItem(conf, k);
        assert_int_equal(cJSON_GetArraySize(row), classes);
        for (int j = 0; j < classes; j++) {
            const double v = cJSON_GetArrayItem(row, j)->valuedouble;
            total += v;
            if (j == k) diag += v;
        }
    }
    assert_true(total == n_test);
    assert_true(fabs(diag / total - acc) < 1e-12);
    assert_true(jg_cli_json_num(s, "epochs") == epochs);
    assert_true(cJSON_IsBool(jg_cli_json_get(s, "stopped_early")));
    assert_true(jg_cli_json_num(s, "train_seconds") > 0);
    assert_true(jg_cli_json_num(s, "seconds_per_epoch") > 0);
    assert_true(jg_cli_json_num(s, "images_per_second") > 0);
    assert_true(strlen(jg_cli_json_str(s, "isa")) > 0);
    assert_true(jg_cli_json_num(s, "threads") >= 1);
    assert_true(jg_cli_json_num(s, "seed") >= 0);
    const cJSON *opt = jg_cli_json_get(s, "optimizer");
    assert_string_equal(jg_cli_json_str(opt, "kind"), "adam");
    assert_true(jg_cli_json_num(opt, "lr") == 0.001);
    assert_true(jg_cli_json_num(opt, "beta1") == 0.9 && jg_cli_json_num(opt, "beta2") == 0.999);
    assert_true(jg_cli_json_num(opt, "eps") == 1e-8 && jg_cli_json_num(opt, "weight_decay") == 0);
    assert_true(jg_cli_json_num(opt, "momentum") == 0 && cJSON_IsBool(jg_cli_json_get(opt, "nesterov")));
    assert_string_equal(jg_cli_json_str(opt, "schedule"), "constant");
    jg_cli_json_num(opt, "step_size");
    jg_cli_json_num(opt, "gamma");
    jg_cli_json_num(opt, "min_lr");
    assert_true(jg_cli_json_num(s, "batch") >= 1);
    assert_true(jg_cli_json_num(s, "train_images") == n_train);
    assert_true(jg_cli_json_num(s, "val_images") == n_val);
    assert_true(jg_cli_json_num(s, "test_images") == n_test);
    const cJSON *data = jg_cli_json_get(s, "data");
    jg_cli_json_str(data, "name");
    jg_cli_json_str(data, "dir");
    assert_int_equal(cJSON_GetArraySize(jg_cli_json_get(data, "mean")), 1);
    const cJSON *sd = jg_cli_json_get(data, "std");
    assert_int_equal(cJSON_GetArraySize(sd), 1);
    assert_true(cJSON_GetArrayItem(sd, 0)->valuedouble > 0);
    assert_true(strlen(jg_cli_json_str(s, "joulegrad_version")) > 0);
    const cJSON *en = jg_cli_json_get(s, "energy");
    const char *src = jg_cli_json_str(en, "source");
    if (strcmp(src, "off") != 0) {
        assert_true(!strcmp(src, "rapl") || !strcmp(src, "estimate"));
        const cJSON *j = jg_cli_json_get(en, "total_j");
        assert_true(cJSON_IsNull(j) || (cJSON_IsNumber(j) && j->valuedouble >= 0));
        assert_true(jg_cli_json_num(en, "seconds") > 0);
        jg_cli_json_str(en, "status");
    }
}

static void load_ck(const char *path, jg_checkpoint_t *ck)
{
    jg_nn_error_t err;
    if (jg_checkpoint_load(path, ck, &err)) fail_msg("%s: %s", path, err.msg);
}

/* The final weights, batchnorm buffers and optimizer state of two runs are
 * bit-identical. */
static void assert_same_weights(const char *a, const char *b)
{
    jg_checkpoint_t x, y;
    load_ck(a, &x);
    load_ck(b, &y);
    assert_int_equal(x.meta.state.epochs_done, y.meta.state.epochs_done);
    assert_int_equal(x.n_params, y.n_params);
    assert_int_equal(x.n_buffers, y.n_buffers);
    assert_int_equal(x.n_optim_state, y.n_optim_state);
    assert_memory_equal(x.params, y.params, x.n_params * sizeof(float));
    if (x.n_buffers) assert_memory_equal(x.buffers, y.buffers, x.n_buffers * sizeof(float));
    assert_memory_equal(x.optim_state, y.optim_state, x.n_optim_state * sizeof(float));
    assert_true(x.meta.state.optim_steps == y.meta.state.optim_steps);
    assert_true(x.meta.state.model_step == y.meta.state.model_step);
    jg_checkpoint_free(&x);
    jg_checkpoint_free(&y);
}

/* The uninterrupted 3-epoch synthetic run the interrupted ones must match. */
static const char *reference_run(void)
{
    static int done;
    const char *dir = jg_cli_path("ref3");
    if (!done) {
        assert_int_equal(jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 3 --out %s", dir), 0);
        done = 1;
    }
    return dir;
}

static void test_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args, *needle;
    } bad[] = {
        {"--epochs 0", "--epochs"},           {"--epochs x", "--epochs"},
        {"--epochs", "--epochs"},             {"--batch -1", "--batch"},
        {"--optimizer rmsprop", "--optimizer"}, {"--lr 0", "--lr"},
        {"--lr nan", "--lr"},                 {"--momentum 0.5", "--momentum"},
        {"--optimizer sgd --momentum 1", "--momentum"}, {"--beta2 1", "--beta2"},
        {"--optimizer sgd --beta1 0.5", "--beta1"}, {"--eps 0", "--eps"},
        {"--weight-decay -1", "--weight-decay"}, {"--schedule linear", "--schedule"},
        {"--gamma 0.5", "--gamma"},           {"--schedule step --step-size 0", "--step-size"},
        {"--min-lr 0.1", "--min-lr"},         {"--schedule cosine --min-lr 0.1", "--min-lr"},         {"--optimizer sgd --nesterov", "--nesterov"},
        {"--seed -1", "--seed"},              {"--seed 1.5", "--seed"},
        {"--threads 0", "--threads"},         {"--train-limit 0", "--train-limit"},
        {"--test-limit x", "--test-limit"},   {"--val-fraction 1", "--val-fraction"},
        {"--patience 2", "--patience"},       {"--data mnist", "--data"},
        {"--data synthetic --channels 2", "--channels"},
        {"--data synthetic --image-size 0x4", "--image-size"},
        {"--image-size 28x28", "--image-size"}, {"--data folder --data-dir /x", "--image-size"},
        {"--data synthetic --data-dir /x", "--data-dir"}, {"--resume", "--resume"},
        {"--energy nope", "--energy"},        {"--bogus", "--bogus"},
        {"stray", "stray"},
        {"--data synthetic --image-size 8x8 --model 'conv(4,3) linear(7)'", "--model"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        const int rc = jg_cli_runf(1, out, "train %s", bad[i].args);
        if (rc != 2 || jg_cli_count_lines(out) != 1 || !strstr(out, bad[i].needle) ||
            !strstr(out, "joulegrad train:")) {
            print_error("'train %s' gave exit %d and output:\n%s\n", bad[i].args, rc, out);
            fail();
        }
    }
    static const char *const other[] = {
        "eval", "eval --checkpoint x --bogus", "eval --checkpoint x --test-limit 0",
        "eval --checkpoint x --data nope", "predict --checkpoint x", "predict img.png",
        "models --bogus", "models stray",
    };
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        const int rc = jg_cli_runf(1, out, "%s", other[i]);
        if (rc != 2 || jg_cli_count_lines(out) != 1) {
            print_error("'%s' gave exit %d and output:\n%s\n", other[i], rc, out);
            fail();
        }
    }
}

static void test_help(void **state)
{
    (void)state;
    assert_int_equal(jg_cli_runf(0, out, "train --help"), 0);
    static const char *const flags[] = {
        "--model", "--epochs", "--batch", "--optimizer", "--lr", "--momentum", "--nesterov",
        "--beta1", "--beta2", "--eps", "--weight-decay", "--schedule", "--step-size",
        "--gamma", "--min-lr", "--seed", "--threads", "--train-limit", "--test-limit",
        "--val-fraction", "--patience", "--data", "--data-dir", "--image-size", "--channels",
        "--out", "--resume", "--checkpoint-every-epoch", "--energy", "--quiet",
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) {
        if (!strstr(out, flags[i])) fail_msg("train --help lacks %s", flags[i]);
    }
    assert_non_null(strstr(out, "(default 64)"));
    assert_non_null(strstr(out, "seeded random subset"));
    assert_int_equal(jg_cli_runf(0, out, "eval --help"), 0);
    assert_non_null(strstr(out, "--checkpoint"));
    assert_int_equal(jg_cli_runf(0, out, "predict --help"), 0);
    assert_non_null(strstr(out, "top 3"));
}

static void test_models(void **state)
{
    (void)state;
    assert_int_equal(jg_cli_runf(0, out, "models --json"), 0);
    cJSON *j = cJSON_Parse(out);
    assert_non_null(j);
    const cJSON *in = jg_cli_json_get(j, "input");
    assert_true(jg_cli_json_num(in, "c") == 1 && jg_cli_json_num(in, "h") == 28 && jg_cli_json_num(in, "classes") == 10);
    const cJSON *list = jg_cli_json_get(j, "models");
    assert_true(cJSON_GetArraySize(list) >= 2);
    const cJSON *d = cJSON_GetArrayItem(list, 0);
    assert_string_equal(jg_cli_json_str(d, "name"), "default");
    assert_non_null(strstr(jg_cli_json_str(d, "spec"), "linear(10)"));
    // conv 1->32 3x3, conv 32->64 3x3, linear 3136->128, linear 128->10 (with biases).
    assert_true(jg_cli_json_num(d, "params") == 320 + 18496 + 401536 + 1290);
    assert_true(jg_cli_json_num(d, "forward_flops_per_image") > 1e6);
    cJSON_Delete(j);
    assert_int_equal(jg_cli_runf(0, out, "models"), 0);
    assert_non_null(strstr(out, "lenet5"));
    assert_non_null(strstr(out, "params"));
}

static void test_synthetic_run(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("syn");
    assert_int_equal(jg_cli_runf(1, out,
            "train " SYN_FLAGS " --epochs 2 --val-fraction 0.125 --patience 5 "
            "--train-limit 2048 --out %s", dir), 0);
    char p[600];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    cJSON *s = jg_cli_read_json(p, NULL);
    check_summary(s, SYN_SPEC, 2, 1792, 256, 500, 10);
    assert_true(jg_cli_json_num(s, "test_accuracy") > 0.5);  // the blobs are easy
    assert_string_equal(jg_cli_json_str(jg_cli_json_get(s, "energy"), "source"), "off");
    snprintf(p, sizeof p, "%s/epochs.csv", dir);
    assert_int_equal(csv_rows(p), 2);
    char *csv = jg_cli_read_text(p);
    assert_null(strstr(csv, ",,"));  // validation columns are filled
    free(csv);

    // eval reproduces the summary's figures exactly (same batches).
    const double acc = jg_cli_json_num(s, "test_accuracy"), loss = jg_cli_json_num(s, "test_loss");
    assert_int_equal(jg_cli_runf(0, out,
            "eval --checkpoint %s/checkpoint.jgc --test-limit 500 --threads 2 "
            "--json", dir), 0);
    cJSON *e = cJSON_Parse(out);
    assert_non_null(e);
    assert_true(jg_cli_json_num(e, "test_accuracy") == acc);
    assert_true(jg_cli_json_num(e, "test_loss") == loss);
    assert_true(jg_cli_json_num(e, "test_images") == 500);
    cJSON_Delete(e);
    assert_int_equal(jg_cli_runf(0, out,
            "eval --checkpoint %s/checkpoint.jgc --test-limit 500", dir), 0);
    assert_non_null(strstr(out, "test accuracy"));
    assert_non_null(strstr(out, "class 9"));
    cJSON_Delete(s);

    // predict on a PNG: one line with the top 3 classes.
    const char *png = jg_cli_path("blob.png");
    unsigned char px[20 * 20];
    for (int i = 0; i < 20 * 20; i++) px[i] = (unsigned char)(25 + (i % 20 < 10 ? 200 : 0));
    assert_true(stbi_write_png(png, 20, 20, 1, px, 20) != 0);
    assert_int_equal(jg_cli_runf(0, out, "predict --checkpoint %s/checkpoint.jgc %s", dir, png), 0);
    assert_int_equal(jg_cli_count_lines(out), 1);
    assert_non_null(strstr(out, png));
    assert_non_null(strstr(out, "class "));
    assert_non_null(strstr(out, "%"));
    const char *junk = jg_cli_path("junk.png");
    FILE *f = fopen(junk, "wb");
    assert_non_null(f);
    fputs("not a png", f);
    fclose(f);
    assert_int_equal(jg_cli_runf(1, out,
            "predict --checkpoint %s/checkpoint.jgc %s", dir, junk), 1);
    assert_int_equal(jg_cli_count_lines(out), 1);

    // A second fresh run into the same directory is refused.
    assert_int_equal(jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 2 --out %s", dir), 2);
    assert_non_null(strstr(out, "--resume"));
    assert_int_equal(jg_cli_count_lines(out), 1);
}

static void test_resume_matches_straight(void **state)
{
    (void)state;
    const char *a = jg_cli_path("straight2"), *b = jg_cli_path("resumed2");
    assert_int_equal(jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 2 --out %s", a), 0);
    assert_int_equal(jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 1 --out %s", b), 0);
    char pb[600];
    snprintf(pb, sizeof pb, "%s/epochs.csv", b);
    assert_int_equal(csv_rows(pb), 1);

    // Flags that disagree with the checkpoint are refused, naming the flag.
    static const struct {
        const char *flags, *needle;
    } clash[] = {
        {"--lr 0.01", "--lr"},
        {"--batch 16", "--batch"},
        {"--seed 2", "--seed"},
        {"--optimizer adamw", "--optimizer"},
        {"--train-limit 1000", "mean/std"},
    };
    for (size_t i = 0; i < sizeof clash / sizeof *clash; i++) {
        const int rc = jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 2 --resume --out %s %s", b,
                           clash[i].flags);
        if (rc != 2 || jg_cli_count_lines(out) != 1 || !strstr(out, clash[i].needle)) {
            print_error("resume with '%s' gave exit %d and output:\n%s\n", clash[i].flags, rc,
                        out);
            fail();
        }
    }
    assert_int_equal(jg_cli_runf(1, out,
            "train --data synthetic --image-size 16x16 --batch 32 --threads 2 "
            "--test-limit 500 --energy off --quiet --epochs 2 --resume --out %s",
                         b), 2);
    assert_non_null(strstr(out, "--model"));

    assert_int_equal(jg_cli_runf(1, out, "train " SYN_FLAGS " --epochs 2 --resume --out %s", b), 0);
    char pa[600];
    snprintf(pa, sizeof pa, "%s/checkpoint.jgc", a);
    snprintf(pb, sizeof pb, "%s/checkpoint.jgc", b);
    assert_same_weights(pa, pb);
    snprintf(pb, sizeof pb, "%s/epochs.csv", b);
    assert_int_equal(csv_rows(pb), 2);
    snprintf(pa, sizeof pa, "%s/summary.json", a);
    snprintf(pb, sizeof pb, "%s/summary.json", b);
    cJSON *sa = jg_cli_read_json(pa, NULL), *sb = jg_cli_read_json(pb, NULL);
    assert_true(jg_cli_json_num(sa, "test_accuracy") == jg_cli_json_num(sb, "test_accuracy"));
    assert_true(jg_cli_json_num(sa, "test_loss") == jg_cli_json_num(sb, "test_loss"));
    assert_true(cJSON_IsTrue(jg_cli_json_get(sb, "resumed")));
    cJSON_Delete(sa);
    cJSON_Delete(sb);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Starts `joulegrad train SYN_FLAGS --epochs 3 --out dir` with stderr in
 * errfile, waits until dir/checkpoint.jgc exists, sends sig, and returns the
 * wait status. */
static int interrupt_run(const char *dir, const char *errfile, int sig)
{
    char ck[600];
    snprintf(ck, sizeof ck, "%s/checkpoint.jgc", dir);
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        const int nul = open("/dev/null", O_WRONLY);
        if (fd < 0 || nul < 0) _exit(127);
        dup2(nul, 1);
        dup2(fd, 2);
        char *argv[] = {
            (char *)JG_CLI_PATH, "train", "--data", "synthetic", "--image-size", "16x16",
            "--batch", "32", "--threads", "2", "--test-limit", "500", "--energy", "off",
            "--quiet", "--model", SYN_SPEC,
            "--epochs", "3", "--out", (char *)dir, NULL,
        };
        execv(JG_CLI_PATH, argv);
        _exit(127);
    }
    const double t0 = now_s();
    struct timespec nap = {0, 1000000};  // 1 ms: epochs take tens of ms or more
    while (access(ck, F_OK) != 0) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) fail_msg("train exited before a checkpoint");
        if (now_s() - t0 > WAIT_TIMEOUT_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("no checkpoint after %.0f s", WAIT_TIMEOUT_S);
        }
        nanosleep(&nap, NULL);
    }
    kill(pid, sig);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_kill9_resume(void **state)
{
    (void)state;
    const char *ref = reference_run();
    const char *dir = jg_cli_path("killed");
    const int status = interrupt_run(dir, jg_cli_path("killed.err"), SIGKILL);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    // The checkpoint left behind is complete and from before the kill.
    char ck[600];
    snprintf(ck, sizeof ck, "%s/checkpoint.jgc", dir);
    jg_checkpoint_t c;
    load_ck(ck, &c);
    assert_true(c.meta.state.epochs_done >= 1 && c.meta.state.epochs_done < 3);
    jg_checkpoint_free(&c);
    assert_int_equal(jg_cli_runf(1, out,
            "train " SYN_FLAGS " --epochs 3 --resume --out %s", dir), 0);
    char rk[600], csv[600];
    snprintf(rk, sizeof rk, "%s/checkpoint.jgc", ref);
    assert_same_weights(rk, ck);
    snprintf(csv, sizeof csv, "%s/epochs.csv", dir);
    assert_int_equal(csv_rows(csv), 3);
}

static void test_sigint_resume(void **state)
{
    (void)state;
    const char *ref = reference_run();
    const char *dir = jg_cli_path("interrupted"), *errfile = jg_cli_path("interrupted.err");
    const int status = interrupt_run(dir, errfile, SIGINT);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    char *err = jg_cli_read_text(errfile);
    assert_int_equal(jg_cli_count_lines(err), 1);
    assert_non_null(strstr(err, "interrupted"));
    assert_non_null(strstr(err, "--resume"));
    free(err);
    assert_int_equal(jg_cli_runf(1, out,
            "train " SYN_FLAGS " --epochs 3 --resume --out %s", dir), 0);
    char rk[600], ck[600];
    snprintf(rk, sizeof rk, "%s/checkpoint.jgc", ref);
    snprintf(ck, sizeof ck, "%s/checkpoint.jgc", dir);
    assert_same_weights(rk, ck);
}

static void test_corrupt_checkpoint(void **state)
{
    (void)state;
    const char *ref = reference_run();
    char ck[600];
    snprintf(ck, sizeof ck, "%s/checkpoint.jgc", ref);
    char *good;
    size_t len;
    {
        FILE *f = fopen(ck, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        good = jg_test_alloc_bytes(len);
        assert_int_equal(fread(good, 1, len, f), len);
        fclose(f);
    }
    const char *bad = jg_cli_path("bad.jgc");
    const struct {
        size_t len;
        size_t flip; /* byte to flip, or len for none */
    } cases[] = {{len / 2, len}, {len, len - 5}, {16, len}, {0, len}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        FILE *f = fopen(bad, "wb");
        assert_non_null(f);
        if (cases[i].flip < cases[i].len) good[cases[i].flip] ^= 0x40;
        if (cases[i].len) assert_int_equal(fwrite(good, 1, cases[i].len, f), cases[i].len);
        if (cases[i].flip < cases[i].len) good[cases[i].flip] ^= 0x40;
        fclose(f);
        assert_int_equal(jg_cli_runf(1, out, "eval --checkpoint %s --data synthetic", bad), 1);
        assert_int_equal(jg_cli_count_lines(out), 1);
        assert_non_null(strstr(out, "joulegrad eval:"));
        assert_int_equal(jg_cli_runf(1, out, "predict --checkpoint %s %s", bad, bad), 1);
        assert_int_equal(jg_cli_count_lines(out), 1);
    }
    assert_int_equal(jg_cli_runf(1, out, "eval --checkpoint %s", jg_cli_path("missing.jgc")), 1);
    assert_int_equal(jg_cli_count_lines(out), 1);
    // --resume of a directory without a checkpoint.
    assert_int_equal(jg_cli_runf(1, out,
            "train " SYN_FLAGS " --resume --out %s", jg_cli_path("nothing")), 1);
    assert_int_equal(jg_cli_count_lines(out), 1);
    free(good);
}

static void test_fashion_mnist(void **state)
{
    (void)state;
    if (access(JG_DATA_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0 &&
        access(JG_DATA_FASHION_MNIST_DIR "/train-images-idx3-ubyte", R_OK) != 0) {
        print_message("skipped: Fashion-MNIST not installed (apt-get install "
                      "dataset-fashion-mnist)\n");
        skip();
    }
    const char *dir = jg_cli_path("fm");
    assert_int_equal(jg_cli_runf(1, out,
            "train --epochs 1 --train-limit 2000 --test-limit 1000 --out %s",
                         dir), 0);
    assert_non_null(strstr(out, "Ankle boot"));
    char p[600];
    snprintf(p, sizeof p, "%s/summary.json", dir);
    cJSON *s = jg_cli_read_json(p, NULL);
    check_summary(s, "default", 1, 2000, 0, 1000, 10);
    const double acc = jg_cli_json_num(s, "test_accuracy");
    if (!(acc > FM_MIN_ACCURACY)) fail_msg("test accuracy %.4f <= %.2f", acc, FM_MIN_ACCURACY);
    assert_true(jg_cli_json_num(jg_cli_json_get(s, "class_accuracy"), "T-shirt/top") >= 0);
    assert_string_equal(jg_cli_json_str(jg_cli_json_get(s, "data"), "name"), "fashion-mnist");
    snprintf(p, sizeof p, "%s/epochs.csv", dir);
    assert_int_equal(csv_rows(p), 1);

    assert_int_equal(jg_cli_runf(0, out,
            "eval --checkpoint %s/checkpoint.jgc --test-limit 1000 --json", dir),
                     0);
    cJSON *e = cJSON_Parse(out);
    assert_non_null(e);
    assert_true(jg_cli_json_num(e, "test_accuracy") == acc);
    cJSON_Delete(e);
    cJSON_Delete(s);

    // A trouser-like PNG: two vertical bars on black.
    const char *png = jg_cli_path("trouser.png");
    unsigned char px[28 * 28] = {0};
    for (int y = 2; y < 26; y++)
        for (int x = 8; x < 20; x++)
            if (x < 13 || x > 14 || y < 8) px[y * 28 + x] = 180;
    assert_true(stbi_write_png(png, 28, 28, 1, px, 28) != 0);
    assert_int_equal(jg_cli_runf(0, out, "predict --checkpoint %s/checkpoint.jgc %s", dir, png), 0);
    static const char *const names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
    int found = 0;
    for (int k = 0; k < 10; k++) found |= strstr(out, names[k]) != NULL;
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_models),
        cmocka_unit_test(test_synthetic_run),
        cmocka_unit_test(test_resume_matches_straight),
        cmocka_unit_test(test_kill9_resume),
        cmocka_unit_test(test_sigint_resume),
        cmocka_unit_test(test_corrupt_checkpoint),
        cmocka_unit_test(test_fashion_mnist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
