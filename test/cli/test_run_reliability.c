/* SPDX-License-Identifier: MIT */
/*
 * test_run_reliability.c - what a run directory must survive (issue 12):
 * a second process on it is refused at once and a killed one never blocks
 * the next; a resume of a finished run rewrites nothing; a run killed after
 * a checkpoint and resumed reports the energy of both invocations; a
 * diverged run says no checkpoint was written; seeds stay exact.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "cli_run.h"
#include "harness.h"
#include "jg_common.h"

#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#define SPEC "'conv(8,3,pad=1) relu maxpool(2) flatten linear(10)'"
/* Each epoch is 1000 images (about 0.2 s), so a kill lands between epochs. */
#define FLAGS "--data synthetic --image-size 16x16 --train-limit 1000 --test-limit 200 " \
              "--batch 50 --threads 1 --energy estimate --quiet --model " SPEC
#define WAIT_S 120.0

static char out[JG_CLI_OUT_MAX];

static cJSON *read_json(const char *path)
{
    char *text = jg_cli_read_text(path);
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) fail_msg("%s is not JSON", path);
    return j;
}

static const char *in(const char *dir, const char *file)
{
    static char buf[4][600];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 600, "%s/%s", dir, file);
    return p;
}

/* A second train on a directory in use is refused at once, naming it; once
 * the first is killed (-9), its lock does not block a resume. */
static void test_second_process_refused(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("locked");
    const pid_t pid = jg_cli_spawnf("train " FLAGS " --epochs 200 --out %s", dir);
    jg_cli_wait_file(pid, in(dir, "epochs.csv"), WAIT_S); // written last after an epoch
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 200 --out %s", dir), 1);
    assert_non_null(strstr(out, "is in use by another joulegrad process"));
    assert_non_null(strstr(out, dir));
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 200 --out %s --resume", dir), 1);
    assert_non_null(strstr(out, "is in use by another joulegrad process"));
    jg_cli_kill9(pid);
    // The kill released the lock: the run continues, here to one more epoch
    // than its checkpoint holds.
    char *csv = jg_cli_read_text(in(dir, "epochs.csv"));
    const int done = jg_cli_count_lines(csv) - 1;
    free(csv);
    assert_true(done >= 1);
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs %d --out %s --resume",
                                 done + 1, dir), 0);
    assert_null(strstr(out, "in use"));
}

/* --resume of a finished run: exit 0, "nothing to do", every file as it was. */
static void test_resume_finished_rewrites_nothing(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("finished");
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 1 --out %s", dir), 0);
    static const char *const files[] = {"summary.json", "energy_layers.csv", "energy_types.csv",
                                        "epochs.csv", "energy_parts.json"};
    char *before[5];
    for (int i = 0; i < 5; i++) before[i] = jg_cli_read_text(in(dir, files[i]));
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 1 --out %s --resume", dir), 0);
    assert_non_null(strstr(out, "nothing to do"));
    for (int i = 0; i < 5; i++) {
        char *after = jg_cli_read_text(in(dir, files[i]));
        if (strcmp(before[i], after)) fail_msg("%s changed on a resume with nothing to do", files[i]);
        free(after);
        free(before[i]);
    }
}

/* Killed after its first checkpoint and resumed: the run's energy is both
 * invocations' (the summary lists each; the CSVs add up to the total). */
static void test_energy_over_invocations(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("resumed");
    const pid_t pid = jg_cli_spawnf("train " FLAGS " --epochs 3 --out %s", dir);
    jg_cli_wait_file(pid, in(dir, "energy_parts.json"), WAIT_S);
    jg_cli_kill9(pid);
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 3 --out %s --resume", dir), 0);
    cJSON *s = read_json(in(dir, "summary.json"));
    const cJSON *en = jg_cli_json_get(s, "energy");
    const cJSON *inv = jg_cli_json_get(en, "invocations");
    const int n = cJSON_GetArraySize(inv);
    assert_true(n == 2 || n == 3); // 2, or 3 when the kill came after epoch 2
    double sum_j = 0, steps = 0;
    for (const cJSON *o = inv->child; o; o = o->next) {
        sum_j += jg_cli_json_num(o, "total_j");
        steps += jg_cli_json_num(o, "steps");
    }
    const double total = jg_cli_json_num(en, "total_j");
    assert_true(total > 0 && fabs(sum_j - total) <= 1e-9 * total);
    assert_true(steps == 3 * 20 && jg_cli_json_num(en, "steps") == 60); // 1000 / 50 per epoch
    // energy_types.csv: the rows and the unattributed row add up to the total.
    char *csv = jg_cli_read_text(in(dir, "energy_types.csv"));
    double rows = 0;
    for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *p = line + 1;
        for (int f = 0; f < 6 && p; f++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
        assert_non_null(p); // source,method,type,phase,count,seconds,joules
        rows += strtod(p, NULL);
    }
    free(csv);
    assert_true(fabs(rows - total) <= 1e-6 * total);
    // Each invocation's raw trace is kept, complete, under its own name.
    assert_int_equal(access(in(dir, "energy_trace.jsonl"), F_OK), 0);
    assert_int_equal(access(in(dir, "energy_trace.2.jsonl"), F_OK), 0);
    assert_int_equal(access(in(dir, "energy_trace.jsonl.part"), F_OK), -1);
    char *t1 = jg_cli_read_text(in(dir, "energy_trace.jsonl"));
    for (char *line = t1; *line;) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl); // no torn last line
        *nl = '\0';
        cJSON *j = cJSON_Parse(line);
        if (!j) fail_msg("energy_trace.jsonl has a line that is not JSON");
        cJSON_Delete(j);
        line = nl + 1;
    }
    free(t1);
    cJSON_Delete(s);
}

/* A run that diverges before its first checkpoint says so, and leaves none. */
static void test_divergence_says_what_is_true(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("diverged");
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 2 --optimizer sgd --lr 1e5 "
                                 "--out %s", dir), 1);
    assert_non_null(strstr(out, "NaN or infinite"));
    assert_non_null(strstr(out, "no checkpoint was written"));
    assert_null(strstr(out, "keeps epoch"));
    assert_int_equal(access(in(dir, "checkpoint.jgc"), F_OK), -1);
}

/* Seeds: 2^53 + 1 is refused, 2^53 - 1 is written exactly. */
static void test_seed_exact(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("seed");
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --seed 9007199254740993 --out %s", dir), 2);
    assert_non_null(strstr(out, "--seed must be an integer in [0, 2^53]"));
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --seed 1e3 --out %s", dir), 2);
    assert_int_equal(jg_cli_runf(1, out, "train " FLAGS " --epochs 1 --seed 9007199254740991 "
                                 "--out %s", dir), 0);
    char *text = jg_cli_read_text(in(dir, "summary.json"));
    assert_non_null(strstr(text, "\"seed\":\t9007199254740991,"));
    free(text);
}

/* Out of memory building the model: say what and how much, not an empty line. */
static void test_model_oom_says_what(void **state)
{
    (void)state;
#ifdef JG_SANITIZE
    skip(); // the sanitizers reserve terabytes of address space: ulimit -v breaks them
#else
    const char *dir = jg_cli_path("oom");
    char args[512];
    snprintf(args, sizeof args, "train --data synthetic --energy off --quiet --out %s --model "
             "'flatten linear(100000) linear(10)'", dir);
    assert_int_equal(jg_cli_run("ulimit -v 400000;", args, 1, out), 1);
    assert_non_null(strstr(out, "out of memory for the model's 79500010 parameters"));
    assert_non_null(strstr(out, "MiB"));
#endif
}

/* dir/<split>/<class>/<k>.png for each class: 4 tiny images per class, each
 * class a brightness of its own so a model can tell them apart. */
static void make_folder(const char *dir, const char *const *classes, int n)
{
    static const char *const splits[2] = {"train", "test"};
    unsigned char px[8 * 8];
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < n; c++) {
            char path[700];
            snprintf(path, sizeof path, "%s/%s/%s", dir, splits[s], classes[c]);
            char cmd[800];
            snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
            assert_int_equal(system(cmd), 0);
            for (int k = 0; k < 4; k++) {
                for (int i = 0; i < 64; i++) px[i] = (unsigned char)(40 + 80 * c + (i * k) % 7);
                snprintf(path, sizeof path, "%s/%s/%s/%d.png", dir, splits[s], classes[c], k);
                assert_true(stbi_write_png(path, 8, 8, 1, px, 8) != 0);
            }
        }
}

/* Checkpoints keep their class names: predict prints them, eval refuses data
 * with other classes, a resume refuses training data with other classes. */
static void test_class_names_kept(void **state)
{
    (void)state;
    static const char *const mine[3] = {"cat", "dog", "fox"}, *const other[3] = {"ant", "bee", "cow"};
    const char *pets = jg_cli_path("pets"), *bugs = jg_cli_path("bugs");
    make_folder(pets, mine, 3);
    make_folder(bugs, other, 3);
    const char *run = jg_cli_path("pets-run");
#define FOLDER "--data folder --image-size 8x8 --channels 1 --batch 4 --threads 1 --energy off "                "--quiet --model 'flatten linear(3)'"
    assert_int_equal(jg_cli_runf(1, out, "train " FOLDER " --epochs 1 --data-dir %s --out %s",
                                 pets, run), 0);
    char ckpt[700], img[700];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.jgc", run);
    snprintf(img, sizeof img, "%s/test/dog/0.png", pets);
    assert_int_equal(jg_cli_runf(1, out, "predict --checkpoint %s %s", ckpt, img), 0);
    assert_non_null(strstr(out, "cat") && strstr(out, "dog") && strstr(out, "fox") ? out : NULL);
    assert_null(strstr(out, "class 1"));
    assert_int_equal(jg_cli_runf(1, out, "eval --checkpoint %s --data folder --data-dir %s",
                                 ckpt, pets), 0);
    assert_non_null(strstr(out, "fox"));
    assert_int_equal(jg_cli_runf(1, out, "eval --checkpoint %s --data folder --data-dir %s",
                                 ckpt, bugs), 1);
    assert_non_null(strstr(out, "'cat' in the checkpoint but 'ant' in the data"));
    assert_int_equal(jg_cli_runf(1, out, "train " FOLDER " --epochs 2 --data-dir %s --out %s "
                                 "--resume", bugs, run), 2);
    assert_non_null(strstr(out, "cannot resume: class 0 is 'cat' in the checkpoint but 'ant' in "
                                "the training data"));
#undef FOLDER
}

/* Paths with invalid UTF-8 (a data directory here) never make a JSON file
 * invalid: every file the run writes stays UTF-8. */
static void test_json_stays_utf8(void **state)
{
    (void)state;
    char link[700];
    snprintf(link, sizeof link, "%s", jg_cli_path("data-\xff-dir"));
    if (symlink("/usr/share/datasets/fashion-mnist", link)) fail_msg("symlink %s", link);
    const char *run = jg_cli_path("utf8-run");
    assert_int_equal(jg_cli_runf(1, out, "train --data-dir '%s' --train-limit 500 --test-limit 100 "
                                 "--epochs 1 --threads 1 --quiet --out %s --model "
                                 "'flatten linear(10)'", link, run), 0);
    static const char *const files[] = {"summary.json", "energy_parts.json"};
    for (int i = 0; i < 2; i++) {
        char *text = jg_cli_read_text(in(run, files[i]));
        if (jg_utf8_scrub(text)) fail_msg("%s is not valid UTF-8", files[i]);
        cJSON *j = cJSON_Parse(text);
        assert_non_null(j);
        cJSON_Delete(j);
        free(text);
    }
}

#define TUNE "tune --data synthetic --train-limit 600 --test-limit 100 " \
             "--threads 1 --energy estimate --model " SPEC " --space 'lr=log:1e-3:1e-1'"

/* A study directory: a new study into one that holds another is refused (it
 * overwrote summary.json and left the old comparison.csv); a second process
 * on it is refused at once, so the log is never written twice. */
static void test_study_dir_guarded(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("study");
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random,sobol --trials 2 --out %s",
                                 dir), 0);
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random --trials 2 --out %s", dir), 2);
    assert_non_null(strstr(out, "already holds a study"));
    assert_int_equal(access(in(dir, "trials.jsonl"), F_OK), -1);
    const char *busy = jg_cli_path("busy-study");
    const pid_t pid = jg_cli_spawnf(TUNE " --strategy random --trials 400 --out %s", busy);
    jg_cli_wait_file(pid, in(busy, "summary.json"), WAIT_S); // after the first record
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random --trials 400 --out %s --resume",
                                 busy), 1);
    assert_non_null(strstr(out, "is in use by another joulegrad process"));
    jg_cli_kill9(pid);
    // The log holds each trial once, and a resume goes on from it.
    char *text = jg_cli_read_text(in(busy, "trials.jsonl"));
    const int n = jg_cli_count_lines(text) - 1; // after the header
    free(text);
    assert_true(n >= 1);
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random --trials %d --out %s --resume",
                                 n + 1, busy), 0);
    text = jg_cli_read_text(in(busy, "trials.jsonl"));
    assert_int_equal(jg_cli_count_lines(text) - 1, n + 1);
    for (int k = 1; k <= n + 1; k++) { // trials count from 1
        char key[32];
        snprintf(key, sizeof key, "\"trial\":%d,", k);
        const char *p = strstr(text, key);
        if (!p || strstr(p + 1, key)) fail_msg("trial %d is not in the log exactly once", k);
    }
    free(text);
}

/* Without readable RAPL, auto's note is one short line that points to
 * `joulegrad energy` (it was ~480 characters on every command). */
static void test_fallback_note_short(void **state)
{
    (void)state;
    assert_int_equal(jg_cli_runf(1, out, "profile --data synthetic --batches 2 --energy auto "
                                 "--threads 1"), 0);
    const char *note = strstr(out, "energy: estimate,");
    if (!note) skip(); // this machine reads RAPL: no fallback to check
    const size_t len = strcspn(note, "\n");
    if (len > 160) fail_msg("the fallback note is %zu characters: %.*s", len, (int)len, note);
    assert_non_null(strstr(note, "'joulegrad energy' says why"));
}

/* The small words: "1 epoch", and an ASHA study that ran its whole schedule
 * was not "stopped by asha". */
static void test_study_words(void **state)
{
    (void)state;
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random --trials 1 --epochs 1 --out %s",
                                 jg_cli_path("one")), 0);
    assert_non_null(strstr(out, "1 trial of 1 epoch,"));
    assert_int_equal(jg_cli_runf(1, out, TUNE " --strategy random --trials 3 --epochs 3 "
                                 "--early-stop asha --out %s", jg_cli_path("asha")), 0);
    assert_non_null(strstr(out, "finished: every trial ran, asha stopped the weaker ones early"));
    assert_null(strstr(out, "stopped by asha"));
}

/* reproduce: a finished run's report is drawn again by --resume (e.g. after
 * gnuplot was installed); a tiny run's RQ2 verdicts say they test the
 * pipeline; --help gives tiny's real time. */
static void test_reproduce_report_again(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("repro-rq2");
    assert_int_equal(jg_cli_runf(1, out, "reproduce rq2 --scale tiny --data synthetic --seeds 1 "
                                 "--out %s", dir), 0);
    char *md = jg_cli_read_text(in(dir, "report.md"));
    assert_non_null(strstr(md, "Scale tiny (300 training images, 1 epoch per run): this tests "
                               "the pipeline, not the claim"));
    free(md);
    assert_int_equal(unlink(in(dir, "report.html")), 0);
    assert_int_equal(jg_cli_runf(1, out, "reproduce rq2 --scale tiny --data synthetic --seeds 1 "
                                 "--out %s --resume", dir), 0);
    assert_non_null(strstr(out, "done before: skipped"));
    assert_int_equal(access(in(dir, "report.html"), F_OK), 0);
    assert_int_equal(jg_cli_runf(1, out, "reproduce --help"), 0);
    assert_null(strstr(out, "(CI, seconds)"));
    assert_non_null(strstr(out, "about 1.5 minutes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_process_refused),
        cmocka_unit_test(test_resume_finished_rewrites_nothing),
        cmocka_unit_test(test_energy_over_invocations),
        cmocka_unit_test(test_divergence_says_what_is_true),
        cmocka_unit_test(test_seed_exact),
        cmocka_unit_test(test_model_oom_says_what),
        cmocka_unit_test(test_class_names_kept),
        cmocka_unit_test(test_json_stays_utf8),
        cmocka_unit_test(test_study_dir_guarded),
        cmocka_unit_test(test_fallback_note_short),
        cmocka_unit_test(test_study_words),
        cmocka_unit_test(test_reproduce_report_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
