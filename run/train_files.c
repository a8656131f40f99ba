/* SPDX-License-Identifier: MIT */
/* train_files.c - the run directory of a measured training run: epochs.csv,
 * checkpoint.jgc, the resume checks against it, and summary.json. Formats:
 * docs/checkpoint-format.md and the README's "Training". */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "jg_kernels.h"
#include "run_internal.h"
#include "train_internal.h"

#ifndef JG_VERSION
#define JG_VERSION JG_RUN_VERSION
#endif

static void fmt_num(char *buf, size_t cap, double v)
{
    if (isnan(v)) buf[0] = '\0';
    else snprintf(buf, cap, "%.9g", v);
}

int jg_run_write_epochs_csv(const char *path, const jg_epoch_stats_t *h, int n)
{
    const size_t cap = 128 + (size_t)n * 192;
    char *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    size_t len = (size_t)snprintf(buf, cap, "epoch,lr,train_loss,train_accuracy,val_loss,"
                                             "val_accuracy,seconds,images\n");
    for (int i = 0; i < n; i++) {
        char vl[32], va[32], lr[32];
        fmt_num(vl, sizeof vl, h[i].val_loss);
        fmt_num(va, sizeof va, h[i].val_accuracy);
        len += (size_t)snprintf(buf + len, cap - len, "%d,%s,%.9g,%.9g,%s,%s,%.6f,%lld\n",
                                h[i].epoch + 1, jg_float_text(h[i].lr, lr, sizeof lr),
                                h[i].train_loss,
                                h[i].train_accuracy, vl, va, h[i].seconds,
                                (long long)h[i].images);
    }
    const int rc = jg_write_atomic(path, buf, len);
    free(buf);
    return rc;
}

int jg_run_save_checkpoint(jg_run_train_state_t *st, jg_trainer_t *tr)
{
    jg_checkpoint_meta_t meta = st->meta;
    jg_trainer_get_state(tr, &meta.state);
    jg_nn_error_t err = {{0}};
    const int rc = jg_checkpoint_save(st->ckpt, st->model, jg_trainer_optim(tr), &meta,
                                      jg_trainer_history(tr), &err);
    if (rc) snprintf(st->err, sizeof st->err, "%s", err.msg);
    else st->res->saved_epochs = meta.state.epochs_done;
    return rc;
}

int jg_run_check_resume(const jg_run_train_config_t *o, const jg_checkpoint_meta_t *m,
                        const char *spec, const jg_dataset_t *train, const float *mean,
                        const float *std, jg_run_error_t *err)
{
    char msg[1024] = "";
    const jg_optim_config_t *a = &o->optim, *b = &m->optim;
    if (strcmp(spec, m->spec))
        snprintf(msg, sizeof msg, "--model gives '%.400s' but the checkpoint holds '%.400s'", spec,
                 m->spec);
    else if (strcmp(o->data.name, m->dataset))
        snprintf(msg, sizeof msg, "--data %s but the checkpoint was trained on '%.63s'",
                 o->data.name, m->dataset);
    else if (train->c != m->c || train->h != m->h || train->w != m->w ||
             train->classes != m->classes)
        snprintf(msg, sizeof msg, "the data is %dx%dx%d with %d classes but the checkpoint "
                 "expects %dx%dx%d with %d", train->c, train->h, train->w, train->classes, m->c,
                 m->h, m->w, m->classes);
    else if (a->kind != b->kind)
        snprintf(msg, sizeof msg, "--optimizer %s but the checkpoint used %s",
                 jg_optim_kind_name(a->kind), jg_optim_kind_name(b->kind));
    else if (a->schedule != b->schedule)
        snprintf(msg, sizeof msg, "--schedule %s but the checkpoint used %s",
                 jg_sched_kind_name(a->schedule), jg_sched_kind_name(b->schedule));
    else if (a->nesterov != b->nesterov)
        snprintf(msg, sizeof msg, "--nesterov is %s but was %s in the checkpoint",
                 a->nesterov ? "on" : "off", b->nesterov ? "on" : "off");
    else if (a->step_size != b->step_size)
        snprintf(msg, sizeof msg, "--step-size %d but the checkpoint used %d", a->step_size,
                 b->step_size);
    else if (a->t_max != b->t_max)
        snprintf(msg, sizeof msg, "the checkpoint's cosine t_max is %d, not the run's epochs",
                 b->t_max);
    if (!msg[0]) {
        const struct {
            const char *flag;
            float mine, theirs;
        } f[] = {{"--lr", a->lr, b->lr},
                 {"--momentum", a->momentum, b->momentum},
                 {"--weight-decay", a->weight_decay, b->weight_decay},
                 {"--beta1", a->beta1, b->beta1},
                 {"--beta2", a->beta2, b->beta2},
                 {"--eps", a->eps, b->eps},
                 {"--gamma", a->gamma, b->gamma},
                 {"--min-lr", a->min_lr, b->min_lr}};
        for (size_t i = 0; i < sizeof f / sizeof *f && !msg[0]; i++)
            if (memcmp(&f[i].mine, &f[i].theirs, sizeof(float)))
                snprintf(msg, sizeof msg, "%s %.9g but the checkpoint used %.9g", f[i].flag,
                         (double)f[i].mine, (double)f[i].theirs);
    }
    if (!msg[0] && o->batch != m->batch)
        snprintf(msg, sizeof msg, "--batch %d but the checkpoint used %d", o->batch, m->batch);
    if (!msg[0] && o->seed != m->seed)
        snprintf(msg, sizeof msg, "--seed %llu but the checkpoint used %llu",
                 (unsigned long long)o->seed, (unsigned long long)m->seed);
    if (!msg[0] && (memcmp(mean, m->mean, sizeof(float) * (size_t)train->c) ||
                    memcmp(std, m->std, sizeof(float) * (size_t)train->c)))
        snprintf(msg, sizeof msg, "the training images differ from the checkpoint's (their "
                 "mean/std do not match): use the same --data, --data-dir, --train-limit, "
                 "--val-fraction and --seed");
    jg_nn_error_t nerr = {{0}};
    if (!msg[0] && jg_nn_class_names_compare(m->class_names, m->classes, "the checkpoint",
                                              (const char *const *)train->class_names,
                                              train->classes, "the training data", &nerr))
        snprintf(msg, sizeof msg, "%.1000s", nerr.msg);
    if (!msg[0] && m->state.epochs_done > o->epochs)
        snprintf(msg, sizeof msg, "the checkpoint already has %d epochs, more than --epochs %d",
                 m->state.epochs_done, o->epochs);
    if (!msg[0]) return 0;
    if (err) snprintf(err->msg, sizeof err->msg, "cannot resume: %s", msg);
    return -EINVAL;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static cJSON *optim_json(const jg_optim_config_t *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kind", jg_optim_kind_name(c->kind));
    cJSON_AddNumberToObject(o, "lr", jg_float_double(c->lr));
    cJSON_AddNumberToObject(o, "momentum", jg_float_double(c->momentum));
    cJSON_AddBoolToObject(o, "nesterov", c->nesterov);
    cJSON_AddNumberToObject(o, "weight_decay", jg_float_double(c->weight_decay));
    cJSON_AddNumberToObject(o, "beta1", jg_float_double(c->beta1));
    cJSON_AddNumberToObject(o, "beta2", jg_float_double(c->beta2));
    cJSON_AddNumberToObject(o, "eps", jg_float_double(c->eps));
    cJSON_AddStringToObject(o, "schedule", jg_sched_kind_name(c->schedule));
    cJSON_AddNumberToObject(o, "step_size", c->step_size);
    cJSON_AddNumberToObject(o, "gamma", jg_float_double(c->gamma));
    cJSON_AddNumberToObject(o, "t_max", c->t_max);
    cJSON_AddNumberToObject(o, "min_lr", jg_float_double(c->min_lr));
    return o;
}

static cJSON *floats_json(const float *v, int n)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(jg_float_double(v[i])));
    return a;
}

int jg_run_write_summary(const jg_run_train_state_t *st, jg_trainer_t *tr,
                         const jg_data_prepared_t *dp, const char *path)
{
    const jg_run_train_config_t *o = st->cfg;
    const jg_run_train_result_t *r = st->res;
    const int epochs_done = jg_trainer_epochs_done(tr);
    const jg_epoch_stats_t *hist = jg_trainer_history(tr);
    const jg_breakdown_t *bd = r->breakdown;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "joulegrad_version", JG_VERSION);
    cJSON_AddStringToObject(root, "model", o->model);
    cJSON_AddStringToObject(root, "spec", r->spec);
    jg_run_eval_json(root, &r->eval, (const char *const *)r->class_names);
    cJSON_AddNumberToObject(root, "epochs", epochs_done);
    cJSON_AddNumberToObject(root, "epochs_planned", o->epochs);
    cJSON_AddBoolToObject(root, "stopped_early", r->stopped_early);
    cJSON_AddBoolToObject(root, "resumed", o->resume);
    double total_s = 0, images = 0;
    double *secs = malloc(sizeof(double) * (size_t)(epochs_done ? epochs_done : 1));
    for (int i = 0; i < epochs_done; i++) {
        total_s += hist[i].seconds;
        images += (double)hist[i].images;
        if (secs) secs[i] = hist[i].seconds;
    }
    double median = 0;
    if (secs && epochs_done) {
        qsort(secs, (size_t)epochs_done, sizeof *secs, cmp_double);
        const int k = epochs_done;
        median = k % 2 ? secs[k / 2] : 0.5 * (secs[k / 2 - 1] + secs[k / 2]);
    }
    free(secs);
    cJSON_AddNumberToObject(root, "train_seconds", total_s);
    cJSON_AddNumberToObject(root, "seconds_per_epoch", median);
    cJSON_AddNumberToObject(root, "images_per_second", total_s > 0 ? images / total_s : 0);
    cJSON_AddStringToObject(root, "isa", jg_isa_name(jg_kernels_isa()));
    cJSON_AddNumberToObject(root, "threads", jg_kernels_threads());
    cJSON_AddNumberToObject(root, "ranks", jg_run_cluster()->size); // data-parallel MPI ranks
    // Raw digits: a seed up to 2^53 stays exact (cJSON prints 15 significant digits).
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    cJSON_AddRawToObject(root, "seed", seed);
    cJSON_AddItemToObject(root, "optimizer", optim_json(&o->optim));
    cJSON_AddNumberToObject(root, "batch", o->batch);
    cJSON_AddNumberToObject(root, "patience", o->patience);
    cJSON_AddNumberToObject(root, "train_images", r->n_train);
    cJSON_AddNumberToObject(root, "val_images", r->n_val);
    cJSON_AddNumberToObject(root, "test_images", r->n_test);
    cJSON *data = cJSON_AddObjectToObject(root, "data");
    cJSON_AddStringToObject(data, "name", o->data.name);
    cJSON_AddStringToObject(data, "dir", jg_data_source_dir(&o->data));
    cJSON_AddItemToObject(data, "mean", floats_json(dp->mean, dp->train.c));
    cJSON_AddItemToObject(data, "std", floats_json(dp->std, dp->train.c));
    cJSON_AddNumberToObject(data, "train_limit", o->train_limit);
    cJSON_AddNumberToObject(data, "test_limit", o->test_limit);
    cJSON_AddNumberToObject(data, "val_fraction", o->val_fraction);
    // The breakdown of the steps (energy/), plus the whole loop.
    cJSON *en = bd ? jg_breakdown_json(bd) : cJSON_CreateObject();
    cJSON_AddItemToObject(root, "energy", en);
    if (!bd) cJSON_AddStringToObject(en, "source", r->source);
    if (bd) {
        if (r->energy_valid) cJSON_AddNumberToObject(en, "loop_j", r->energy_j);
        else cJSON_AddNullToObject(en, "loop_j");
        cJSON_AddNumberToObject(en, "loop_seconds", r->energy_s);
        cJSON_AddStringToObject(en, "loop_scope", r->cluster
                                ? "rank 0's meter around the training loop of this "
                                  "invocation (its node with rapl, its process with "
                                  "estimate; validation included)"
                                : "the training loop of this invocation (epochs run here, "
                                  "validation included; no data loading, no test "
                                  "evaluation)");
        if (st->energy_detail[0]) cJSON_AddStringToObject(en, "detail", st->energy_detail);
        if (r->cluster) cJSON_AddItemToObject(en, "cluster", cJSON_Duplicate(r->cluster, 1));
    }
    char *text = cJSON_Print(root);
    jg_utf8_scrub(text); // JSON is UTF-8: user paths may not be
    cJSON_Delete(root);
    const int rc = text ? jg_write_atomic(path, text, strlen(text)) : -ENOMEM;
    free(text);
    return rc;
}


/* ---- energy over several invocations ------------------------------------ */

#define PARTS_FORMAT "joulegrad-energy-parts"
#define PARTS_MAX_BYTES (256u << 20)

int jg_run_read_parts(jg_run_train_state_t *st, jg_run_error_t *err)
{
    char *text = jg_read_file(st->parts_path, PARTS_MAX_BYTES, NULL);
    if (!text) {
        if (st->res->saved_epochs)
            jg_logf(st->cfg->log, JG_LOG_NOTE, "train: %s is missing (a run written before "
                    "joulegrad kept each invocation's energy, or with --energy off): the energy "
                    "figures cover this invocation only", st->parts_path);
        return 0;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    cJSON *parts = cJSON_DetachItemFromObjectCaseSensitive(root, "parts");
    cJSON_Delete(root);
    if (!cJSON_IsString(fmt) || !cJSON_IsArray(parts)) {
        cJSON_Delete(parts);
        if (err) snprintf(err->msg, sizeof err->msg, "cannot resume: %.1000s is not a "
                          "joulegrad energy parts file", st->parts_path);
        return -EINVAL;
    }
    st->prior = parts;
    // A killed invocation left its trace as NAME.part: cut it at the end of
    // its last counted step and give it its final name.
    for (const cJSON *q = parts->child; q; q = q->next) {
        const cJSON *tr = cJSON_GetObjectItemCaseSensitive(q, "trace");
        const cJSON *nb = cJSON_GetObjectItemCaseSensitive(q, "trace_bytes");
        if (!cJSON_IsString(tr) || !cJSON_IsNumber(nb) || strchr(tr->valuestring, '/') ||
            !(nb->valuedouble >= 0))
            continue;
        char fin[4400], part[4500];
        snprintf(fin, sizeof fin, "%s/%s", st->res->dir, tr->valuestring);
        snprintf(part, sizeof part, "%s.part", fin);
        struct stat sb;
        if (access(fin, F_OK) == 0 || stat(part, &sb) || (double)sb.st_size < nb->valuedouble)
            continue;
        if (truncate(part, (off_t)nb->valuedouble) == 0 && rename(part, fin) == 0)
            jg_logf(st->cfg->log, JG_LOG_NOTE, "train: kept %s of the interrupted invocation, "
                    "cut at its last checkpointed step", tr->valuestring);
    }
    return 0;
}

int jg_run_write_parts(jg_run_train_state_t *st, const cJSON *current)
{
    if (!st->lead || !current) return 0;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", PARTS_FORMAT);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "notes", "one part per invocation of the run (the first, "
                                           "then each --resume), and in an MPI job per rank "
                                           "that read a meter: the energy figures of the "
                                           "training steps it ran, summed into the run's "
                                           "energy files");
    cJSON *parts = st->prior ? cJSON_Duplicate(st->prior, 1) : cJSON_CreateArray();
    int rc = parts ? 0 : -ENOMEM;
    for (const cJSON *p = current->child; !rc && p; p = p->next) {
        cJSON *copy = cJSON_Duplicate(p, 1);
        if (copy) cJSON_AddItemToArray(parts, copy);
        else rc = -ENOMEM;
    }
    cJSON_AddItemToObject(root, "parts", parts);
    char *text = rc ? NULL : cJSON_Print(root);
    jg_utf8_scrub(text);
    cJSON_Delete(root);
    if (!rc) rc = text ? jg_write_atomic(st->parts_path, text, strlen(text)) : -ENOMEM;
    free(text);
    return rc;
}
