/* SPDX-License-Identifier: MIT */
/*
 * bench_mem.c - `joulegrad bench memory`: the memory-bound layers of a
 * preset's training step (ReLU, max-pool, batch norm forward and backward,
 * the Adam step) timed against this machine's memory speed, measured in the
 * same process on the same sizes (a parallel copy: one read and one write
 * stream). Each kernel is validated against its _ref twin first. Bytes are
 * the least traffic the math needs (every input read once, every output
 * written once; an accumulated gradient is read and written).
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_common.h"
#include "jg_bench.h"
#include "jg_nn.h"

#define MAX_OPS 16
/* the kernels here are exact (bit-identical SIMD) or batch norm (1e-5) */
#define VAL_TOL 1e-4

typedef enum { OP_RELU_F, OP_RELU_B, OP_POOL_F, OP_POOL_B, OP_BN_F, OP_BN_B, OP_ADAM, OP_COPY } op_kind_t;

typedef struct {
    const char *name;
    op_kind_t kind;
    int n, c, h, w;  /* tensor (N, C, H, W); ADAM/COPY: n elements */
    double bytes;    /* least traffic of one call */
    double ms, gbs;  /* median */
    double min_ms;
} op_t;

typedef struct {
    float *x, *y, *dy, *dx, *ref, *g, *b, *mean, *rstd, *m, *v;
    int32_t *am;
    size_t n;
} bufs_t;

static void usage(FILE *f)
{
    fputs("usage: joulegrad bench memory [--preset default|paper-simplecnn] [--threads T]\n"
          "                              [--repeats R] [--json]\n"
          "  The memory-bound layers of the preset's training step at its benchmark batch\n"
          "  (default 64, paper-simplecnn 512): time, GB/s of the least traffic the math\n"
          "  needs, and that rate over a parallel copy of the same size measured here.\n",
          f);
}

static size_t numel(const op_t *o)
{
    return (size_t)o->n * o->c * o->h * o->w;
}

/* least bytes moved by one call */
static double op_bytes(const op_t *o)
{
    const double e = (double)numel(o), f = sizeof(float);
    switch (o->kind) {
    case OP_RELU_F: return 2 * e * f;              /* x in, y out */
    case OP_RELU_B: return 4 * e * f;              /* x, dy in; dx read and written */
    case OP_POOL_F: return e * f + 0.25 * e * 8;   /* x in; y and argmax out */
    case OP_POOL_B: return 0.25 * e * 8 + 2 * e * f; /* dy, argmax in; dx read and written */
    case OP_BN_F: return 2 * e * f;                /* x in (statistics fused), y out */
    case OP_BN_B: return 4 * e * f;                /* x, dy in; dx read and written */
    case OP_ADAM: return 7 * e * f;                /* w, m, v, g in; w, m, v out */
    default: return 2 * e * f;                     /* copy */
    }
}

static int run(const op_t *o, bufs_t *b, int use_ref)
{
    const jg_pool2d_shape_t ps = {o->n, o->c, o->h, o->w, 2, 2, 2, 2, 0, 0};
    const size_t e = numel(o);
    const int hw = o->h * o->w;
    switch (o->kind) {
    case OP_RELU_F:
        return use_ref ? jg_relu_forward_ref(b->y, b->x, e) : jg_relu_forward(b->y, b->x, e);
    case OP_RELU_B:
        return use_ref ? jg_relu_backward_ref(b->dx, b->dy, b->x, e)
                       : jg_relu_backward(b->dx, b->dy, b->x, e);
    case OP_POOL_F:
        return use_ref ? jg_maxpool2d_forward_ref(b->y, b->am, b->x, &ps)
                       : jg_maxpool2d_forward(b->y, b->am, b->x, &ps);
    case OP_POOL_B:
        return use_ref ? jg_maxpool2d_backward_ref(b->dx, b->dy, b->am, &ps)
                       : jg_maxpool2d_backward(b->dx, b->dy, b->am, &ps);
    case OP_BN_F:
        return (use_ref ? jg_batchnorm2d_forward_train_ref : jg_batchnorm2d_forward_train)(
            b->y, b->mean, b->rstd, NULL, NULL, b->x, b->g, b->b, o->n, o->c, hw, 1e-5f, 0.1f);
    case OP_BN_B:
        return (use_ref ? jg_batchnorm2d_backward_ref : jg_batchnorm2d_backward)(
            b->dx, b->m, b->v, b->dy, b->x, b->mean, b->rstd, b->g, o->n, o->c, hw);
    case OP_ADAM:
        return (use_ref ? jg_adam_update_ref : jg_adam_update)(b->x, b->m, b->v, b->dy, e, 1e-3f,
                                                               0.9f, 0.999f, 1e-8f, 0.0f, 0, 3);
    default: {
        /* the reference rate: a copy in the kernels' own chunking */
#pragma omp parallel for num_threads(jg_kernels_threads()) schedule(static)
        for (ptrdiff_t c = 0; c < (ptrdiff_t)((e + 16383) / 16384); c++) {
            const size_t off = (size_t)c * 16384, len = e - off < 16384 ? e - off : 16384;
            memcpy(b->dx + off, b->x + off, len * sizeof(float));
        }
        return 0;
    }
    }
}

static void bufs_free(bufs_t *b)
{
    free(b->x), free(b->y), free(b->dy), free(b->dx), free(b->ref), free(b->g), free(b->b);
    free(b->mean), free(b->rstd), free(b->m), free(b->v), free(b->am);
    memset(b, 0, sizeof *b);
}

static int bufs_alloc(bufs_t *b, const op_t *o)
{
    const size_t e = numel(o), c = (size_t)o->c;
    memset(b, 0, sizeof *b);
    b->n = e;
    b->x = malloc(e * sizeof(float)), b->y = malloc(e * sizeof(float));
    b->dy = malloc(e * sizeof(float)), b->dx = calloc(e, sizeof(float));
    b->ref = malloc(e * sizeof(float)), b->am = malloc(e * sizeof(int32_t));
    const size_t nm = o->kind == OP_ADAM ? e : c;
    b->g = malloc(c * sizeof(float)), b->b = malloc(c * sizeof(float));
    b->mean = malloc(c * sizeof(float)), b->rstd = malloc(c * sizeof(float));
    b->m = calloc(nm, sizeof(float)), b->v = calloc(nm, sizeof(float));
    if (!b->x || !b->y || !b->dy || !b->dx || !b->ref || !b->am || !b->g || !b->b || !b->mean ||
        !b->rstd || !b->m || !b->v) {
        bufs_free(b);
        return -ENOMEM;
    }
    jg_bench_fill(b->x, e, 1), jg_bench_fill(b->dy, e, 2);
    jg_bench_fill(b->g, c, 3), jg_bench_fill(b->b, c, 4);
    /* the pool backward reads the argmax of a forward; batch norm backward its statistics */
    const jg_pool2d_shape_t ps = {o->n, o->c, o->h, o->w, 2, 2, 2, 2, 0, 0};
    if (o->kind == OP_POOL_B) jg_maxpool2d_forward_ref(b->y, b->am, b->x, &ps);
    if (o->kind == OP_BN_B)
        jg_batchnorm2d_forward_train_ref(b->y, b->mean, b->rstd, NULL, NULL, b->x, b->g, b->b,
                                         o->n, o->c, o->h * o->w, 1e-5f, 0.1f);
    return 0;
}

/* The output a kernel writes, for validation. */
static const float *output(const op_t *o, const bufs_t *b)
{
    switch (o->kind) {
    case OP_RELU_F:
    case OP_POOL_F:
    case OP_BN_F: return b->y;
    case OP_ADAM: return b->x;
    default: return b->dx;
    }
}

static size_t output_len(const op_t *o)
{
    return o->kind == OP_POOL_F ? numel(o) / 4 : numel(o);
}

/* Fast vs _ref on fresh buffers; 0, or 1 after printing the mismatch. */
static int validate(const op_t *o)
{
    bufs_t b;
    if (bufs_alloc(&b, o)) return 1;
    const size_t n = output_len(o);
    int err = run(o, &b, 1);
    float *want = malloc(n * sizeof(float));
    if (!want) err = -ENOMEM;
    if (!err) memcpy(want, output(o, &b), n * sizeof(float));
    bufs_free(&b);
    if (!err) err = bufs_alloc(&b, o);
    if (!err) err = run(o, &b, 0);
    double e = 0;
    if (!err) e = jg_bench_max_err(output(o, &b), want, n, 1.0);
    bufs_free(&b);
    free(want);
    if (err || !(e <= VAL_TOL)) {
        fprintf(stderr, "joulegrad: bench memory: %s %s\n", o->name,
                err ? "failed" : "differs from its _ref twin");
        return 1;
    }
    return 0;
}

/* Median and minimum of `repeats` calls, all ops interleaved call for call. */
static int time_ops(op_t *ops, int nops, int repeats)
{
    bufs_t b[MAX_OPS];
    double *t = malloc((size_t)repeats * nops * sizeof(double));
    int err = t ? 0 : -ENOMEM;
    for (int i = 0; i < nops; i++) memset(&b[i], 0, sizeof b[i]);
    for (int i = 0; i < nops && !err; i++) err = bufs_alloc(&b[i], &ops[i]);
    for (int i = 0; i < nops && !err; i++) err = run(&ops[i], &b[i], 0); /* warm-up */
    for (int r = 0; r < repeats && !err; r++)
        for (int i = 0; i < nops && !err; i++) {
            const double t0 = jg_bench_now_s();
            err = run(&ops[i], &b[i], 0);
            t[(size_t)i * repeats + r] = jg_bench_now_s() - t0;
        }
    for (int i = 0; i < nops && !err; i++) {
        double *ti = t + (size_t)i * repeats, mn = ti[0];
        for (int r = 1; r < repeats; r++) mn = ti[r] < mn ? ti[r] : mn;
        ops[i].min_ms = mn * 1e3;
        ops[i].ms = jg_bench_median(ti, repeats) * 1e3;
        ops[i].gbs = ops[i].bytes / (ops[i].ms * 1e-3) * 1e-9;
    }
    for (int i = 0; i < nops; i++) bufs_free(&b[i]);
    free(t);
    return err;
}

/* The trainable parameters of a preset for Fashion-MNIST (Adam's arena);
 * 0 when the model cannot be built. */
static int64_t preset_params(const char *preset)
{
    jg_model_t *m = NULL;
    jg_nn_error_t nerr;
    if (jg_model_create(&m, preset, 1, 28, 28, 10, 1, &nerr)) return 0;
    const int64_t n = jg_model_n_params(m);
    jg_model_destroy(m);
    return n;
}

/* The ops of a preset's step; the copy reference comes last. 0 when the
 * preset cannot be built. */
static int preset_ops(int paper, op_t *ops)
{
    const int64_t params = preset_params(paper ? "paper-simplecnn" : "default");
    if (params <= 0 || params > INT32_MAX) return 0;
    int k = 0;
    if (!paper) {
        ops[k++] = (op_t){"relu1 fwd", OP_RELU_F, 64, 32, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"relu1 bwd", OP_RELU_B, 64, 32, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool1 fwd", OP_POOL_F, 64, 32, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool1 bwd", OP_POOL_B, 64, 32, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"relu2 fwd", OP_RELU_F, 64, 64, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"relu2 bwd", OP_RELU_B, 64, 64, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool2 fwd", OP_POOL_F, 64, 64, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool2 bwd", OP_POOL_B, 64, 64, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"adam", OP_ADAM, (int)params, 1, 1, 1, 0, 0, 0, 0};
    } else {
        ops[k++] = (op_t){"bn1 fwd", OP_BN_F, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"bn1 bwd", OP_BN_B, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"relu1 fwd", OP_RELU_F, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"relu1 bwd", OP_RELU_B, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool1 fwd", OP_POOL_F, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"pool1 bwd", OP_POOL_B, 512, 3, 28, 28, 0, 0, 0, 0};
        ops[k++] = (op_t){"bn2 fwd", OP_BN_F, 512, 9, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"bn2 bwd", OP_BN_B, 512, 9, 14, 14, 0, 0, 0, 0};
        ops[k++] = (op_t){"adam", OP_ADAM, (int)params, 1, 1, 1, 0, 0, 0, 0};
    }
    ops[k++] = (op_t){"copy (reference)", OP_COPY, paper ? 512 : 64, paper ? 3 : 32, 28, 28,
                      0, 0, 0, 0};
    for (int i = 0; i < k; i++) ops[i].bytes = op_bytes(&ops[i]);
    return k;
}

int jg_bench_memory_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"preset", required_argument, NULL, 'P'}, {"threads", required_argument, NULL, 't'},
        {"repeats", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    int paper = 0, threads = 0, repeats = 31, json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'P':
            bad = strcmp(optarg, "default") && strcmp(optarg, "paper-simplecnn");
            paper = !bad && !strcmp(optarg, "paper-simplecnn");
            break;
        case 't': bad = jg_bench_parse_int(optarg, 1, 1024, &threads); break;
        case 'r': bad = jg_bench_parse_int(optarg, 1, 100000, &repeats); break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "joulegrad: bench memory: bad option '%s'; run 'joulegrad bench "
                            "memory --help'\n",
                    argv[optind - 1]);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "joulegrad: bench memory: bad value '%s' (see --help)\n", optarg);
            return 2;
        }
    }
    if (jg_kernels_init() == 0 && threads == 0) threads = jg_kernels_threads();
    int err = jg_bench_setup(threads > 0 ? threads : 1);
    if (err) return err;
    op_t ops[MAX_OPS];
    const int nops = preset_ops(paper, ops);
    if (nops == 0) {
        fprintf(stderr, "joulegrad: bench memory: cannot build the preset's model\n");
        return 1;
    }
    for (int i = 0; i < nops; i++)
        if (ops[i].kind != OP_COPY && validate(&ops[i])) return 1;
    if (time_ops(ops, nops, repeats)) {
        fprintf(stderr, "joulegrad: bench memory: out of memory\n");
        return 1;
    }
    const double copy = ops[nops - 1].gbs;
    double total_ms = 0;
    for (int i = 0; i < nops - 1; i++) total_ms += ops[i].ms;
    if (json) {
        cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "ops") : NULL;
        if (!arr) return 1;
        cJSON_AddStringToObject(o, "bench", "memory");
        cJSON_AddStringToObject(o, "preset", paper ? "paper-simplecnn" : "default");
        cJSON_AddStringToObject(o, "isa", jg_isa_name(jg_kernels_isa()));
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddNumberToObject(o, "repeats", repeats);
        for (int i = 0; i < nops; i++) {
            cJSON *e = cJSON_CreateObject();
            if (!e) break;
            cJSON_AddItemToArray(arr, e);
            cJSON_AddStringToObject(e, "name", ops[i].name);
            cJSON_AddNumberToObject(e, "bytes", ops[i].bytes);
            cJSON_AddNumberToObject(e, "ms", ops[i].ms);
            cJSON_AddNumberToObject(e, "min_ms", ops[i].min_ms);
            cJSON_AddNumberToObject(e, "gbs", ops[i].gbs);
            cJSON_AddNumberToObject(e, "of_copy", copy > 0 ? ops[i].gbs / copy : 0);
        }
        cJSON_AddNumberToObject(o, "copy_gbs", copy);
        cJSON_AddNumberToObject(o, "total_ms", total_ms);
        char *txt = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!txt) return 1;
        puts(txt);
        cJSON_free(txt);
        return 0;
    }
    printf("memory-bound layers, preset %s, isa %s, threads %d, median of %d calls "
           "(interleaved)\n",
           paper ? "paper-simplecnn" : "default", jg_isa_name(jg_kernels_isa()), threads, repeats);
    printf("%-18s %10s %10s %10s %9s\n", "op", "MB", "ms", "GB/s", "of copy");
    for (int i = 0; i < nops; i++)
        printf("%-18s %10.2f %10.3f %10.1f %8.0f%%\n", ops[i].name, ops[i].bytes * 1e-6, ops[i].ms,
               ops[i].gbs, copy > 0 ? 100 * ops[i].gbs / copy : 0);
    printf("total of the layers: %.3f ms per step\n", total_ms);
    return 0;
}
