/* SPDX-License-Identifier: MIT */
/*
 * bench_conv.c - `joulegrad bench conv`: conv2d forward, backward-data and
 * backward-weights (+bias) on the default network's layers or one given
 * shape. Each pass is validated against its _ref twin first; then the
 * median of --repeats timed calls is reported with GFLOPS (2*N*K*OH*OW*C*KH*KW
 * flops per pass) and the fraction of the measured peak. When oneDNN is
 * installed (anchors.h: loaded at run time, at its best layouts and
 * algorithm) it is validated the same way and timed call for call in
 * alternation with joulegrad, on the same data and threads.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "anchors.h"
#include "bench_common.h"
#include "jg_bench.h"

#define MAX_LAYERS 2
/* Validation: worst |fast - ref| / (VAL_ATOL + |ref|); fast paths sum in
 * float over up to N*OH*OW terms of size ~1, the oracle in double. */
#define VAL_ATOL 1.0
#define VAL_MAX_ERR 1e-4

enum { PASS_FWD, PASS_BWD_DATA, PASS_BWD_WEIGHTS, NPASS };
static const char *const pass_names[NPASS] = {"forward", "backward_data", "backward_weights"};

typedef struct {
    const char *name;
    jg_conv2d_shape_t s;
    int in_training[NPASS]; /* 0: not needed to train (first layer's dx) */
    double ms[NPASS], gflops[NPASS];
    double min_ms[NPASS];          /* fastest call: the least disturbed on a busy machine */
    double anchor_ms[NPASS];       /* oneDNN, when it ran (0 otherwise) */
    double anchor_min_ms[NPASS];
    char anchor_impl[NPASS][160];
} layer_t;

static void usage(FILE *f)
{
    fputs("usage: joulegrad bench conv [--preset default|paper-simplecnn] [--n N --c C --h H\n"
          "                            --w W --k K --kh KH --kw KW --stride S --pad P]\n"
          "                            [--threads T] [--repeats R] [--anchors onednn|none]\n"
          "                            [--json]\n"
          "  --preset default  the default network's conv layers at batch 64:\n"
          "                    1->32 3x3 28x28 pad 1, and 32->64 3x3 14x14 pad 1 (the default\n"
          "                    when no shape is given)\n"
          "  --preset paper-simplecnn  its conv layers at batch 512: 1->3 3x3 28x28 pad 1,\n"
          "                    3->9 3x3 14x14 pad 1\n"
          "  --anchors onednn  time oneDNN (its best layouts and algorithm, loaded only\n"
          "                    for this command) call for call against joulegrad (default)\n"
          "  --n .. --pad      one layer instead (unset sizes: n 64, c 32, h 14, w 14, k 64,\n"
          "                    kh 3, kw 3, stride 1, pad 1)\n"
          "  --threads T       kernel threads (default: OpenMP's default)\n"
          "  --repeats R       timed calls per pass, median reported (default 20)\n"
          "  --json            one JSON object on stdout instead of the table\n"
          "Environment: JOULEGRAD_ISA=ref|avx2|avx512|neon.\n",
          f);
}

static double pass_flops(const jg_conv2d_shape_t *s)
{
    int oh, ow;
    if (jg_conv2d_out_hw(s, &oh, &ow)) return 0;
    return 2.0 * s->n * s->k * (double)oh * ow * s->c * s->kh * s->kw;
}

typedef struct {
    float *x, *w, *b, *y, *dy, *dx, *dw, *db, *ref; /* ref: largest of y, dx, dw */
    void *ws;
} bufs_t;

static void bufs_free(bufs_t *b)
{
    free(b->x), free(b->w), free(b->b), free(b->y), free(b->dy);
    free(b->dx), free(b->dw), free(b->db), free(b->ref), free(b->ws);
    memset(b, 0, sizeof *b);
}

static int bufs_alloc(bufs_t *b, const jg_conv2d_shape_t *s)
{
    int oh, ow;
    memset(b, 0, sizeof *b);
    if (jg_conv2d_out_hw(s, &oh, &ow)) return -EINVAL;
    const size_t nx = (size_t)s->n * s->c * s->h * s->w;
    const size_t ny = (size_t)s->n * s->k * oh * ow;
    const size_t nw = (size_t)s->k * s->c * s->kh * s->kw;
    size_t nref = nx > ny ? nx : ny;
    if (nw > nref) nref = nw;
    const ptrdiff_t wsb = jg_conv2d_workspace_bytes(s);
    if (wsb < 0) return -EINVAL;
    b->x = malloc(nx * sizeof(float)), b->w = malloc(nw * sizeof(float));
    b->b = malloc((size_t)s->k * sizeof(float)), b->y = malloc(ny * sizeof(float));
    b->dy = malloc(ny * sizeof(float)), b->dx = calloc(nx, sizeof(float));
    b->dw = calloc(nw, sizeof(float)), b->db = calloc((size_t)s->k, sizeof(float));
    b->ref = malloc((nref + (size_t)s->k) * sizeof(float));
    b->ws = wsb ? malloc((size_t)wsb) : NULL;
    if (!b->x || !b->w || !b->b || !b->y || !b->dy || !b->dx || !b->dw || !b->db || !b->ref ||
        (wsb && !b->ws)) {
        bufs_free(b);
        return -ENOMEM;
    }
    jg_bench_fill(b->x, nx, 1), jg_bench_fill(b->w, nw, 2);
    jg_bench_fill(b->b, (size_t)s->k, 3), jg_bench_fill(b->dy, ny, 4);
    return 0;
}

static int run_pass(int pass, bufs_t *b, const jg_conv2d_shape_t *s)
{
    switch (pass) {
    case PASS_FWD: return jg_conv2d_forward(b->y, b->x, b->w, b->b, s, b->ws);
    case PASS_BWD_DATA: return jg_conv2d_backward_data(b->dx, b->dy, b->w, s, b->ws);
    default: return jg_conv2d_backward_weights(b->dw, b->db, b->dy, b->x, s, b->ws);
    }
}

/* The _ref twin's result of `pass` on b's inputs, from zeroed gradients,
 * into b->ref: y, dx, or dw followed by db. Returns the float count. */
static size_t ref_pass(int pass, bufs_t *b, const jg_conv2d_shape_t *s, int *err)
{
    int oh, ow;
    jg_conv2d_out_hw(s, &oh, &ow);
    const size_t nx = (size_t)s->n * s->c * s->h * s->w;
    const size_t ny = (size_t)s->n * s->k * oh * ow;
    const size_t nw = (size_t)s->k * s->c * s->kh * s->kw;
    float *r = b->ref;
    if (pass == PASS_FWD) {
        *err = jg_conv2d_forward_ref(r, b->x, b->w, b->b, s);
        return ny;
    }
    if (pass == PASS_BWD_DATA) {
        memset(r, 0, nx * sizeof(float));
        *err = jg_conv2d_backward_data_ref(r, b->dy, b->w, s);
        return nx;
    }
    memset(r, 0, (nw + (size_t)s->k) * sizeof(float));
    *err = jg_conv2d_backward_weights_ref(r, r + nw, b->dy, b->x, s);
    return nw + (size_t)s->k;
}

/* Runs each pass once on zeroed gradients and compares ours (and the
 * anchor's, when an is not NULL) with the _ref twin. 0, or 1 after printing
 * what mismatched. */
static int validate(const char *layer, bufs_t *b, const jg_conv2d_shape_t *s,
                    jg_anchor_conv_t *an)
{
    int oh, ow;
    jg_conv2d_out_hw(s, &oh, &ow);
    const size_t nw = (size_t)s->k * s->c * s->kh * s->kw;
    float *got = malloc(((size_t)s->n * s->c * s->h * s->w + (size_t)s->n * s->k * oh * ow +
                         nw + (size_t)s->k) * sizeof(float));
    if (!got) {
        fprintf(stderr, "joulegrad: bench conv: out of memory for layer %s\n", layer);
        return 1;
    }
    int bad = 0;
    for (int pass = 0; pass < NPASS && !bad; pass++) {
        memset(b->dx, 0, (size_t)s->n * s->c * s->h * s->w * sizeof(float));
        memset(b->dw, 0, nw * sizeof(float));
        memset(b->db, 0, (size_t)s->k * sizeof(float));
        int err = run_pass(pass, b, s);
        size_t n = 0;
        if (!err) n = ref_pass(pass, b, s, &err);
        for (int who = 0; who < (an ? 2 : 1) && !err && !bad; who++) {
            const char *name = who ? jg_anchor_conv_version(an) : jg_isa_name(jg_kernels_isa());
            const float *out = pass == PASS_FWD ? b->y : pass == PASS_BWD_DATA ? b->dx : b->dw;
            double e;
            if (who) {
                err = jg_anchor_conv_run(an, pass);
                if (!err) err = jg_anchor_conv_result(an, pass, got);
                out = got;
            }
            if (err) break;
            if (pass == PASS_BWD_WEIGHTS) {
                const float *db = who ? got + nw : b->db;
                const double ew = jg_bench_max_err(out, b->ref, nw, VAL_ATOL);
                const double eb = jg_bench_max_err(db, b->ref + nw, (size_t)s->k, VAL_ATOL);
                e = ew > eb || ew != ew ? ew : eb;
            } else {
                e = jg_bench_max_err(out, b->ref, n, VAL_ATOL);
            }
            if (!(e <= VAL_MAX_ERR) && who) {
                /* the anchor's algorithm is too inexact here: its next best */
                fprintf(stderr, "joulegrad: bench conv: %s %s (%s, %s) differs from the _ref "
                                "twin: max error %.3g (limit %.1g); trying its next algorithm\n",
                        layer, pass_names[pass], name, jg_anchor_conv_impl(an, pass), e,
                        VAL_MAX_ERR);
                err = jg_anchor_conv_next(an, pass);
                if (!err) who--; /* validate the new choice */
                continue;
            }
            if (!(e <= VAL_MAX_ERR)) {
                fprintf(stderr, "joulegrad: bench conv: %s %s (%s) differs from the _ref twin: "
                                "max error %.3g (limit %.1g)\n",
                        layer, pass_names[pass], name, e, VAL_MAX_ERR);
                bad = 1;
            }
        }
        if (err) {
            fprintf(stderr, "joulegrad: bench conv: %s %s failed: %s\n", layer, pass_names[pass],
                    strerror(-err));
            bad = 1;
        }
    }
    free(got);
    return bad;
}

static double min_of(const double *t, int n)
{
    double m = t[0];
    for (int i = 1; i < n; i++)
        if (t[i] < m) m = t[i];
    return m;
}

/* Median of `repeats` calls of each pass, ours and the anchor's alternating
 * call for call (both use the same OpenMP runtime, so neither leaves a
 * spinning pool behind for the other). */
static int time_passes(layer_t *l, bufs_t *b, jg_anchor_conv_t *an, int repeats)
{
    double *t = malloc(2 * (size_t)repeats * sizeof(double)), *ta = t + repeats;
    if (!t) return -ENOMEM;
    const double flops = pass_flops(&l->s);
    int err = 0;
    for (int pass = 0; pass < NPASS && !err; pass++) {
        err = run_pass(pass, b, &l->s); /* warm-up: page faults, caches */
        if (!err && an) err = jg_anchor_conv_run(an, pass);
        for (int r = 0; r < repeats && !err; r++) {
            double t0 = jg_bench_now_s();
            err = run_pass(pass, b, &l->s);
            t[r] = jg_bench_now_s() - t0;
            if (!an || err) continue;
            t0 = jg_bench_now_s();
            err = jg_anchor_conv_run(an, pass);
            ta[r] = jg_bench_now_s() - t0;
        }
        if (err) break;
        l->min_ms[pass] = min_of(t, repeats) * 1e3;
        if (an) l->anchor_min_ms[pass] = min_of(ta, repeats) * 1e3;
        const double sec = jg_bench_median(t, repeats);
        l->ms[pass] = sec * 1e3;
        l->gflops[pass] = sec > 0 ? flops / sec * 1e-9 : 0;
        if (an) {
            l->anchor_ms[pass] = jg_bench_median(ta, repeats) * 1e3;
            snprintf(l->anchor_impl[pass], sizeof l->anchor_impl[pass], "%s",
                     jg_anchor_conv_impl(an, pass));
        }
    }
    free(t);
    return err;
}

/* Validates and times one layer (and the anchor when *use_anchor; it is
 * cleared with a message on stderr when the anchor cannot run). 0 or 1. */
static int bench_layer(layer_t *l, int repeats, int threads, int *use_anchor,
                       char *anchor_version, size_t cap)
{
    bufs_t b;
    if (bufs_alloc(&b, &l->s)) {
        fprintf(stderr, "joulegrad: bench conv: out of memory for layer %s\n", l->name);
        return 1;
    }
    jg_anchor_conv_t *an = NULL;
    if (*use_anchor) {
        char why[256];
        if (jg_anchor_conv_open(&an, &l->s, threads, b.x, b.w, b.b, b.dy, why, sizeof why)) {
            fprintf(stderr, "joulegrad: bench conv: %s\n", why);
            *use_anchor = 0;
        } else {
            snprintf(anchor_version, cap, "%s", jg_anchor_conv_version(an));
        }
    }
    int err = validate(l->name, &b, &l->s, an);
    if (!err) {
        err = time_passes(l, &b, an, repeats);
        if (err)
            fprintf(stderr, "joulegrad: bench conv: %s failed: %s\n", l->name, strerror(-err));
    }
    jg_anchor_conv_close(an);
    bufs_free(&b);
    return err ? 1 : 0;
}

/* Sum of times and flops over the layers' passes (training ones only, or
 * all); anchor_ms: the anchor's time over the same passes. */
static void totals(const layer_t *ls, int nl, int training_only, double *ms, double *gflops,
                   double *anchor_ms)
{
    double sec = 0, flops = 0, asec = 0;
    for (int i = 0; i < nl; i++)
        for (int p = 0; p < NPASS; p++) {
            if (training_only && !ls[i].in_training[p]) continue;
            sec += ls[i].ms[p] * 1e-3;
            asec += ls[i].anchor_ms[p] * 1e-3;
            flops += pass_flops(&ls[i].s);
        }
    *ms = sec * 1e3;
    *gflops = sec > 0 ? flops / sec * 1e-9 : 0;
    *anchor_ms = asec * 1e3;
}

static int print_json(const layer_t *ls, int nl, int threads, int repeats,
                      const jg_bench_peak_t *pk, const char *anchor)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return 1;
    cJSON_AddStringToObject(o, "bench", "conv");
    cJSON_AddStringToObject(o, "isa", jg_isa_name(jg_kernels_isa()));
    cJSON_AddNumberToObject(o, "threads", threads);
    cJSON_AddNumberToObject(o, "repeats", repeats);
    cJSON *arr = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; arr && i < nl; i++) {
        const jg_conv2d_shape_t *s = &ls[i].s;
        cJSON *l = cJSON_CreateObject();
        if (!l) break;
        cJSON_AddItemToArray(arr, l);
        cJSON_AddStringToObject(l, "name", ls[i].name);
        const int dims[] = {s->n, s->c, s->h, s->w, s->k, s->kh, s->kw, s->stride_h, s->pad_h};
        const char *const dn[] = {"n", "c", "h", "w", "k", "kh", "kw", "stride", "pad"};
        for (int d = 0; d < 9; d++) cJSON_AddNumberToObject(l, dn[d], dims[d]);
        cJSON_AddNumberToObject(l, "gflop_per_pass", pass_flops(s) * 1e-9);
        for (int p = 0; p < NPASS; p++) {
            cJSON *po = cJSON_AddObjectToObject(l, pass_names[p]);
            if (!po) continue;
            cJSON_AddNumberToObject(po, "ms", ls[i].ms[p]);
            cJSON_AddNumberToObject(po, "min_ms", ls[i].min_ms[p]);
            cJSON_AddNumberToObject(po, "gflops", ls[i].gflops[p]);
            cJSON_AddBoolToObject(po, "in_training_total", ls[i].in_training[p]);
            if (anchor[0]) {
                cJSON_AddNumberToObject(po, "onednn_ms", ls[i].anchor_ms[p]);
                cJSON_AddNumberToObject(po, "onednn_min_ms", ls[i].anchor_min_ms[p]);
                cJSON_AddStringToObject(po, "onednn_impl", ls[i].anchor_impl[p]);
            }
        }
    }
    double ms, gf, ms_all, gf_all, ams, ams_all;
    totals(ls, nl, 1, &ms, &gf, &ams);
    totals(ls, nl, 0, &ms_all, &gf_all, &ams_all);
    if (anchor[0]) {
        cJSON_AddStringToObject(o, "onednn_version", anchor);
        cJSON_AddNumberToObject(o, "onednn_total_ms", ams);
        /* > 1: joulegrad is faster over the training passes */
        cJSON_AddNumberToObject(o, "speedup_vs_onednn", ms > 0 ? ams / ms : 0);
        cJSON_AddNumberToObject(o, "onednn_total_all_passes_ms", ams_all);
    }
    cJSON_AddNumberToObject(o, "total_ms", ms);
    cJSON_AddNumberToObject(o, "total_gflops", gf);
    cJSON_AddNumberToObject(o, "total_all_passes_ms", ms_all);
    cJSON_AddNumberToObject(o, "total_all_passes_gflops", gf_all);
    cJSON_AddNumberToObject(o, "clock_ghz", pk->clock_ghz);
    cJSON_AddNumberToObject(o, "peak_gflops", pk->peak_gflops);
    if (pk->peak_gflops > 0) {
        cJSON_AddNumberToObject(o, "peak_fraction", gf / pk->peak_gflops);
        cJSON_AddNumberToObject(o, "peak_fraction_all_passes", gf_all / pk->peak_gflops);
    } else {
        cJSON_AddNullToObject(o, "peak_fraction");
        cJSON_AddNullToObject(o, "peak_fraction_all_passes");
    }
    char *txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!txt) return 1;
    puts(txt);
    cJSON_free(txt);
    return 0;
}

static void print_table(const layer_t *ls, int nl, int threads, int repeats,
                        const jg_bench_peak_t *pk, const char *anchor)
{
    printf("conv2d  isa %s  threads %d  median of %d calls\n", jg_isa_name(jg_kernels_isa()),
           threads, repeats);
    if (pk->peak_gflops > 0)
        printf("peak %.1f GFLOPS (measured: %.2f GHz x %d lanes x %.0f FMA/cycle x 2 x %d threads)\n",
               pk->peak_gflops, pk->clock_ghz, pk->lanes, pk->fma_per_cycle, pk->threads);
    else
        printf("peak: not measured for isa %s\n", jg_isa_name(jg_kernels_isa()));
    printf("%-6s %-34s %-17s %10s %10s\n", "layer", "shape (N,C,H,W) K KHxKW s p", "pass", "ms",
           "GFLOPS");
    for (int i = 0; i < nl; i++) {
        const jg_conv2d_shape_t *s = &ls[i].s;
        char shape[64];
        snprintf(shape, sizeof shape, "(%d,%d,%d,%d) %d %dx%d s%d p%d", s->n, s->c, s->h, s->w,
                 s->k, s->kh, s->kw, s->stride_h, s->pad_h);
        for (int p = 0; p < NPASS; p++) {
            printf("%-6s %-34s %-17s %10.3f %10.1f%s\n", ls[i].name, shape, pass_names[p],
                   ls[i].ms[p], ls[i].gflops[p],
                   ls[i].in_training[p] ? "" : "  (not needed in training)");
            if (anchor[0])
                printf("%-6s %-34s %-17s %10.3f %10s  %s (%s)\n", "", "", "", ls[i].anchor_ms[p],
                       "", anchor, ls[i].anchor_impl[p]);
        }
    }
    double ms, gf, ms_all, gf_all, ams, ams_all;
    totals(ls, nl, 1, &ms, &gf, &ams);
    totals(ls, nl, 0, &ms_all, &gf_all, &ams_all);
    const double pf = pk->peak_gflops > 0 ? 100 * gf / pk->peak_gflops : 0;
    const double pf_all = pk->peak_gflops > 0 ? 100 * gf_all / pk->peak_gflops : 0;
    printf("total fwd+bwd, training passes: %9.3f ms %8.1f GFLOPS  %5.1f%% of peak\n", ms, gf, pf);
    if (ms_all != ms)
        printf("total fwd+bwd, all passes:      %9.3f ms %8.1f GFLOPS  %5.1f%% of peak\n",
               ms_all, gf_all, pf_all);
    if (anchor[0])
        printf("%s, training passes: %.3f ms; speedup of joulegrad %.3f\n", anchor, ams,
               ms > 0 ? ams / ms : 0);
}

int jg_bench_conv_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, NULL, 'P'}, {"n", required_argument, NULL, 'n'},
        {"c", required_argument, NULL, 'c'},      {"h", required_argument, NULL, 'H'},
        {"w", required_argument, NULL, 'W'},      {"k", required_argument, NULL, 'k'},
        {"kh", required_argument, NULL, 'y'},     {"kw", required_argument, NULL, 'x'},
        {"stride", required_argument, NULL, 's'}, {"pad", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'}, {"repeats", required_argument, NULL, 'r'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, '?' + 256},
        {"anchors", required_argument, NULL, 'a'}, {NULL, 0, NULL, 0},
    };
    /* n c h w k kh kw stride pad: the second default layer unless given */
    int dims[9] = {64, 32, 14, 14, 64, 3, 3, 1, 1};
    const char *const dim_chars = "ncHWkyxsp";
    const long dim_min[9] = {1, 1, 1, 1, 1, 1, 1, 1, 0};
    int custom = 0, preset = 0, threads = 0, repeats = 20, json = 0, use_anchor = 1;
    optind = 1;
    opterr = 0;
    for (;;) {
        const int o = getopt_long(argc, argv, ":", opts, NULL);
        if (o == -1) break;
        const char *where = strchr(dim_chars, o);
        if (where && o) {
            const int d = (int)(where - dim_chars);
            if (jg_bench_parse_int(optarg, dim_min[d], 1 << 20, &dims[d])) {
                fprintf(stderr, "joulegrad: bench conv: bad value '%s' for --%s (integer >= %ld)\n",
                        optarg, opts[d + 1].name, dim_min[d]);
                return 2;
            }
            custom = 1;
            continue;
        }
        switch (o) {
        case 'P':
            if (!strcmp(optarg, "default")) {
                preset = 1;
            } else if (!strcmp(optarg, "paper-simplecnn")) {
                preset = 2;
            } else {
                fprintf(stderr, "joulegrad: bench conv: unknown preset '%s' (default or "
                                "paper-simplecnn)\n",
                        optarg);
                return 2;
            }
            break;
        case 'a':
            if (strcmp(optarg, "onednn") && strcmp(optarg, "none")) {
                fprintf(stderr, "joulegrad: bench conv: bad --anchors '%s' (onednn or none)\n",
                        optarg);
                return 2;
            }
            use_anchor = !strcmp(optarg, "onednn");
            break;
        case 't':
            if (jg_bench_parse_int(optarg, 1, 1024, &threads)) {
                fprintf(stderr, "joulegrad: bench conv: bad --threads '%s' (1..1024)\n", optarg);
                return 2;
            }
            break;
        case 'r':
            if (jg_bench_parse_int(optarg, 1, 100000, &repeats)) {
                fprintf(stderr, "joulegrad: bench conv: bad --repeats '%s' (1..100000)\n", optarg);
                return 2;
            }
            break;
        case 'j': json = 1; break;
        case '?' + 256: usage(stdout); return 0;
        case ':':
            fprintf(stderr, "joulegrad: bench conv: option '%s' needs a value; run 'joulegrad "
                            "bench conv --help'\n",
                    argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "joulegrad: bench conv: bad option '%s'; run 'joulegrad bench conv "
                            "--help'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "joulegrad: bench conv: unexpected argument '%s'; run 'joulegrad bench "
                        "conv --help'\n",
                argv[optind]);
        return 2;
    }
    if (preset && custom) {
        fprintf(stderr, "joulegrad: bench conv: give either --preset or a shape, not both\n");
        return 2;
    }
    if (jg_kernels_init() == 0 && threads == 0) threads = jg_kernels_threads();
    int err = jg_bench_setup(threads > 0 ? threads : 1);
    if (err) return err;

    layer_t ls[MAX_LAYERS];
    memset(ls, 0, sizeof ls);
    int nl;
    if (!custom) {
        /* the two conv layers of the preset at its benchmark batch */
        const jg_conv2d_shape_t c1 = preset == 2 ? (jg_conv2d_shape_t){512, 1, 28, 28, 3, 3, 3,
                                                                       1, 1, 1, 1}
                                                 : (jg_conv2d_shape_t){64, 1, 28, 28, 32, 3, 3,
                                                                       1, 1, 1, 1};
        const jg_conv2d_shape_t c2 = preset == 2 ? (jg_conv2d_shape_t){512, 3, 14, 14, 9, 3, 3,
                                                                       1, 1, 1, 1}
                                                 : (jg_conv2d_shape_t){64, 32, 14, 14, 64, 3, 3,
                                                                       1, 1, 1, 1};
        ls[0].name = "conv1", ls[0].s = c1;
        ls[1].name = "conv2", ls[1].s = c2;
        nl = 2;
        for (int p = 0; p < NPASS; p++) ls[0].in_training[p] = ls[1].in_training[p] = 1;
        ls[0].in_training[PASS_BWD_DATA] = 0; /* nothing upstream of the input */
    } else {
        const jg_conv2d_shape_t s = {dims[0], dims[1], dims[2], dims[3], dims[4], dims[5],
                                     dims[6], dims[7], dims[7], dims[8], dims[8]};
        int oh, ow;
        if (jg_conv2d_out_hw(&s, &oh, &ow)) {
            fprintf(stderr, "joulegrad: bench conv: the shape gives no output (need h + 2*pad >= "
                            "kh and w + 2*pad >= kw)\n");
            return 2;
        }
        ls[0].name = "conv", ls[0].s = s;
        nl = 1;
        for (int p = 0; p < NPASS; p++) ls[0].in_training[p] = 1;
    }

    if (threads == 0) threads = 1;
    char anchor[64] = "";
    for (int i = 0; i < nl; i++)
        if (bench_layer(&ls[i], repeats, threads, &use_anchor, anchor, sizeof anchor)) return 1;
    if (!use_anchor) {
        anchor[0] = '\0';
        for (int i = 0; i < nl; i++) memset(ls[i].anchor_ms, 0, sizeof ls[i].anchor_ms);
    }
    jg_bench_peak_t pk;
    jg_bench_peak(jg_kernels_isa(), threads, &pk); /* peak_gflops 0 when unknown */
    if (json) return print_json(ls, nl, threads, repeats, &pk, anchor);
    print_table(ls, nl, threads, repeats, &pk, anchor);
    return 0;
}
