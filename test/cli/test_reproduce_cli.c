/* SPDX-License-Identifier: MIT */
/*
 * test_reproduce_cli.c - `joulegrad reproduce all --scale tiny` end to end on
 * synthetic data (300 images, 2 trials, 2 seeds: 48 tuning studies and 24
 * training runs): stopped after 50 sub-runs, one finished study cut back to
 * an unfinished one and one training run's summary removed, then --resume.
 * Checks that finished sub-runs are not redone (their logs byte-identical),
 * the cut study is continued (its first trial kept), the report has a line
 * for each claim, the HTML embeds the very PNGs on disk, and the CSV tables
 * agree with the sub-runs' own summary.json files. Bad usage first.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli_run.h"
#include "harness.h"

#define FLAGS "--scale tiny --data synthetic --energy estimate --threads 1"
#define N_SUBS 72 /* 48 RQ1 studies + 24 RQ2 runs */

static char out[JG_CLI_OUT_MAX];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

static void test_usage(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "reproduce --out %s",                          // which experiment?
        "reproduce rq3 --out %s",
        "reproduce all",                               // no --out
        "reproduce all --scale huge --out %s",
        "reproduce all --energy off --out %s",
        "reproduce all --seeds 0 --out %s",
        "reproduce all --data folder --out %s",
        "reproduce all --bogus --out %s",
        "reproduce all --resume --out %s",             // nothing to resume
    };
    const char *dir = jg_cli_path("usage");
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char args[512];
        snprintf(args, sizeof args, bad[i], dir);
        assert_int_equal(jg_cli_runf(1, out, "%s", args), 2);
        if (jg_cli_count_lines(out) != 1) fail_msg("'%s': not one line: %s", args, out);
    }
    // A directory with something in it is refused without --resume.
    mkdir(dir, 0755);
    char path[600];
    snprintf(path, sizeof path, "%s/keep.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(jg_cli_runf(1, out, "reproduce rq1 " FLAGS " --out %s", dir), 2);
    assert_non_null(strstr(out, "not empty"));
    assert_int_equal(jg_cli_runf(1, out, "reproduce --help"), 0);
    assert_non_null(strstr(out, "usage: joulegrad reproduce"));
}

/* Rows of a CSV (header first) as fields; the test fails on a row with
 * another number of fields than the header. Returns the data rows. */
typedef struct {
    char *text;
    char *f[128][24];
    int rows, cols;
} csv_t;

static void csv_read(csv_t *c, const char *path)
{
    c->text = jg_cli_read_text(path);
    c->rows = -1;
    char *save = NULL;
    for (char *line = strtok_r(c->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        assert_true(c->rows + 1 < 128);
        int k = 0;
        for (char *p = line; p; k++) {
            assert_true(k < 24);
            c->f[c->rows + 1][k] = p;
            p = strchr(p, ',');
            if (p) *p++ = '\0';
        }
        if (c->rows < 0) c->cols = k;
        else if (k != c->cols) fail_msg("%s row %d: %d fields, header %d", path, c->rows + 1, k,
                                        c->cols);
        c->rows++;
    }
}

static int csv_col(const csv_t *c, const char *name)
{
    for (int k = 0; k < c->cols; k++)
        if (!strcmp(c->f[0][k], name)) return k;
    fail_msg("no column %s", name);
    return -1;
}

static double csv_num(const csv_t *c, int row, const char *name)
{
    const char *s = c->f[row + 1][csv_col(c, name)];
    char *end;
    const double v = strtod(s, &end);
    if (end == s || *end) fail_msg("row %d %s: '%s' is not a number", row, name, s);
    return v;
}

static void assert_near(const char *what, double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol)) fail_msg("%s: %.9g, the raw file says %.9g", what, got, want);
}

/* Base64 decoder for the embedded images (RFC 4648, padded). */
static unsigned char *b64_decode(const char *s, size_t len, size_t *n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert_int_equal(len % 4, 0);
    unsigned char *p = jg_test_alloc_bytes(len / 4 * 3 + 1);
    *n = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char ch = s[i + k];
            const char *q = ch == '=' ? NULL : strchr(a, ch);
            if (ch != '=' && (!q || !ch)) fail_msg("bad base64 character %d", ch);
            pad += ch == '=';
            v = v << 6 | (q ? (unsigned)(q - a) : 0);
        }
        p[(*n)++] = (unsigned char)(v >> 16);
        if (pad < 2) p[(*n)++] = (unsigned char)(v >> 8 & 255);
        if (pad < 1) p[(*n)++] = (unsigned char)(v & 255);
    }
    return p;
}

/* Every figure embedded in report.html decodes to the PNG beside it. */
static void check_html(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/report.html", dir);
    char *html = jg_cli_read_text(path);
    static const char *const figs[] = {"rq1_lr-uniform", "rq1_lr-log", "rq2_energy_by_type",
                                       "rq2_conv_sweep"};
    for (size_t i = 0; i < sizeof figs / sizeof *figs; i++) {
        char png[600], tag[128];
        snprintf(png, sizeof png, "%s/%s.png", dir, figs[i]);
        snprintf(tag, sizeof tag, "alt=\"%s\" src=\"data:image/png;base64,", figs[i]);
        // The data and script are always there; the image when gnuplot is.
        for (int k = 0; k < 2; k++) {
            char aux[600];
            snprintf(aux, sizeof aux, "%s/%s.%s", dir, figs[i], k ? "gp" : "dat");
            free(jg_cli_read_text(aux));
        }
        FILE *f = fopen(png, "rb");
        if (!f) {
            assert_null(strstr(html, tag));
            assert_non_null(strstr(html, "was not drawn"));
            continue;
        }
        fclose(f);
        const char *b = strstr(html, tag);
        if (!b) fail_msg("%s is not embedded", figs[i]);
        b += strlen(tag);
        const size_t len = strcspn(b, "\"");
        size_t n;
        unsigned char *bytes = b64_decode(b, len, &n);
        char *disk = jg_cli_read_text(png); // binary: compared by length and bytes
        struct stat st;
        assert_int_equal(stat(png, &st), 0);
        assert_int_equal((long long)n, (long long)st.st_size);
        assert_memory_equal(bytes, disk, n);
        free(bytes);
        free(disk);
    }
    assert_non_null(strstr(html, "<table>"));
    assert_null(strstr(html, "**")); // every bold mark was converted
    free(html);
}

/* The claim lines: one per claim with a verdict. */
static void check_claims(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/report.md", dir);
    char *md = jg_cli_read_text(path);
    static const char *const ids[] = {"RQ1 BO-PI", "RQ1 BO-EI", "RQ2 conv dominates",
                                      "RQ2 4 -> 1 conv", "RQ2 linear small",
                                      "RQ2 ReLU negligible"};
    static const char *const verdicts[] = {"confirmed", "refuted", "inconclusive",
                                           "not testable here"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char key[96];
        snprintf(key, sizeof key, "- **Claim %s: ", ids[i]);
        const char *line = strstr(md, key);
        if (!line) fail_msg("report.md has no line '%s'", key);
        line += strlen(key);
        int ok = 0;
        for (size_t v = 0; v < 4; v++)
            ok |= !strncmp(line, verdicts[v], strlen(verdicts[v])) &&
                  !strncmp(line + strlen(verdicts[v]), ".**", 3);
        if (!ok) fail_msg("claim %s: no verdict in '%.80s'", ids[i], line);
        const char *eol = strchr(line, '\n');
        assert_non_null(eol);
        // Numbers, a test and the energy source on the line itself.
        char l[4096];
        snprintf(l, sizeof l, "%.*s", (int)(eol - line), line);
        assert_non_null(strstr(l, "Wilcoxon signed-rank, n = "));
        assert_non_null(strstr(l, "`estimate`"));
        printf("  claim %s: %.*s\n", ids[i], (int)strcspn(line, "."), line);
    }
    // The machine and the meaning of the estimate source are stated.
    assert_non_null(strstr(md, "Energy source `estimate`"));
    assert_non_null(strstr(md, "not a measurement"));
    assert_non_null(strstr(md, "| setting | this run | the study | why different |"));
    free(md);
}

/* rq1_runs.csv against every study's summary.json and best_vs_energy.csv. */
static void check_rq1(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/rq1_runs.csv", dir);
    csv_t c;
    csv_read(&c, path);
    assert_int_equal(c.rows, 48);
    for (int r = 0; r < c.rows; r++) {
        char sub[700];
        snprintf(sub, sizeof sub, "%s/%s/summary.json", dir, c.f[r + 1][csv_col(&c, "dir")]);
        cJSON *j = jg_cli_read_json(sub, NULL);
        assert_near("total_j", csv_num(&c, r, "total_j"), jg_cli_json_num(j, "total_energy_j"),
                    1e-6);
        assert_near("best_val_accuracy", csv_num(&c, r, "best_val_accuracy"),
                    jg_cli_json_num(j, "best_val_accuracy"), 1e-6);
        assert_int_equal((int)csv_num(&c, r, "trials"), 2);
        assert_string_equal(c.f[r + 1][csv_col(&c, "energy_source")],
                            jg_cli_json_str(j, "energy_source"));
        cJSON_Delete(j);
        // The common accuracy is reached by definition, within the study's joules.
        const double best = csv_num(&c, r, "best_val_accuracy"), com = csv_num(&c, r, "common_accuracy");
        assert_true(com <= best + 1e-9);
        const double jc = csv_num(&c, r, "j_to_common");
        assert_true(jc > 0 && jc <= csv_num(&c, r, "total_j") + 1e-9);
    }
    // Blocks of 4 strategies (same network, lr space, seed): the common
    // accuracy is the lowest of their bests.
    for (int r = 0; r < c.rows; r += 4) {
        double lo = 2;
        for (int k = 0; k < 4; k++) {
            assert_string_equal(c.f[r + k + 1][csv_col(&c, "network")], c.f[r + 1][csv_col(&c, "network")]);
            const double b = csv_num(&c, r + k, "best_val_accuracy");
            lo = b < lo ? b : lo;
        }
        assert_near("common_accuracy", csv_num(&c, r, "common_accuracy"), lo, 1e-6);
    }
    free(c.text);
    snprintf(path, sizeof path, "%s/rq1_tests.csv", dir);
    csv_read(&c, path);
    assert_int_equal(c.rows, 4);
    for (int r = 0; r < 4; r++) {
        const double p = csv_num(&c, r, "p"), ph = csv_num(&c, r, "p_holm");
        assert_true(p > 0 && p <= 1 && ph >= p - 1e-12 && ph <= 1);
        assert_int_equal((int)csv_num(&c, r, "pairs"), 12);
    }
    free(c.text);
}

/* rq2_runs.csv against every run's summary.json; the effects add up. */
static void check_rq2(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/rq2_runs.csv", dir);
    csv_t c;
    csv_read(&c, path);
    assert_int_equal(c.rows, 24);
    for (int r = 0; r < c.rows; r++) {
        char sub[700];
        snprintf(sub, sizeof sub, "%s/%s/summary.json", dir, c.f[r + 1][csv_col(&c, "dir")]);
        cJSON *j = jg_cli_read_json(sub, NULL);
        const cJSON *en = jg_cli_json_get(j, "energy");
        const cJSON *conv = cJSON_GetObjectItemCaseSensitive(jg_cli_json_get(en, "by_type"), "conv");
        const double conv_j = conv ? jg_cli_json_num(conv, "forward_j") +
                                         jg_cli_json_num(conv, "backward_j") : 0;
        assert_near("total_j", csv_num(&c, r, "total_j"), jg_cli_json_num(en, "total_j"), 1e-6);
        assert_near("conv_j", csv_num(&c, r, "conv_j"), conv_j, 2e-6);
        assert_near("test_accuracy", csv_num(&c, r, "test_accuracy"),
                    jg_cli_json_num(j, "test_accuracy"), 1e-6);
        assert_string_equal(jg_cli_json_str(en, "source"), "estimate");
        // The dense networks have no conv layer; the conv nets do.
        assert_true((csv_num(&c, r, "conv") == 0) == (conv_j == 0));
        double parts = 0;
        static const char *const cols[] = {"conv_j", "linear_j", "relu_j", "pool_j",
                                           "batchnorm_j", "rest_j"};
        for (size_t k = 0; k < 6; k++) parts += csv_num(&c, r, cols[k]);
        assert_near("sum of the types", parts, csv_num(&c, r, "total_j"), 1e-5);
        cJSON_Delete(j);
    }
    free(c.text);
    snprintf(path, sizeof path, "%s/rq2_effects.csv", dir);
    csv_read(&c, path);
    assert_int_equal(c.rows, 9);
    double share = 0;
    for (int r = 0; r < 8; r++) share += csv_num(&c, r, "share");
    assert_near("shares", share, 1, 1e-6);
    free(c.text);
}

static char *read_sub(const char *dir, const char *sub, const char *file)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, file);
    return jg_cli_read_text(path);
}

static void test_end_to_end_resume(void **state)
{
    (void)state;
    const char *dir = jg_cli_path("repro");
    const char *cut = "rq1/paper-densepoly/lr-uniform/grid/seed-1";  // made unfinished
    const char *kept = "rq1/paper-simplecnn/lr-log/bayes-pi/seed-2"; // left alone
    const char *rerun = "rq2/conv1-lin3-norelu/rep-1";               // summary removed
    double t0 = now_s();
    assert_int_equal(jg_cli_runf(1, out, "reproduce all " FLAGS " --stop-after 50 --out %s",
                                 dir), 0);
    const double first_s = now_s() - t0;
    assert_int_equal(count(out, "] rq"), 50);
    assert_non_null(strstr(out, "stopped after 50 sub-runs"));
    char md[600];
    snprintf(md, sizeof md, "%s/report.md", dir);
    FILE *f = fopen(md, "r");
    assert_null(f); // no report before every sub-run finished

    // Cut one study back to its first trial, as if killed after it.
    char path[700];
    char *log = read_sub(dir, cut, "trials.jsonl");
    assert_int_equal(jg_cli_count_lines(log), 3);
    const size_t two = (size_t)(strchr(strchr(log, '\n') + 1, '\n') + 1 - log);
    snprintf(path, sizeof path, "%s/%s/trials.jsonl", dir, cut);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(log, 1, two, f), two);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, cut);
    assert_int_equal(remove(path), 0);
    snprintf(path, sizeof path, "%s/%s/summary.json", dir, rerun);
    assert_int_equal(remove(path), 0);
    char *kept_before = read_sub(dir, kept, "trials.jsonl");

    // Another --seeds is refused; the same flags continue.
    assert_int_equal(jg_cli_runf(1, out, "reproduce all " FLAGS " --seeds 3 --resume --out %s",
                                 dir), 2);
    assert_int_equal(jg_cli_count_lines(out), 1);
    t0 = now_s();
    assert_int_equal(jg_cli_runf(1, out, "reproduce all " FLAGS " --resume --out %s", dir), 0);
    const double second_s = now_s() - t0;
    assert_int_equal(count(out, "] rq"), N_SUBS);
    assert_int_equal(count(out, "done before: skipped"), 48); // 50 minus the two spoiled
    assert_int_equal(count(out, "; continued, "), 1);
    assert_non_null(strstr(out, "wrote "));
    char *cut_after = read_sub(dir, cut, "trials.jsonl");
    assert_int_equal(jg_cli_count_lines(cut_after), 3);
    assert_memory_equal(cut_after, log, two); // the first trial was kept, not redone
    char *kept_after = read_sub(dir, kept, "trials.jsonl");
    assert_string_equal(kept_after, kept_before);
    free(read_sub(dir, rerun, "summary.json"));
    printf("  reproduce all --scale tiny: %.1f s for 50 sub-runs, %.1f s to resume the other %d "
           "and write the report\n", first_s, second_s, N_SUBS - 48);

    check_claims(dir);
    check_html(dir);
    check_rq1(dir);
    check_rq2(dir);
    free(log);
    free(cut_after);
    free(kept_before);
    free(kept_after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_end_to_end_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
