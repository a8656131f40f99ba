/* SPDX-License-Identifier: MIT */
/*
 * bench_gemm.c - `joulegrad bench gemm`: validates jg_sgemm against
 * jg_sgemm_ref, then times it (median of interleaved runs) and, when built
 * with OpenBLAS, cblas_sgemm on the same data in the same process.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bench_common.h"
#include "jg_bench.h"

#ifdef JG_HAVE_OPENBLAS
#include <cblas.h>
#endif

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
          "                            [--trans NN|NT|TN|TT] [--repeats R] [--json]\n"
          "  C = A * B, row-major, single precision; defaults 1024^3 on all threads.\n"
          "  Prints the median time, GFLOPS, fraction of this machine's measured peak\n"
          "  and, when built with OpenBLAS, cblas_sgemm on the same data\n"
          "  (OPENBLAS_CORETYPE selects its kernels).\n",
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

/* Checks up to VALIDATE_ROWS rows of p->c (just computed by jg_sgemm)
 * against jg_sgemm_ref run on those rows through offset pointers. */
static int validate(const problem_t *p, double *max_err)
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
        const double e = jg_bench_max_err(p->c + (size_t)i * p->n, want, (size_t)p->n,
                                          VALIDATE_ATOL_SCALE * sqrt((double)p->k));
        if (!(e <= worst)) worst = e;
    }
    free(want);
    *max_err = worst;
    return 0;
}

#ifdef JG_HAVE_OPENBLAS
static void pause_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void run_openblas(const problem_t *p)
{
    cblas_sgemm(CblasRowMajor, p->ta == JG_NOTRANS ? CblasNoTrans : CblasTrans,
                p->tb == JG_NOTRANS ? CblasNoTrans : CblasTrans, p->m, p->n, p->k, 1.0f, p->a,
                p->lda, p->b, p->ldb, 0.0f, p->c, p->n);
}
#endif

int jg_bench_gemm_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"m", required_argument, NULL, 'm'},       {"n", required_argument, NULL, 'n'},
        {"k", required_argument, NULL, 'k'},       {"threads", required_argument, NULL, 't'},
        {"trans", required_argument, NULL, 'T'},   {"repeats", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int m = 1024, n = 1024, k = 1024, threads = 0, repeats = 0, json = 0;
    jg_trans_t ta = JG_NOTRANS, tb = JG_NOTRANS;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &m); break;
        case 'n': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &n); break;
        case 'k': bad = jg_bench_parse_int(optarg, 1, 1 << 16, &k); break;
        case 't': bad = jg_bench_parse_int(optarg, 1, 1024, &threads); break;
        case 'r': bad = jg_bench_parse_int(optarg, 1, 1000000, &repeats); break;
        case 'T': bad = parse_trans(optarg, &ta, &tb); break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "joulegrad: bench gemm: unknown or incomplete option '%s' "
                            "(see 'joulegrad bench gemm --help')\n",
                    argv[optind - 1]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "joulegrad: bench gemm: bad value '%s' for --%s (see --help)\n",
                    optarg, c == 'T' ? "trans" : c == 't' ? "threads" : c == 'r' ? "repeats"
                                                                        : (char[]){(char)c, 0});
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulegrad: bench gemm: unexpected argument '%s' (see --help)\n",
                argv[optind]);
        return 2;
    }
    if (jg_kernels_init() == 0 && threads == 0) threads = jg_kernels_threads();
    if (threads == 0) threads = 1;
    int err = jg_bench_setup(threads);
    if (err) return err;
    const jg_isa_t isa = jg_kernels_isa();

    problem_t p = {ta, tb, m, n, k, ta == JG_NOTRANS ? k : m, tb == JG_NOTRANS ? n : k,
                   NULL, NULL, NULL};
    const size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    float *a = malloc(na * sizeof(float)), *b = malloc(nb * sizeof(float));
    float *cm = malloc(nc * sizeof(float)); // (m, n)
    if (!a || !b || !cm) {
        free(a), free(b), free(cm);
        fprintf(stderr, "joulegrad: bench gemm: out of memory for %dx%dx%d\n", m, n, k);
        return 1;
    }
    jg_bench_fill(a, na, 1);
    jg_bench_fill(b, nb, 2);
    p.a = a, p.b = b, p.c = cm;

    double max_err = 0;
    err = run_jg(&p);
    if (!err) err = validate(&p, &max_err);
    if (err || !(max_err <= VALIDATE_TOL)) {
        if (err)
            fprintf(stderr, "joulegrad: bench gemm: jg_sgemm failed: %s\n", strerror(-err));
        else
            fprintf(stderr, "joulegrad: bench gemm: jg_sgemm (%s) disagrees with "
                            "jg_sgemm_ref: max error %.3g > %.1g\n",
                    jg_isa_name(isa), max_err, VALIDATE_TOL);
        free(a), free(b), free(cm);
        return 1;
    }

#ifdef JG_HAVE_OPENBLAS
    openblas_set_num_threads(threads);
    run_openblas(&p); /* warm-up: thread pool, pages */
    pause_s(POOL_SLEEP_S);
    const int have_blas = 1;
#else
    const int have_blas = 0;
#endif
    /* warm-up, and a first time to size the repeat count */
    double t0 = jg_bench_now_s();
    run_jg(&p);
    const double first = jg_bench_now_s() - t0;
    if (repeats == 0) {
        const double r = TARGET_TIME_S / (first > 1e-9 ? first : 1e-9);
        repeats = r < MIN_REPEATS ? MIN_REPEATS : r > MAX_REPEATS ? MAX_REPEATS : (int)r;
    }
    double *t_jg = malloc(sizeof(double) * (size_t)repeats);
    double *t_blas = malloc(sizeof(double) * (size_t)repeats);
    if (!t_jg || !t_blas) {
        free(a), free(b), free(cm), free(t_jg), free(t_blas);
        fprintf(stderr, "joulegrad: bench gemm: out of memory\n");
        return 1;
    }
    /* Interleaved in rounds so that noise from other processes hits both
     * alike. Between batches the other library's idle threads must go to
     * sleep first: both thread pools spin-wait after a call (OpenBLAS for
     * ~2^28 TSC ticks, ~70 ms), and a spinning pool on a 2-core machine
     * halves the speed of whichever library runs next. */
    int done = 0;
    for (int round = 0; round < BENCH_ROUNDS && done < repeats; round++) {
        const int batch = (repeats - done + BENCH_ROUNDS - round - 1) / (BENCH_ROUNDS - round);
        for (int r = 0; r < batch; r++) {
            t0 = jg_bench_now_s();
            run_jg(&p);
            t_jg[done + r] = jg_bench_now_s() - t0;
        }
#ifdef JG_HAVE_OPENBLAS
        pause_s(POOL_SLEEP_S);
        for (int r = 0; r < batch; r++) {
            t0 = jg_bench_now_s();
            run_openblas(&p);
            t_blas[done + r] = jg_bench_now_s() - t0;
        }
        pause_s(POOL_SLEEP_S);
#endif
        done += batch;
    }
    const double flops = 2.0 * m * n * k;
    const double sec = jg_bench_median(t_jg, repeats);
    const double gflops = flops / sec * 1e-9;
    double blas_sec = 0, blas_gflops = 0;
    const char *core = "";
#ifdef JG_HAVE_OPENBLAS
    blas_sec = jg_bench_median(t_blas, repeats);
    blas_gflops = flops / blas_sec * 1e-9;
    core = openblas_get_corename();
#endif
    free(t_jg), free(t_blas), free(a), free(b), free(cm);
    jg_bench_peak_t peak;
    jg_bench_peak(isa, threads, &peak);
    const double frac = peak.peak_gflops > 0 ? gflops / peak.peak_gflops : 0;

    if (json) {
        cJSON *o = cJSON_CreateObject();
        if (!o) return 1;
        cJSON_AddNumberToObject(o, "m", m);
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "k", k);
        cJSON_AddStringToObject(o, "trans", (char[]){ta == JG_NOTRANS ? 'N' : 'T',
                                                     tb == JG_NOTRANS ? 'N' : 'T', 0});
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddStringToObject(o, "isa", jg_isa_name(isa));
        cJSON_AddNumberToObject(o, "repeats", repeats);
        cJSON_AddNumberToObject(o, "seconds", sec);
        cJSON_AddNumberToObject(o, "gflops", gflops);
        cJSON_AddNumberToObject(o, "peak_gflops", peak.peak_gflops);
        cJSON_AddNumberToObject(o, "peak_fraction", frac);
        cJSON_AddNumberToObject(o, "validated_max_err", max_err);
        if (have_blas) {
            cJSON_AddNumberToObject(o, "openblas_seconds", blas_sec);
            cJSON_AddNumberToObject(o, "openblas_gflops", blas_gflops);
            cJSON_AddStringToObject(o, "openblas_core", core);
            cJSON_AddNumberToObject(o, "ratio", gflops / blas_gflops);
        }
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text) return 1;
        puts(text);
        cJSON_free(text);
        return 0;
    }
    printf("sgemm %c%c m=%d n=%d k=%d threads=%d isa=%s repeats=%d (median)\n",
           ta == JG_NOTRANS ? 'N' : 'T', tb == JG_NOTRANS ? 'N' : 'T', m, n, k, threads,
           jg_isa_name(isa), repeats);
    printf("  validated vs jg_sgemm_ref: max rel err %.2e (tol %.0e)\n", max_err, VALIDATE_TOL);
    printf("  joulegrad: %.3f ms  %.1f GFLOPS  %.1f%% of peak %.0f GFLOPS "
           "(measured: %.2f GHz x %d lanes x 2 x %.0f FMA/cycle x %d threads)\n",
           sec * 1e3, gflops, 100 * frac, peak.peak_gflops, peak.clock_ghz, peak.lanes,
           peak.fma_per_cycle, threads);
    if (have_blas)
        printf("  OpenBLAS (%s): %.3f ms  %.1f GFLOPS  ratio joulegrad/OpenBLAS %.3f\n", core,
               blas_sec * 1e3, blas_gflops, gflops / blas_gflops);
    return 0;
}
