/* SPDX-License-Identifier: MIT */
/*
 * bench_gemm.c - `joulegrad bench gemm`: validates jg_sgemm against
 * jg_sgemm_ref, then times it (median of interleaved runs) against the
 * anchors that are installed, OpenBLAS and BLIS (cblas_sgemm, loaded at run
 * time: anchors.h), on the same data in the same process. Each anchor is
 * validated the same way before it is timed.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "anchors.h"
#include "bench_common.h"
#include "jg_bench.h"

/* Validation: |got - want| / (VALIDATE_ATOL_SCALE * sqrt(k) + |want|) must
 * stay below VALIDATE_TOL. Entries of C have magnitude ~ sqrt(k) / 3 for
 * uniform [-1, 1) data; float accumulation of k terms errs by ~sqrt(k) * u
 * typically and k * u (k <= 8192: 5e-4) in the worst case. */
#define VALIDATE_TOL 1e-3
#define VALIDATE_ATOL_SCALE 0.1
/* Rows checked against the double oracle for large m (keeps it < 1 s). */
#define VALIDATE_ROWS 32
/* Target total timing per implementation when --repeats is not given. */
#define TARGET_TIME_S 0.5
#define MIN_REPEATS 5
#define MAX_REPEATS 2000
/* Timing alternates between the libraries in this many batches. */
#define BENCH_ROUNDS 5
/* Idle gap that lets a spinning thread pool fall asleep (see below). */
#define POOL_SLEEP_S 0.2

static void usage(FILE *f)
{
    fputs("usage: joulegrad bench gemm [--m M] [--n N] [--k K] [--threads T]\n"
          "                            [--trans NN|NT|TN|TT] [--repeats R]\n"
          "                            [--anchors openblas,blis|openblas|blis|none] [--json]\n"
          "  C = A * B, row-major, single precision; defaults 1024^3 on all threads.\n"
          "  Prints the median time, GFLOPS, fraction of this machine's measured peak\n"
          "  and cblas_sgemm of each anchor on the same data, interleaved (default:\n"
          "  OpenBLAS and BLIS, whichever are installed; loaded only for this command).\n"
          "  OPENBLAS_CORETYPE selects OpenBLAS's kernels (bench/gemm.sh picks the\n"
          "  fastest).\n",
          f);
}

static int parse_trans(const char *s, jg_trans_t *ta, jg_trans_t *tb)
{
    if (strlen(s) != 2) return -EINVAL;
    jg_trans_t t[2];
    for (int i = 0; i < 2; i++) {
        if (s[i] == 'N' || s[i] == 'n') t[i] = JG_NOTRANS;
        else if (s[i] == 'T' || s[i] == 't') t[i] = JG_TRANS;
        else return -EINVAL;
    }
    *ta = t[0], *tb = t[1];
    return 0;
}

typedef struct {
    jg_trans_t ta, tb;
    int m, n, k, lda, ldb;
    const float *a, *b;
    float *c;
} problem_t;

static int run_jg(const problem_t *p)
{
    return jg_sgemm(p->ta, p->tb, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb, 0.0f,
                    p->c, p->n);
}

/* Checks up to VALIDATE_ROWS rows of c (p's product, just computed by
 * jg_sgemm or an anchor) against jg_sgemm_ref run on those rows through
 * offset pointers. */
static int validate(const problem_t *p, const float *c, double *max_err)
{
    float *want = malloc(sizeof(float) * (size_t)p->n);
    if (!want) return -ENOMEM;
    const int rows = p->m < VALIDATE_ROWS ? p->m : VALIDATE_ROWS;
    uint64_t s = 0x2545f4914f6cdd1dull;
    double worst = 0;
    for (int r = 0; r < rows; r++) {
        int i = r;
        if (p->m > VALIDATE_ROWS) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            i = (int)(s % (uint64_t)p->m);
        }
        /* row i of op(A): row i of A, or column i of A when transposed */
        const float *ai = p->ta == JG_NOTRANS ? p->a + (size_t)i * p->lda : p->a + i;
        const int err = jg_sgemm_ref(p->ta, p->tb, 1, p->n, p->k, 1.0f, ai, p->lda, p->b,
                                     p->ldb, 0.0f, want, p->n);
        if (err) {
            free(want);
            return err;
        }
        const double e = jg_bench_max_err(c + (size_t)i * p->n, want, (size_t)p->n,
                                          VALIDATE_ATOL_SCALE * sqrt((double)p->k));
        if (!(e <= worst)) worst = e;
    }
    free(want);
    *max_err = worst;
    return 0;
}

static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void run_anchor(const jg_anchor_blas_t *an, const problem_t *p, float *c)
{
    jg_anchor_blas_sgemm(an, p->ta, p->tb, p->m, p->n, p->k, 1.0f, p->a, p->lda, p->b, p->ldb,
                         0.0f, c, p->n);
}

/* --anchors LIST: bit i set for jg_anchor_blas_kind_t i. */
static int parse_anchors(const char *s, unsigned *mask)
{
    if (!strcmp(s, "none")) return *mask = 0, 0;
    if (!strcmp(s, "openblas,blis") || !strcmp(s, "blis,openblas")) return *mask = 3, 0;
    if (!strcmp(s, "openblas")) return *mask = 1, 0;
    if (!strcmp(s, "blis")) return *mask = 2, 0;
    return -EINVAL;
}

/* One anchor's state: loaded, validated, timed. */
typedef struct {
    jg_anchor_blas_t lib;
    int on;
    double *t, sec, gflops, max_err;
} anchor_run_t;

typedef struct {
    int m, n, k, threads, repeats, json;
    jg_trans_t ta, tb;
    unsigned anchors; /* bit per jg_anchor_blas_kind_t */
} gemm_opts_t;

/* Parses argv into o: 0, or the exit code (2 bad usage, -1 --help printed). */
static int parse_opts(int argc, char **argv, gemm_opts_t *o)
{
    static const struct option opts[] = {
        {"m", required_argument, NULL, 'm'},       {"n", required_argument, NULL, 'n'},
        {"k", required_argument, NULL, 'k'},       {"threads", required_argument, NULL, 't'},
        {"trans", required_argument, NULL, 'T'},   {"repeats", required_argument, NULL, 'r'},
        {"anchors", required_argument, NULL, 'a'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    *o = (gemm_opts_t){1024, 1024, 1024, 0, 0, 0, JG_NOTRANS, JG_NOTRANS, 3};
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &o->m); break;
        case 'n': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &o->n); break;
        case 'k': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &o->k); break;
        case 't': bad = jg_bench_parse_int(optarg, 1, 1024, &o->threads); break;
        case 'r': bad = jg_bench_parse_int(optarg, 1, 1000000, &o->repeats); break;
        case 'T': bad = parse_trans(optarg, &o->ta, &o->tb); break;
        case 'a': bad = parse_anchors(optarg, &o->anchors); break;
        case 'j': o->json = 1; break;
        case 'h': usage(stdout); return -1;
        default:
            fprintf(stderr, "joulegrad: bench gemm: unknown or incomplete option '%s' "
                            "(see 'joulegrad bench gemm --help')\n",
                    argv[optind - 1]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "joulegrad: bench gemm: bad value '%s' for --%s (see --help)\n",
                    optarg, c == 'T' ? "trans" : c == 't' ? "threads" : c == 'r' ? "repeats"
                                         : c == 'a' ? "anchors" : (char[]){(char)c, 0});
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulegrad: bench gemm: unexpected argument '%s' (see --help)\n",
                argv[optind]);
        return 2;
    }
    return 0;
}

/* Loads and validates the anchors in o->anchors; one that is missing or
 * wrong is reported on stderr and left out. c: scratch (m, n). */
static int open_anchors(const gemm_opts_t *o, const problem_t *p, float *c,
                        anchor_run_t an[JG_ANCHOR_BLAS_COUNT])
{
    for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++) {
        memset(&an[i], 0, sizeof an[i]);
        if (!(o->anchors & (1u << i))) continue;
        char why[256];
        if (jg_anchor_blas_open(&an[i].lib, (jg_anchor_blas_kind_t)i, o->threads, why,
                                sizeof why)) {
            fprintf(stderr, "joulegrad: bench gemm: %s\n", why);
            continue;
        }
        run_anchor(&an[i].lib, p, c); /* also the warm-up: thread pool, pages */
        if (validate(p, c, &an[i].max_err) || !(an[i].max_err <= VALIDATE_TOL)) {
            fprintf(stderr, "joulegrad: bench gemm: %s disagrees with jg_sgemm_ref (max "
                            "error %.3g); left out\n", an[i].lib.name, an[i].max_err);
            continue;
        }
        an[i].t = malloc(sizeof(double) * (size_t)o->repeats);
        if (!an[i].t) return -ENOMEM;
        an[i].on = 1;
    }
    return 0;
}

/* Times jg_sgemm and the anchors in BENCH_ROUNDS interleaved batches, so
 * that noise from other processes hits all alike. Between batches the idle
 * threads of the one that just ran must go to sleep first: every thread pool
 * spin-waits after a call (OpenBLAS for ~2^28 TSC ticks, ~70 ms), and a
 * spinning pool on a 2-core machine halves the speed of whoever runs next. */
static void time_interleaved(const problem_t *p, float *c, int repeats, double *t_jg,
                             anchor_run_t an[JG_ANCHOR_BLAS_COUNT])
{
    int done = 0;
    for (int round = 0; round < BENCH_ROUNDS && done < repeats; round++) {
        const int batch = (repeats - done + BENCH_ROUNDS - round - 1) / (BENCH_ROUNDS - round);
        for (int r = 0; r < batch; r++) {
            const double t0 = jg_bench_now_s();
            run_jg(p);
            t_jg[done + r] = jg_bench_now_s() - t0;
        }
        for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++) {
            if (!an[i].on) continue;
            pause_s(POOL_SLEEP_S);
            for (int r = 0; r < batch; r++) {
                const double t0 = jg_bench_now_s();
                run_anchor(&an[i].lib, p, c);
                an[i].t[done + r] = jg_bench_now_s() - t0;
            }
            pause_s(POOL_SLEEP_S);
        }
        done += batch;
    }
}

static int print_json(const gemm_opts_t *o, jg_isa_t isa, double sec, double gflops,
                      const jg_bench_peak_t *peak, double max_err,
                      const anchor_run_t an[JG_ANCHOR_BLAS_COUNT])
{
    static const char *const keys[JG_ANCHOR_BLAS_COUNT] = {"openblas", "blis"};
    static const char *const core_keys[JG_ANCHOR_BLAS_COUNT] = {"openblas_core", "blis_arch"};
    static const char *const ratio_keys[JG_ANCHOR_BLAS_COUNT] = {"ratio", "ratio_blis"};
    cJSON *j = cJSON_CreateObject();
    if (!j) return 1;
    cJSON_AddNumberToObject(j, "m", o->m);
    cJSON_AddNumberToObject(j, "n", o->n);
    cJSON_AddNumberToObject(j, "k", o->k);
    cJSON_AddStringToObject(j, "trans", (char[]){o->ta == JG_NOTRANS ? 'N' : 'T',
                                                 o->tb == JG_NOTRANS ? 'N' : 'T', 0});
    cJSON_AddNumberToObject(j, "threads", o->threads);
    cJSON_AddStringToObject(j, "isa", jg_isa_name(isa));
    cJSON_AddNumberToObject(j, "repeats", o->repeats);
    cJSON_AddNumberToObject(j, "seconds", sec);
    cJSON_AddNumberToObject(j, "gflops", gflops);
    cJSON_AddNumberToObject(j, "peak_gflops", peak->peak_gflops);
    cJSON_AddNumberToObject(j, "peak_fraction",
                            peak->peak_gflops > 0 ? gflops / peak->peak_gflops : 0);
    cJSON_AddNumberToObject(j, "validated_max_err", max_err);
    double best = 0;
    for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++) {
        if (!an[i].on) continue;
        char key[64];
        snprintf(key, sizeof key, "%s_seconds", keys[i]);
        cJSON_AddNumberToObject(j, key, an[i].sec);
        snprintf(key, sizeof key, "%s_gflops", keys[i]);
        cJSON_AddNumberToObject(j, key, an[i].gflops);
        cJSON_AddStringToObject(j, core_keys[i], an[i].lib.core);
        cJSON_AddNumberToObject(j, ratio_keys[i], gflops / an[i].gflops);
        if (an[i].gflops > best) best = an[i].gflops;
    }
    /* against the faster of the anchors in this run */
    if (best > 0) cJSON_AddNumberToObject(j, "ratio_best", gflops / best);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) return 1;
    puts(text);
    cJSON_free(text);
    return 0;
}

static void print_text(const gemm_opts_t *o, jg_isa_t isa, double sec, double gflops,
                       const jg_bench_peak_t *peak, double max_err,
                       const anchor_run_t an[JG_ANCHOR_BLAS_COUNT])
{
    const double frac = peak->peak_gflops > 0 ? gflops / peak->peak_gflops : 0;
    printf("sgemm %c%c m=%d n=%d k=%d threads=%d isa=%s repeats=%d (median)\n",
           o->ta == JG_NOTRANS ? 'N' : 'T', o->tb == JG_NOTRANS ? 'N' : 'T', o->m, o->n, o->k,
           o->threads, jg_isa_name(isa), o->repeats);
    printf("  validated vs jg_sgemm_ref: max rel err %.2e (tol %.0e)\n", max_err, VALIDATE_TOL);
    printf("  joulegrad: %.3f ms  %.1f GFLOPS  %.1f%% of peak %.0f GFLOPS "
           "(measured: %.2f GHz x %d lanes x 2 x %.0f FMA/cycle x %d threads)\n",
           sec * 1e3, gflops, 100 * frac, peak->peak_gflops, peak->clock_ghz, peak->lanes,
           peak->fma_per_cycle, o->threads);
    for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++)
        if (an[i].on)
            printf("  %s (%s): %.3f ms  %.1f GFLOPS  ratio joulegrad/%s %.3f\n", an[i].lib.name,
                   an[i].lib.core, an[i].sec * 1e3, an[i].gflops, an[i].lib.name,
                   gflops / an[i].gflops);
}

int jg_bench_gemm_main(int argc, char **argv)
{
    gemm_opts_t o;
    int err = parse_opts(argc, argv, &o);
    if (err) return err < 0 ? 0 : err;
    if (jg_kernels_init() == 0 && o.threads == 0) o.threads = jg_kernels_threads();
    if (o.threads == 0) o.threads = 1;
    err = jg_bench_setup(o.threads);
    if (err) return err;
    const jg_isa_t isa = jg_kernels_isa();

    problem_t p = {o.ta, o.tb, o.m, o.n, o.k, o.ta == JG_NOTRANS ? o.k : o.m,
                   o.tb == JG_NOTRANS ? o.n : o.k, NULL, NULL, NULL};
    const size_t na = (size_t)o.m * o.k, nb = (size_t)o.k * o.n, nc = (size_t)o.m * o.n;
    float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float));
    float *cm = malloc(nc * sizeof(float)), *c_anchor = malloc(nc * sizeof(float)); // (m, n)
    double *t_jg = NULL;
    anchor_run_t an[JG_ANCHOR_BLAS_COUNT];
    memset(an, 0, sizeof an);
    int rc = 1;
    if (!a || !b || !cm || !c_anchor) {
        fprintf(stderr, "joulegrad: bench gemm: out of memory for %dx%dx%d\n", o.m, o.n, o.k);
        goto out;
    }
    jg_bench_fill(a, na, 1);
    jg_bench_fill(b, nb, 2);
    p.a = a, p.b = b, p.c = cm;

    double max_err = 0;
    err = run_jg(&p);
    if (!err) err = validate(&p, cm, &max_err);
    if (err || !(max_err <= VALIDATE_TOL)) {
        if (err)
            fprintf(stderr, "joulegrad: bench gemm: jg_sgemm failed: %s\n", strerror(-err));
        else
            fprintf(stderr, "joulegrad: bench gemm: jg_sgemm (%s) disagrees with "
                            "jg_sgemm_ref: max error %.3g > %.1g\n",
                    jg_isa_name(isa), max_err, VALIDATE_TOL);
        goto out;
    }
    /* warm-up, and a first time to size the repeat count */
    double t0 = jg_bench_now_s();
    run_jg(&p);
    const double first = jg_bench_now_s() - t0;
    if (o.repeats == 0) {
        const double r = TARGET_TIME_S / (first > 1e-9 ? first : 1e-9);
        o.repeats = r < MIN_REPEATS ? MIN_REPEATS : r > MAX_REPEATS ? MAX_REPEATS : (int)r;
    }
    t_jg = malloc(sizeof(double) * (size_t)o.repeats);
    if (!t_jg || open_anchors(&o, &p, c_anchor, an)) {
        fprintf(stderr, "joulegrad: bench gemm: out of memory\n");
        goto out;
    }
    pause_s(POOL_SLEEP_S);
    time_interleaved(&p, c_anchor, o.repeats, t_jg, an);
    const double flops = 2.0 * o.m * o.n * o.k;
    const double sec = jg_bench_median(t_jg, o.repeats), gflops = flops / sec * 1e-9;
    for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++) {
        if (!an[i].on) continue;
        an[i].sec = jg_bench_median(an[i].t, o.repeats);
        an[i].gflops = flops / an[i].sec * 1e-9;
    }
    jg_bench_peak_t peak;
    jg_bench_peak(isa, o.threads, &peak);
    if (o.json) {
        rc = print_json(&o, isa, sec, gflops, &peak, max_err, an);
    } else {
        print_text(&o, isa, sec, gflops, &peak, max_err, an);
        rc = 0;
    }
out:
    for (int i = 0; i < JG_ANCHOR_BLAS_COUNT; i++) {
        free(an[i].t);
        jg_anchor_blas_close(&an[i].lib);
    }
    free(t_jg), free(a), free(b), free(cm), free(c_anchor);
    return rc;
}
