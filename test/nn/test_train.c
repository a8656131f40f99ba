/* SPDX-License-Identifier: MIT */
/* The training loop and evaluation on a tiny separable dataset made here
 * (1x8x8 images, class = which quadrant is bright, plus noise): learning,
 * bit-identical reruns and resumes, shuffling, early stopping,
 * cancellation, NaN detection, probe phases, a hand-computed evaluation and
 * argument errors. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jg_nn.h"

#define C 1
#define H 8
#define W 8
#define IMG (C * H * W)
#define K 3
/* Pixel IMG-1 (in the quadrant no class lights) holds i / 1024 so a test can
 * tell which example sits where in a gathered batch. */
#define MARK_SCALE 1024.0f

static const char *const SPEC = "conv(4,3,pad=1) relu maxpool(2) flatten linear(3)";
/* batchnorm (buffers) and dropout (model step) make resume exercise all state */
static const char *const SPEC_FULL =
    "conv(4,3,pad=1) batchnorm relu maxpool(2) flatten dropout(p=0.25) linear(3)";

typedef struct {
    jg_nn_data_t v;
    float *x;   /* (n, 1, 8, 8) */
    int32_t *y; /* (n) */
} dataset_t;

/* Class 0 lights the top-left quadrant, 1 the top-right, 2 the bottom-left;
 * uniform noise in [-0.3, 0.3) everywhere. */
static dataset_t make_data(int n, uint64_t seed)
{
    dataset_t d = { { n, C, H, W, K, NULL, NULL }, jg_test_alloc((size_t)n * IMG),
                    jg_test_alloc_bytes((size_t)n * sizeof(int32_t)) };
    jg_test_fill_uniform(d.x, (size_t)n * IMG, -0.3f, 0.3f, seed);
    jg_test_rng_t r;
    jg_test_rng_seed(&r, seed + 1);
    for (int i = 0; i < n; i++) {
        const int cls = (int)(jg_test_rng_u64(&r) % K);
        const int r0 = cls == 2 ? 4 : 0, c0 = cls == 1 ? 4 : 0;
        float *img = d.x + (size_t)i * IMG;
        for (int y = r0; y < r0 + 4; y++)
            for (int x = c0; x < c0 + 4; x++) img[y * W + x] += 1.0f;
        img[IMG - 1] = (float)i / MARK_SCALE;
        d.y[i] = cls;
    }
    d.v.x = d.x;
    d.v.y = d.y;
    return d;
}

static void free_data(dataset_t *d)
{
    free(d->x);
    free(d->y);
}

static jg_model_t *make_model(const char *spec, uint64_t seed, int batch)
{
    jg_model_t *m = NULL;
    jg_nn_error_t err;
    int rc = jg_model_create(&m, spec, C, H, W, K, seed, &err);
    if (rc) fail_msg("create '%s': %d %s", spec, rc, err.msg);
    assert_int_equal(jg_model_reserve(m, batch), 0);
    return m;
}

static jg_train_config_t make_cfg(int epochs, int batch, uint64_t seed)
{
    jg_train_config_t c;
    memset(&c, 0, sizeof c);
    c.epochs = epochs;
    c.batch = batch;
    c.seed = seed;
    jg_optim_defaults(&c.optim, JG_OPT_SGD);
    c.optim.lr = 0.05f;
    c.optim.momentum = 0.9f;
    return c;
}

static jg_trainer_t *make_trainer(jg_model_t *m, const jg_train_config_t *c,
                                  const dataset_t *train, const dataset_t *val)
{
    jg_trainer_t *t = NULL;
    jg_nn_error_t err;
    const int rc = jg_trainer_create(&t, m, c, &train->v, val ? &val->v : NULL, &err);
    if (rc) fail_msg("trainer: %d %s", rc, err.msg);
    return t;
}

/* ------------------------------------------------------------------ */

typedef struct {
    int calls, last_batch, epoch;
} progress_t;

static int count_batches(void *ctx, const jg_train_progress_t *p)
{
    progress_t *s = ctx;
    if (p->epoch != s->epoch) { /* a new epoch restarts at batch 1 */
        assert_int_equal(s->last_batch, p->batches);
        s->epoch = p->epoch;
        s->last_batch = 0;
    }
    assert_int_equal(p->batch, s->last_batch + 1);
    assert_true(p->running_loss > 0.0 && isfinite(p->running_loss));
    assert_true(p->elapsed_s >= 0.0);
    s->last_batch = p->batch;
    s->calls++;
    return 0;
}

static void test_learns(void **state)
{
    (void)state;
    dataset_t tr = make_data(90, 1), va = make_data(30, 2);
    jg_model_t *m = make_model(SPEC, 7, 16);
    jg_train_config_t c = make_cfg(6, 16, 3);
    progress_t prog = { 0, 0, 0 };
    c.on_batch = count_batches;
    c.ctx = &prog;
    jg_trainer_t *t = make_trainer(m, &c, &tr, &va);
    assert_int_equal(jg_trainer_run(t), 0);
    assert_int_equal(jg_trainer_epochs_done(t), 6);
    assert_int_equal(jg_trainer_stopped_early(t), 0);
    assert_int_equal(prog.calls, 6 * 6); /* 90 / 16 -> 5 full batches + 10 */
    assert_int_equal(prog.last_batch, 6);
    const jg_epoch_stats_t *h = jg_trainer_history(t);
    for (int e = 0; e < 6; e++) {
        assert_int_equal(h[e].epoch, e);
        assert_float_equal(h[e].lr, 0.05f, 0);
        assert_int_equal(h[e].images, 90);
        assert_true(isfinite(h[e].val_loss) && h[e].seconds >= 0.0);
    }
    assert_true(h[5].train_loss < h[0].train_loss);
    if (h[5].train_accuracy < 0.95)
        fail_msg("last epoch train accuracy %.3f < 0.95", h[5].train_accuracy);
    jg_eval_t ev;
    assert_int_equal(jg_evaluate(m, &tr.v, &ev), 0);
    if (ev.accuracy < 0.95) fail_msg("train accuracy %.3f < 0.95", ev.accuracy);
    jg_eval_free(&ev);
    assert_int_equal(jg_evaluate(m, &va.v, &ev), 0);
    if (ev.accuracy < 0.9) fail_msg("val accuracy %.3f < 0.9", ev.accuracy);
    /* the trainer's validation is the same pass as jg_evaluate */
    assert_true(ev.loss == h[5].val_loss && ev.accuracy == h[5].val_accuracy);
    jg_eval_free(&ev);
    assert_ptr_equal(jg_trainer_model(t), m);
    assert_int_equal(jg_optim_steps(jg_trainer_optim(t)), 36);
    /* running again after the last epoch does nothing */
    assert_int_equal(jg_trainer_run(t), 0);
    assert_int_equal(jg_trainer_epochs_done(t), 6);
    jg_trainer_destroy(t);
    jg_model_destroy(m);
    free_data(&tr);
    free_data(&va);
}

/* Histories equal in everything but wall time. */
static void assert_same_history(const jg_epoch_stats_t *a, const jg_epoch_stats_t *b, int n)
{
    for (int e = 0; e < n; e++) {
        assert_int_equal(a[e].epoch, b[e].epoch);
        assert_true(a[e].lr == b[e].lr);
        assert_true(a[e].train_loss == b[e].train_loss);
        assert_true(a[e].train_accuracy == b[e].train_accuracy);
        assert_true(a[e].val_loss == b[e].val_loss || (isnan(a[e].val_loss) && isnan(b[e].val_loss)));
        assert_true(a[e].val_accuracy == b[e].val_accuracy ||
                    (isnan(a[e].val_accuracy) && isnan(b[e].val_accuracy)));
        assert_int_equal(a[e].images, b[e].images);
    }
}

static jg_train_config_t adam_cfg(int epochs, uint64_t seed)
{
    jg_train_config_t c = make_cfg(epochs, 16, seed);
    jg_optim_defaults(&c.optim, JG_OPT_ADAMW);
    c.optim.lr = 0.01f;
    c.optim.schedule = JG_SCHED_COSINE;
    c.optim.min_lr = 1e-4f;
    c.patience = 10;
    return c;
}

static void test_deterministic(void **state)
{
    (void)state;
    dataset_t tr = make_data(70, 1), va = make_data(20, 2);
    jg_model_t *m[3];
    jg_trainer_t *t[3];
    for (int r = 0; r < 3; r++) {
        m[r] = make_model(SPEC_FULL, 5, 16);
        jg_train_config_t c = adam_cfg(3, r < 2 ? 9 : 10); /* run 2: another seed */
        t[r] = make_trainer(m[r], &c, &tr, &va);
        assert_int_equal(jg_trainer_run(t[r]), 0);
    }
    const size_t np = (size_t)jg_model_n_params(m[0]) * sizeof(float);
    size_t nb0, nb1;
    const float *b0 = jg_model_buffers(m[0], &nb0), *b1 = jg_model_buffers(m[1], &nb1);
    assert_memory_equal(jg_model_params(m[0]), jg_model_params(m[1]), np);
    assert_int_equal(nb0, nb1);
    assert_memory_equal(b0, b1, nb0 * sizeof(float));
    assert_same_history(jg_trainer_history(t[0]), jg_trainer_history(t[1]), 3);
    assert_memory_not_equal(jg_model_params(m[0]), jg_model_params(m[2]), np);
    for (int r = 0; r < 3; r++) {
        jg_trainer_destroy(t[r]);
        jg_model_destroy(m[r]);
    }
    free_data(&tr);
    free_data(&va);
}

static int stop_after_two(void *ctx, const jg_epoch_stats_t *st, jg_trainer_t *tr)
{
    (void)ctx;
    assert_int_equal(jg_trainer_epochs_done(tr), st->epoch + 1);
    return st->epoch == 1 ? 42 : 0;
}

static void test_resume_bit_identical(void **state)
{
    (void)state;
    enum { E = 4 };
    dataset_t tr = make_data(70, 1), va = make_data(20, 2);
    /* uninterrupted */
    jg_model_t *ma = make_model(SPEC_FULL, 5, 16);
    jg_train_config_t c = adam_cfg(E, 9);
    jg_trainer_t *ta = make_trainer(ma, &c, &tr, &va);
    assert_int_equal(jg_trainer_run(ta), 0);
    /* interrupted after 2 epochs by on_epoch */
    jg_model_t *mb = make_model(SPEC_FULL, 5, 16);
    jg_train_config_t cb = c;
    cb.on_epoch = stop_after_two;
    jg_trainer_t *tb = make_trainer(mb, &cb, &tr, &va);
    assert_int_equal(jg_trainer_run(tb), 42);
    jg_train_state_t st;
    jg_trainer_get_state(tb, &st);
    assert_int_equal(st.epochs_done, 2);
    assert_int_equal(st.optim_steps, 2 * 5); /* 70 / 16 -> 5 batches */
    assert_int_equal(st.model_step, 2 * 5);  /* one per training forward */
    assert_true(isfinite(st.best_val_loss));
    /* resume in a fresh model and trainer, as from a checkpoint. The model
     * seed also keys the dropout masks, so it is built with the same seed;
     * its weights are scrambled so only the copy below can make it match. */
    jg_model_t *mc = make_model(SPEC_FULL, 5, 16);
    jg_trainer_t *tc = make_trainer(mc, &c, &tr, &va);
    const size_t np = (size_t)jg_model_n_params(mb);
    jg_test_fill_uniform(jg_model_params(mc), np, -1.0f, 1.0f, 999);
    memcpy(jg_model_params(mc), jg_model_params(mb), np * sizeof(float));
    size_t nbuf, nbuf_c, ns, ns_c;
    const float *bb = jg_model_buffers(mb, &nbuf);
    float *bc = jg_model_buffers(mc, &nbuf_c);
    assert_int_equal(nbuf, nbuf_c);
    memcpy(bc, bb, nbuf * sizeof(float));
    const float *sb = jg_optim_state(jg_trainer_optim(tb), &ns);
    float *sc = jg_optim_state(jg_trainer_optim(tc), &ns_c);
    assert_int_equal(ns, 2 * np);
    assert_int_equal(ns, ns_c);
    memcpy(sc, sb, ns * sizeof(float));
    assert_int_equal(jg_trainer_set_state(tc, &st, jg_trainer_history(tb)), 0);
    assert_int_equal(jg_trainer_epochs_done(tc), 2);
    assert_int_equal(jg_trainer_run(tc), 0);
    assert_int_equal(jg_trainer_epochs_done(tc), E);
    assert_memory_equal(jg_model_params(ma), jg_model_params(mc), np * sizeof(float));
    assert_memory_equal(jg_model_buffers(ma, &nbuf), bc, nbuf * sizeof(float));
    assert_same_history(jg_trainer_history(ta), jg_trainer_history(tc), E);
    jg_train_state_t sa, sc2;
    jg_trainer_get_state(ta, &sa);
    jg_trainer_get_state(tc, &sc2);
    assert_int_equal(sa.optim_steps, sc2.optim_steps);
    assert_int_equal(sa.model_step, sc2.model_step);
    assert_true(sa.best_val_loss == sc2.best_val_loss);
    assert_int_equal(sa.bad_epochs, sc2.bad_epochs);
    jg_trainer_destroy(ta);
    jg_trainer_destroy(tb);
    jg_trainer_destroy(tc);
    jg_model_destroy(ma);
    jg_model_destroy(mb);
    jg_model_destroy(mc);
    free_data(&tr);
    free_data(&va);
}

/* ------------------------------------------------------------------ */
/* Shuffling, read back from the markers of each gathered batch         */

enum { SH_N = 37, SH_B = 8, SH_E = 3 };

typedef struct {
    jg_model_t *m;
    int order[SH_E][SH_N]; /* example index at each position of each epoch */
    int pos[SH_E];
} order_t;

static int record_order(void *ctx, const jg_train_progress_t *p)
{
    order_t *o = ctx;
    jg_layer_info_t li;
    assert_int_equal(jg_model_layer(o->m, 0, &li), 0); /* li.in = the gathered batch */
    const int i0 = (p->batch - 1) * SH_B, nb = SH_N - i0 < SH_B ? SH_N - i0 : SH_B;
    for (int i = 0; i < nb; i++)
        o->order[p->epoch][o->pos[p->epoch]++] = (int)lrintf(li.in[i * IMG + IMG - 1] * MARK_SCALE);
    return 0;
}

static void run_order(order_t *o, const dataset_t *tr, uint64_t seed, int from_epoch)
{
    memset(o, 0, sizeof *o);
    o->m = make_model(SPEC, 1, SH_B);
    jg_train_config_t c = make_cfg(SH_E, SH_B, seed);
    c.on_batch = record_order;
    c.ctx = o;
    jg_trainer_t *t = make_trainer(o->m, &c, tr, NULL);
    if (from_epoch) {
        jg_epoch_stats_t h[SH_E];
        memset(h, 0, sizeof h);
        for (int e = 0; e < from_epoch; e++) h[e].epoch = e;
        const jg_train_state_t st = { from_epoch, 0, 0, INFINITY, 0 };
        assert_int_equal(jg_trainer_set_state(t, &st, h), 0);
    }
    assert_int_equal(jg_trainer_run(t), 0);
    jg_trainer_destroy(t);
    jg_model_destroy(o->m);
}

static void test_shuffle(void **state)
{
    (void)state;
    dataset_t tr = make_data(SH_N, 4);
    static order_t a, b, d, r;
    run_order(&a, &tr, 1, 0);
    run_order(&b, &tr, 1, 0);
    run_order(&d, &tr, 2, 0);
    run_order(&r, &tr, 1, 2); /* resumed at epoch 2 */
    for (int e = 0; e < SH_E; e++) {
        /* every example exactly once per epoch, nothing dropped */
        assert_int_equal(a.pos[e], SH_N);
        int seen[SH_N] = { 0 }, identity = 1;
        for (int i = 0; i < SH_N; i++) {
            assert_in_range(a.order[e][i], 0, SH_N - 1);
            seen[a.order[e][i]]++;
            identity &= a.order[e][i] == i;
        }
        for (int i = 0; i < SH_N; i++) assert_int_equal(seen[i], 1);
        assert_false(identity);
    }
    assert_memory_equal(a.order, b.order, sizeof a.order);          /* same seed */
    assert_memory_not_equal(a.order[0], d.order[0], sizeof a.order[0]); /* other seed */
    assert_memory_not_equal(a.order[0], a.order[1], sizeof a.order[0]); /* other epoch */
    assert_int_equal(r.pos[0] + r.pos[1], 0);
    assert_memory_equal(a.order[2], r.order[2], sizeof a.order[2]); /* (seed, e) only */
    free_data(&tr);
}

/* ------------------------------------------------------------------ */

static void test_early_stopping(void **state)
{
    (void)state;
    dataset_t tr = make_data(40, 1), va = make_data(20, 2);
    for (int patience = 1; patience <= 2; patience++) {
        jg_model_t *m = make_model(SPEC, 3, 16);
        jg_train_config_t c = make_cfg(6, 16, 1);
        c.optim.momentum = 0.0f;
        c.optim.lr = 1e-30f; /* updates vanish in float: val loss cannot improve */
        c.patience = patience;
        jg_trainer_t *t = make_trainer(m, &c, &tr, &va);
        assert_int_equal(jg_trainer_run(t), 0);
        assert_int_equal(jg_trainer_stopped_early(t), 1);
        /* epoch 0 sets the best, then `patience` epochs without a gain */
        assert_int_equal(jg_trainer_epochs_done(t), 1 + patience);
        const jg_epoch_stats_t *h = jg_trainer_history(t);
        for (int e = 1; e <= patience; e++) assert_false(h[e].val_loss < h[0].val_loss);
        jg_train_state_t st;
        jg_trainer_get_state(t, &st);
        assert_int_equal(st.bad_epochs, patience);
        assert_true(st.best_val_loss == h[0].val_loss);
        /* a second run call stays stopped */
        assert_int_equal(jg_trainer_run(t), 0);
        assert_int_equal(jg_trainer_epochs_done(t), 1 + patience);
        jg_trainer_destroy(t);
        jg_model_destroy(m);
    }
    /* without a validation set patience is ignored */
    jg_model_t *m = make_model(SPEC, 3, 16);
    jg_train_config_t c = make_cfg(3, 16, 1);
    c.optim.lr = 1e-30f;
    c.patience = 1;
    jg_trainer_t *t = make_trainer(m, &c, &tr, NULL);
    assert_int_equal(jg_trainer_run(t), 0);
    assert_int_equal(jg_trainer_stopped_early(t), 0);
    assert_int_equal(jg_trainer_epochs_done(t), 3);
    assert_true(isnan(jg_trainer_history(t)[2].val_loss));
    jg_trainer_destroy(t);
    jg_model_destroy(m);
    free_data(&tr);
    free_data(&va);
}

static int cancel_at_3(void *ctx, const jg_train_progress_t *p)
{
    (void)ctx;
    return p->batch == 3;
}

static void test_cancel(void **state)
{
    (void)state;
    dataset_t tr = make_data(80, 1);
    jg_model_t *m = make_model(SPEC, 3, 16);
    jg_train_config_t c = make_cfg(2, 16, 1);
    c.on_batch = cancel_at_3;
    jg_trainer_t *t = make_trainer(m, &c, &tr, NULL);
    assert_int_equal(jg_trainer_run(t), -ECANCELED);
    assert_int_equal(jg_trainer_epochs_done(t), 0);
    assert_int_equal(jg_optim_steps(jg_trainer_optim(t)), 3); /* stopped after batch 3 */
    jg_trainer_destroy(t);
    jg_model_destroy(m);
    free_data(&tr);
}

static void test_nan_loss(void **state)
{
    (void)state;
    dataset_t tr = make_data(64, 1);
    tr.x[17 * IMG + 5] = NAN;
    /* no relu in front: relu may map NaN to 0 and hide it */
    jg_model_t *m = make_model("flatten linear(3)", 3, 16);
    jg_train_config_t c = make_cfg(2, 16, 1);
    jg_trainer_t *t = make_trainer(m, &c, &tr, NULL);
    assert_int_equal(jg_trainer_run(t), -ERANGE);
    assert_int_equal(jg_trainer_epochs_done(t), 0);
    assert_true(jg_optim_steps(jg_trainer_optim(t)) < 4); /* stopped within epoch 0 */
    const float *p = jg_model_params(m);
    for (int64_t i = 0; i < jg_model_n_params(m); i++)
        if (!isfinite(p[i])) fail_msg("param %lld is %g after -ERANGE", (long long)i, p[i]);
    jg_trainer_destroy(t);
    jg_model_destroy(m);
    free_data(&tr);
}

/* ------------------------------------------------------------------ */
/* Probe: DATA then the layers, then OPTIMIZER, once per batch          */

typedef struct {
    int data_begin, data_end, opt_begin, opt_end;
    int open;             /* phase of an open layer -1 bracket, else -1 */
    int last_layer, last_phase; /* last end seen */
    int after_data;       /* the first begin after DATA end, as layer*10+phase */
} probe_log_t;

static void p_begin(void *ctx, int layer, int phase)
{
    probe_log_t *s = ctx;
    if (s->after_data == -2) s->after_data = layer * 10 + phase;
    if (layer != -1) return;
    assert_int_equal(s->open, -1);
    s->open = phase;
    if (phase == JG_NN_PHASE_DATA) s->data_begin++;
    else if (phase == JG_NN_PHASE_OPTIMIZER) {
        /* right after the backward of layer 0 */
        assert_int_equal(s->last_layer, 0);
        assert_int_equal(s->last_phase, JG_NN_PHASE_BACKWARD);
        s->opt_begin++;
    } else fail_msg("unexpected phase %d at layer -1", phase);
}

static void p_end(void *ctx, int layer, int phase)
{
    probe_log_t *s = ctx;
    s->last_layer = layer;
    s->last_phase = phase;
    if (layer != -1) return;
    assert_int_equal(s->open, phase);
    s->open = -1;
    if (phase == JG_NN_PHASE_DATA) {
        s->data_end++;
        s->after_data = -2;
    } else {
        s->opt_end++;
    }
}

typedef struct {
    probe_log_t *log;
    int total;
} probe_ctx_t;

static int check_probe_counts(void *ctx, const jg_train_progress_t *p)
{
    probe_ctx_t *c = ctx;
    c->total++;
    assert_int_equal(c->log->data_begin, c->total);
    assert_int_equal(c->log->data_end, c->total);
    assert_int_equal(c->log->opt_begin, c->total);
    assert_int_equal(c->log->opt_end, c->total);
    assert_int_equal(c->log->after_data, 0 * 10 + JG_NN_PHASE_FORWARD);
    (void)p;
    return 0;
}

static void test_probe_phases(void **state)
{
    (void)state;
    dataset_t tr = make_data(40, 1), va = make_data(10, 2);
    jg_model_t *m = make_model(SPEC, 3, 16);
    probe_log_t log = { 0, 0, 0, 0, -1, -99, -99, 0 };
    const jg_nn_probe_t probe = { &log, p_begin, p_end };
    jg_model_set_probe(m, &probe);
    probe_ctx_t pc = { &log, 0 };
    jg_train_config_t c = make_cfg(2, 16, 1);
    c.on_batch = check_probe_counts;
    c.ctx = &pc;
    jg_trainer_t *t = make_trainer(m, &c, &tr, &va);
    assert_int_equal(jg_trainer_run(t), 0);
    assert_int_equal(pc.total, 2 * 3); /* 40 / 16 -> 3 batches per epoch */
    assert_int_equal(log.data_begin, 6);
    assert_int_equal(log.opt_end, 6); /* validation adds no layer -1 phases */
    jg_trainer_destroy(t);
    jg_model_destroy(m);
    free_data(&tr);
    free_data(&va);
}

/* ------------------------------------------------------------------ */
/* Evaluation by hand                                                   */

static void test_evaluate_by_hand(void **state)
{
    (void)state;
    /* 1x1x2 inputs, logits = (x0, x1, 0.5, -100): W rows (1,0) (0,1) (0,0)
     * (0,0), bias (0, 0, 0.5, -100); class 3 is never present. */
    jg_model_t *m = NULL;
    assert_int_equal(jg_model_create(&m, "flatten linear(4)", 1, 1, 2, 4, 1, NULL), 0);
    assert_int_equal(jg_model_reserve(m, 3), 0); /* batches 3, 3, 1 */
    jg_layer_info_t li;
    assert_int_equal(jg_model_layer(m, 1, &li), 0);
    assert_int_equal(li.n_weight, 8);
    static const float wt[8] = { 1, 0, 0, 1, 0, 0, 0, 0 }, bias[4] = { 0, 0, 0.5f, -100 };
    memcpy(li.weight, wt, sizeof wt);
    memcpy(li.bias, bias, sizeof bias);
    /* x -> prediction, label:
     *   (2,0) -> 0, 0 ok   (0,2) -> 1, 0 no   (0,3) -> 1, 1 ok   (0,0) -> 2, 1 no
     *   (0,0) -> 2, 2 ok   (1,0) -> 0, 2 no   (3,1) -> 0, 0 ok
     * confusion rows (true): 0: 2 1 0 0 / 1: 0 1 1 0 / 2: 1 0 1 0 / 3: 0 0 0 0 */
    static const float x[7][2] = { { 2, 0 }, { 0, 2 }, { 0, 3 }, { 0, 0 },
                                   { 0, 0 }, { 1, 0 }, { 3, 1 } };
    static const int32_t y[7] = { 0, 0, 1, 1, 2, 2, 0 };
    static const int64_t conf[16] = { 2, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 0, 0 };
    double want_loss = 0.0; /* mean of logsumexp(z) - z_y, in double */
    for (int i = 0; i < 7; i++) {
        const double z[4] = { x[i][0], x[i][1], 0.5, -100.0 };
        double mx = z[0], s = 0.0;
        for (int j = 1; j < 4; j++) mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < 4; j++) s += exp(z[j] - mx);
        want_loss += (mx + log(s) - z[y[i]]) / 7.0;
    }
    const jg_nn_data_t d = { 7, 1, 1, 2, 4, &x[0][0], y };
    jg_eval_t ev;
    assert_int_equal(jg_evaluate(m, &d, &ev), 0);
    assert_int_equal(ev.n, 7);
    assert_int_equal(ev.classes, 4);
    assert_memory_equal(ev.confusion, conf, sizeof conf);
    assert_true(fabs(ev.accuracy - 4.0 / 7.0) < 1e-12);
    assert_true(fabs(ev.class_accuracy[0] - 2.0 / 3.0) < 1e-12);
    assert_true(fabs(ev.class_accuracy[1] - 0.5) < 1e-12);
    assert_true(fabs(ev.class_accuracy[2] - 0.5) < 1e-12);
    assert_true(isnan(ev.class_accuracy[3]));
    if (fabs(ev.loss - want_loss) > 1e-6 * want_loss)
        fail_msg("loss %.9g want %.9g", ev.loss, want_loss);
    jg_eval_free(&ev);
    jg_eval_free(&ev); /* idempotent */

    /* errors leave ev empty */
    jg_nn_data_t bad = d;
    bad.classes = 3;
    assert_int_equal(jg_evaluate(m, &bad, &ev), -EINVAL);
    assert_null(ev.confusion);
    bad = d;
    bad.w = 3;
    assert_int_equal(jg_evaluate(m, &bad, &ev), -EINVAL);
    static const int32_t ybad[7] = { 0, 0, 1, 4, 2, 2, 0 };
    bad = d;
    bad.y = ybad;
    assert_int_equal(jg_evaluate(m, &bad, &ev), -EINVAL);
    bad = d;
    bad.n = 0;
    assert_int_equal(jg_evaluate(m, &bad, &ev), -EINVAL);
    assert_int_equal(jg_evaluate(m, NULL, &ev), -EINVAL);
    assert_int_equal(jg_evaluate(m, &d, NULL), -EINVAL);
    jg_eval_free(&ev);
    jg_model_destroy(m);
    /* not reserved */
    assert_int_equal(jg_model_create(&m, "flatten linear(4)", 1, 1, 2, 4, 1, NULL), 0);
    assert_int_equal(jg_evaluate(m, &d, &ev), -EINVAL);
    jg_model_destroy(m);
}

/* jg_evaluate agrees with a direct count from jg_model_forward logits. */
static void test_evaluate_vs_forward(void **state)
{
    (void)state;
    dataset_t va = make_data(23, 5);
    jg_model_t *m = make_model(SPEC_FULL, 4, 23);
    jg_eval_t ev;
    assert_int_equal(jg_evaluate(m, &va.v, &ev), 0);
    const float *logits;
    float loss;
    assert_int_equal(jg_model_forward(m, va.x, 23, 0, &logits), 0);
    assert_int_equal(jg_model_loss(m, va.y, &loss), 0);
    int64_t conf[K * K] = { 0 }, hits = 0;
    for (int i = 0; i < 23; i++) {
        int p = 0;
        for (int j = 1; j < K; j++) p = logits[i * K + j] > logits[i * K + p] ? j : p;
        conf[va.y[i] * K + p]++;
        hits += p == va.y[i];
    }
    assert_memory_equal(ev.confusion, conf, sizeof conf);
    assert_true(ev.accuracy == (double)hits / 23);
    assert_true(ev.loss == (double)loss); /* one batch: exactly the model's loss */
    jg_eval_free(&ev);
    jg_model_destroy(m);
    free_data(&va);
}

/* ------------------------------------------------------------------ */

static void test_argument_errors(void **state)
{
    (void)state;
    dataset_t tr = make_data(20, 1);
    jg_model_t *m = make_model(SPEC, 3, 8);
    jg_trainer_t *t = NULL;
    jg_nn_error_t err;
    jg_train_config_t c = make_cfg(4, 16, 1); /* batch > capacity 8 */
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "jg_model_reserve"));
    assert_null(t);
    c.batch = 8;
    c.epochs = 0;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    c.epochs = 4;
    c.patience = -1;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    c.patience = 0;
    c.optim.momentum = 1.5f;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "momentum"));
    c.optim.momentum = 0.9f;
    c.optim.schedule = JG_SCHED_COSINE; /* t_max 2, min_lr 0: lr 0 at epoch 2 */
    c.optim.t_max = 2;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "epoch 2"));
    c.optim.schedule = JG_SCHED_CONSTANT;
    jg_nn_data_t bad = tr.v;
    bad.classes = 4;
    assert_int_equal(jg_trainer_create(&t, m, &c, &bad, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "train"));
    bad = tr.v;
    bad.h = 7;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, &bad, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "val"));
    tr.y[3] = 3;
    assert_int_equal(jg_trainer_create(&t, m, &c, &tr.v, NULL, &err), -EINVAL);
    assert_non_null(strstr(err.msg, "label"));
    tr.y[3] = 2;
    assert_int_equal(jg_trainer_create(&t, m, NULL, &tr.v, NULL, &err), -EINVAL);
    assert_int_equal(jg_trainer_create(&t, m, &c, NULL, NULL, &err), -EINVAL);
    assert_int_equal(jg_trainer_run(NULL), -EINVAL);

    /* state */
    t = make_trainer(m, &c, &tr, NULL);
    jg_train_state_t st;
    jg_trainer_get_state(t, &st);
    assert_int_equal(st.epochs_done, 0);
    assert_int_equal(st.optim_steps, 0);
    assert_true(isinf(st.best_val_loss) && st.best_val_loss > 0);
    assert_int_equal(st.bad_epochs, 0);
    jg_epoch_stats_t h[5];
    memset(h, 0, sizeof h);
    for (int e = 0; e < 5; e++) h[e].epoch = e;
    const jg_train_state_t good = { 2, 10, 10, 0.5, 1 };
    jg_train_state_t s = good;
    s.epochs_done = 5; /* > epochs */
    assert_int_equal(jg_trainer_set_state(t, &s, h), -EINVAL);
    s = good;
    s.epochs_done = -1;
    assert_int_equal(jg_trainer_set_state(t, &s, h), -EINVAL);
    s = good;
    s.optim_steps = -1;
    assert_int_equal(jg_trainer_set_state(t, &s, h), -EINVAL);
    s = good;
    s.bad_epochs = -1;
    assert_int_equal(jg_trainer_set_state(t, &s, h), -EINVAL);
    s = good;
    s.best_val_loss = NAN;
    assert_int_equal(jg_trainer_set_state(t, &s, h), -EINVAL);
    assert_int_equal(jg_trainer_set_state(t, &good, NULL), -EINVAL);
    h[1].epoch = 7;
    assert_int_equal(jg_trainer_set_state(t, &good, h), -EINVAL);
    h[1].epoch = 1;
    assert_int_equal(jg_trainer_set_state(NULL, &good, h), -EINVAL);
    jg_trainer_get_state(t, &st); /* nothing changed by the failures */
    assert_int_equal(st.epochs_done, 0);
    assert_int_equal(jg_trainer_set_state(t, &good, h), 0);
    jg_trainer_get_state(t, &st);
    assert_int_equal(st.epochs_done, 2);
    assert_int_equal(st.optim_steps, 10);
    assert_int_equal(st.model_step, 10);
    assert_true(st.best_val_loss == 0.5);
    assert_int_equal(st.bad_epochs, 1);
    assert_int_equal(jg_trainer_epochs_done(t), 2);
    jg_trainer_destroy(t);
    jg_trainer_destroy(NULL);
    jg_model_destroy(m);
    free_data(&tr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_resume_bit_identical),
        cmocka_unit_test(test_shuffle),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_nan_loss),
        cmocka_unit_test(test_probe_phases),
        cmocka_unit_test(test_evaluate_by_hand),
        cmocka_unit_test(test_evaluate_vs_forward),
        cmocka_unit_test(test_argument_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
