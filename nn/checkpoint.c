/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints: model weights, optimizer state, run state and history in one
 * file, written atomically and parsed with every size checked.
 *
 * Format, version 2 (docs/checkpoint-format.md; version 1 still loads). All
 * integers little-endian, floats as their IEEE-754 bits (f32 / f64), every
 * field written on its own (never a struct dump); signed values are two's
 * complement.
 *
 *   prelude  u8[8] magic "JGCKPT\0\0", u32 version (2), u32 header_bytes
 *   header   u32 spec_len, u8 spec[spec_len]        (no NUL, <= 4095)
 *            u32 c, h, w, classes                   (1 <= c <= 4)
 *            f32 mean[c], f32 std[c]
 *            u32 dataset_len, u8 dataset[dataset_len] (<= 63)
 *            optim: u32 kind, f32 lr, f32 momentum, u32 nesterov,
 *                   f32 weight_decay, f32 beta1, f32 beta2, f32 eps,
 *                   u32 schedule, i32 step_size, f32 gamma, i32 t_max,
 *                   f32 min_lr
 *            run:   i32 epochs, i32 batch, u64 seed
 *            state: i32 epochs_done, i64 optim_steps, u64 model_step,
 *                   f64 best_val_loss, i32 bad_epochs
 *            u64 n_params, u64 n_buffers, u64 n_optim_state, u32 n_history
 *            u32 names_bytes                         (version 2 only)
 *   names    0 bytes, or classes x { u32 len, u8 name[len] }: names_bytes
 *            bytes of class names (jg_class_name_check, all distinct)
 *   payload  f32 params[n_params], f32 buffers[n_buffers],
 *            f32 optim_state[n_optim_state],
 *            n_history x { i32 epoch, f32 lr, f64 train_loss,
 *                          f64 train_accuracy, f64 val_loss,
 *                          f64 val_accuracy, f64 seconds, i64 images }
 *   trailer  u32 CRC-32 (zlib crc32) of every byte before it
 *
 * Parsing checks, in order: magic, the CRC (so nothing below acts on
 * corrupt bytes; on a mismatch the header, if it still decodes, only
 * sharpens the message into "truncated (412 of 1604 bytes)"), the version
 * (-EPROTO), the header size, every field against its range and every
 * count against its cap and the bytes left, the exact total length. Only
 * then is one block allocated, at most twice the input's size (the class
 * names need a pointer each).
 *
 * On save, spec, c, h, w and classes come from the model; with an
 * optimizer, its own config and step count replace meta->optim and
 * meta->state.optim_steps, so the file always describes the state it holds.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nn_internal.h"

#define CKPT_VERSION 2u                          /* written; 1 and 2 are read */
#define CKPT_PRELUDE 16u                        /* magic, version, header_bytes */
#define CKPT_TRAILER 4u                         /* crc32 */
#define CKPT_MAX_BYTES ((uint64_t)2 << 30)      /* 2 GiB, load and save */
#define CKPT_MAX_HEADER 8192u                   /* the largest v1 header is < 4.5 KiB */
#define CKPT_MAX_FLOATS ((uint64_t)1 << 29)     /* per array: 2 GiB of f32 */
#define CKPT_MAX_HISTORY 1000000
#define CKPT_HISTORY_BYTES 56u                  /* one history record on disk */
#define CKPT_MAX_SIDE 65536                     /* h, w */
#define CKPT_MAX_CLASSES (1 << 20)
/* header bytes besides spec text, 8c of mean/std and dataset text:
 * version 1, and version 2 with names_bytes */
#define CKPT_HEADER_FIXED_V1 152u
#define CKPT_HEADER_FIXED 156u
/* a name on disk: u32 length + 1..JG_CLASS_NAME_MAX bytes */
#define CKPT_NAME_MIN_BYTES 5u
#define CKPT_NAME_MAX_BYTES (4u + JG_CLASS_NAME_MAX)

static const uint8_t MAGIC[8] = { 'J', 'G', 'C', 'K', 'P', 'T', 0, 0 };

/* ------------------------------------------------------------------ */
/* Little-endian fields                                                */
/* ------------------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++) (*p)[i] = (uint8_t)(v >> (8 * i));
    *p += 4;
}

static void put_u64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++) (*p)[i] = (uint8_t)(v >> (8 * i));
    *p += 8;
}

static void put_i32(uint8_t **p, int32_t v) { put_u32(p, (uint32_t)v); }
static void put_i64(uint8_t **p, int64_t v) { put_u64(p, (uint64_t)v); }

static void put_f32(uint8_t **p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32(p, u);
}

static void put_f64(uint8_t **p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}

static void put_text(uint8_t **p, const char *s)
{
    const size_t n = strlen(s);
    put_u32(p, (uint32_t)n);
    memcpy(*p, s, n);
    *p += n;
}

/* A bounded reader: a read past the end returns 0 and sets `short_read`. */
typedef struct {
    const uint8_t *p, *end;
    int short_read;
} rd_t;

static int rd_need(rd_t *r, size_t n)
{
    if ((size_t)(r->end - r->p) >= n) return 1;
    r->short_read = 1;
    r->p = r->end;
    return 0;
}

static uint32_t get_u32(rd_t *r)
{
    if (!rd_need(r, 4)) return 0;
    const uint32_t v = le32(r->p);
    r->p += 4;
    return v;
}

static uint64_t get_u64(rd_t *r)
{
    if (!rd_need(r, 8)) return 0;
    const uint64_t v = (uint64_t)le32(r->p) | (uint64_t)le32(r->p + 4) << 32;
    r->p += 8;
    return v;
}

static int32_t get_i32(rd_t *r)
{
    const uint32_t u = get_u32(r);
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

static int64_t get_i64(rd_t *r)
{
    const uint64_t u = get_u64(r);
    int64_t v;
    memcpy(&v, &u, 8);
    return v;
}

static float get_f32(rd_t *r)
{
    const uint32_t u = get_u32(r);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static double get_f64(rd_t *r)
{
    const uint64_t u = get_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

/* Length-prefixed text into dst[cap] (NUL-terminated). -1 with why filled
 * when too long or holding a NUL byte; a short read only sets the flag. */
static int get_text(rd_t *r, char *dst, size_t cap, const char *what, char *why, size_t wcap)
{
    const uint32_t n = get_u32(r);
    if (n > cap - 1) {
        snprintf(why, wcap, "%s length %u exceeds %zu bytes", what, n, cap - 1);
        return -1;
    }
    if (!rd_need(r, n)) return 0;
    memcpy(dst, r->p, n);
    dst[n] = '\0';
    r->p += n;
    if (strlen(dst) != n) {
        snprintf(why, wcap, "%s contains a NUL byte", what);
        return -1;
    }
    return 0;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
        const uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* ------------------------------------------------------------------ */
/* Validation shared by save (-EINVAL) and parse (-EBADMSG)            */
/* ------------------------------------------------------------------ */

/* Optimizer state floats for cfg over n parameters (as jg_optim_create). */
static uint64_t optim_state_floats(const jg_optim_config_t *cfg, uint64_t n)
{
    if (cfg->kind != JG_OPT_SGD) return 2 * n;
    return cfg->momentum > 0.0f ? n : 0;
}

/* 0, or -1 with why filled. NaN fails every range test below. */
static int check_meta(const jg_checkpoint_meta_t *m, uint64_t n_params, uint64_t n_buffers,
                      uint64_t n_optim, uint64_t n_history, char *why, size_t wcap)
{
    const jg_optim_config_t *o = &m->optim;
    const jg_train_state_t *s = &m->state;
    if (!m->spec[0]) return snprintf(why, wcap, "empty model spec"), -1;
    if (m->c < 1 || m->c > 4)
        return snprintf(why, wcap, "%d input channels (checkpoints hold 1 to 4)", m->c), -1;
    if (m->h < 1 || m->h > CKPT_MAX_SIDE || m->w < 1 || m->w > CKPT_MAX_SIDE)
        return snprintf(why, wcap, "input size %dx%d out of range", m->h, m->w), -1;
    if (m->classes < 1 || m->classes > CKPT_MAX_CLASSES)
        return snprintf(why, wcap, "%d classes out of range", m->classes), -1;
    for (int i = 0; i < m->c; i++)
        if (!isfinite(m->mean[i]) || !isfinite(m->std[i]) || !(m->std[i] >= JG_CKPT_STD_MIN))
            return snprintf(why, wcap, "channel %d normalisation mean %g std %g (need finite, "
                            "std >= %g)", i, (double)m->mean[i], (double)m->std[i],
                            (double)JG_CKPT_STD_MIN), -1;
    if ((unsigned)o->kind > JG_OPT_ADAMW) return snprintf(why, wcap, "unknown optimizer"), -1;
    if ((unsigned)o->schedule > JG_SCHED_COSINE)
        return snprintf(why, wcap, "unknown lr schedule"), -1;
    if (o->nesterov != 0 && o->nesterov != 1)
        return snprintf(why, wcap, "nesterov flag %d is not 0 or 1", o->nesterov), -1;
    if (m->epochs < 0 || m->batch < 0)
        return snprintf(why, wcap, "negative epochs (%d) or batch (%d)", m->epochs, m->batch), -1;
    if (s->epochs_done < 0 || s->epochs_done > CKPT_MAX_HISTORY || s->optim_steps < 0 ||
        s->bad_epochs < 0 || isnan(s->best_val_loss))
        return snprintf(why, wcap, "bad run state (epochs done %d, steps %lld, bad epochs %d)",
                        s->epochs_done, (long long)s->optim_steps, s->bad_epochs), -1;
    if (n_history != (uint64_t)s->epochs_done)
        return snprintf(why, wcap, "%llu history records for %d epochs done",
                        (unsigned long long)n_history, s->epochs_done), -1;
    if (n_params > CKPT_MAX_FLOATS || n_buffers > CKPT_MAX_FLOATS || n_optim > CKPT_MAX_FLOATS)
        return snprintf(why, wcap, "array sizes %llu/%llu/%llu exceed %llu floats",
                        (unsigned long long)n_params, (unsigned long long)n_buffers,
                        (unsigned long long)n_optim, (unsigned long long)CKPT_MAX_FLOATS), -1;
    const uint64_t want = optim_state_floats(o, n_params);
    if (n_optim != 0 && n_optim != want)
        return snprintf(why, wcap, "optimizer state of %llu floats, but %s over %llu "
                        "parameters has %llu", (unsigned long long)n_optim,
                        jg_optim_kind_name(o->kind), (unsigned long long)n_params,
                        (unsigned long long)want), -1;
    return 0;
}

/* 0 when every value of p[n] is finite (and >= 0 from index nonneg_from
 * on: Adam's second moment); else -1 with why naming the array and index. */
static int check_values(const float *p, size_t n, size_t nonneg_from, const char *what,
                        char *why, size_t wcap)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]) || (i >= nonneg_from && p[i] < 0.0f))
            return snprintf(why, wcap, "%s %zu of %zu is %g (%s)", what, i, n, (double)p[i],
                            isfinite(p[i]) ? "Adam's second moment must be >= 0"
                                           : "a diverged or corrupt run"), -1;
    return 0;
}

/* The arrays a checkpoint holds, checked as one: parameters, buffers and
 * optimizer state finite, Adam/AdamW's v (the second half) >= 0. */
static int check_arrays(const float *params, size_t np, const float *buffers, size_t nb,
                        const float *ostate, size_t no, jg_opt_kind_t kind, char *why,
                        size_t wcap)
{
    const size_t v_from = no && kind != JG_OPT_SGD ? no / 2 : no;
    if (check_values(params, np, np, "parameter", why, wcap) ||
        check_values(buffers, nb, nb, "buffer", why, wcap) ||
        check_values(ostate, no, v_from, "optimizer state value", why, wcap))
        return -1;
    return 0;
}

static int check_history(const jg_epoch_stats_t *h, int n, char *why, size_t wcap)
{
    for (int i = 0; i < n; i++)
        if (h[i].epoch != i || h[i].images < 0)
            return snprintf(why, wcap, "history record %d has epoch %d and %lld images", i,
                            h[i].epoch, (long long)h[i].images), -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Header                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
    jg_checkpoint_meta_t meta;
    uint64_t n_params, n_buffers, n_optim, n_history;
    uint32_t names_bytes;     /* the class names section; 0 in version 1 */
} header_t;

/* Bytes after the header: class names, then the payload. */
static uint64_t payload_bytes(const header_t *h)
{
    /* each count is capped first, so this cannot overflow */
    return h->names_bytes + 4 * (h->n_params + h->n_buffers + h->n_optim) +
           CKPT_HISTORY_BYTES * h->n_history;
}

/* Decode the header bytes p[hb] of a file of `version` into *h; 0, or -1
 * with why filled. Reads only inside p[hb]; allocates nothing. */
static int decode_header(const uint8_t *p, uint32_t hb, uint32_t version, header_t *h,
                         char *why, size_t wcap)
{
    memset(h, 0, sizeof *h);
    jg_checkpoint_meta_t *m = &h->meta;
    jg_optim_config_t *o = &m->optim;
    rd_t r = { p, p + hb, 0 };
    if (get_text(&r, m->spec, sizeof m->spec, "spec", why, wcap)) return -1;
    const uint32_t c = get_u32(&r), ih = get_u32(&r), iw = get_u32(&r), k = get_u32(&r);
    if (!r.short_read && (c < 1 || c > 4))
        return snprintf(why, wcap, "%u input channels (checkpoints hold 1 to 4)", c), -1;
    if (ih > CKPT_MAX_SIDE || iw > CKPT_MAX_SIDE || k > CKPT_MAX_CLASSES)
        return snprintf(why, wcap, "input %ux%u with %u classes out of range", ih, iw, k), -1;
    m->c = (int)c;
    m->h = (int)ih;
    m->w = (int)iw;
    m->classes = (int)k;
    for (uint32_t i = 0; i < c && !r.short_read; i++) m->mean[i] = get_f32(&r);
    for (uint32_t i = 0; i < c && !r.short_read; i++) m->std[i] = get_f32(&r);
    if (get_text(&r, m->dataset, sizeof m->dataset, "dataset name", why, wcap)) return -1;
    const uint32_t kind = get_u32(&r);
    o->lr = get_f32(&r);
    o->momentum = get_f32(&r);
    const uint32_t nesterov = get_u32(&r);
    o->weight_decay = get_f32(&r);
    o->beta1 = get_f32(&r);
    o->beta2 = get_f32(&r);
    o->eps = get_f32(&r);
    const uint32_t sched = get_u32(&r);
    o->step_size = get_i32(&r);
    o->gamma = get_f32(&r);
    o->t_max = get_i32(&r);
    o->min_lr = get_f32(&r);
    if (kind > JG_OPT_ADAMW || sched > JG_SCHED_COSINE || nesterov > 1)
        return snprintf(why, wcap, "optimizer kind %u, schedule %u, nesterov %u out of range",
                        kind, sched, nesterov), -1;
    o->kind = (jg_opt_kind_t)kind;
    o->schedule = (jg_sched_kind_t)sched;
    o->nesterov = (int)nesterov;
    m->epochs = get_i32(&r);
    m->batch = get_i32(&r);
    m->seed = get_u64(&r);
    m->state.epochs_done = get_i32(&r);
    m->state.optim_steps = get_i64(&r);
    m->state.model_step = get_u64(&r);
    m->state.best_val_loss = get_f64(&r);
    m->state.bad_epochs = get_i32(&r);
    h->n_params = get_u64(&r);
    h->n_buffers = get_u64(&r);
    h->n_optim = get_u64(&r);
    h->n_history = get_u32(&r);
    if (version >= 2) h->names_bytes = get_u32(&r);
    if (r.short_read)
        return snprintf(why, wcap, "header of %u bytes ends inside its fields", hb), -1;
    if (r.p != r.end)
        return snprintf(why, wcap, "header of %u bytes has %zu bytes left over", hb,
                        (size_t)(r.end - r.p)), -1;
    if (check_meta(m, h->n_params, h->n_buffers, h->n_optim, h->n_history, why, wcap))
        return -1;
    /* names: none, or one entry per class of 5..259 bytes */
    if (h->names_bytes && ((uint64_t)h->names_bytes < (uint64_t)CKPT_NAME_MIN_BYTES * k ||
                           (uint64_t)h->names_bytes > (uint64_t)CKPT_NAME_MAX_BYTES * k))
        return snprintf(why, wcap, "class names of %u bytes cannot hold %u names of 1 to %d "
                        "bytes", h->names_bytes, k, JG_CLASS_NAME_MAX), -1;
    return 0;
}

/* The class names section, names_bytes bytes at r: n entries {u32 len,
 * bytes} into names[n], their text NUL-terminated one after another at
 * text. 0, or -1 with why filled (a length past the section, an invalid or
 * repeated name, bytes left over). */
static int decode_names(rd_t *r, uint32_t names_bytes, char **names, char *text, int n,
                        char *why, size_t wcap)
{
    const uint8_t *end = r->p + names_bytes; /* inside the file: the length was checked */
    for (int i = 0; i < n; i++) {
        const uint32_t len = (size_t)(end - r->p) >= 4 ? get_u32(r) : UINT32_MAX;
        if (len < 1 || len > JG_CLASS_NAME_MAX || len > (size_t)(end - r->p))
            return snprintf(why, wcap, "class name %d of %u bytes does not fit (1 to %d, "
                            "inside the %u bytes of names)", i, len, JG_CLASS_NAME_MAX,
                            names_bytes), -1;
        char what[160];
        if (jg_class_name_check((const char *)r->p, len, what, sizeof what))
            return snprintf(why, wcap, "class name %d: %s", i, what), -1;
        memcpy(text, r->p, len);
        text[len] = '\0';
        r->p += len;
        names[i] = text;
        text += len + 1;
    }
    if (r->p != end)
        return snprintf(why, wcap, "%zu bytes left over after %d class names",
                        (size_t)(end - r->p), n), -1;
    char what[160];
    const int rc = jg_class_names_check((const char *const *)names, n, what, sizeof what);
    if (rc == -ENOMEM) return snprintf(why, wcap, "out of memory checking class names"), -1;
    if (rc) return snprintf(why, wcap, "class names: %s", what), -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Parse and load                                                      */
/* ------------------------------------------------------------------ */

/* The CRC failed: tell a truncated (or overlong) file from a corrupt one
 * when the header still decodes. */
static int crc_error(const char *name, const uint8_t *b, size_t len, uint32_t stored,
                     uint32_t got, jg_nn_error_t *err)
{
    const uint32_t version = le32(b + 8), hb = le32(b + 12);
    if ((version == 1 || version == CKPT_VERSION) && hb <= CKPT_MAX_HEADER) {
        if (len < (size_t)CKPT_PRELUDE + hb + CKPT_TRAILER) {
            jg_nn_errorf(err, "%s: truncated (%zu of at least %u bytes)", name, len,
                         CKPT_PRELUDE + hb + CKPT_TRAILER);
            return -EBADMSG;
        }
        header_t h;
        char why[8];
        if (decode_header(b + CKPT_PRELUDE, hb, version, &h, why, sizeof why) == 0) {
            const uint64_t want = CKPT_PRELUDE + hb + payload_bytes(&h) + CKPT_TRAILER;
            if (want > len) {
                jg_nn_errorf(err, "%s: truncated (%zu of %llu bytes)", name, len,
                             (unsigned long long)want);
                return -EBADMSG;
            }
            if (want < len) {
                jg_nn_errorf(err, "%s: %zu bytes, but its header describes %llu (trailing "
                             "data)", name, len, (unsigned long long)want);
                return -EBADMSG;
            }
        }
    }
    jg_nn_errorf(err, "%s: CRC mismatch (stored %08x, computed %08x): the file is corrupt",
                 name, stored, got);
    return -EBADMSG;
}

static int parse_named(const char *name, const uint8_t *b, size_t len, jg_checkpoint_t *ck,
                       jg_nn_error_t *err)
{
    const size_t min = CKPT_PRELUDE + CKPT_TRAILER;
    if (len > CKPT_MAX_BYTES) {
        jg_nn_errorf(err, "%s: %zu bytes is more than the 2 GiB limit", name, len);
        return -EBADMSG;
    }
    if (memcmp(b, MAGIC, len < 8 ? len : 8) != 0) {
        jg_nn_errorf(err, "%s: not a joulegrad checkpoint (bad magic)", name);
        return -EBADMSG;
    }
    if (len < min) {
        jg_nn_errorf(err, "%s: truncated (%zu bytes; a checkpoint has at least %zu)", name,
                     len, min);
        return -EBADMSG;
    }
    const uint32_t stored = le32(b + len - CKPT_TRAILER), got = crc_of(b, len - CKPT_TRAILER);
    if (stored != got) return crc_error(name, b, len, stored, got, err);
    const uint32_t version = le32(b + 8), hb = le32(b + 12);
    if (version != 1 && version != CKPT_VERSION) {
        jg_nn_errorf(err, "%s: unsupported checkpoint version %u (this build reads 1 to %u)",
                     name, version, CKPT_VERSION);
        return -EPROTO;
    }
    if (hb > CKPT_MAX_HEADER || hb > len - min) {
        jg_nn_errorf(err, "%s: header size %u does not fit (file %zu bytes, cap %u)", name, hb,
                     len, CKPT_MAX_HEADER);
        return -EBADMSG;
    }
    header_t *h = malloc(sizeof *h);
    if (!h) return -ENOMEM;
    char why[200];
    int rc = -EBADMSG;
    if (decode_header(b + CKPT_PRELUDE, hb, version, h, why, sizeof why)) {
        jg_nn_errorf(err, "%s: %s", name, why);
        goto out;
    }
    const uint64_t want = CKPT_PRELUDE + hb + payload_bytes(h) + CKPT_TRAILER;
    if (want != len) {
        jg_nn_errorf(err, "%s: %zu bytes, but its header describes %llu", name, len,
                     (unsigned long long)want);
        goto out;
    }
    /* One block: params, buffers, optimizer state (f32), the history at a
     * 16-byte boundary, then the class names (pointers, then the text).
     * want == len bounds every size here. */
    const size_t nf = (size_t)(h->n_params + h->n_buffers + h->n_optim);
    const size_t hist_off = (nf * sizeof(float) + 15) & ~(size_t)15;
    const size_t nh = (size_t)h->n_history;
    const size_t nn = h->names_bytes ? (size_t)h->meta.classes : 0;
    const size_t names_off = (hist_off + nh * sizeof(jg_epoch_stats_t) + 15) & ~(size_t)15;
    const size_t text_off = names_off + nn * sizeof(char *);
    /* the text: names_bytes less the 4-byte lengths, plus a NUL each */
    uint8_t *blob = malloc(text_off + (nn ? h->names_bytes - 3 * nn : 0) + 1);
    if (!blob) {
        rc = -ENOMEM;
        goto out;
    }
    rd_t r = { b + CKPT_PRELUDE + hb, b + len - CKPT_TRAILER, 0 };
    char **names = nn ? (char **)(void *)(blob + names_off) : NULL;
    if (nn && decode_names(&r, h->names_bytes, names, (char *)blob + text_off, (int)nn, why,
                           sizeof why)) {
        jg_nn_errorf(err, "%s: %s", name, why);
        free(blob);
        goto out;
    }
    float *f = (float *)(void *)blob;
    for (size_t i = 0; i < nf; i++) f[i] = get_f32(&r);
    jg_epoch_stats_t *hist = (jg_epoch_stats_t *)(void *)(blob + hist_off);
    memset(hist, 0, nh * sizeof *hist);
    for (size_t i = 0; i < nh; i++) {
        hist[i].epoch = get_i32(&r);
        hist[i].lr = get_f32(&r);
        hist[i].train_loss = get_f64(&r);
        hist[i].train_accuracy = get_f64(&r);
        hist[i].val_loss = get_f64(&r);
        hist[i].val_accuracy = get_f64(&r);
        hist[i].seconds = get_f64(&r);
        hist[i].images = get_i64(&r);
    }
    if (r.short_read || r.p != r.end) { /* unreachable after the length check */
        jg_nn_errorf(err, "%s: payload size mismatch", name);
        free(blob);
        goto out;
    }
    if (check_history(hist, (int)nh, why, sizeof why) ||
        check_arrays(f, (size_t)h->n_params, f + h->n_params, (size_t)h->n_buffers,
                     f + h->n_params + h->n_buffers, (size_t)h->n_optim, h->meta.optim.kind,
                     why, sizeof why)) {
        jg_nn_errorf(err, "%s: %s", name, why);
        free(blob);
        goto out;
    }
    ck->meta = h->meta;
    ck->meta.class_names = (const char *const *)names;
    ck->blob = blob;
    ck->n_params = (size_t)h->n_params;
    ck->n_buffers = (size_t)h->n_buffers;
    ck->n_optim_state = (size_t)h->n_optim;
    ck->params = ck->n_params ? f : NULL;
    ck->buffers = ck->n_buffers ? f + ck->n_params : NULL;
    ck->optim_state = ck->n_optim_state ? f + ck->n_params + ck->n_buffers : NULL;
    ck->history = nh ? hist : NULL;
    rc = 0;
out:
    free(h);
    return rc;
}

int jg_checkpoint_parse(const void *buf, size_t len, jg_checkpoint_t *ck, jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (ck) memset(ck, 0, sizeof *ck);
    if (!ck || (!buf && len)) {
        jg_nn_errorf(err, "checkpoint: invalid arguments");
        return -EINVAL;
    }
    if (len == 0) {
        jg_nn_errorf(err, "checkpoint: empty (0 bytes)");
        return -EBADMSG;
    }
    return parse_named("checkpoint", buf, len, ck, err);
}

int jg_checkpoint_load(const char *path, jg_checkpoint_t *ck, jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (ck) memset(ck, 0, sizeof *ck);
    if (!path || !ck) {
        jg_nn_errorf(err, "checkpoint: invalid arguments");
        return -EINVAL;
    }
    uint8_t *buf = NULL;
    size_t size = 0;
    int rc = jg_read_regular(path, (size_t)CKPT_MAX_BYTES, &buf, &size);
    if (rc == -EISDIR) {
        jg_nn_errorf(err, "%s: is a directory, not a checkpoint file", path);
    } else if (rc == -EFBIG) {
        jg_nn_errorf(err, "%s: %zu bytes is more than the 2 GiB limit", path, size);
    } else if (rc) {
        char why[160];
        jg_nn_errorf(err, "%s: %s", path, jg_read_regular_why(rc, why, sizeof why));
    } else if (size == 0) {
        jg_nn_errorf(err, "%s: empty file (0 bytes)", path);
        rc = -EBADMSG;
    } else {
        rc = parse_named(path, buf, size, ck, err);
    }
    free(buf);
    return rc;
}

void jg_checkpoint_free(jg_checkpoint_t *ck)
{
    if (!ck) return;
    free(ck->blob);
    memset(ck, 0, sizeof *ck);
}

/* ------------------------------------------------------------------ */
/* Save                                                                */
/* ------------------------------------------------------------------ */

static int save_fail(jg_nn_error_t *err, const char *path, const char *step, const char *file,
                     int rc)
{
    jg_nn_errorf(err, "save %s: %s '%s': %s", path, step, file, strerror(-rc));
    return rc;
}

/* Write buf[len] to "<path>.tmp.<pid>", fsync, close, rename over path,
 * fsync the directory; on failure the temporary file is removed. */
static int write_atomic(const char *path, const uint8_t *buf, size_t len, jg_nn_error_t *err)
{
    const size_t plen = strlen(path);
    char *tmp = malloc(plen + 32), *dir = malloc(plen + 2);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return -ENOMEM;
    }
    snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        const size_t dl = slash == path ? 1 : (size_t)(slash - path);
        memcpy(dir, path, dl);
        dir[dl] = '\0';
    }
    int rc = 0;
    const int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        rc = save_fail(err, path, "cannot create a temporary file in", dir, -errno);
        goto out;
    }
    for (size_t done = 0; done < len && rc == 0;) {
        const ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) rc = save_fail(err, path, "write", tmp, -errno);
        else done += (size_t)n;
    }
    if (rc == 0 && fsync(fd) != 0) rc = save_fail(err, path, "fsync", tmp, -errno);
    if (close(fd) != 0 && rc == 0) rc = save_fail(err, path, "close", tmp, -errno);
    if (rc == 0 && rename(tmp, path) != 0) rc = save_fail(err, path, "rename", tmp, -errno);
    if (rc) {
        unlink(tmp);
        goto out;
    }
    /* Make the rename durable. Some file systems cannot fsync a directory
     * (EINVAL): the file is in place, so that is not an error. */
    const int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = save_fail(err, path, "open directory", dir, -errno);
    } else {
        if (fsync(dfd) != 0 && errno != EINVAL)
            rc = save_fail(err, path, "fsync directory", dir, -errno);
        close(dfd);
    }
out:
    free(tmp);
    free(dir);
    return rc;
}

int jg_checkpoint_save(const char *path, const jg_model_t *model, const jg_optim_t *opt,
                       const jg_checkpoint_meta_t *meta, const jg_epoch_stats_t *history,
                       jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!path || !path[0] || !model || !meta) {
        jg_nn_errorf(err, "checkpoint save: invalid arguments");
        return -EINVAL;
    }
    jg_checkpoint_meta_t *m = malloc(sizeof *m);
    if (!m) return -ENOMEM;
    *m = *meta;
    char why[200];
    int rc = -EINVAL;
    if (jg_model_spec(model, m->spec, sizeof m->spec) != 0) {
        jg_nn_errorf(err, "save %s: model spec is longer than %zu bytes", path,
                     sizeof m->spec - 1);
        goto out;
    }
    m->c = model->c;
    m->h = model->h;
    m->w = model->w;
    m->classes = model->classes;
    if (!memchr(m->dataset, '\0', sizeof m->dataset)) {
        jg_nn_errorf(err, "save %s: dataset name is not NUL-terminated", path);
        goto out;
    }
    size_t n_optim = 0;
    const float *ostate = NULL;
    if (opt) {
        m->optim = *jg_optim_config(opt);
        m->state.optim_steps = jg_optim_steps(opt);
        ostate = jg_optim_state(opt, &n_optim);
    }
    const int nh = m->state.epochs_done > 0 ? m->state.epochs_done : 0;
    if (nh > 0 && !history) {
        jg_nn_errorf(err, "save %s: %d epochs done but no history", path, nh);
        goto out;
    }
    if (check_meta(m, (uint64_t)model->n_params, model->n_buffers, n_optim, (uint64_t)nh, why,
                   sizeof why) ||
        check_history(history, nh, why, sizeof why) ||
        check_arrays(model->params, (size_t)model->n_params, model->buffers, model->n_buffers,
                     ostate, n_optim, m->optim.kind, why, sizeof why)) {
        jg_nn_errorf(err, "save %s: %s", path, why);
        goto out;
    }
    uint64_t names_bytes = 0;
    if (m->class_names) {
        rc = jg_class_names_check(m->class_names, m->classes, why, sizeof why);
        if (rc) {
            jg_nn_errorf(err, "save %s: class names: %s", path, rc == -ENOMEM ? "out of memory"
                                                                              : why);
            goto out;
        }
        for (int k = 0; k < m->classes; k++) names_bytes += 4 + strlen(m->class_names[k]);
    }
    const size_t np = (size_t)model->n_params, nb = model->n_buffers;
    const size_t hb = CKPT_HEADER_FIXED + strlen(m->spec) + 8 * (size_t)m->c + strlen(m->dataset);
    const uint64_t total = (uint64_t)CKPT_PRELUDE + hb + names_bytes +
                           4 * ((uint64_t)np + nb + n_optim) +
                           (uint64_t)CKPT_HISTORY_BYTES * nh + CKPT_TRAILER;
    if (total > CKPT_MAX_BYTES) {
        jg_nn_errorf(err, "save %s: %llu bytes is more than the 2 GiB limit", path,
                     (unsigned long long)total);
        rc = -EFBIG;
        goto out;
    }
    uint8_t *buf = malloc((size_t)total), *p = buf;
    if (!buf) {
        jg_nn_errorf(err, "save %s: out of memory for %llu bytes", path,
                     (unsigned long long)total);
        rc = -ENOMEM;
        goto out;
    }
    memcpy(p, MAGIC, 8);
    p += 8;
    put_u32(&p, CKPT_VERSION);
    put_u32(&p, (uint32_t)hb);
    put_text(&p, m->spec);
    put_u32(&p, (uint32_t)m->c);
    put_u32(&p, (uint32_t)m->h);
    put_u32(&p, (uint32_t)m->w);
    put_u32(&p, (uint32_t)m->classes);
    for (int i = 0; i < m->c; i++) put_f32(&p, m->mean[i]);
    for (int i = 0; i < m->c; i++) put_f32(&p, m->std[i]);
    put_text(&p, m->dataset);
    const jg_optim_config_t *o = &m->optim;
    put_u32(&p, (uint32_t)o->kind);
    put_f32(&p, o->lr);
    put_f32(&p, o->momentum);
    put_u32(&p, (uint32_t)o->nesterov);
    put_f32(&p, o->weight_decay);
    put_f32(&p, o->beta1);
    put_f32(&p, o->beta2);
    put_f32(&p, o->eps);
    put_u32(&p, (uint32_t)o->schedule);
    put_i32(&p, o->step_size);
    put_f32(&p, o->gamma);
    put_i32(&p, o->t_max);
    put_f32(&p, o->min_lr);
    put_i32(&p, m->epochs);
    put_i32(&p, m->batch);
    put_u64(&p, m->seed);
    put_i32(&p, m->state.epochs_done);
    put_i64(&p, m->state.optim_steps);
    put_u64(&p, m->state.model_step);
    put_f64(&p, m->state.best_val_loss);
    put_i32(&p, m->state.bad_epochs);
    put_u64(&p, np);
    put_u64(&p, nb);
    put_u64(&p, n_optim);
    put_u32(&p, (uint32_t)nh);
    put_u32(&p, (uint32_t)names_bytes);
    for (int k = 0; names_bytes && k < m->classes; k++) put_text(&p, m->class_names[k]);
    for (size_t i = 0; i < np; i++) put_f32(&p, model->params[i]);
    for (size_t i = 0; i < nb; i++) put_f32(&p, model->buffers[i]);
    for (size_t i = 0; i < n_optim; i++) put_f32(&p, ostate[i]);
    for (int i = 0; i < nh; i++) {
        const jg_epoch_stats_t *e = &history[i];
        put_i32(&p, e->epoch);
        put_f32(&p, e->lr);
        put_f64(&p, e->train_loss);
        put_f64(&p, e->train_accuracy);
        put_f64(&p, e->val_loss);
        put_f64(&p, e->val_accuracy);
        put_f64(&p, e->seconds);
        put_i64(&p, e->images);
    }
    put_u32(&p, crc_of(buf, (size_t)(p - buf)));
    assert((uint64_t)(p - buf) == total);
    rc = write_atomic(path, buf, (size_t)total, err);
    free(buf);
out:
    free(m);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Into a model                                                        */
/* ------------------------------------------------------------------ */

/* 0 when every batchnorm running variance in buffers (laid out as model's
 * buffer arena) is >= 0 (parse only knows the values are finite); else
 * -EINVAL with err naming the layer and channel. */
static int check_running_var(const jg_model_t *model, const float *buffers,
                             jg_nn_error_t *err)
{
    for (int i = 0; i < jg_model_n_layers(model); i++) {
        jg_layer_info_t li;
        if (jg_model_layer(model, i, &li) || !li.running_var) continue;
        const float *var = buffers + (li.running_var - model->buffers);
        for (int c = 0; c < li.in_c; c++)
            if (var[c] < 0.0f) {
                jg_nn_errorf(err, "checkpoint: layer %d (%s) running variance of channel %d "
                             "is %g (must be >= 0)", i, li.type_name, c, (double)var[c]);
                return -EINVAL;
            }
    }
    return 0;
}

int jg_checkpoint_model(const jg_checkpoint_t *ck, jg_model_t **model, jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (model) *model = NULL;
    if (!ck || !ck->blob || !model) {
        jg_nn_errorf(err, "checkpoint: invalid arguments");
        return -EINVAL;
    }
    const jg_checkpoint_meta_t *mt = &ck->meta;
    jg_model_t *m = NULL;
    /* the run's seed: dropout masks depend on it, so a resumed run continues
     * the same stream */
    const int rc =
        jg_model_create(&m, mt->spec, mt->c, mt->h, mt->w, mt->classes, mt->seed, err);
    if (rc) return rc;
    if ((uint64_t)m->n_params != ck->n_params || m->n_buffers != ck->n_buffers) {
        jg_nn_errorf(err, "checkpoint holds %zu parameters and %zu buffers, but its spec "
                     "builds %lld and %zu", ck->n_params, ck->n_buffers,
                     (long long)m->n_params, m->n_buffers);
        jg_model_destroy(m);
        return -EINVAL;
    }
    if (check_running_var(m, ck->buffers, err)) {
        jg_model_destroy(m);
        return -EINVAL;
    }
    if (ck->n_params) memcpy(m->params, ck->params, ck->n_params * sizeof(float));
    if (ck->n_buffers) memcpy(m->buffers, ck->buffers, ck->n_buffers * sizeof(float));
    *model = m;
    return 0;
}

int jg_checkpoint_restore(const jg_checkpoint_t *ck, jg_model_t *model, jg_optim_t *opt,
                          jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!ck || !ck->blob || !model) {
        jg_nn_errorf(err, "checkpoint: invalid arguments");
        return -EINVAL;
    }
    const jg_checkpoint_meta_t *mt = &ck->meta;
    if (mt->c != model->c || mt->h != model->h || mt->w != model->w ||
        mt->classes != model->classes) {
        jg_nn_errorf(err, "checkpoint is for input %dx%dx%d with %d classes, not %dx%dx%d "
                     "with %d", mt->c, mt->h, mt->w, mt->classes, model->c, model->h,
                     model->w, model->classes);
        return -EINVAL;
    }
    char *spec = malloc(sizeof mt->spec);
    if (!spec) return -ENOMEM;
    const int same = jg_model_spec(model, spec, sizeof mt->spec) == 0 &&
                     strcmp(spec, mt->spec) == 0;
    if (!same) jg_nn_errorf(err, "checkpoint is for model '%s', not '%s'", mt->spec, spec);
    free(spec);
    if (!same) return -EINVAL;
    if ((uint64_t)model->n_params != ck->n_params || model->n_buffers != ck->n_buffers) {
        jg_nn_errorf(err, "checkpoint holds %zu parameters and %zu buffers, the model %lld "
                     "and %zu", ck->n_params, ck->n_buffers, (long long)model->n_params,
                     model->n_buffers);
        return -EINVAL;
    }
    if (check_running_var(model, ck->buffers, err)) return -EINVAL;
    float *ostate = NULL;
    if (opt) {
        size_t n = 0;
        ostate = jg_optim_state(opt, &n);
        const jg_opt_kind_t kind = jg_optim_config(opt)->kind;
        if (ck->n_optim_state == 0 && optim_state_floats(&mt->optim, ck->n_params) > 0) {
            jg_nn_errorf(err, "checkpoint holds no optimizer state (saved weights only)");
            return -EINVAL;
        }
        if (kind != mt->optim.kind) {
            jg_nn_errorf(err, "optimizer state is %s, not %s", jg_optim_kind_name(mt->optim.kind),
                         jg_optim_kind_name(kind));
            return -EINVAL;
        }
        if (n != ck->n_optim_state) {
            jg_nn_errorf(err, "optimizer state has %zu floats in the checkpoint and %zu in the "
                         "optimizer (momentum on in one, off in the other?)",
                         ck->n_optim_state, n);
            return -EINVAL;
        }
    }
    if (ck->n_params) memcpy(model->params, ck->params, ck->n_params * sizeof(float));
    if (ck->n_buffers) memcpy(model->buffers, ck->buffers, ck->n_buffers * sizeof(float));
    if (opt) {
        if (ck->n_optim_state) memcpy(ostate, ck->optim_state, ck->n_optim_state * sizeof(float));
        jg_optim_set_steps(opt, mt->state.optim_steps);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Class names                                                         */
/* ------------------------------------------------------------------ */

/* "cat, dog, fox, ..." : the first few names, escaped and shortened. */
static const char *names_preview(const char *const *v, int n, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int k = 0; k < n && k < 3 && at < cap; k++) {
        char one[40];
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", k ? ", " : "",
                               jg_text_escape(v[k], strlen(v[k]), one, sizeof one));
    }
    if (n > 3 && at < cap) snprintf(buf + at, cap - at, ", ...");
    return buf;
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 1 when a and b hold the same n names in some order; 0 otherwise or when
 * out of memory (only a hint for the message). */
static int same_name_set(const char *const *a, const char *const *b, int n)
{
    const char **sa = malloc(2 * (size_t)n * sizeof *sa);
    if (!sa) return 0;
    const char **sb = sa + n;
    memcpy(sa, a, (size_t)n * sizeof *sa);
    memcpy(sb, b, (size_t)n * sizeof *sb);
    qsort(sa, (size_t)n, sizeof *sa, cmp_cstr);
    qsort(sb, (size_t)n, sizeof *sb, cmp_cstr);
    int same = 1;
    for (int k = 0; k < n && same; k++) same = !strcmp(sa[k], sb[k]);
    free(sa);
    return same;
}

int jg_nn_class_names_compare(const char *const *a, int na, const char *a_what,
                              const char *const *b, int nb, const char *b_what,
                              jg_nn_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!a_what || !b_what || na < 0 || nb < 0) {
        jg_nn_errorf(err, "class names: invalid arguments");
        return -EINVAL;
    }
    if (!a || !b) return 0;
    for (int k = 0; k < na || k < nb; k++)
        if ((k < na && !a[k]) || (k < nb && !b[k])) {
            jg_nn_errorf(err, "class %d has no name in %s", k, k < na && !a[k] ? a_what : b_what);
            return -EINVAL;
        }
    if (na != nb) {
        char pa[120], pb[120];
        jg_nn_errorf(err, "%s has %d classes (%s), %s %d (%s)", a_what, na,
                     names_preview(a, na, pa, sizeof pa), b_what, nb,
                     names_preview(b, nb, pb, sizeof pb));
        return -EINVAL;
    }
    for (int k = 0; k < na; k++) {
        if (!strcmp(a[k], b[k])) continue;
        char sa[64], sb[64];
        jg_nn_errorf(err, "class %d is '%s' in %s but '%s' in %s%s", k,
                     jg_text_escape(a[k], strlen(a[k]), sa, sizeof sa), a_what,
                     jg_text_escape(b[k], strlen(b[k]), sb, sizeof sb), b_what,
                     same_name_set(a, b, na) ? " (the same names in another order)" : "");
        return -EINVAL;
    }
    return 0;
}
