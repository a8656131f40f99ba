/* SPDX-License-Identifier: MIT */
/* Checkpoints: bit-exact round trip (weights, batchnorm buffers, Adam state,
 * meta, history) and an identical next training step after a restore;
 * every truncation and every single-byte flip refused; bad magic, unknown
 * version, huge or NaN header fields (with a valid CRC); restore into the
 * wrong model or optimizer; atomic save (replace, no temp left, missing
 * directory, stale temp files); load and save argument errors. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "harness.h"
#include "jg_nn.h"

/* conv + batchnorm (2 x 4 running stats) + linear on 2x6x6, 3 classes:
 * 4*2*9+4 + 4+4 + 3*36+3 = 195 parameters, 8 buffers; Adam holds 390. */
static const char *SPEC = "conv(4,3,pad=1) batchnorm relu maxpool(2) flatten linear(3)";
#define C_ 2
#define H_ 6
#define W_ 6
#define K_ 3
#define B_ 4

/* Class names saved by the fixture (version 2 keeps them). */
static const char *const NAMES[K_] = { "cat", "d\xc3\xb6g", "fox" };

typedef struct {
    char dir[64], path[128];
    jg_model_t *m;
    jg_optim_t *opt;
    jg_checkpoint_meta_t meta;
    jg_epoch_stats_t hist[2];
    float x[B_ * C_ * H_ * W_];
    int32_t y[B_];
} fix_t;

static jg_model_t *make(const char *spec, int h, uint64_t seed)
{
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    const int rc = jg_model_create(&m, spec, C_, h, W_, K_, seed, &err);
    if (rc) fail_msg("create '%s': %d %s", spec, rc, err.msg);
    assert_int_equal(jg_model_reserve(m, B_), 0);
    return m;
}

static jg_optim_t *make_opt(jg_opt_kind_t kind, float momentum, int64_t n)
{
    jg_optim_config_t cfg;
    jg_optim_defaults(&cfg, kind);
    cfg.momentum = momentum;
    jg_optim_t *o = NULL;
    assert_int_equal(jg_optim_create(&o, &cfg, n), 0);
    return o;
}

/* One training step on the fixture's batch. */
static void train_step(jg_model_t *m, jg_optim_t *o, const float *x, const int32_t *y)
{
    float loss;
    assert_int_equal(jg_model_forward(m, x, B_, 1, NULL), 0);
    assert_int_equal(jg_model_loss(m, y, &loss), 0);
    assert_int_equal(jg_model_backward(m), 0);
    assert_int_equal(jg_optim_step(o, jg_model_params(m), jg_model_grads(m), 1e-2f), 0);
}

/* A model trained 3 Adam steps (so params, running stats and m, v are all
 * non-trivial), its meta and a 2-epoch history, and a fresh temp dir. */
static void fix_init(fix_t *f, jg_opt_kind_t kind, float momentum)
{
    memset(f, 0, sizeof *f);
    strcpy(f->dir, "/tmp/jg_ckpt_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/m.ckpt", f->dir);
    f->m = make(SPEC, H_, 7);
    f->opt = make_opt(kind, momentum, jg_model_n_params(f->m));
    jg_test_fill_uniform(f->x, sizeof f->x / sizeof f->x[0], -1, 1, 11);
    for (int i = 0; i < B_; i++) f->y[i] = i % K_;
    for (int s = 0; s < 3; s++) train_step(f->m, f->opt, f->x, f->y);

    jg_checkpoint_meta_t *mt = &f->meta;
    mt->mean[0] = 0.5f;
    mt->mean[1] = -0.25f;
    mt->std[0] = 0.3f;
    mt->std[1] = 0.2f;
    mt->optim = *jg_optim_config(f->opt);
    mt->epochs = 5;
    mt->batch = B_;
    mt->seed = 0x123456789abcdefull;
    strcpy(mt->dataset, "synthetic");
    mt->class_names = NAMES;
    mt->state.epochs_done = 2;
    mt->state.optim_steps = jg_optim_steps(f->opt);
    mt->state.model_step = jg_model_step(f->m);
    mt->state.best_val_loss = 0.75;
    mt->state.bad_epochs = 1;
    const jg_epoch_stats_t h0 = { 0, 1e-3f, 1.1, 0.3, NAN, NAN, 0.5, 4 };
    const jg_epoch_stats_t h1 = { 1, 5e-4f, 0.9, 0.5, 0.75, 0.625, 0.25, 8 };
    f->hist[0] = h0;
    f->hist[1] = h1;
}

static void fix_save(fix_t *f)
{
    jg_nn_error_t err;
    const int rc = jg_checkpoint_save(f->path, f->m, f->opt, &f->meta, f->hist, &err);
    if (rc) fail_msg("save: %d %s", rc, err.msg);
}

/* Remove every file in the temp dir, then the dir. */
static void fix_free(fix_t *f)
{
    DIR *d = opendir(f->dir);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(p, sizeof p, "%s/%s", f->dir, e->d_name);
            if (unlink(p) != 0) rmdir(p);
        }
        closedir(d);
    }
    rmdir(f->dir);
    jg_optim_destroy(f->opt);
    jg_model_destroy(f->m);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    const long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *b = jg_test_alloc_bytes((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static void write_all(const char *path, const void *b, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(b, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* The Adam fixture, saved; the bytes of its file. */
static uint8_t *fix_saved_bytes(fix_t *f, size_t *len)
{
    fix_init(f, JG_OPT_ADAM, 0.0f);
    fix_save(f);
    return read_all(f->path, len);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void fix_crc(uint8_t *b, size_t n)
{
    wr32(b + n - 4, (uint32_t)crc32(0L, b, (uInt)(n - 4)));
}

static int cmp_name(const void *a, const void *b) { return strcmp(a, b); }

/* Names in dir, sorted, joined by ' ' (at most 8 names). */
static void list_dir(const char *dir, char *out, size_t cap)
{
    char names[8][256];
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 8)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        const int k = snprintf(out + len, cap - len, "%s%s", i ? " " : "", names[i]);
        assert_true(k > 0 && (size_t)k < cap - len);
        len += (size_t)k;
    }
}

static void assert_same_double(double a, double b)
{
    assert_true((isnan(a) && isnan(b)) || a == b);
}

static void test_round_trip(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_ADAM, 0.0f);
    fix_save(&f);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    const int rc = jg_checkpoint_load(f.path, &ck, &err);
    if (rc) fail_msg("load: %d %s", rc, err.msg);

    size_t nb, nst;
    const float *bufs = jg_model_buffers(f.m, &nb);
    const float *st = jg_optim_state(f.opt, &nst);
    assert_int_equal(ck.n_params, 195);
    assert_int_equal(ck.n_buffers, 8);
    assert_int_equal(nb, 8);
    assert_int_equal(ck.n_optim_state, 390);
    assert_int_equal(nst, 390);
    assert_memory_equal(ck.params, jg_model_params(f.m), 195 * sizeof(float));
    assert_memory_equal(ck.buffers, bufs, 8 * sizeof(float));
    assert_memory_equal(ck.optim_state, st, 390 * sizeof(float));
    /* the running variance moved away from its initial 1 */
    assert_true(ck.buffers[4] != 1.0f);

    char spec[512];
    assert_int_equal(jg_model_spec(f.m, spec, sizeof spec), 0);
    const jg_checkpoint_meta_t *a = &ck.meta, *b = &f.meta;
    assert_string_equal(a->spec, spec);
    assert_int_equal(a->c, C_);
    assert_int_equal(a->h, H_);
    assert_int_equal(a->w, W_);
    assert_int_equal(a->classes, K_);
    assert_memory_equal(a->mean, b->mean, sizeof a->mean);
    assert_memory_equal(a->std, b->std, sizeof a->std);
    assert_memory_equal(&a->optim, &b->optim, sizeof a->optim); /* all 4-byte fields */
    assert_int_equal(a->state.epochs_done, 2);
    assert_int_equal(a->state.optim_steps, 3);
    assert_int_equal(a->state.model_step, b->state.model_step);
    assert_true(a->state.best_val_loss == 0.75);
    assert_int_equal(a->state.bad_epochs, 1);
    assert_int_equal(a->epochs, 5);
    assert_int_equal(a->batch, B_);
    assert_true(a->seed == b->seed);
    assert_string_equal(a->dataset, "synthetic");
    assert_non_null(a->class_names);
    for (int k = 0; k < K_; k++) assert_string_equal(a->class_names[k], NAMES[k]);
    for (int i = 0; i < 2; i++) {
        const jg_epoch_stats_t *p = &ck.history[i], *q = &f.hist[i];
        assert_int_equal(p->epoch, q->epoch);
        assert_true(p->lr == q->lr);
        assert_same_double(p->train_loss, q->train_loss);
        assert_same_double(p->train_accuracy, q->train_accuracy);
        assert_same_double(p->val_loss, q->val_loss);
        assert_same_double(p->val_accuracy, q->val_accuracy);
        assert_same_double(p->seconds, q->seconds);
        assert_int_equal(p->images, q->images);
    }
    assert_true(isnan(ck.history[0].val_loss));

    /* Restore into a differently seeded model and a fresh Adam: one more step
     * on both gives bit-identical weights (m, v and t all came back). */
    jg_model_t *m2 = make(SPEC, H_, 99);
    jg_optim_t *o2 = make_opt(JG_OPT_ADAM, 0.0f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m2, o2, &err), 0);
    assert_int_equal(jg_optim_steps(o2), 3);
    train_step(f.m, f.opt, f.x, f.y);
    train_step(m2, o2, f.x, f.y);
    assert_memory_equal(jg_model_params(m2), jg_model_params(f.m), 195 * sizeof(float));
    assert_memory_equal(jg_model_buffers(m2, NULL), jg_model_buffers(f.m, NULL),
                        8 * sizeof(float));
    jg_optim_destroy(o2);
    jg_model_destroy(m2);

    /* Build from the checkpoint alone: the saved weights, inference logits
     * equal to a restored model's. */
    jg_model_t *m3 = NULL;
    assert_int_equal(jg_checkpoint_model(&ck, &m3, &err), 0);
    assert_memory_equal(jg_model_params(m3), ck.params, 195 * sizeof(float));
    assert_memory_equal(jg_model_buffers(m3, NULL), ck.buffers, 8 * sizeof(float));
    jg_model_t *m4 = make(SPEC, H_, 5);
    assert_int_equal(jg_checkpoint_restore(&ck, m4, NULL, &err), 0);
    assert_int_equal(jg_model_reserve(m3, B_), 0);
    const float *l3, *l4;
    assert_int_equal(jg_model_forward(m3, f.x, B_, 0, &l3), 0);
    assert_int_equal(jg_model_forward(m4, f.x, B_, 0, &l4), 0);
    assert_memory_equal(l3, l4, B_ * K_ * sizeof(float));
    jg_model_destroy(m3);
    jg_model_destroy(m4);

    jg_checkpoint_free(&ck);
    assert_null(ck.blob);
    jg_checkpoint_free(&ck); /* twice is harmless */
    fix_free(&f);
}

/* Every proper prefix is refused with -EBADMSG and a message. */
static void test_truncation(void **state)
{
    (void)state;
    fix_t f;
    size_t len;
    uint8_t *b = fix_saved_bytes(&f, &len);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    for (size_t n = 0; n < len; n++) {
        /* a fresh heap copy of exactly n bytes so ASan sees any overread */
        uint8_t *cut = jg_test_alloc_bytes(n ? n : 1);
        memcpy(cut, b, n);
        const int rc = jg_checkpoint_parse(cut, n, &ck, &err);
        if (rc != -EBADMSG) fail_msg("prefix of %zu bytes: %d", n, rc);
        assert_true(err.msg[0] != '\0');
        assert_null(ck.blob);
        free(cut);
    }
    /* a cut in the payload says how much is there and how much should be */
    char want[64];
    assert_int_equal(jg_checkpoint_parse(b, len - 100, &ck, &err), -EBADMSG);
    snprintf(want, sizeof want, "truncated (%zu of %zu bytes)", len - 100, len);
    assert_non_null(strstr(err.msg, want));
    /* ... and the file name when loading */
    write_all(f.path, b, len - 100);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), -EBADMSG);
    assert_int_equal(strncmp(err.msg, f.path, strlen(f.path)), 0);
    assert_non_null(strstr(err.msg, want));
    /* one byte too many is refused too */
    uint8_t *longer = jg_test_alloc_bytes(len + 1);
    memcpy(longer, b, len);
    longer[len] = 0;
    assert_int_equal(jg_checkpoint_parse(longer, len + 1, &ck, &err), -EBADMSG);
    free(longer);
    free(b);
    fix_free(&f);
}

/* CRC-32 catches every error burst of up to 32 bits, so every single-byte
 * change anywhere (trailer included) must be refused. */
static void test_byte_flips(void **state)
{
    (void)state;
    fix_t f;
    size_t len;
    uint8_t *b = fix_saved_bytes(&f, &len);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), 0);
    jg_checkpoint_free(&ck);
    static const uint8_t masks[] = { 0x01, 0x80, 0xff };
    for (size_t i = 0; i < len; i++)
        for (int k = 0; k < 3; k++) {
            b[i] ^= masks[k];
            const int rc = jg_checkpoint_parse(b, len, &ck, &err);
            b[i] ^= masks[k];
            if (rc != -EBADMSG) fail_msg("byte %zu ^ 0x%02x: %d", i, masks[k], rc);
        }
    /* a flip deep in the payload is reported as corruption */
    b[len / 2] ^= 0x10;
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "CRC mismatch"));
    free(b);
    fix_free(&f);
}

static void test_magic_and_version(void **state)
{
    (void)state;
    fix_t f;
    size_t len;
    uint8_t *b = fix_saved_bytes(&f, &len);
    jg_checkpoint_t ck;
    jg_nn_error_t err;

    b[0] = 'X';
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "bad magic"));
    b[0] = 'J';
    static const char png[] = "\x89PNG\r\n\x1a\n";
    assert_int_equal(jg_checkpoint_parse(png, 8, &ck, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "bad magic"));

    /* version 3 with a correct CRC: -EPROTO naming the version */
    wr32(b + 8, 3);
    fix_crc(b, len);
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), -EPROTO);
    assert_non_null(strstr(err.msg, "version 3"));
    wr32(b + 8, 0);
    fix_crc(b, len);
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), -EPROTO);
    /* the same through a file */
    write_all(f.path, b, len);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), -EPROTO);
    assert_int_equal(strncmp(err.msg, f.path, strlen(f.path)), 0);
    free(b);
    fix_free(&f);
}

/* Patch one field (4 or 8 bytes) of a copy of a valid file, fix the CRC,
 * expect -EBADMSG and `what` in the message, or success when what is NULL.
 * Under ASan an attempt to allocate for a count of 2^40 would abort the
 * test. */
static void expect_refused(const uint8_t *good, size_t len, size_t off, int width,
                           uint64_t value, const char *what)
{
    uint8_t *b = jg_test_alloc_bytes(len);
    memcpy(b, good, len);
    if (width == 4) wr32(b + off, (uint32_t)value);
    else wr64(b + off, value);
    fix_crc(b, len);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    const int rc = jg_checkpoint_parse(b, len, &ck, &err);
    if (what ? rc != -EBADMSG || !strstr(err.msg, what) : rc != 0)
        fail_msg("offset %zu = %llu: %d '%s' (want '%s')", off, (unsigned long long)value, rc,
                 err.msg, what ? what : "accepted");
    if (what) assert_null(ck.blob);
    jg_checkpoint_free(&ck);
    free(b);
}

/* The bits of v, for expect_refused. */
static uint64_t f32_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

static void test_bad_header_fields(void **state)
{
    (void)state;
    fix_t f;
    size_t len;
    uint8_t *b = fix_saved_bytes(&f, &len);
    const uint32_t hb = rd32(b + 12), slen = rd32(b + 16);
    /* counts close the header: u64 n_params, n_buffers, n_optim, u32 n_history,
     * u32 names_bytes */
    const size_t counts = 16 + hb - 32, state_end = counts;
    const size_t n_params = counts, n_buffers = counts + 8, n_optim = counts + 16,
                 n_history = counts + 24, names_bytes = counts + 28;
    const size_t best = state_end - 4 - 8, bad_epochs = state_end - 4;
    const size_t c_off = 16 + 4 + slen, std0 = c_off + 16 + 4 * C_;

    expect_refused(b, len, n_params, 8, (uint64_t)1 << 40, "exceed");
    expect_refused(b, len, n_params, 8, UINT64_MAX, "exceed");
    expect_refused(b, len, n_buffers, 8, (uint64_t)1 << 28, "but its header describes");
    expect_refused(b, len, n_buffers, 8, (uint64_t)1 << 40, "exceed");
    expect_refused(b, len, n_optim, 8, UINT64_MAX, "exceed");
    expect_refused(b, len, n_optim, 8, 195, "optimizer state of 195 floats");
    expect_refused(b, len, n_history, 4, UINT32_MAX, "history records");
    /* 3 classes need 15 to 777 bytes of names */
    expect_refused(b, len, names_bytes, 4, 14, "class names of 14 bytes cannot hold 3 names");
    expect_refused(b, len, names_bytes, 4, 778, "cannot hold 3 names");
    expect_refused(b, len, names_bytes, 4, UINT32_MAX, "cannot hold");
    expect_refused(b, len, names_bytes, 4, 15, "but its header describes");
    expect_refused(b, len, 12, 4, UINT32_MAX, "header size");
    expect_refused(b, len, 12, 4, hb - 1, "header");
    expect_refused(b, len, 16, 4, UINT32_MAX, "spec length 4294967295 exceeds 4095");
    expect_refused(b, len, 16, 4, 4096, "spec length 4096 exceeds 4095");
    expect_refused(b, len, c_off, 4, 5, "5 input channels");
    expect_refused(b, len, c_off, 4, 0, "0 input channels");
    expect_refused(b, len, c_off + 12, 4, 0, "classes");
    expect_refused(b, len, std0, 4, 0x7fc00000u, "std nan");  /* NaN std */
    expect_refused(b, len, std0, 4, 0, "std 0");
    expect_refused(b, len, best, 8, 0x7ff8000000000000ull, "bad run state"); /* NaN */
    expect_refused(b, len, bad_epochs, 4, UINT32_MAX, "bad run state");     /* -1 */
    /* a NUL inside the spec text */
    expect_refused(b, len, 20, 4, 0x00767563u, "NUL");
    free(b);
    fix_free(&f);
}

static void test_restore_mismatch(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_ADAM, 0.0f);
    fix_save(&f);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);

    /* a different model: refused, weights untouched */
    jg_model_t *other = make("conv(4,3,pad=1) relu maxpool(2) flatten linear(3)", H_, 3);
    float *before = jg_test_alloc((size_t)jg_model_n_params(other));
    memcpy(before, jg_model_params(other), (size_t)jg_model_n_params(other) * sizeof(float));
    assert_int_equal(jg_checkpoint_restore(&ck, other, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "checkpoint is for model 'conv(4,3"));
    assert_non_null(strstr(err.msg, "batchnorm"));
    assert_non_null(strstr(err.msg, "', not 'conv(4,3"));
    assert_memory_equal(before, jg_model_params(other),
                        (size_t)jg_model_n_params(other) * sizeof(float));
    free(before);
    jg_model_destroy(other);

    /* the same spec on another input size */
    other = make(SPEC, 8, 3);
    assert_int_equal(jg_checkpoint_restore(&ck, other, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "checkpoint is for input 2x6x6 with 3 classes, not 2x8x6"));
    jg_model_destroy(other);

    /* the right model but the wrong optimizer: nothing copied */
    jg_model_t *m = make(SPEC, H_, 3);
    float p0 = jg_model_params(m)[0];
    jg_optim_t *sgd = make_opt(JG_OPT_SGD, 0.9f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m, sgd, &err), -EINVAL);
    assert_string_equal(err.msg, "optimizer state is adam, not sgd");
    assert_true(jg_model_params(m)[0] == p0);
    assert_int_equal(jg_optim_steps(sgd), 0);
    jg_optim_t *adamw = make_opt(JG_OPT_ADAMW, 0.0f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m, adamw, &err), -EINVAL);
    assert_string_equal(err.msg, "optimizer state is adam, not adamw");
    jg_optim_destroy(adamw);
    jg_checkpoint_free(&ck);

    /* SGD with momentum saved, restored into SGD without: state sizes differ */
    jg_optim_destroy(f.opt);
    f.opt = sgd;
    train_step(f.m, f.opt, f.x, f.y);
    fix_save(&f);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_int_equal(ck.n_optim_state, 195);
    jg_optim_t *plain = make_opt(JG_OPT_SGD, 0.0f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m, plain, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "195 floats in the checkpoint and 0"));
    jg_checkpoint_free(&ck);

    /* weights only: fine without an optimizer, refused with one */
    assert_int_equal(jg_checkpoint_save(f.path, f.m, NULL, &f.meta, f.hist, &err), 0);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_int_equal(ck.n_optim_state, 0);
    assert_null(ck.optim_state);
    jg_optim_t *mom = make_opt(JG_OPT_SGD, 0.9f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m, mom, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no optimizer state"));
    assert_int_equal(jg_checkpoint_restore(&ck, m, NULL, &err), 0);
    assert_memory_equal(jg_model_params(m), jg_model_params(f.m), 195 * sizeof(float));

    /* a spec that builds something else, or nothing */
    jg_model_t *built = NULL;
    strcpy(ck.meta.spec, "flatten linear(3)");
    assert_int_equal(jg_checkpoint_model(&ck, &built, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "but its spec builds"));
    assert_null(built);
    strcpy(ck.meta.spec, "cnv(3)");
    assert_int_equal(jg_checkpoint_model(&ck, &built, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "cnv"));
    assert_null(built);

    jg_checkpoint_free(&ck);
    jg_optim_destroy(mom);
    jg_optim_destroy(plain);
    jg_model_destroy(m);
    fix_free(&f);
}

static void test_atomic_save(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_ADAM, 0.0f);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    char names[256], p[256];

    /* an existing file at path is replaced; no temporary file is left */
    write_all(f.path, "old contents", 12);
    fix_save(&f);
    list_dir(f.dir, names, sizeof names);
    assert_string_equal(names, "m.ckpt");
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_memory_equal(ck.params, jg_model_params(f.m), 195 * sizeof(float));
    jg_checkpoint_free(&ck);

    /* a stale temporary file from a crashed writer disturbs neither load nor
     * save, and belongs to someone else (left alone) */
    snprintf(p, sizeof p, "%s.tmp.1", f.path);
    write_all(p, "JGCKPT\0\0half-written", 20);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    jg_checkpoint_free(&ck);
    fix_save(&f);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    jg_checkpoint_free(&ck);
    list_dir(f.dir, names, sizeof names);
    assert_string_equal(names, "m.ckpt m.ckpt.tmp.1");

    /* a missing directory: -ENOENT naming it, nothing created */
    snprintf(p, sizeof p, "%s/nosuch/m.ckpt", f.dir);
    assert_int_equal(jg_checkpoint_save(p, f.m, f.opt, &f.meta, f.hist, &err), -ENOENT);
    assert_non_null(strstr(err.msg, "nosuch'"));
    assert_non_null(strstr(err.msg, "No such file or directory"));
    list_dir(f.dir, names, sizeof names);
    assert_string_equal(names, "m.ckpt m.ckpt.tmp.1");

    /* the rename fails (path is a non-empty directory): the temp file is
     * removed and the step named */
    snprintf(p, sizeof p, "%s/d.ckpt", f.dir);
    assert_int_equal(mkdir(p, 0755), 0);
    char inner[300];
    snprintf(inner, sizeof inner, "%s/keep", p);
    write_all(inner, "x", 1);
    assert_true(jg_checkpoint_save(p, f.m, f.opt, &f.meta, f.hist, &err) < 0);
    assert_non_null(strstr(err.msg, "rename"));
    list_dir(f.dir, names, sizeof names);
    assert_string_equal(names, "d.ckpt m.ckpt m.ckpt.tmp.1");
    unlink(inner);

    /* a relative path (temp file and fsync in ".") */
    char cwd[512];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f.dir), 0);
    assert_int_equal(jg_checkpoint_save("rel.ckpt", f.m, NULL, &f.meta, f.hist, &err), 0);
    assert_int_equal(jg_checkpoint_load("rel.ckpt", &ck, &err), 0);
    jg_checkpoint_free(&ck);
    assert_int_equal(chdir(cwd), 0);
    fix_free(&f);
}

static void test_load_errors(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_SGD, 0.0f);
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    char p[256];

    snprintf(p, sizeof p, "%s/missing.ckpt", f.dir);
    assert_int_equal(jg_checkpoint_load(p, &ck, &err), -ENOENT);
    assert_int_equal(strncmp(err.msg, p, strlen(p)), 0);
    assert_null(ck.blob);

    snprintf(p, sizeof p, "%s/empty.ckpt", f.dir);
    write_all(p, "", 0);
    assert_int_equal(jg_checkpoint_load(p, &ck, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "empty file (0 bytes)"));
    assert_int_equal(jg_checkpoint_parse("", 0, &ck, &err), -EBADMSG);

    assert_int_equal(jg_checkpoint_load(f.dir, &ck, &err), -EISDIR);
    assert_non_null(strstr(err.msg, "is a directory"));

    /* A FIFO is refused at once (an open for reading used to wait for a
     * writer: alarm turns a regression into a failure), /dev/zero too. */
    snprintf(p, sizeof p, "%s/fifo.ckpt", f.dir);
    assert_int_equal(mkfifo(p, 0600), 0);
    alarm(20);
    assert_int_equal(jg_checkpoint_load(p, &ck, &err), -EINVAL);
    alarm(0);
    assert_int_equal(strncmp(err.msg, p, strlen(p)), 0);
    assert_non_null(strstr(err.msg, "not a regular file"));
    assert_null(ck.blob);
    assert_int_equal(jg_checkpoint_load("/dev/zero", &ck, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "not a regular file"));

    /* a sparse file just over 2 GiB is refused before reading */
    snprintf(p, sizeof p, "%s/huge.ckpt", f.dir);
    const int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    if (ftruncate(fd, ((off_t)2 << 30) + 1) == 0) {
        assert_int_equal(jg_checkpoint_load(p, &ck, &err), -EFBIG);
        assert_non_null(strstr(err.msg, "2 GiB"));
    }
    close(fd);
    unlink(p);

    /* SGD without momentum: no optimizer state, still a valid round trip */
    fix_save(&f);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_int_equal(ck.n_optim_state, 0);
    jg_optim_t *o = make_opt(JG_OPT_SGD, 0.0f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, f.m, o, &err), 0);
    assert_int_equal(jg_optim_steps(o), 3);
    jg_optim_destroy(o);
    jg_checkpoint_free(&ck);

    assert_int_equal(jg_checkpoint_parse(NULL, 4, &ck, &err), -EINVAL);
    assert_int_equal(jg_checkpoint_load(NULL, &ck, &err), -EINVAL);
    assert_int_equal(jg_checkpoint_restore(&ck, f.m, NULL, &err), -EINVAL); /* freed */
    jg_model_t *m = NULL;
    assert_int_equal(jg_checkpoint_model(NULL, &m, &err), -EINVAL);
    fix_free(&f);
}

/* save validates with the parser's rules, so whatever it writes loads. */
static void test_save_rejects(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_ADAM, 0.0f);
    jg_nn_error_t err;
    char names[256];

    f.meta.std[1] = 0.0f;
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "channel 1 normalisation"));
    f.meta.std[1] = 0.2f;

    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "no history"));

    f.hist[1].epoch = 5;
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "history record 1 has epoch 5"));
    f.hist[1].epoch = 1;

    f.meta.state.best_val_loss = NAN;
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    f.meta.state.best_val_loss = INFINITY; /* before any validation: fine */

    /* an optimizer over another parameter count */
    jg_optim_t *o = make_opt(JG_OPT_ADAM, 0.0f, 196);
    assert_int_equal(jg_checkpoint_save(f.path, f.m, o, &f.meta, f.hist, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "optimizer state of 392 floats"));
    jg_optim_destroy(o);

    assert_int_equal(jg_checkpoint_save(NULL, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_int_equal(jg_checkpoint_save(f.path, NULL, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, NULL, f.hist, &err), -EINVAL);
    list_dir(f.dir, names, sizeof names);
    assert_string_equal(names, "");

    /* the optimizer's own config and step count are what is written */
    f.meta.optim.kind = JG_OPT_SGD;
    f.meta.state.optim_steps = 0;
    fix_save(&f);
    jg_checkpoint_t ck;
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_int_equal(ck.meta.optim.kind, JG_OPT_ADAM);
    assert_int_equal(ck.meta.state.optim_steps, 3);
    assert_true(isinf(ck.meta.state.best_val_loss));
    jg_checkpoint_free(&ck);
    fix_free(&f);
}

/* Version 2 keeps the class names; saving without them stores none (NULL
 * on load); names that are not valid UTF-8, hold a control character or
 * repeat are refused on save, and in a file with a valid CRC on load. */
static void test_class_names(void **state)
{
    (void)state;
    fix_t f;
    fix_init(&f, JG_OPT_ADAM, 0.0f);
    jg_checkpoint_t ck;
    jg_nn_error_t err;

    f.meta.class_names = NULL;
    fix_save(&f);
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_null(ck.meta.class_names);
    jg_checkpoint_free(&ck);

    const char *const bad_utf8[K_] = { "cat", "d\xffg", "fox" };
    const char *const dup[K_] = { "cat", "dog", "cat" };
    const char *const ctl[K_] = { "cat", "dog", "fox\n" };
    const char *const empty[K_] = { "cat", "", "fox" };
    const char *const *bad[] = { bad_utf8, dup, ctl, empty };
    const char *why[] = { "'d\\xffg' is not valid UTF-8", "classes 0 and 2 are both named 'cat'",
                          "control character U+000A", "empty" };
    for (int i = 0; i < 4; i++) {
        f.meta.class_names = bad[i];
        assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
        if (!strstr(err.msg, "class names") || !strstr(err.msg, why[i]))
            fail_msg("names %d: '%s' lacks '%s'", i, err.msg, why[i]);
    }
    /* the file saved without names is still there, unchanged */
    assert_int_equal(jg_checkpoint_load(f.path, &ck, &err), 0);
    assert_null(ck.meta.class_names);
    jg_checkpoint_free(&ck);

    /* Hostile names section (CRC fixed): right after the header. */
    f.meta.class_names = NAMES;
    fix_save(&f);
    size_t len;
    uint8_t *good = read_all(f.path, &len);
    const size_t names = 16 + rd32(good + 12); /* {u32 3, "cat"} {u32 4, "d\xc3\xb6g"} ... */
    assert_int_equal(rd32(good + names), 3);
    assert_memory_equal(good + names + 4, "cat", 3);
    uint8_t *b = jg_test_alloc_bytes(len);
    struct {
        size_t off;
        uint8_t byte;
        const char *want;
    } cases[] = {
        { names + 4 + 1, 0xff, "class name 0: 'c\\xfft' is not valid UTF-8" },
        { names + 4 + 1, 0x00, "class name 0: 'c\\x00t' contains the control character U+0000" },
        { names + 7 + 4 + 2, 0xc3, "'d\\xc3\\xc3g' is not valid UTF-8" },
        { names, 200, "class name 0 of 200 bytes does not fit" },
        { names, 0, "class name 0 of 0 bytes does not fit" },
        { names + 7 + 8 + 4, 'c', "" }, /* "fox" -> "cox": still valid */
        { names + 7 + 8, 2, "1 bytes left over after 3 class names" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(b, good, len);
        b[cases[i].off] = cases[i].byte;
        fix_crc(b, len);
        const int rc = jg_checkpoint_parse(b, len, &ck, &err);
        if (!cases[i].want[0]) {
            assert_int_equal(rc, 0);
            assert_string_equal(ck.meta.class_names[2], "cox");
            jg_checkpoint_free(&ck);
            continue;
        }
        if (rc != -EBADMSG || !strstr(err.msg, cases[i].want))
            fail_msg("case %zu: %d '%s' (want '%s')", i, rc, err.msg, cases[i].want);
        assert_null(ck.blob);
    }
    /* "fox" -> "cat": a repeated name */
    memcpy(b, good, len);
    memcpy(b + names + 7 + 8 + 4, "cat", 3);
    fix_crc(b, len);
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), -EBADMSG);
    assert_non_null(strstr(err.msg, "classes 0 and 2 are both named 'cat'"));
    free(b);
    free(good);
    fix_free(&f);
}

/* A valid CRC does not make values usable: NaN or infinite weights, buffers
 * or optimizer state, a negative Adam v, a non-finite mean or a std below
 * JG_CKPT_STD_MIN used to load and evaluate to "loss -nan". Refused on
 * load with what and where, and on save. A negative batchnorm running
 * variance is refused when the model is built or restored. */
static void test_bad_values(void **state)
{
    (void)state;
    fix_t f;
    size_t len;
    uint8_t *b = fix_saved_bytes(&f, &len);
    const uint32_t hb = rd32(b + 12), slen = rd32(b + 16);
    const size_t payload = 16 + hb + rd32(b + 16 + hb - 4); /* after the names */
    const size_t param = payload, buffer = payload + 4 * 195, ostate = buffer + 4 * 8;
    const size_t mean0 = 16 + 4 + slen + 16, std0 = mean0 + 4 * C_;

    const struct {
        size_t off;
        float v;
        const char *what; /* NULL: accepted */
    } cases[] = {
        { param + 4 * 17, NAN, "parameter 17 of 195 is nan" },
        { param + 4 * 194, -INFINITY, "parameter 194 of 195 is -inf" },
        { buffer + 4 * 2, NAN, "buffer 2 of 8 is nan" },
        { ostate + 4 * 5, INFINITY, "optimizer state value 5 of 390 is inf" },
        { ostate + 4 * 198, -1.0f,
          "optimizer state value 198 of 390 is -1 (Adam's second moment must be >= 0)" },
        { ostate + 4 * 5, -1.0f, NULL }, /* m may be negative */
        { std0, 1e-38f, "channel 0 normalisation mean 0.5 std 1e-38" },
        { std0 + 4, 9.9e-7f, "std >= 1e-06" },
        { std0 + 4, JG_CKPT_STD_MIN, NULL },
        { mean0, NAN, "mean nan" },
        { mean0 + 4, INFINITY, "channel 1 normalisation mean inf" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_refused(b, len, cases[i].off, 4, f32_bits(cases[i].v), cases[i].what);

    /* running variance of channel 0 (buffers: mean[4], var[4]) below 0 */
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    uint32_t u;
    const float neg = -0.5f;
    memcpy(&u, &neg, 4);
    wr32(b + buffer + 4 * 4, u);
    fix_crc(b, len);
    assert_int_equal(jg_checkpoint_parse(b, len, &ck, &err), 0);
    jg_model_t *m = NULL;
    assert_int_equal(jg_checkpoint_model(&ck, &m, &err), -EINVAL);
    assert_null(m);
    assert_non_null(strstr(err.msg, "layer 1 (batchnorm2d) running variance of channel 0 is "
                                    "-0.5"));
    m = make(SPEC, H_, 3);
    const float p0 = jg_model_params(m)[0];
    assert_int_equal(jg_checkpoint_restore(&ck, m, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "running variance"));
    assert_true(jg_model_params(m)[0] == p0); /* nothing copied */
    jg_model_destroy(m);
    jg_checkpoint_free(&ck);

    /* save applies the same rules, so what it writes loads */
    jg_model_params(f.m)[3] = NAN;
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "parameter 3 of 195 is nan"));
    jg_model_params(f.m)[3] = 0.0f;
    f.meta.std[0] = 1e-38f;
    assert_int_equal(jg_checkpoint_save(f.path, f.m, f.opt, &f.meta, f.hist, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "std 1e-38"));
    free(b);
    fix_free(&f);
}

/* test/fixtures/checkpoint_v1.jgc was written by jg_checkpoint_save before
 * version 2 (commit ee0f216): SPEC on 2x6x6, seed 7, untrained (its weights
 * are the seed's, identical on every platform), SGD momentum 0.9, one epoch
 * of history. It still loads, restores and resumes, with no class names. */
static void test_version1(void **state)
{
    (void)state;
    jg_checkpoint_t ck;
    jg_nn_error_t err;
    const int rc = jg_checkpoint_load(JG_FIXTURE_DIR "/checkpoint_v1.jgc", &ck, &err);
    if (rc) fail_msg("load v1: %d %s", rc, err.msg);
    size_t len;
    uint8_t *b = read_all(JG_FIXTURE_DIR "/checkpoint_v1.jgc", &len);
    assert_int_equal(rd32(b + 8), 1);
    free(b);
    assert_null(ck.meta.class_names);
    assert_int_equal(ck.meta.classes, K_);
    assert_string_equal(ck.meta.dataset, "synthetic");
    assert_true(ck.meta.seed == 0x123456789abcdefull);
    assert_int_equal(ck.meta.optim.kind, JG_OPT_SGD);
    assert_true(ck.meta.optim.momentum == 0.9f);
    assert_int_equal(ck.meta.state.epochs_done, 1);
    assert_int_equal(ck.history[0].images, 4);
    assert_int_equal(ck.n_optim_state, 195);
    jg_model_t *m = make(SPEC, H_, 7);
    assert_int_equal(ck.n_params, 195);
    assert_memory_equal(ck.params, jg_model_params(m), 195 * sizeof(float));
    jg_optim_t *o = make_opt(JG_OPT_SGD, 0.9f, 195);
    assert_int_equal(jg_checkpoint_restore(&ck, m, o, &err), 0);
    jg_optim_destroy(o);
    jg_model_destroy(m);
    jg_checkpoint_free(&ck);
}

static void test_names_compare(void **state)
{
    (void)state;
    jg_nn_error_t err;
    const char *const cdf[] = { "cat", "dog", "fox" };
    const char *const abc[] = { "ant", "bee", "cow" };
    const char *const dcf[] = { "dog", "cat", "fox" };
    const char *const four[] = { "ant", "bee", "cow", "d\xc3\xb6g" };
    assert_int_equal(jg_nn_class_names_compare(cdf, 3, "the checkpoint", cdf, 3, "the data",
                                               &err), 0);
    assert_int_equal(jg_nn_class_names_compare(NULL, 3, "the checkpoint", abc, 3, "the data",
                                               &err), 0);
    assert_int_equal(jg_nn_class_names_compare(cdf, 3, "the checkpoint", abc, 3, "the data",
                                               &err), -EINVAL);
    assert_string_equal(err.msg, "class 0 is 'cat' in the checkpoint but 'ant' in the data");
    assert_int_equal(jg_nn_class_names_compare(cdf, 3, "the checkpoint", dcf, 3, "the data",
                                               &err), -EINVAL);
    assert_string_equal(err.msg, "class 0 is 'cat' in the checkpoint but 'dog' in the data "
                                 "(the same names in another order)");
    assert_int_equal(jg_nn_class_names_compare(cdf, 3, "the checkpoint", four, 4, "the data",
                                               &err), -EINVAL);
    assert_string_equal(err.msg, "the checkpoint has 3 classes (cat, dog, fox), the data 4 "
                                 "(ant, bee, cow, ...)");
    assert_int_equal(jg_nn_class_names_compare(cdf, 3, NULL, cdf, 3, "x", &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_byte_flips),
        cmocka_unit_test(test_magic_and_version),
        cmocka_unit_test(test_bad_header_fields),
        cmocka_unit_test(test_restore_mismatch),
        cmocka_unit_test(test_atomic_save),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_save_rejects),
        cmocka_unit_test(test_class_names),
        cmocka_unit_test(test_version1),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_names_compare),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
