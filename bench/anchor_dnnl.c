/* SPDX-License-Identifier: MIT */
/*
 * anchor_dnnl.c - oneDNN (libdnnl.so.2, the conv library under PyTorch's CPU
 * backend) loaded with dlopen for `bench conv`. dnnl.h (libdnnl-dev) gives
 * the types at build time; every function is looked up at run time, so
 * nothing is linked. Without the header this file compiles to stubs that say
 * so.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchors.h"
#include "bench_common.h"

#ifndef JG_HAVE_DNNL_H

struct jg_anchor_conv {
    int unused;
};

int jg_anchor_conv_open(jg_anchor_conv_t **a, const jg_conv2d_shape_t *s, int threads,
                        const float *x, const float *w, const float *bias, const float *dy,
                        char *why, size_t cap)
{
    (void)s, (void)threads, (void)x, (void)w, (void)bias, (void)dy;
    *a = NULL;
    snprintf(why, cap, "oneDNN: not built with its header (install the Debian package "
                       "'libdnnl-dev' and reconfigure)");
    return -ENOTSUP;
}
int jg_anchor_conv_run(jg_anchor_conv_t *a, int pass)
{
    (void)a, (void)pass;
    return -ENOTSUP;
}
int jg_anchor_conv_next(jg_anchor_conv_t *a, int pass)
{
    (void)a, (void)pass;
    return -ENOTSUP;
}
int jg_anchor_conv_next(jg_anchor_conv_t *a, int pass)
{
    a->dropped[pass] |= 1u << a->alg[pass];
    pass_free(&a->d, &a->pass[pass]);
    return pick_pass(a, pass);
}

int jg_anchor_conv_result(jg_anchor_conv_t *a, int pass, float *out)
{
    (void)a, (void)pass, (void)out;
    return -ENOTSUP;
}
const char *jg_anchor_conv_impl(const jg_anchor_conv_t *a, int pass)
{
    (void)a, (void)pass;
    return "";
}
const char *jg_anchor_conv_version(const jg_anchor_conv_t *a)
{
    (void)a;
    return "";
}
void jg_anchor_conv_close(jg_anchor_conv_t *a)
{
    (void)a;
}

#else

#include <dlfcn.h>

#include <oneapi/dnnl/dnnl.h>

#ifdef _OPENMP
#include <omp.h>
#endif

/* Every oneDNN function this file calls, looked up by name. */
#define DNNL_FNS(X)                                                                        \
    X(dnnl_engine_create) X(dnnl_engine_destroy) X(dnnl_stream_create) X(dnnl_stream_wait) \
    X(dnnl_stream_destroy) X(dnnl_memory_desc_init_by_tag) X(dnnl_memory_desc_equal)       \
    X(dnnl_memory_create) X(dnnl_memory_destroy) X(dnnl_memory_get_data_handle)            \
    X(dnnl_convolution_forward_desc_init) X(dnnl_convolution_backward_data_desc_init)      \
    X(dnnl_convolution_backward_weights_desc_init) X(dnnl_primitive_desc_create)           \
    X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query_md)                         \
    X(dnnl_primitive_desc_query) X(dnnl_primitive_create) X(dnnl_primitive_destroy)        \
    X(dnnl_primitive_execute) X(dnnl_reorder_primitive_desc_create) X(dnnl_version)

typedef struct {
#define X(f) __typeof__(&f) f;
    DNNL_FNS(X)
#undef X
} dnnl_api_t;

/* Tensors: x, w, b, y in plain layout; dy has y's, dx x's, dw w's, db b's. */
enum { T_X, T_W, T_B, T_Y, NTENSORS };
#define MAX_ARGS 4

typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_exec_arg_t args[MAX_ARGS];
    int nargs;
    int out_arg[2], out_tensor[2], nout; /* outputs, for jg_anchor_conv_result */
    char impl[128];
} pass_t;

struct jg_anchor_conv {
    dnnl_api_t d;
    void *h;
    dnnl_engine_t eng;
    dnnl_stream_t st;
    dnnl_memory_desc_t plain[NTENSORS];
    float *data[5]; /* x, w, b, dy copies (plain), indexed T_X, T_W, T_B, T_Y(dy) */
    dnnl_dims_t strides, pad_l, pad_r;
    pass_t pass[JG_ANCHOR_CONV_PASSES];
    unsigned dropped[JG_ANCHOR_CONV_PASSES]; /* bit i: algs[i] failed validation */
    int alg[JG_ANCHOR_CONV_PASSES];          /* index into algs of the current one */
    char version[32];
};

static const dnnl_alg_kind_t algs[] = {dnnl_convolution_direct, dnnl_convolution_winograd,
                                       dnnl_convolution_auto};
static const char *const alg_names[] = {"direct", "winograd", "auto"};

static int ok(dnnl_status_t st)
{
    return st == dnnl_success;
}

/* dst = src (a reorder between layouts), run to completion. */
static int reorder(jg_anchor_conv_t *a, dnnl_memory_t src, const dnnl_memory_desc_t *smd,
                   dnnl_memory_t dst, const dnnl_memory_desc_t *dmd)
{
    const dnnl_api_t *d = &a->d;
    dnnl_primitive_desc_t rpd = NULL;
    dnnl_primitive_t r = NULL;
    int good = ok(d->dnnl_reorder_primitive_desc_create(&rpd, smd, a->eng, dmd, a->eng, NULL)) &&
               ok(d->dnnl_primitive_create(&r, rpd));
    if (good) {
        const dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
        good = ok(d->dnnl_primitive_execute(r, a->st, 2, args)) &&
               ok(d->dnnl_stream_wait(a->st));
    }
    if (r) d->dnnl_primitive_destroy(r);
    if (rpd) d->dnnl_primitive_desc_destroy(rpd);
    return good ? 0 : -EIO;
}

/* A memory for argument `arg` of pd in the layout pd wants; inputs are
 * filled from the plain copy of tensor t. */
static int add_arg(jg_anchor_conv_t *a, pass_t *p, int arg, int t, int input)
{
    const dnnl_api_t *d = &a->d;
    const dnnl_memory_desc_t *md = d->dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md,
                                                                   arg);
    dnnl_memory_t m = NULL;
    if (!md || !ok(d->dnnl_memory_create(&m, md, a->eng, DNNL_MEMORY_ALLOCATE))) return -EIO;
    p->args[p->nargs].arg = arg;
    p->args[p->nargs].memory = m;
    p->nargs++;
    if (!input) {
        p->out_arg[p->nout] = p->nargs - 1;
        p->out_tensor[p->nout] = t;
        p->nout++;
        return 0;
    }
    dnnl_memory_t user = NULL;
    if (!ok(d->dnnl_memory_create(&user, &a->plain[t], a->eng, a->data[t]))) return -EIO;
    const int err = reorder(a, user, &a->plain[t], m, md);
    d->dnnl_memory_destroy(user);
    return err;
}

static void pass_free(const dnnl_api_t *d, pass_t *p)
{
    for (int i = 0; i < p->nargs; i++) d->dnnl_memory_destroy(p->args[i].memory);
    if (p->prim) d->dnnl_primitive_destroy(p->prim);
    if (p->pd) d->dnnl_primitive_desc_destroy(p->pd);
    memset(p, 0, sizeof *p);
}

/* The forward primitive descriptor of algorithm alg (layouts: any). */
static int fwd_pd(jg_anchor_conv_t *a, dnnl_alg_kind_t alg, dnnl_primitive_desc_t *pd)
{
    const dnnl_api_t *d = &a->d;
    dnnl_memory_desc_t any[NTENSORS];
    for (int t = 0; t < NTENSORS; t++)
        if (!ok(d->dnnl_memory_desc_init_by_tag(&any[t], a->plain[t].ndims, a->plain[t].dims,
                                                dnnl_f32, dnnl_format_tag_any)))
            return -EIO;
    dnnl_convolution_desc_t cd;
    if (!ok(d->dnnl_convolution_forward_desc_init(&cd, dnnl_forward_training, alg, &any[T_X],
                                                  &any[T_W], &any[T_B], &any[T_Y], a->strides,
                                                  a->pad_l, a->pad_r)))
        return -ENOTSUP;
    return ok(d->dnnl_primitive_desc_create(pd, &cd, NULL, a->eng, NULL)) ? 0 : -ENOTSUP;
}

/* Pass `which` with algorithm alg: descriptor, primitive and memories. */
static int pass_build(jg_anchor_conv_t *a, int which, dnnl_alg_kind_t alg, pass_t *p)
{
    const dnnl_api_t *d = &a->d;
    memset(p, 0, sizeof *p);
    dnnl_primitive_desc_t hint = NULL;
    int err = fwd_pd(a, alg, &hint);
    if (err) return err;
    if (which == JG_ANCHOR_CONV_FWD) {
        p->pd = hint;
        hint = NULL;
    } else {
        dnnl_memory_desc_t any[NTENSORS];
        for (int t = 0; t < NTENSORS; t++)
            d->dnnl_memory_desc_init_by_tag(&any[t], a->plain[t].ndims, a->plain[t].dims,
                                            dnnl_f32, dnnl_format_tag_any);
        dnnl_convolution_desc_t cd;
        dnnl_status_t st =
            which == JG_ANCHOR_CONV_BWD_DATA
                ? d->dnnl_convolution_backward_data_desc_init(&cd, alg, &any[T_X], &any[T_W],
                                                              &any[T_Y], a->strides, a->pad_l,
                                                              a->pad_r)
                : d->dnnl_convolution_backward_weights_desc_init(&cd, alg, &any[T_X], &any[T_W],
                                                                 &any[T_B], &any[T_Y],
                                                                 a->strides, a->pad_l, a->pad_r);
        if (ok(st)) st = d->dnnl_primitive_desc_create(&p->pd, &cd, NULL, a->eng, hint);
        d->dnnl_primitive_desc_destroy(hint);
        if (!ok(st)) {
            p->pd = NULL;
            return -ENOTSUP;
        }
    }
    if (!ok(d->dnnl_primitive_create(&p->prim, p->pd))) err = -EIO;
    switch (which) {
    case JG_ANCHOR_CONV_FWD:
        if (!err) err = add_arg(a, p, DNNL_ARG_SRC, T_X, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_WEIGHTS, T_W, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_BIAS, T_B, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_DST, T_Y, 0);
        break;
    case JG_ANCHOR_CONV_BWD_DATA:
        if (!err) err = add_arg(a, p, DNNL_ARG_DIFF_DST, T_Y, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_WEIGHTS, T_W, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_DIFF_SRC, T_X, 0);
        break;
    default:
        if (!err) err = add_arg(a, p, DNNL_ARG_SRC, T_X, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_DIFF_DST, T_Y, 1);
        if (!err) err = add_arg(a, p, DNNL_ARG_DIFF_WEIGHTS, T_W, 0);
        if (!err) err = add_arg(a, p, DNNL_ARG_DIFF_BIAS, T_B, 0);
        break;
    }
    const char *impl = "";
    d->dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(p->impl, sizeof p->impl, "%s", impl ? impl : "");
    if (err) pass_free(d, p);
    return err;
}

int jg_anchor_conv_run(jg_anchor_conv_t *a, int pass)
{
    pass_t *p = &a->pass[pass];
    if (!p->prim) return -EINVAL;
    return ok(a->d.dnnl_primitive_execute(p->prim, a->st, p->nargs, p->args)) &&
                   ok(a->d.dnnl_stream_wait(a->st))
               ? 0
               : -EIO;
}

/* Fastest of 5 calls after a warm-up, in seconds (the least disturbed on a
 * busy machine); a large value on error. */
static double time_pass(jg_anchor_conv_t *a, int which)
{
    if (jg_anchor_conv_run(a, which)) return 1e30;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        const double t0 = jg_bench_now_s();
        if (jg_anchor_conv_run(a, which)) return 1e30;
        const double t = jg_bench_now_s() - t0;
        if (t < best) best = t;
    }
    return best;
}

/* Keeps, for pass `which`, the fastest algorithm oneDNN builds a primitive
 * for, among those not dropped. */
static int pick_pass(jg_anchor_conv_t *a, int which)
{
    double best = 1e30;
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        pass_t cand;
        if (a->dropped[which] & (1u << i)) continue;
        if (pass_build(a, which, algs[i], &cand)) continue;
        pass_t keep = a->pass[which];
        a->pass[which] = cand;
        const double t = time_pass(a, which);
        if (t < best) {
            best = t;
            a->alg[which] = (int)i;
            pass_free(&a->d, &keep);
            const size_t len = strlen(a->pass[which].impl);
            snprintf(a->pass[which].impl + len, sizeof a->pass[which].impl - len, " %s",
                     alg_names[i]);
        } else {
            pass_free(&a->d, &a->pass[which]);
            a->pass[which] = keep;
        }
    }
    return best < 1e30 ? 0 : -ENOTSUP;
}

static int load(jg_anchor_conv_t *a, char *why, size_t cap)
{
    a->h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!a->h) {
        snprintf(why, cap, "oneDNN not found (libdnnl.so.2); install the Debian package "
                           "'libdnnl2' to compare");
        return -ENOENT;
    }
#define X(f)                                                                                  \
    if (!(a->d.f = (__typeof__(&f))dlsym(a->h, #f))) {                                        \
        snprintf(why, cap, "oneDNN (libdnnl.so.2) lacks %s", #f);                             \
        return -ENOTSUP;                                                                      \
    }
    DNNL_FNS(X)
#undef X
    const dnnl_version_t *v = a->d.dnnl_version();
    snprintf(a->version, sizeof a->version, "oneDNN %d.%d.%d", v->major, v->minor, v->patch);
    return 0;
}

static int copy_in(float **dst, const float *src, size_t n)
{
    *dst = malloc(n * sizeof(float));
    if (!*dst) return -ENOMEM;
    memcpy(*dst, src, n * sizeof(float));
    return 0;
}

int jg_anchor_conv_open(jg_anchor_conv_t **out, const jg_conv2d_shape_t *s, int threads,
                        const float *x, const float *w, const float *bias, const float *dy,
                        char *why, size_t cap)
{
    *out = NULL;
    int oh, ow;
    if (jg_conv2d_out_hw(s, &oh, &ow)) return -EINVAL;
    jg_anchor_conv_t *a = calloc(1, sizeof *a);
    if (!a) return -ENOMEM;
    int err = load(a, why, cap);
#ifdef _OPENMP
    omp_set_num_threads(threads); /* oneDNN's OpenMP runtime is libgomp, as ours */
#else
    (void)threads;
#endif
    const dnnl_api_t *d = &a->d;
    if (!err && !(ok(d->dnnl_engine_create(&a->eng, dnnl_cpu, 0)) &&
                  ok(d->dnnl_stream_create(&a->st, a->eng, dnnl_stream_default_flags)))) {
        snprintf(why, cap, "oneDNN: cannot create a CPU engine and stream");
        err = -EIO;
    }
    const dnnl_dims_t dx = {s->n, s->c, s->h, s->w}, dw = {s->k, s->c, s->kh, s->kw};
    const dnnl_dims_t db = {s->k}, dyd = {s->n, s->k, oh, ow};
    if (!err) {
        d->dnnl_memory_desc_init_by_tag(&a->plain[T_X], 4, dx, dnnl_f32, dnnl_nchw);
        d->dnnl_memory_desc_init_by_tag(&a->plain[T_W], 4, dw, dnnl_f32, dnnl_oihw);
        d->dnnl_memory_desc_init_by_tag(&a->plain[T_B], 1, db, dnnl_f32, dnnl_a);
        d->dnnl_memory_desc_init_by_tag(&a->plain[T_Y], 4, dyd, dnnl_f32, dnnl_nchw);
        a->strides[0] = s->stride_h, a->strides[1] = s->stride_w;
        a->pad_l[0] = s->pad_h, a->pad_l[1] = s->pad_w;
        /* floor-mode output: the right padding that gives exactly oh, ow */
        a->pad_r[0] = (dnnl_dim_t)(oh - 1) * s->stride_h + s->kh - s->h - s->pad_h;
        a->pad_r[1] = (dnnl_dim_t)(ow - 1) * s->stride_w + s->kw - s->w - s->pad_w;
        err = copy_in(&a->data[T_X], x, (size_t)s->n * s->c * s->h * s->w);
        if (!err) err = copy_in(&a->data[T_W], w, (size_t)s->k * s->c * s->kh * s->kw);
        if (!err) err = copy_in(&a->data[T_B], bias, (size_t)s->k);
        if (!err) err = copy_in(&a->data[T_Y], dy, (size_t)s->n * s->k * oh * ow);
        if (err) snprintf(why, cap, "oneDNN: out of memory");
    }
    for (int p = 0; p < JG_ANCHOR_CONV_PASSES && !err; p++) {
        err = pick_pass(a, p);
        if (err) snprintf(why, cap, "oneDNN: no implementation for this shape");
    }
    if (err) {
        jg_anchor_conv_close(a);
        return err;
    }
    *out = a;
    return 0;
}

int jg_anchor_conv_next(jg_anchor_conv_t *a, int pass)
{
    a->dropped[pass] |= 1u << a->alg[pass];
    pass_free(&a->d, &a->pass[pass]);
    return pick_pass(a, pass);
}

int jg_anchor_conv_result(jg_anchor_conv_t *a, int pass, float *out)
{
    const pass_t *p = &a->pass[pass];
    const dnnl_api_t *d = &a->d;
    size_t off = 0;
    for (int i = 0; i < p->nout; i++) {
        const int t = p->out_tensor[i];
        const dnnl_memory_t m = p->args[p->out_arg[i]].memory;
        const dnnl_memory_desc_t *md =
            d->dnnl_primitive_desc_query_md(p->pd, dnnl_query_exec_arg_md, p->args[p->out_arg[i]].arg);
        dnnl_memory_t user = NULL;
        if (!ok(d->dnnl_memory_create(&user, &a->plain[t], a->eng, out + off))) return -EIO;
        const int err = reorder(a, m, md, user, &a->plain[t]);
        d->dnnl_memory_destroy(user);
        if (err) return err;
        size_t n = 1;
        for (int k = 0; k < a->plain[t].ndims; k++) n *= (size_t)a->plain[t].dims[k];
        off += n;
    }
    return 0;
}

const char *jg_anchor_conv_impl(const jg_anchor_conv_t *a, int pass)
{
    return a->pass[pass].impl;
}

const char *jg_anchor_conv_version(const jg_anchor_conv_t *a)
{
    return a->version;
}

void jg_anchor_conv_close(jg_anchor_conv_t *a)
{
    if (!a) return;
    if (a->h && a->d.dnnl_memory_destroy) {
        for (int p = 0; p < JG_ANCHOR_CONV_PASSES; p++) pass_free(&a->d, &a->pass[p]);
        if (a->st) a->d.dnnl_stream_destroy(a->st);
        if (a->eng) a->d.dnnl_engine_destroy(a->eng);
    }
    for (int t = 0; t < NTENSORS; t++) free(a->data[t]);
    /* not dlclose'd: oneDNN's OpenMP workers may still reference it */
    free(a);
}

#endif /* JG_HAVE_DNNL_H */
