/* SPDX-License-Identifier: MIT */
/*
 * End-to-end parity with PyTorch. For the presets default and paper-simplecnn
 * the fixtures test/fixtures/torch_<preset>.bin (written by hand with
 * test/torch/make_fixtures.py, which documents the format) hold PyTorch's
 * initial weights, a batch, and what PyTorch computed from them in training
 * mode: logits, loss and every gradient of the first step, batchnorm running
 * statistics after the first forward, the loss of each of three Adam steps
 * (lr 1e-3, default betas and eps) and the parameters and running statistics
 * after them. The test copies the weights into jg_model_create's model,
 * repeats the steps with jg_model_* and jg_optim_step and compares.
 *
 * Fixture format (u32 and f32 little-endian):
 *   "JGTORCH\0", u32 version (1), u32 count, then count tensors:
 *   u32 name_len (1..63), name, u32 flags (0 full, 1 sampled), u32 ndim
 *   (0..8), ndim x u32 dims (the full shape, each >= 1), then either
 *   prod(dims) x f32 (full) or u32 n, n x u32 strictly increasing flat
 *   indices < prod(dims), n x f32 values (sampled). Nothing may follow.
 *
 * Tolerances (what PyTorch's own float32 run shows against the float64
 * reference is printed by make_fixtures.py):
 *  - every tensor: rel = max|ours - torch| / max(max|torch|, TINY) <= TOL.
 *  - exceptions, both from Adam normalising each element by its own gradient
 *    (the update is about lr * sign(g) whatever |g| is):
 *    . an element whose step-1 reference gradient is below NOISE_REL times
 *      the largest weight gradient of its layer has an update direction set
 *      by float32 rounding; it is only held to the Adam bound
 *      |ours - torch| <= ADAM_SPREAD * lr * steps (the elements are counted
 *      and printed). This covers every bias of a conv feeding a batchnorm:
 *      its gradient is zero in exact arithmetic (batchnorm subtracts the
 *      mean), so its gradient is compared against the layer's weight
 *      gradient scale instead of its own maximum.
 *    . the running mean of such a batchnorm moves with that bias, so it may
 *      differ by momentum-weighted bias drift of earlier steps.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_nn.h"

#ifndef JG_FIXTURE_DIR
#error "JG_FIXTURE_DIR must name test/fixtures (set by test/CMakeLists.txt)"
#endif

#define TOL 1e-4       /* relative error per tensor */
#define TINY 1e-6      /* floor of the denominator */
#define NOISE_REL 1e-3 /* noise-driven Adam element: |g| <= NOISE_REL * max|g_weight| */
/* Two Adam runs differ by at most 2 x 1.004 lr per step: with bias correction
 * |m_hat| / sqrt(v_hat) <= sqrt(sum_t a_t^2 / c_t) = 1.0037 at step 3
 * (Cauchy-Schwarz over the EMA weights a_t of m and c_t of v; it grows
 * towards (1 - beta1) / sqrt(1 - beta2) for long runs, hence MAX_STEPS). */
#define ADAM_SPREAD 2.02
#define MAX_STEPS 3

/* ------------------------------------------------------------------ */
/* Fixture reader                                                      */
/* ------------------------------------------------------------------ */

#define FX_VERSION 1
#define FX_MAX_NAME 63
#define FX_MAX_DIMS 8
#define FX_MAX_TENSORS 1024
#define FX_MAX_NUMEL ((size_t)1 << 28)
#define FX_MAX_BYTES ((size_t)64 << 20)

typedef struct {
    char name[FX_MAX_NAME + 1];
    int sampled;
    int ndim;
    size_t dims[FX_MAX_DIMS];
    size_t numel;  /* elements of the full tensor */
    size_t n;      /* values stored: numel, or the sample count */
    uint32_t *idx; /* (n) flat indices when sampled, else NULL */
    float *val;    /* (n) */
    int used;
} fx_tensor_t;

typedef struct {
    fx_tensor_t *t;
    int count;
    char err[384];
} fx_t;

typedef struct {
    const unsigned char *p;
    size_t left;
} cur_t;

static int take_u32(cur_t *c, uint32_t *v)
{
    if (c->left < 4) return -1;
    *v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
         (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->left -= 4;
    return 0;
}

static int take_f32(cur_t *c, float *f)
{
    uint32_t u;
    if (take_u32(c, &u)) return -1;
    memcpy(f, &u, sizeof *f);
    return 0;
}

static void fx_free(fx_t *fx)
{
    for (int i = 0; fx->t && i < fx->count; i++) {
        free(fx->t[i].idx);
        free(fx->t[i].val);
    }
    free(fx->t);
    fx->t = NULL;
    fx->count = 0;
}

#define FX_FAIL(...)                                           \
    do {                                                       \
        snprintf(fx->err, sizeof fx->err, __VA_ARGS__);        \
        fx_free(fx);                                           \
        return -EBADMSG;                                       \
    } while (0)

/* Parse a fixture image; every size is checked against the buffer. Returns
 * 0 or -EBADMSG (fx->err says what is wrong) or -ENOMEM. */
static int fx_parse(const void *buf, size_t len, fx_t *fx)
{
    memset(fx, 0, sizeof *fx);
    cur_t c = { buf, len };
    uint32_t version, count;
    if (len < 8 || memcmp(buf, "JGTORCH\0", 8) != 0) FX_FAIL("bad magic (not a JGTORCH file)");
    c.p += 8;
    c.left -= 8;
    if (take_u32(&c, &version) || take_u32(&c, &count)) FX_FAIL("truncated header");
    if (version != FX_VERSION) FX_FAIL("unsupported version %u (expected %d)", version, FX_VERSION);
    if (count > FX_MAX_TENSORS) FX_FAIL("%u tensors (at most %d)", count, FX_MAX_TENSORS);
    fx->t = calloc(count ? count : 1, sizeof *fx->t);
    if (!fx->t) return -ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        fx_tensor_t *t = &fx->t[i];
        fx->count = (int)i + 1;
        uint32_t nl, flags, ndim;
        if (take_u32(&c, &nl)) FX_FAIL("tensor %u: truncated", i);
        if (nl < 1 || nl > FX_MAX_NAME)
            FX_FAIL("tensor %u: name length %u (1..%d)", i, nl, FX_MAX_NAME);
        if (c.left < nl) FX_FAIL("tensor %u: truncated name", i);
        for (uint32_t k = 0; k < nl; k++) {
            if (c.p[k] < 0x21 || c.p[k] > 0x7e)
                FX_FAIL("tensor %u: name is not printable ASCII", i);
            t->name[k] = (char)c.p[k];
        }
        c.p += nl;
        c.left -= nl;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp(fx->t[j].name, t->name) == 0) FX_FAIL("tensor '%s' appears twice", t->name);
        if (take_u32(&c, &flags) || take_u32(&c, &ndim)) FX_FAIL("'%s': truncated", t->name);
        if (flags > 1) FX_FAIL("'%s': flags %u (0 full, 1 sampled)", t->name, flags);
        if (ndim > FX_MAX_DIMS) FX_FAIL("'%s': %u dims (at most %d)", t->name, ndim, FX_MAX_DIMS);
        t->sampled = (int)flags;
        t->ndim = (int)ndim;
        t->numel = 1;
        for (uint32_t d = 0; d < ndim; d++) {
            uint32_t v;
            if (take_u32(&c, &v)) FX_FAIL("'%s': truncated dims", t->name);
            if (v < 1 || v > FX_MAX_NUMEL / t->numel)
                FX_FAIL("'%s': dim %u is %u (the tensor must have 1..2^28 elements)", t->name,
                        d, v);
            t->dims[d] = v;
            t->numel *= v;
        }
        t->n = t->numel;
        if (t->sampled) {
            uint32_t n;
            if (take_u32(&c, &n)) FX_FAIL("'%s': truncated sample count", t->name);
            if (n < 1 || n > t->numel)
                FX_FAIL("'%s': %u samples of a %zu-element tensor", t->name, n, t->numel);
            t->n = n;
        }
        /* check the payload size before allocating for it */
        const size_t need = (t->sampled ? 8 : 4) * t->n;
        if (c.left < need)
            FX_FAIL("'%s': needs %zu bytes of data, %zu left", t->name, need, c.left);
        t->val = malloc(t->n * sizeof *t->val);
        if (t->sampled) t->idx = malloc(t->n * sizeof *t->idx);
        if (!t->val || (t->sampled && !t->idx)) {
            fx_free(fx);
            return -ENOMEM;
        }
        for (size_t k = 0; t->sampled && k < t->n; k++) {
            take_u32(&c, &t->idx[k]);
            if (t->idx[k] >= t->numel || (k && t->idx[k] <= t->idx[k - 1]))
                FX_FAIL("'%s': sample index %zu (%u) out of range or not increasing", t->name, k,
                        t->idx[k]);
        }
        for (size_t k = 0; k < t->n; k++) {
            take_f32(&c, &t->val[k]);
            if (!isfinite(t->val[k])) FX_FAIL("'%s': value %zu is not finite", t->name, k);
        }
    }
    if (c.left) FX_FAIL("%zu trailing bytes after the last tensor", c.left);
    return 0;
}

/* Read and parse path (at most FX_MAX_BYTES); a missing file says how to
 * make it. */
static int fx_load(const char *path, fx_t *fx)
{
    memset(fx, 0, sizeof *fx);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(fx->err, sizeof fx->err, "%s: fixture missing (%s); regenerate with "
                 "/usr/bin/python3 test/torch/make_fixtures.py", path, strerror(errno));
        return -ENOENT;
    }
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    unsigned char *buf = NULL;
    int rc = -EBADMSG;
    if (len < 0 || (size_t)len > FX_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        snprintf(fx->err, sizeof fx->err, "%s: unreadable or larger than %zu bytes", path,
                 FX_MAX_BYTES);
    } else if (!(buf = malloc((size_t)len + 1))) {
        rc = -ENOMEM;
    } else if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        snprintf(fx->err, sizeof fx->err, "%s: read error", path);
    } else if ((rc = fx_parse(buf, (size_t)len, fx)) != 0) {
        char msg[sizeof fx->err];
        snprintf(msg, sizeof msg, "%s", fx->err);
        snprintf(fx->err, sizeof fx->err, "%.160s: %.200s", path, msg);
    }
    free(buf);
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Lookup and comparison                                               */
/* ------------------------------------------------------------------ */

typedef struct {
    fx_t fx;
    const char *preset;
    int n_bad;
    char first_bad[256];
} parity_t;

static fx_tensor_t *find(parity_t *P, const char *name)
{
    for (int i = 0; i < P->fx.count; i++)
        if (strcmp(P->fx.t[i].name, name) == 0) return &P->fx.t[i];
    return NULL;
}

/* Tensor `name` with exactly the shape dims[0..ndim) (full or sampled);
 * fails the test with a clear message otherwise. */
static const fx_tensor_t *get(parity_t *P, const char *name, int ndim, const size_t *dims)
{
    fx_tensor_t *t = find(P, name);
    if (!t)
        fail_msg("torch_%s.bin: no tensor '%s' (fixture and preset out of step? regenerate it)",
                 P->preset, name);
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->dims[d] == dims[d];
    if (!ok) {
        char want[128] = "", got[128] = "";
        for (int d = 0; d < ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%zu", d ? "x" : "",
                     dims[d]);
        for (int d = 0; d < t->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%zu", d ? "x" : "",
                     t->dims[d]);
        fail_msg("torch_%s.bin: '%s' has shape (%s), the model needs (%s)", P->preset, name,
                 got, want);
    }
    t->used = 1;
    return t;
}

static const fx_tensor_t *get_full(parity_t *P, const char *name, int ndim, const size_t *dims)
{
    const fx_tensor_t *t = get(P, name, ndim, dims);
    if (t->sampled) fail_msg("torch_%s.bin: '%s' must be stored in full", P->preset, name);
    return t;
}

static float at(const fx_tensor_t *t, size_t k, const float *full)
{
    return full[t->sampled ? t->idx[k] : k];
}

static double max_abs(const fx_tensor_t *t)
{
    double m = 0.0;
    for (size_t k = 0; k < t->n; k++) m = fmax(m, fabs((double)t->val[k]));
    return m;
}

static void verdict(parity_t *P, const char *name, double rel, const char *note)
{
    const int ok = rel <= TOL;
    printf("  %-26s rel %.2e%s%s%s\n", name, rel, ok ? "" : "  > TOL", note[0] ? "  " : "", note);
    if (!ok && P->n_bad++ == 0)
        snprintf(P->first_bad, sizeof P->first_bad, "%s rel %.3g", name, rel);
}

/* rel = max|got - want| / max(max|want|, floor) over want's stored values. */
static void compare(parity_t *P, const char *name, const float *got, const fx_tensor_t *want,
                    double floor)
{
    double d = 0.0;
    for (size_t k = 0; k < want->n; k++)
        d = fmax(d, fabs((double)at(want, k, got) - want->val[k]));
    verdict(P, name, d / fmax(max_abs(want), fmax(floor, TINY)), "");
}

/* Post-Adam parameters: elements with a noise-level step-1 gradient (g, same
 * sampling as want) only need to stay within the Adam bound. */
static void compare_adam(parity_t *P, const char *name, const float *got, const fx_tensor_t *want,
                         const fx_tensor_t *g, double g_scale, double lr, int steps)
{
    int same = g->n == want->n && g->numel == want->numel && g->sampled == want->sampled;
    for (size_t k = 0; same && want->sampled && k < want->n; k++) same = g->idx[k] == want->idx[k];
    if (!same) fail_msg("%s: not sampled like its gradient", name);
    double d = 0.0, d_noise = 0.0;
    size_t n_noise = 0;
    for (size_t k = 0; k < want->n; k++) {
        const double e = fabs((double)at(want, k, got) - want->val[k]);
        if (fabs((double)g->val[k]) <= NOISE_REL * g_scale) {
            n_noise++;
            d_noise = fmax(d_noise, e);
        } else {
            d = fmax(d, e);
        }
    }
    const double den = fmax(max_abs(want), TINY);
    char note[192] = "";
    if (n_noise)
        snprintf(note, sizeof note, "(all: rel %.2e; %zu/%zu with noise-level gradient: "
                 "max diff %.3g lr, bound %.3g lr)", fmax(d, d_noise) / den, n_noise, want->n,
                 d_noise / lr, ADAM_SPREAD * steps);
    /* the bound is a hard failure too */
    verdict(P, name, d_noise <= ADAM_SPREAD * lr * steps ? d / den : INFINITY, note);
}

/* ------------------------------------------------------------------ */
/* The parity run                                                      */
/* ------------------------------------------------------------------ */

static void param_dims(const jg_layer_info_t *li, int *ndim, size_t dims[4])
{
    if (li->kind == JG_LAYER_CONV2D) {
        *ndim = 4;
        dims[0] = (size_t)li->out_c;
        dims[1] = (size_t)li->in_c;
        dims[2] = (size_t)li->spec.kh;
        dims[3] = (size_t)li->spec.kw;
    } else if (li->kind == JG_LAYER_LINEAR) {
        *ndim = 2;
        dims[0] = (size_t)li->out_c;
        dims[1] = (size_t)li->in_c * li->in_h * li->in_w;
    } else {
        *ndim = 1;
        dims[0] = li->n_weight;
    }
}

static void run_parity(const char *preset, jg_isa_t isa)
{
    assert_int_equal(jg_kernels_set_isa(isa), 0);
    parity_t P = { .preset = preset };
    char path[1024], name[96];
    snprintf(path, sizeof path, "%s/torch_%s.bin", JG_FIXTURE_DIR, preset);
    const int rc = fx_load(path, &P.fx);
    if (rc) fail_msg("%s", P.fx.err);
    printf("[%s, isa %s] %s\n", preset, jg_isa_name(isa), path);

    /* the batch: input (B, C, H, W), labels (B), logits (B, K) */
    const fx_tensor_t *tx = find(&P, "input");
    if (!tx || tx->ndim != 4 || tx->sampled)
        fail_msg("%s: no full 4-d tensor 'input'", path);
    const size_t B = tx->dims[0], C = tx->dims[1], H = tx->dims[2], W = tx->dims[3];
    if (B < 2 || B > 1024 || C > 4 || H > 512 || W > 512)
        fail_msg("%s: input shape %zux%zux%zux%zu out of range", path, B, C, H, W);
    tx = get_full(&P, "input", 4, tx->dims);
    const fx_tensor_t *tl = find(&P, "logits");
    if (!tl || tl->ndim != 2 || tl->dims[1] > 100000) fail_msg("%s: no 2-d tensor 'logits'", path);
    const size_t K = tl->dims[1];
    const size_t dl[2] = { B, K };
    tl = get_full(&P, "logits", 2, dl);
    const fx_tensor_t *ty = get_full(&P, "labels", 1, &B);
    const fx_tensor_t *tloss = get_full(&P, "loss", 0, NULL);
    int32_t *labels = jg_test_alloc_bytes(B * sizeof *labels);
    for (size_t i = 0; i < B; i++) {
        const float v = ty->val[i];
        if (!(v >= 0.0f && v < (float)K && v == floorf(v)))
            fail_msg("%s: label %zu is %g, not a class in [0, %zu)", path, i, v, K);
        labels[i] = (int32_t)v;
    }

    /* Adam configuration: PyTorch's defaults, which jg_optim_defaults gives */
    jg_optim_config_t cfg;
    jg_optim_defaults(&cfg, JG_OPT_ADAM);
    const size_t five = 5;
    const fx_tensor_t *ta = get_full(&P, "adam", 1, &five);
    const int steps = (int)ta->val[4];
    if (ta->val[0] != cfg.lr || ta->val[1] != cfg.beta1 || ta->val[2] != cfg.beta2 ||
        ta->val[3] != cfg.eps || steps < 1 || steps > MAX_STEPS || ta->val[4] != (float)steps)
        fail_msg("%s: adam config (%g, %g, %g, %g, %g steps) is not PyTorch's default with "
                 "1..%d steps", path, ta->val[0], ta->val[1], ta->val[2], ta->val[3], ta->val[4],
                 MAX_STEPS);
    const size_t nsteps = (size_t)steps;
    const fx_tensor_t *tlosses = get_full(&P, "losses", 1, &nsteps);

    jg_model_t *m = NULL;
    jg_nn_error_t err;
    if (jg_model_create(&m, preset, (int)C, (int)H, (int)W, (int)K, 1, &err))
        fail_msg("create %s: %s", preset, err.msg);
    assert_int_equal(jg_model_reserve(m, (int)B), 0);
    const int L = jg_model_n_layers(m);

    /* PyTorch's weights and buffers into our arenas (same layout) */
    for (int i = 0; i < L; i++) {
        jg_layer_info_t li;
        assert_int_equal(jg_model_layer(m, i, &li), 0);
        int nd;
        size_t dims[4];
        param_dims(&li, &nd, dims);
        if (li.n_weight) {
            snprintf(name, sizeof name, "init.%d.weight", i);
            memcpy(li.weight, get_full(&P, name, nd, dims)->val, li.n_weight * sizeof(float));
        }
        if (li.n_bias) {
            snprintf(name, sizeof name, "init.%d.bias", i);
            memcpy(li.bias, get_full(&P, name, 1, &li.n_bias)->val, li.n_bias * sizeof(float));
        }
        if (li.running_mean) {
            const size_t c = (size_t)li.in_c;
            snprintf(name, sizeof name, "init.%d.running_mean", i);
            memcpy(li.running_mean, get_full(&P, name, 1, &c)->val, c * sizeof(float));
            snprintf(name, sizeof name, "init.%d.running_var", i);
            memcpy(li.running_var, get_full(&P, name, 1, &c)->val, c * sizeof(float));
        }
    }

    jg_optim_t *opt = NULL;
    assert_int_equal(jg_optim_create(&opt, &cfg, jg_model_n_params(m)), 0);
    const fx_tensor_t **gref = calloc(2 * (size_t)L, sizeof *gref); /* grad.i.weight, .bias */
    double *gscale = calloc((size_t)L, sizeof *gscale);             /* max|grad.i.weight| */
    assert_non_null(gref);
    assert_non_null(gscale);
    for (int t = 0; t < steps; t++) {
        const float *logits = NULL;
        float loss = 0.0f;
        assert_int_equal(jg_model_forward(m, tx->val, (int)B, 1, &logits), 0);
        assert_int_equal(jg_model_loss(m, labels, &loss), 0);
        assert_int_equal(jg_model_backward(m), 0);
        const float lt = tlosses->val[t];
        snprintf(name, sizeof name, "losses[%d]", t);
        verdict(&P, name, fabs((double)loss - lt) / fmax(fabs((double)lt), TINY), "");
        if (t == 0) {
            compare(&P, "logits", logits, tl, 0.0);
            compare(&P, "loss", &loss, tloss, 0.0);
            for (int i = 0; i < L; i++) {
                jg_layer_info_t li;
                assert_int_equal(jg_model_layer(m, i, &li), 0);
                int nd;
                size_t dims[4];
                param_dims(&li, &nd, dims);
                if (li.n_weight) {
                    snprintf(name, sizeof name, "grad.%d.weight", i);
                    gref[2 * i] = get(&P, name, nd, dims);
                    gscale[i] = max_abs(gref[2 * i]);
                    compare(&P, name, li.dweight, gref[2 * i], 0.0);
                }
                if (li.n_bias) {
                    /* the layer's weight-gradient scale is the floor: a conv
                     * bias before a batchnorm has a zero gradient */
                    snprintf(name, sizeof name, "grad.%d.bias", i);
                    gref[2 * i + 1] = get(&P, name, 1, &li.n_bias);
                    compare(&P, name, li.dbias, gref[2 * i + 1], gscale[i]);
                }
                if (li.running_mean) {
                    const size_t c = (size_t)li.in_c;
                    snprintf(name, sizeof name, "step1.%d.running_mean", i);
                    compare(&P, name, li.running_mean, get_full(&P, name, 1, &c), 0.0);
                    snprintf(name, sizeof name, "step1.%d.running_var", i);
                    compare(&P, name, li.running_var, get_full(&P, name, 1, &c), 0.0);
                }
            }
        }
        assert_int_equal(jg_optim_step(opt, jg_model_params(m), jg_model_grads(m), cfg.lr), 0);
    }

    /* after the steps: parameters and running statistics */
    for (int i = 0; i < L; i++) {
        jg_layer_info_t li;
        assert_int_equal(jg_model_layer(m, i, &li), 0);
        int nd;
        size_t dims[4];
        param_dims(&li, &nd, dims);
        if (li.n_weight) {
            snprintf(name, sizeof name, "final.%d.weight", i);
            compare_adam(&P, name, li.weight, get(&P, name, nd, dims), gref[2 * i], gscale[i],
                         cfg.lr, steps);
        }
        if (li.n_bias) {
            snprintf(name, sizeof name, "final.%d.bias", i);
            compare_adam(&P, name, li.bias, get(&P, name, 1, &li.n_bias), gref[2 * i + 1],
                         gscale[i], cfg.lr, steps);
        }
        if (li.running_mean) {
            const size_t c = (size_t)li.in_c;
            snprintf(name, sizeof name, "final.%d.running_var", i);
            compare(&P, name, li.running_var, get(&P, name, 1, &c), 0.0);
            snprintf(name, sizeof name, "final.%d.running_mean", i);
            const fx_tensor_t *rm = get(&P, name, 1, &c);
            /* A preceding bias with a zero gradient drifts by up to
             * ADAM_SPREAD lr per step; the running mean after the last
             * forward carries momentum (1 - momentum)^(steps-1-t) of the
             * drift after t steps. */
            double drift = 0.0;
            jg_layer_info_t prev;
            if (i > 0 && jg_model_layer(m, i - 1, &prev) == 0 && prev.n_bias) {
                const fx_tensor_t *gb = gref[2 * (i - 1) + 1];
                int all_noise = 1;
                for (size_t k = 0; k < gb->n; k++)
                    all_noise &= fabs((double)gb->val[k]) <= NOISE_REL * gscale[i - 1];
                const double mom = li.spec.momentum;
                for (int t = 1; all_noise && t < steps; t++)
                    drift += mom * pow(1.0 - mom, steps - 1 - t) * ADAM_SPREAD * cfg.lr * t;
            }
            double d = 0.0;
            for (size_t k = 0; k < rm->n; k++)
                d = fmax(d, fabs((double)li.running_mean[k] - rm->val[k]));
            char note[96] = "";
            if (drift > 0.0) {
                snprintf(note, sizeof note, "(diff %.2e, bias-drift allowance %.2e)", d, drift);
                d = fmax(0.0, d - drift);
            }
            verdict(&P, name, d / fmax(max_abs(rm), TINY), note);
        }
    }

    for (int i = 0; i < P.fx.count; i++)
        if (!P.fx.t[i].used)
            fail_msg("torch_%s.bin: tensor '%s' matches no layer of the model", preset,
                     P.fx.t[i].name);
    if (P.n_bad)
        fail_msg("%s, isa %s: %d tensors differ from PyTorch by more than %g (first: %s)",
                 preset, jg_isa_name(isa), P.n_bad, TOL, P.first_bad);
    free(gref);
    free(gscale);
    free(labels);
    jg_optim_destroy(opt);
    jg_model_destroy(m);
    fx_free(&P.fx);
}

/* Every ISA this machine runs (or JOULEGRAD_ISA), then the original one. */
static void run_all_isas(const char *preset)
{
    const jg_isa_t was = jg_kernels_isa();
    jg_isa_t isas[JG_ISA_COUNT];
    const int n = jg_test_isas(isas);
    for (int i = 0; i < n; i++) run_parity(preset, isas[i]);
    assert_int_equal(jg_kernels_set_isa(was), 0);
}

static void test_default(void **state)
{
    (void)state;
    run_all_isas("default");
}

static void test_paper_simplecnn(void **state)
{
    (void)state;
    run_all_isas("paper-simplecnn");
}

/* ------------------------------------------------------------------ */
/* Reader on bad input                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
    unsigned char b[512];
    size_t n;
} blob_t;

static void put_u32(blob_t *b, uint32_t v)
{
    assert_true(b->n + 4 <= sizeof b->b);
    for (int i = 0; i < 4; i++) b->b[b->n++] = (unsigned char)(v >> (8 * i));
}

static void put_f32(blob_t *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    put_u32(b, u);
}

static void put_name(blob_t *b, const char *s)
{
    put_u32(b, (uint32_t)strlen(s));
    assert_true(b->n + strlen(s) <= sizeof b->b);
    memcpy(b->b + b->n, s, strlen(s));
    b->n += strlen(s);
}

/* A valid image: "w" full 2x3, "s" 5 elements sampled at {0, 2, 4}. Offsets
 * of the fields the mutations below poke are returned. */
typedef struct { size_t version, count, w_ndim, w_dim0, s_n, s_idx1, s_val0, s_name; } offs_t;

static blob_t valid_blob(offs_t *o)
{
    blob_t b = { .n = 0 };
    memcpy(b.b, "JGTORCH\0", 8);
    b.n = 8;
    o->version = b.n;
    put_u32(&b, 1);
    o->count = b.n;
    put_u32(&b, 2);
    put_name(&b, "w");
    put_u32(&b, 0);
    o->w_ndim = b.n;
    put_u32(&b, 2);
    o->w_dim0 = b.n;
    put_u32(&b, 2);
    put_u32(&b, 3);
    for (int i = 0; i < 6; i++) put_f32(&b, (float)i - 2.5f);
    o->s_name = b.n;
    put_name(&b, "s");
    put_u32(&b, 1);
    put_u32(&b, 1);
    put_u32(&b, 5);
    o->s_n = b.n;
    put_u32(&b, 3);
    put_u32(&b, 0);
    o->s_idx1 = b.n;
    put_u32(&b, 2);
    put_u32(&b, 4);
    o->s_val0 = b.n;
    for (int i = 0; i < 3; i++) put_f32(&b, 0.5f * (float)i);
    return b;
}

static void poke(blob_t *b, size_t off, uint32_t v)
{
    for (int i = 0; i < 4; i++) b->b[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

static void expect_bad(const blob_t *b, const char *what, const char *needle)
{
    fx_t fx;
    const int rc = fx_parse(b->b, b->n, &fx);
    if (rc != -EBADMSG || !strstr(fx.err, needle))
        fail_msg("%s: rc %d, message '%s' (expected -EBADMSG mentioning '%s')", what, rc,
                 fx.err, needle);
    assert_null(fx.t);
}

static void test_reader_bad_input(void **state)
{
    (void)state;
    offs_t o;
    blob_t b = valid_blob(&o);
    fx_t fx;
    assert_int_equal(fx_parse(b.b, b.n, &fx), 0);
    assert_int_equal(fx.count, 2);
    assert_string_equal(fx.t[0].name, "w");
    assert_int_equal(fx.t[0].numel, 6);
    assert_true(fx.t[0].val[5] == 2.5f);
    assert_true(fx.t[1].sampled && fx.t[1].numel == 5 && fx.t[1].n == 3);
    assert_int_equal(fx.t[1].idx[2], 4);
    assert_true(fx.t[1].val[2] == 1.0f);
    fx_free(&fx);

    /* every truncation fails cleanly */
    for (size_t n = 0; n < b.n; n++) {
        blob_t t = b;
        t.n = n;
        assert_int_equal(fx_parse(t.b, t.n, &fx), -EBADMSG);
        assert_true(fx.err[0] != '\0');
    }
    blob_t t = b;
    t.b[0] = 'X';
    expect_bad(&t, "magic", "magic");
    t = b;
    poke(&t, o.version, 2);
    expect_bad(&t, "version", "version 2");
    t = b;
    poke(&t, o.count, 0xffffffffu);
    expect_bad(&t, "count", "tensors");
    t = b;
    poke(&t, o.count, 3);
    expect_bad(&t, "count too high", "truncated");
    t = b;
    t.b[t.n++] = 0;
    expect_bad(&t, "trailing byte", "trailing");
    t = b;
    poke(&t, o.w_ndim, 9);
    expect_bad(&t, "ndim", "dims");
    t = b;
    poke(&t, o.w_dim0, 0);
    expect_bad(&t, "zero dim", "dim 0 is 0");
    t = b;
    poke(&t, o.w_dim0, 0x10000000u); /* 2^28 x 3 elements */
    expect_bad(&t, "huge dims", "2^28");
    t = b;
    poke(&t, o.w_dim0, 1000); /* data would run past the end */
    expect_bad(&t, "size beyond the file", "bytes of data");
    t = b;
    poke(&t, o.s_n, 6);
    expect_bad(&t, "more samples than elements", "6 samples");
    t = b;
    poke(&t, o.s_idx1, 0);
    expect_bad(&t, "indices not increasing", "not increasing");
    t = b;
    poke(&t, o.s_idx1 + 4, 5);
    expect_bad(&t, "index out of range", "out of range");
    t = b;
    poke(&t, o.s_val0, 0x7fc00000u); /* NaN */
    expect_bad(&t, "NaN", "not finite");
    t = b;
    t.b[o.s_name + 4] = 'w';
    expect_bad(&t, "duplicate name", "twice");
    t = b;
    poke(&t, o.s_name, 0);
    expect_bad(&t, "empty name", "name length 0");
    t = b;
    t.b[o.s_name + 4] = ' ';
    expect_bad(&t, "unprintable name", "printable");

    assert_int_equal(fx_load(JG_FIXTURE_DIR "/no_such_fixture.bin", &fx), -ENOENT);
    assert_non_null(strstr(fx.err, "fixture missing"));
    assert_non_null(strstr(fx.err, "make_fixtures.py"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_bad_input),
        cmocka_unit_test(test_default),
        cmocka_unit_test(test_paper_simplecnn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
