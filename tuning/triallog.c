/* SPDX-License-Identifier: MIT */
/* Append-only JSON Lines trial log with a CRC32 per record: results, and
 * (studies with several jobs in flight) the proposals. A record is written
 * with one write() on an O_APPEND descriptor and fsynced, so a crash can
 * only leave a torn final line, which the reader drops with a warning. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "tune_internal.h"

#define CHECKSUM_SUFFIX_LEN 23 /* ,"checksum":"xxxxxxxx"} */

static uLong crc_of(const char *p, size_t n)
{
    return crc32(0L, (const Bytef *)p, (uInt)n) & 0xffffffffUL;
}

/* Line = compact JSON of obj, then its last '}' replaced by
 * ,"checksum":"crc32 of the compact JSON"} and '\n'. The checksum covers the
 * exact bytes written, so no reprinting is involved when verifying.
 * Returns a malloc'd string or NULL. */
static char *seal(cJSON *obj)
{
    char *body = cJSON_PrintUnformatted(obj);
    jg_utf8_scrub(body); // JSON is UTF-8: user paths may not be
    if (!body) return NULL;
    const size_t n = strlen(body);
    char *out = malloc(n + CHECKSUM_SUFFIX_LEN + 2);
    if (out && n >= 2 && body[n - 1] == '}') {
        memcpy(out, body, n - 1);
        snprintf(out + n - 1, CHECKSUM_SUFFIX_LEN + 3, ",\"checksum\":\"%08lx\"}\n",
                 crc_of(body, n));
    } else {
        free(out);
        out = NULL;
    }
    cJSON_free(body);
    return out;
}

/* Verifies the checksum of line [p, p+len) and parses it. NULL on failure
 * with why set to a short reason. */
static cJSON *unseal(const char *p, size_t len, const char **why)
{
    *why = "not valid JSON";
    cJSON *obj = cJSON_ParseWithLength(p, len);
    if (!obj || !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return NULL;
    }
    const char *sfx = p + len - CHECKSUM_SUFFIX_LEN;
    char hex[9] = "";
    if (len < CHECKSUM_SUFFIX_LEN + 2 || strncmp(sfx, ",\"checksum\":\"", 13) ||
        sfx[21] != '"' || sfx[22] != '}') {
        *why = "no checksum at the end";
        cJSON_Delete(obj);
        return NULL;
    }
    memcpy(hex, sfx + 13, 8);
    /* CRC of the line without the checksum field: bytes before it, then '}'. */
    uLong crc = crc32(0L, (const Bytef *)p, (uInt)(sfx - p));
    crc = crc32(crc, (const Bytef *)"}", 1) & 0xffffffffUL;
    char want[9];
    snprintf(want, sizeof want, "%08lx", crc);
    if (strcmp(hex, want)) {
        *why = "checksum mismatch";
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* Adds v as a JSON number that reads back as exactly v. */
static int add_num(cJSON *o, const char *key, double v)
{
    char buf[32];
    jg_tune_fmt_double(buf, sizeof buf, v);
    return cJSON_AddRawToObject(o, key, buf) != NULL;
}

/* Writes all of line to fd (O_APPEND) and fsyncs. */
static int write_line(int fd, const char *line, jg_tune_error_t *err, const char *path)
{
    size_t n = strlen(line), off = 0;
    while (off < n) {
        const ssize_t w = write(fd, line + off, n - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            return jg_tune_fail(err, -e, "%s: write: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    if (fsync(fd)) {
        const int e = errno;
        return jg_tune_fail(err, -e, "%s: fsync: %s", path, strerror(e));
    }
    return 0;
}

int jg_tune_log_create(const char *path, const jg_tune_space_t *space,
                       const jg_tune_log_meta_t *meta, jg_tune_error_t *err)
{
    if (!path || !space || !meta) return jg_tune_fail(err, -EINVAL, "log: NULL argument");
    char *text = malloc(JG_TUNE_SPACE_TEXT_MAX);
    if (!text) return jg_tune_fail(err, -ENOMEM, "log: out of memory");
    int rc = jg_tune_space_format(space, text, JG_TUNE_SPACE_TEXT_MAX);
    char hash[17], seed[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)jg_tune_space_hash(space));
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)meta->seed);
    cJSON *o = cJSON_CreateObject();
    char *line = NULL;
    if (!rc && o && cJSON_AddStringToObject(o, "type", "header") &&
        add_num(o, "version", JG_TUNE_LOG_VERSION) &&
        cJSON_AddStringToObject(o, "space", text) &&
        cJSON_AddStringToObject(o, "space_hash", hash) &&
        cJSON_AddStringToObject(o, "model", meta->model) &&
        cJSON_AddStringToObject(o, "strategy", meta->strategy) &&
        cJSON_AddStringToObject(o, "seed", seed) &&
        add_num(o, "created", (double)meta->created_s) &&
        cJSON_AddStringToObject(o, "run", meta->run))
        line = seal(o);
    cJSON_Delete(o);
    free(text);
    if (!line) return jg_tune_fail(err, rc ? rc : -ENOMEM, "log: cannot build header");
    const int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int e = errno;
        free(line);
        return jg_tune_fail(err, -e, "%s: create: %s", path, strerror(e));
    }
    rc = write_line(fd, line, err, path);
    free(line);
    if (close(fd) && !rc) rc = jg_tune_fail(err, -EIO, "%s: close failed", path);
    return rc;
}

/* The version in the header line of the log at path (1 when unreadable:
 * the append then fails on its own checks). Records are numbered as their
 * log's version says, so a study started by an older joulegrad continues
 * in its own numbering. */
static int log_version(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return 1;
    char head[256];
    const size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    const char *v = strstr(head, "\"version\":");
    return v ? atoi(v + 10) : 1;
}

/* The record of t as a JSON object: a result ("trial") or a proposal: the
 * trial number in the log's numbering, strategy, params, then (results
 * only) the metrics, then epochs and rung. NULL when out of memory. */
static cJSON *record_json(const jg_tune_space_t *space, const jg_tune_trial_t *t, int version,
                          int proposal)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *params = cJSON_CreateObject();
    int ok = o && params;
    for (int d = 0; ok && d < space->n_dims; d++) {
        const jg_tune_dim_t *dim = &space->dims[d];
        ok = dim->kind == JG_TUNE_CAT
                 ? cJSON_AddStringToObject(params, dim->name, dim->cats[(int)t->params.v[d]]) != NULL
                 : add_num(params, dim->name, t->params.v[d]);
    }
    ok = ok && cJSON_AddStringToObject(o, "type", proposal ? "proposal" : "trial") &&
         add_num(o, "trial", (double)(t->trial + (version >= 2))) &&
         cJSON_AddStringToObject(o, "strategy", t->strategy) &&
         cJSON_AddItemToObject(o, "params", params);
    if (ok) params = NULL; /* owned by o now */
    if (ok && !proposal)
        ok = add_num(o, "val_accuracy", t->val_accuracy) &&
             add_num(o, "test_accuracy", t->test_accuracy) &&
             add_num(o, "energy_j", t->energy_j) &&
             cJSON_AddStringToObject(o, "energy_source", t->energy_source) &&
             add_num(o, "seconds", t->seconds) &&
             cJSON_AddStringToObject(o, "status", t->status);
    ok = ok && add_num(o, "epochs", t->epochs) && (t->rung < 0 || add_num(o, "rung", t->rung));
    cJSON_Delete(params);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Appends t as a result or a proposal: checks, seals, then one write on an
 * O_APPEND descriptor, fsync, close. */
static int append_record(const char *path, const jg_tune_space_t *space,
                         const jg_tune_trial_t *t, int proposal, jg_tune_error_t *err)
{
    if (!path || !space || !t) return jg_tune_fail(err, -EINVAL, "log: NULL argument");
    int rc = jg_tune_point_check(space, &t->params, err);
    if (rc) return rc;
    if (!isfinite(t->val_accuracy) || !isfinite(t->test_accuracy) ||
        !isfinite(t->energy_j) || !isfinite(t->seconds) || t->trial < 0 || t->epochs < 0 ||
        t->rung < -1)
        return jg_tune_fail(err, -EINVAL, "log: trial %lld has a non-finite metric",
                            (long long)t->trial);
    cJSON *o = record_json(space, t, log_version(path), proposal);
    char *line = o ? seal(o) : NULL;
    cJSON_Delete(o);
    if (!line) return jg_tune_fail(err, -ENOMEM, "log: cannot build record");

    const int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        free(line);
        return jg_tune_fail(err, -e, "%s: open: %s", path, strerror(e));
    }
    /* Never glue a record onto a torn line. */
    struct stat st;
    char last = 0;
    if (fstat(fd, &st) || st.st_size < 1 || pread(fd, &last, 1, st.st_size - 1) != 1 ||
        last != '\n')
        rc = jg_tune_fail(err, -EIO, "%s: log does not end with a complete line; "
                          "read it with repair first", path);
    else
        rc = write_line(fd, line, err, path);
    free(line);
    if (close(fd) && !rc) rc = jg_tune_fail(err, -EIO, "%s: close failed", path);
    return rc;
}

int jg_tune_log_append(const char *path, const jg_tune_space_t *space,
                       const jg_tune_trial_t *t, jg_tune_error_t *err)
{
    return append_record(path, space, t, 0, err);
}

int jg_tune_log_append_proposal(const char *path, const jg_tune_space_t *space,
                                const jg_tune_trial_t *t, jg_tune_error_t *err)
{
    if (!t) return jg_tune_fail(err, -EINVAL, "log: NULL argument");
    jg_tune_trial_t p = *t; /* the metrics are not written: only checked */
    p.val_accuracy = p.test_accuracy = p.energy_j = p.seconds = 0;
    return append_record(path, space, &p, 1, err);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static int get_num(const cJSON *o, const char *key, double *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble)) return -1;
    *out = it->valuedouble;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    if (!src || strlen(src) >= cap) return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* The metrics of a result record into t; why names the bad field. */
static int to_metrics(const cJSON *o, jg_tune_trial_t *t, char *why, size_t why_len)
{
    static const char *nums[] = { "val_accuracy", "test_accuracy", "energy_j", "seconds" };
    double *dst[] = { &t->val_accuracy, &t->test_accuracy, &t->energy_j, &t->seconds };
    for (int k = 0; k < 4; k++)
        if (get_num(o, nums[k], dst[k])) return snprintf(why, why_len, "bad \"%s\"", nums[k]), -1;
    if (copy_str(t->energy_source, sizeof t->energy_source, get_str(o, "energy_source")))
        return snprintf(why, why_len, "bad \"energy_source\""), -1;
    if (copy_str(t->status, sizeof t->status, get_str(o, "status")))
        return snprintf(why, why_len, "bad \"status\""), -1;
    return 0;
}

/* Fills e from a verified result ("trial") or proposal record; why names
 * the bad field. */
static int to_event(const cJSON *o, const jg_tune_space_t *space, int version,
                    jg_tune_log_event_t *e, char *why, size_t why_len)
{
    memset(e, 0, sizeof *e);
    jg_tune_trial_t *t = &e->t;
    double trial;
    const int first = version >= 2; /* version 1 counted trials from 0 */
    const char *type = get_str(o, "type");
    if (!type || (strcmp(type, "trial") && strcmp(type, "proposal")))
        return snprintf(why, why_len, "type is not \"trial\" or \"proposal\""), -1;
    e->kind = strcmp(type, "trial") ? JG_TUNE_EVENT_PROPOSAL : JG_TUNE_EVENT_RESULT;
    if (get_num(o, "trial", &trial) || trial < first || trial != floor(trial) || trial > 1e15)
        return snprintf(why, why_len, "bad \"trial\""), -1;
    t->trial = (int64_t)trial - first;
    if (e->kind == JG_TUNE_EVENT_RESULT && to_metrics(o, t, why, why_len)) return -1;
    if (copy_str(t->strategy, sizeof t->strategy, get_str(o, "strategy")))
        return snprintf(why, why_len, "bad \"strategy\""), -1;
    /* Optional (absent in older logs): epochs 0, rung -1. */
    double epochs = 0, rung = -1;
    if ((cJSON_GetObjectItemCaseSensitive(o, "epochs") &&
         (get_num(o, "epochs", &epochs) || epochs < 0 || epochs > 1e9 || epochs != floor(epochs))) ||
        (cJSON_GetObjectItemCaseSensitive(o, "rung") &&
         (get_num(o, "rung", &rung) || rung < 0 || rung > 64 || rung != floor(rung))))
        return snprintf(why, why_len, "bad \"epochs\" or \"rung\""), -1;
    t->epochs = (int)epochs;
    t->rung = (int)rung;
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
    if (!cJSON_IsObject(params) || cJSON_GetArraySize(params) != space->n_dims)
        return snprintf(why, why_len, "\"params\" does not match the space"), -1;
    for (int d = 0; d < space->n_dims; d++) {
        const jg_tune_dim_t *dim = &space->dims[d];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, dim->name);
        int bad = 1;
        if (dim->kind == JG_TUNE_CAT && cJSON_IsString(v)) {
            for (int c = 0; c < dim->n_cats; c++)
                if (!strcmp(dim->cats[c], v->valuestring)) t->params.v[d] = c, bad = 0;
        } else if (dim->kind != JG_TUNE_CAT && cJSON_IsNumber(v)) {
            t->params.v[d] = v->valuedouble;
            bad = 0;
        }
        if (bad) return snprintf(why, why_len, "bad param \"%s\"", dim->name), -1;
    }
    jg_tune_error_t perr;
    if (jg_tune_point_check(space, &t->params, &perr))
        return snprintf(why, why_len, "%.190s", perr.msg), -1;
    return 0;
}

/* Checks the header against the study; why says what differs. */
static int check_header(const cJSON *o, const jg_tune_space_t *space, const char *model,
                        jg_tune_log_meta_t *meta, char *why, size_t why_len)
{
    double version, created;
    const char *type = get_str(o, "type"), *text = get_str(o, "space");
    const char *hash = get_str(o, "space_hash"), *seed = get_str(o, "seed");
    if (!type || strcmp(type, "header")) return snprintf(why, why_len, "not a header record"), -1;
    if (get_num(o, "version", &version) || version < 1 || version > JG_TUNE_LOG_VERSION ||
        version != floor(version))
        return snprintf(why, why_len, "unsupported version (want 1..%d)", JG_TUNE_LOG_VERSION), -1;
    if (!text || !hash || !seed || get_num(o, "created", &created))
        return snprintf(why, why_len, "header lacks space, space_hash, seed or created"), -1;
    memset(meta, 0, sizeof *meta);
    meta->version = (int)version;
    meta->created_s = (int64_t)created;
    char *end = NULL;
    errno = 0;
    meta->seed = strtoull(seed, &end, 10);
    if (!seed[0] || *end || errno)
        return snprintf(why, why_len, "bad seed '%.20s'", seed), -1;
    if (copy_str(meta->model, sizeof meta->model, get_str(o, "model")) ||
        copy_str(meta->strategy, sizeof meta->strategy, get_str(o, "strategy")))
        return snprintf(why, why_len, "bad model or strategy"), -1;
    const char *run = get_str(o, "run"); /* optional: older logs have none */
    if (cJSON_GetObjectItemCaseSensitive(o, "run") && copy_str(meta->run, sizeof meta->run, run))
        return snprintf(why, why_len, "bad run settings"), -1;

    jg_tune_space_t *logged = malloc(sizeof *logged);
    if (!logged) return snprintf(why, why_len, "out of memory"), -1;
    jg_tune_error_t e;
    int rc = 0;
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)jg_tune_space_hash(space));
    if (jg_tune_space_parse(logged, text, &e)) {
        rc = -1;
        snprintf(why, why_len, "logged space does not parse: %.160s", e.msg);
    } else if (logged->n_dims != space->n_dims) {
        rc = -1;
        snprintf(why, why_len, "different space: log has %d dimensions, study has %d",
                 logged->n_dims, space->n_dims);
    } else {
        for (int d = 0; d < space->n_dims && !rc; d++) {
            jg_tune_space_t a = { .n_dims = 1 }, b = { .n_dims = 1 };
            a.dims[0] = logged->dims[d];
            b.dims[0] = space->dims[d];
            char ta[JG_TUNE_NAME_MAX * (JG_TUNE_MAX_CATS + 2) + 64], tb[sizeof ta];
            if (jg_tune_space_format(&a, ta, sizeof ta) || jg_tune_space_format(&b, tb, sizeof tb) ||
                strcmp(ta, tb)) {
                rc = -1;
                snprintf(why, why_len, "different space: dimension %d is '%.60s' in the log, "
                         "'%.60s' in the study", d + 1, ta, tb);
            }
        }
        if (!rc && strcmp(hash, want)) {
            rc = -1;
            snprintf(why, why_len, "space_hash %.16s does not match the space (want %s)", hash, want);
        }
    }
    free(logged);
    if (!rc && model && strcmp(model, meta->model)) {
        rc = -1;
        snprintf(why, why_len, "different model: log has '%.60s', study has '%.60s'",
                 meta->model, model);
    }
    return rc;
}

/* Reads the whole file (at most JG_TUNE_LOG_MAX_BYTES). */
static int slurp(const char *path, char **buf, size_t *len, jg_tune_error_t *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        const int e = errno;
        return jg_tune_fail(err, -e, "%s: open: %s", path, strerror(e));
    }
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        if (cap >= JG_TUNE_LOG_MAX_BYTES) {
            free(b);
            fclose(f);
            return jg_tune_fail(err, -EFBIG, "%s: log larger than %u bytes", path,
                                JG_TUNE_LOG_MAX_BYTES);
        }
        char *nb = realloc(b, cap * 2);
        if (!nb) free(b);
        b = nb;
        cap *= 2;
    }
    const int bad = !b || ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return jg_tune_fail(err, b ? -EIO : -ENOMEM, "%s: cannot read", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

int jg_tune_log_read_events(const char *path, const jg_tune_space_t *space,
                            const char *model, int repair, jg_tune_log_meta_t *meta,
                            jg_tune_log_event_t **events, int64_t *n, char *warning,
                            size_t warning_len, jg_tune_error_t *err)
{
    if (!path || !space || !events || !n) return jg_tune_fail(err, -EINVAL, "log: NULL argument");
    *events = NULL;
    *n = 0;
    if (warning && warning_len) warning[0] = '\0';
    char *buf = NULL;
    size_t len = 0;
    int rc = slurp(path, &buf, &len, err);
    if (rc) return rc;

    jg_tune_log_meta_t hdr = { .seed = 0 };
    jg_tune_log_event_t *out = NULL;
    int64_t count = 0, cap = 0;
    size_t good_end = 0; /* byte offset just past the last good line */
    char why[200];
    long line_no = 0;
    for (size_t pos = 0; pos < len && !rc;) {
        const char *p = buf + pos;
        const char *nl = memchr(p, '\n', len - pos);
        const size_t l = nl ? (size_t)(nl - p) : len - pos;
        const size_t next = pos + l + (nl ? 1 : 0);
        const int final = next == len;
        line_no++;
        const char *reason = NULL;
        cJSON *o = nl ? unseal(p, l, &reason) : NULL;
        if (!nl) reason = "no newline";
        if (!o) {
            if (final && line_no > 1) {
                if (warning && warning_len)
                    snprintf(warning, warning_len, "%s:%ld: dropped torn final line "
                             "(%zu bytes, %s)%s", path, line_no, l, reason,
                             repair ? "; truncated" : "");
                break;
            }
            rc = jg_tune_fail(err, -EINVAL, "%s:%ld: corrupt %s: %s", path, line_no,
                              line_no == 1 ? "header" : "record", reason);
            break;
        }
        if (line_no == 1) {
            if (check_header(o, space, model, &hdr, why, sizeof why))
                rc = jg_tune_fail(err, -EINVAL, "%s: refused: %s", path, why);
        } else {
            if (count == cap) {
                cap = cap ? cap * 2 : 64;
                jg_tune_log_event_t *nt = realloc(out, (size_t)cap * sizeof *out);
                if (!nt) rc = jg_tune_fail(err, -ENOMEM, "log: out of memory");
                else out = nt;
            }
            if (!rc && to_event(o, space, hdr.version, &out[count], why, sizeof why))
                rc = jg_tune_fail(err, -EINVAL, "%s:%ld: bad record: %s", path, line_no, why);
            if (!rc) count++;
        }
        cJSON_Delete(o);
        good_end = next;
        pos = next;
    }
    if (!rc && line_no == 0) rc = jg_tune_fail(err, -EINVAL, "%s: empty log (no header)", path);
    if (!rc && repair && good_end < len) {
        if (truncate(path, (off_t)good_end)) {
            const int e = errno;
            rc = jg_tune_fail(err, -e, "%s: truncate: %s", path, strerror(e));
        } else {
            const int fd = open(path, O_WRONLY | O_CLOEXEC);
            if (fd < 0 || fsync(fd)) rc = jg_tune_fail(err, -EIO, "%s: fsync after truncate", path);
            if (fd >= 0) close(fd);
        }
    }
    free(buf);
    if (rc) {
        free(out);
        return rc;
    }
    if (meta) *meta = hdr;
    *events = out;
    *n = count;
    return 0;
}

int jg_tune_log_read(const char *path, const jg_tune_space_t *space,
                     const char *model, int repair, jg_tune_log_meta_t *meta,
                     jg_tune_trial_t **trials, int64_t *n, char *warning,
                     size_t warning_len, jg_tune_error_t *err)
{
    if (!trials || !n) return jg_tune_fail(err, -EINVAL, "log: NULL argument");
    *trials = NULL;
    *n = 0;
    jg_tune_log_event_t *ev = NULL;
    int64_t m = 0, k = 0;
    const int rc = jg_tune_log_read_events(path, space, model, repair, meta, &ev, &m, warning,
                                           warning_len, err);
    if (rc) return rc;
    jg_tune_trial_t *t = m ? malloc((size_t)m * sizeof *t) : NULL;
    if (m && !t) {
        free(ev);
        return jg_tune_fail(err, -ENOMEM, "log: out of memory");
    }
    for (int64_t i = 0; i < m; i++)
        if (ev[i].kind == JG_TUNE_EVENT_RESULT) t[k++] = ev[i].t;
    free(ev);
    if (!k) {
        free(t);
        t = NULL;
    }
    *trials = t;
    *n = k;
    return 0;
}
