/* SPDX-License-Identifier: MIT */
/*
 * train.c - the measured training run (jg_run_train): data, model, resume,
 * the trainer with a checkpoint and a line of epochs.csv after every epoch,
 * the energy meter and the per-layer breakdown around the training loop,
 * the test set, summary.json and the energy files. The files: train_files.c.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "jg_kernels.h"
#include "run_internal.h"
#include "train_internal.h"

static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    jg_run_train_state_t *st = ctx;
    st->res->last = *p;
    if (st->probe) {
        const int b = st->cfg->batch, left = st->n_train - (p->batch - 1) * b;
        const int nb = left < b ? left : b; /* this batch; this rank's slice of it */
        const jg_run_cluster_t *cl = jg_run_cluster();
        const int mine = (int)((int64_t)nb * (cl->rank + 1) / cl->size -
                               (int64_t)nb * cl->rank / cl->size);
        /* a write error shows at finish */
        jg_breakdown_step_done(jg_run_probe_breakdown(st->probe), mine);
    }
    jg_run_poll_meter(st->meter, jg_now_s(), &st->last_poll_s);
    return st->cfg->on_batch ? st->cfg->on_batch(st->cfg->ctx, p) : 0;
}

static int on_epoch(void *ctx, const jg_epoch_stats_t *s, jg_trainer_t *tr)
{
    jg_run_train_state_t *st = ctx;
    const jg_run_train_config_t *cfg = st->cfg;
    if (!cfg->quiet) {
        char val[96] = "val -";
        if (!isnan(s->val_loss))
            snprintf(val, sizeof val, "val loss %.4f acc %.2f%%", s->val_loss,
                     100.0 * s->val_accuracy);
        jg_logf(cfg->log, JG_LOG_OUT, "epoch %d/%d lr %.3g train loss %.4f acc %.2f%% %s %.1f s "
                "%lld images", s->epoch + 1, cfg->epochs, (double)s->lr, s->train_loss,
                100.0 * s->train_accuracy, val, s->seconds, (long long)s->images);
    }
    int rc = 0;
    if (cfg->ckpt_every && st->lead) rc = jg_run_save_checkpoint(st, tr);
    // The energy of the epochs the checkpoint holds, kept for a resume (every
    // rank takes part in gathering it).
    cJSON *current = cfg->ckpt_every && cfg->energy != JG_ENERGY_MODE_OFF
                         ? jg_run_current_parts(st) : NULL;
    if (!rc && (rc = jg_run_write_parts(st, current)))
        snprintf(st->err, sizeof st->err, "%s: %s", st->parts_path, strerror(-rc));
    cJSON_Delete(current);
    if (!rc && st->lead) {
        rc = jg_run_write_epochs_csv(st->csv, jg_trainer_history(tr), jg_trainer_epochs_done(tr));
        if (rc) snprintf(st->err, sizeof st->err, "%s: %s", st->csv, strerror(-rc));
    }
    // A rank that fails stops every rank (the others would wait in the sum).
    return jg_cl_agree(rc);
}

/* The model, checked against a resumed checkpoint, reserved, with its
 * trainer (and the checkpoint's state restored). */
static int build(jg_run_train_state_t *st, const jg_data_prepared_t *dp, jg_checkpoint_t *ck,
                 jg_trainer_t **tr, jg_run_error_t *err)
{
    const jg_run_train_config_t *cfg = st->cfg;
    jg_run_train_result_t *res = st->res;
    jg_nn_error_t nerr = {{0}};
    int rc = jg_model_create(&st->model, cfg->model, dp->train.c, dp->train.h, dp->train.w,
                             dp->train.classes, cfg->seed, &nerr);
    if (rc)
        return jg_run_fail(err, rc == -ENOENT ? -EINVAL : rc, "--model: %s", nerr.msg);
    if (jg_model_spec(st->model, res->spec, sizeof res->spec))
        return jg_run_fail(err, -ENAMETOOLONG, "--model: the spec is longer than %zu bytes",
                    sizeof res->spec);
    if (cfg->resume &&
        (rc = jg_run_check_resume(cfg, &ck->meta, res->spec, &dp->train, dp->mean, dp->std, err)))
        return rc;
    rc = jg_model_reserve(st->model, cfg->batch);
    if (rc)
        return jg_run_fail(err, rc, "cannot reserve activations for --batch %d: %s", cfg->batch,
                    strerror(-rc));
    const jg_nn_data_t tv = jg_run_data_view(&dp->train), vv = jg_run_data_view(&dp->val);
    const jg_run_cluster_t *cl = jg_run_cluster();
    const jg_train_config_t tc = {
        .epochs = cfg->epochs, .batch = cfg->batch, .seed = cfg->seed, .optim = cfg->optim,
        .patience = cfg->patience, .on_batch = on_batch, .on_epoch = on_epoch, .ctx = st,
        .shard = cl->rank, .shards = cl->size, .reduce_f = jg_cl_sum_f, .reduce_d = jg_cl_sum_d,
    };
    rc = jg_trainer_create(tr, st->model, &tc, &tv, dp->val.n ? &vv : NULL, &nerr);
    if (rc) return jg_run_fail(err, rc, "%s", nerr.msg[0] ? nerr.msg : strerror(-rc));
    if (cfg->resume) {
        rc = jg_checkpoint_restore(ck, st->model, jg_trainer_optim(*tr), &nerr);
        if (!rc) rc = jg_trainer_set_state(*tr, &ck->meta.state, ck->history);
        if (rc)
            return jg_run_fail(err, rc == -EINVAL ? -EBADMSG : rc, "cannot resume from %s: %s", st->ckpt,
                        nerr.msg[0] ? nerr.msg : strerror(-rc));
        res->saved_epochs = res->resumed_from = ck->meta.state.epochs_done;
    }
    jg_checkpoint_meta_t *m = &st->meta;
    memset(m, 0, sizeof *m);
    snprintf(m->spec, sizeof m->spec, "%s", res->spec);
    m->c = dp->train.c;
    m->h = dp->train.h;
    m->w = dp->train.w;
    m->classes = dp->train.classes;
    memcpy(m->mean, dp->mean, sizeof m->mean);
    memcpy(m->std, dp->std, sizeof m->std);
    m->optim = cfg->optim;
    m->epochs = cfg->epochs;
    m->batch = cfg->batch;
    m->seed = cfg->seed;
    snprintf(m->dataset, sizeof m->dataset, "%s", cfg->data.name);
    // dp->train lives until after the last save.
    m->class_names = dp->train.class_names
                         ? (const char *const *)dp->train.class_names
                         : jg_data_standard_class_names(cfg->data.name, dp->train.classes);
    return 0;
}

/* The meter (NULL with energy off) and the per-layer probe. */
static int open_energy(jg_run_train_state_t *st, jg_run_error_t *err)
{
    const jg_run_train_config_t *cfg = st->cfg;
    st->w_per_core = cfg->assume_w > 0 ? cfg->assume_w : JG_ESTIMATE_DEFAULT_W_PER_CORE;
    char brief[JG_ENERGY_TEXT_MAX];
    // The fallback's full line goes to summary.json, its short one to the log.
    int rc = jg_run_open_meter(&st->meter, cfg->energy, cfg->assume_w, 0, brief, sizeof brief,
                               st->energy_detail, sizeof st->energy_detail, err);
    if (rc) return rc;
    if (brief[0]) jg_logf(cfg->log, JG_LOG_NOTE, "%s", brief);
    if (st->meter) st->source = jg_energy_source_name(jg_meter_source(st->meter));
    if (!jg_run_reads_meter(st->meter)) { // RAPL in a job: one reader per node
        jg_meter_close(st->meter);
        st->meter = NULL;
    }
    if (!st->meter) return 0;
    // Invocation k of a resumed run keeps its own raw trace beside the others'
    // (rank 0's in a job).
    const int k = st->invocation;
    if (k == 1) snprintf(st->trace_name, sizeof st->trace_name, "energy_trace.jsonl");
    else snprintf(st->trace_name, sizeof st->trace_name, "energy_trace.%d.jsonl", k);
    char tpath[4400];
    snprintf(tpath, sizeof tpath, "%s/%s", st->res->dir, st->trace_name);
    const jg_run_cluster_t *cl = jg_run_cluster();
    const jg_run_probe_config_t pc = {
        .trace_path = st->lead ? tpath : NULL, .w_per_core = st->w_per_core,
        .data_parallel = cl->size > 1, .invocation = k, .ranks = cl->size, .rank = cl->rank,
        .node = cl->node, .host = cl->host,
    };
    rc = jg_run_probe_create(&st->probe, st->model, st->meter, &pc);
    if (rc)
        return jg_run_fail(err, rc, "cannot set up the per-layer energy trace (%s): %s", tpath,
                    strerror(-rc));
    char why[512] = "";
    if (st->prior &&
        (rc = jg_breakdown_add_parts(jg_run_probe_breakdown(st->probe), st->prior, why, sizeof why)))
        return jg_run_fail(err, rc, "cannot resume the energy of %s: %s", st->parts_path,
                    rc == -ENOMEM ? "out of memory" : why);
    return 0;
}

/* Why jg_trainer_run stopped early, in one line. */
static int run_failed(const jg_run_train_state_t *st, jg_trainer_t *tr, int rc,
                      jg_run_error_t *err)
{
    const jg_run_train_config_t *cfg = st->cfg;
    const jg_run_train_result_t *r = st->res;
    const jg_train_progress_t *p = &r->last;
    if (rc == -ECANCELED && r->saved_epochs)
        return jg_run_fail(err, rc, "interrupted in epoch %d/%d after batch %d/%d; %s keeps epoch %d: "
                    "resume with the same options plus --resume --out %s", p->epoch + 1,
                    cfg->epochs, p->batch, p->batches, st->ckpt, r->saved_epochs, r->dir);
    if (rc == -ECANCELED)
        return jg_run_fail(err, rc, "interrupted in epoch %d/%d after batch %d/%d, before any "
                    "checkpoint was written: nothing to resume", p->epoch + 1, cfg->epochs,
                    p->batch, p->batches);
    if (rc == -ERANGE && r->saved_epochs)
        return jg_run_fail(err, rc, "the training loss became NaN or infinite in epoch %d (try a lower "
                    "--lr); %s keeps epoch %d", jg_trainer_epochs_done(tr) + 1, st->ckpt,
                    r->saved_epochs);
    if (rc == -ERANGE)
        return jg_run_fail(err, rc, "the training loss became NaN or infinite in epoch %d (try a lower "
                    "--lr); no checkpoint was written", jg_trainer_epochs_done(tr) + 1);
    return jg_run_fail(err, rc, "training failed: %s", st->err[0] ? st->err : strerror(-rc));
}

/* The loop's energy and the breakdown's files (rank 0 of a job, with every
 * rank's parts of current added). */
static int finish_energy(jg_run_train_state_t *st, const jg_energy_sample_t *s0,
                         const jg_energy_sample_t *s1, double seconds, const cJSON *current,
                         jg_run_error_t *err)
{
    jg_run_train_result_t *r = st->res;
    jg_energy_figure_t fig;
    jg_meter_figure(st->meter, s0, s1, JG_ZONE_TOTAL, &fig);
    r->source = jg_energy_source_name(jg_meter_source(st->meter));
    r->energy_valid = fig.valid;
    r->energy_j = fig.j;
    r->energy_s = fig.valid ? fig.dt_s : seconds;
    r->energy_status = fig.valid ? "ok" : jg_zone_status_name(fig.why);
    snprintf(r->trace_name, sizeof r->trace_name, "%s", st->trace_name);
    int rc = jg_run_add_rank_parts(st, current, err);
    if (rc) return rc;
    if (jg_run_cluster()->size > 1) r->cluster = jg_run_cluster_json(current, r->source);
    r->breakdown = jg_run_probe_take(st->probe);
    st->probe = NULL;
    rc = jg_breakdown_finish(r->breakdown);
    if (!rc) rc = jg_breakdown_write_csv(r->breakdown, r->dir);
    if (rc)
        return jg_run_fail(err, rc, "writing the energy breakdown to %s: %s", r->dir, strerror(-rc));
    // Figures never fail the run: the line says what is missing.
    r->figures_rc = jg_breakdown_write_figures(r->breakdown, r->dir, r->figures_msg,
                                               sizeof r->figures_msg);
    if (r->figures_rc < 0)
        snprintf(r->figures_msg, sizeof r->figures_msg, "figures: cannot write the data and "
                 "scripts in %s: %s", r->dir, strerror(-r->figures_rc));
    return 0;
}

static void log_start(const jg_run_train_state_t *st, const jg_data_prepared_t *dp,
                      int done_before)
{
    const jg_run_train_config_t *cfg = st->cfg;
    if (cfg->quiet) return;
    jg_logf(cfg->log, JG_LOG_NOTE, "train: model %s (%lld params, %.2f MFLOP/image forward), "
            "%s: %d train / %d val / %d test images, %s lr %g, batch %d, epochs %d, isa %s, "
            "threads %d, energy %s, out %s", cfg->model, (long long)jg_model_n_params(st->model),
            jg_model_fwd_flops(st->model) * 1e-6, cfg->data.name, dp->train.n, dp->val.n,
            dp->test.n, jg_optim_kind_name(cfg->optim.kind), (double)cfg->optim.lr, cfg->batch,
            cfg->epochs, jg_isa_name(jg_kernels_isa()), jg_kernels_threads(),
            jg_energy_source_name(jg_meter_source(st->meter)), st->res->dir);
    if (cfg->resume)
        jg_logf(cfg->log, JG_LOG_NOTE, "train: resuming %s after epoch %d of %d", st->ckpt,
                done_before, cfg->epochs);
}

static int check_config(const jg_run_train_config_t *cfg, jg_run_error_t *err)
{
    if (!cfg || !cfg->model || !cfg->out || !cfg->data.name || cfg->epochs < 1 ||
        cfg->batch < 1 || !(cfg->val_fraction >= 0 && cfg->val_fraction < 1) ||
        cfg->train_limit < 0 || cfg->test_limit < 0 || cfg->patience < 0 ||
        !(cfg->idle_s >= 0) || !(cfg->assume_w >= 0))
        return jg_run_fail(err, -EINVAL, "bad training run settings");
    if (cfg->patience > 0 && cfg->val_fraction <= 0)
        return jg_run_fail(err, -EINVAL, "--patience needs a validation set: add --val-fraction F "
                    "(e.g. 0.1)");
    if (cfg->idle_s > 0 && cfg->energy == JG_ENERGY_MODE_OFF)
        return jg_run_fail(err, -EINVAL, "--idle-seconds needs an energy source: drop --energy off");
    return 0;
}

/* 1 when the resumed checkpoint already holds the whole run and its summary
 * is written: nothing to do, and nothing is rewritten. */
static int already_finished(const jg_run_train_state_t *st, const jg_checkpoint_t *ck)
{
    const jg_run_train_config_t *cfg = st->cfg;
    const jg_train_state_t *s = &ck->meta.state;
    char path[4300];
    snprintf(path, sizeof path, "%s/summary.json", st->res->dir);
    const int done = s->epochs_done >= cfg->epochs ||
                     (cfg->patience > 0 && cfg->val_fraction > 0 && s->bad_epochs >= cfg->patience);
    return done && access(path, F_OK) == 0;
}

/* Training with the meter read around the loop; the last checkpoint and
 * energy part when they are not written every epoch. */
static int train_measured(jg_run_train_state_t *st, jg_trainer_t *tr, jg_run_error_t *err)
{
    const jg_run_train_config_t *cfg = st->cfg;
    jg_run_train_result_t *res = st->res;
    const int done_before = jg_trainer_epochs_done(tr);
    jg_energy_sample_t s0, s1;
    if (st->meter) jg_meter_read(st->meter, &s0);
    const double t0 = jg_now_s();
    int rc = jg_trainer_run(tr);
    const double t1 = jg_now_s();
    if (st->meter) jg_meter_read(st->meter, &s1);
    if (rc) return run_failed(st, tr, rc, err);
    res->epochs_done = jg_trainer_epochs_done(tr);
    res->stopped_early = jg_trainer_stopped_early(tr);
    if (st->lead && (!cfg->ckpt_every || res->epochs_done == done_before)) {
        rc = jg_run_save_checkpoint(st, tr);
        if (!rc) rc = jg_run_write_epochs_csv(st->csv, jg_trainer_history(tr), res->epochs_done);
        if (rc) return jg_run_fail(err, rc, "%s", st->err[0] ? st->err : strerror(-rc));
    }
    if (cfg->energy == JG_ENERGY_MODE_OFF) return 0;
    cJSON *current = jg_run_current_parts(st); // collective: before any rank returns
    if (!st->lead) {
        cJSON_Delete(current);
        return 0;
    }
    if ((rc = jg_run_write_parts(st, current))) {
        cJSON_Delete(current);
        return jg_run_fail(err, rc, "%s: %s", st->parts_path, strerror(-rc));
    }
    rc = st->meter ? finish_energy(st, &s0, &s1, t1 - t0, current, err) : 0;
    cJSON_Delete(current);
    return rc;
}

/* Locks the run directory (rank 0), reads a resumed checkpoint, prepares the
 * data and builds the model and trainer (every rank). *created: this call
 * made the directory. */
static int start_run(jg_run_train_state_t *st, jg_checkpoint_t *ck, jg_data_prepared_t *dp,
                     jg_trainer_t **tr, int *created, jg_run_error_t *err)
{
    const jg_run_train_config_t *cfg = st->cfg;
    jg_run_train_result_t *res = st->res;
    jg_nn_error_t nerr = {{0}};
    jg_data_error_t derr = {{0}};
    int rc = 0;
    // One process per run directory, locked before anything in it is read.
    *created = access(res->dir, F_OK) != 0;
    if (st->lead) rc = jg_run_lock_dir(res->dir, &st->lock_fd, err);
    if ((rc = jg_run_agreed(rc, err))) return rc;
    if (cfg->resume && (rc = jg_checkpoint_load(st->ckpt, ck, &nerr)))
        jg_run_fail(err, rc = rc == -EINVAL ? -EBADMSG : rc, "cannot resume: %s", nerr.msg);
    else if (!cfg->resume && access(st->ckpt, F_OK) == 0)
        rc = jg_run_fail(err, -EINVAL, "%s already holds a run: add --resume to continue it, or "
                         "choose another --out", res->dir);
    if ((rc = jg_run_agreed(rc, err))) return rc;
    const jg_data_prep_config_t dcfg = {
        .source = cfg->data, .train = 1, .train_limit = cfg->train_limit,
        .subset_seed = cfg->seed ^ JG_RUN_SEED_TRAIN_SUBSET, .val_fraction = cfg->val_fraction,
        .split_seed = cfg->seed ^ JG_RUN_SEED_VAL_SPLIT, .test = 1, .test_limit = cfg->test_limit,
    };
    if ((rc = jg_data_prepare(&dcfg, dp, &derr))) jg_run_fail(err, rc, "%s", derr.msg);
    res->n_train = st->n_train = dp->train.n;
    res->n_val = dp->val.n;
    res->n_test = dp->test.n;
    if (!rc) rc = build(st, dp, ck, tr, err);
    return jg_run_agreed(rc, err);
}

/* Rank 0: the test set and summary.json. */
static int finish_run(jg_run_train_state_t *st, jg_trainer_t *tr, jg_data_prepared_t *dp,
                      jg_run_error_t *err)
{
    jg_run_train_result_t *res = st->res;
    const jg_nn_data_t testv = jg_run_data_view(&dp->test);
    int rc = jg_evaluate(st->model, &testv, &res->eval);
    if (rc) return jg_run_fail(err, rc, "evaluating the test set: %s", strerror(-rc));
    res->class_names = dp->train.class_names;
    res->classes = dp->train.classes;
    dp->train.class_names = NULL;
    char path[4300];
    snprintf(path, sizeof path, "%s/summary.json", res->dir);
    rc = jg_run_write_summary(st, tr, dp, path);
    if (rc) jg_run_fail(err, rc, "%s: %s", path, strerror(-rc));
    return rc;
}

static void idle_baseline(const jg_run_train_state_t *st)
{
    const jg_run_train_config_t *cfg = st->cfg;
    if (!st->probe || !(cfg->idle_s > 0)) return;
    if (!cfg->quiet)
        jg_logf(cfg->log, JG_LOG_NOTE, "train: measuring idle power for %g s (keep the machine "
                "quiet)", cfg->idle_s);
    const int irc = jg_breakdown_idle(jg_run_probe_breakdown(st->probe), cfg->idle_s);
    if (irc)
        jg_logf(cfg->log, JG_LOG_NOTE, "no idle baseline (%s during the idle window); the figures "
                "stay gross", irc == -EIO ? "a meter zone faulted" : strerror(-irc));
}

int jg_run_train(const jg_run_train_config_t *cfg, jg_run_train_result_t *res,
                 jg_run_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!res) return jg_run_fail(err, -EINVAL, "no result");
    memset(res, 0, sizeof *res);
    res->source = "off";
    res->energy_status = "off";
    int rc = check_config(cfg, err);
    if (rc) return rc;
    jg_run_train_state_t st;
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    st.res = res;
    st.lock_fd = -1;
    st.lead = jg_run_cluster()->rank == 0;
    st.source = "off";
    res->secondary = !st.lead;
    snprintf(res->dir, sizeof res->dir, "%s", cfg->out);
    snprintf(st.ckpt, sizeof st.ckpt, "%s/checkpoint.jgc", res->dir);
    snprintf(st.csv, sizeof st.csv, "%s/epochs.csv", res->dir);
    snprintf(st.parts_path, sizeof st.parts_path, "%s/energy_parts.json", res->dir);
    jg_checkpoint_t ck;
    memset(&ck, 0, sizeof ck);
    jg_data_prepared_t dp;
    memset(&dp, 0, sizeof dp);
    jg_trainer_t *tr = NULL;
    int created = 0;

    if ((rc = start_run(&st, &ck, &dp, &tr, &created, err))) goto done;
    if (cfg->resume && already_finished(&st, &ck)) {
        res->nothing_to_do = 1;
        res->epochs_done = ck.meta.state.epochs_done;
        goto done;
    }
    if (st.lead && cfg->resume && cfg->energy != JG_ENERGY_MODE_OFF)
        rc = jg_run_read_parts(&st, err);
    st.invocation = jg_run_invocation(st.prior);
    if (!rc) rc = jg_cl_bcast(&st.invocation, sizeof st.invocation, 0);
    if (!rc && st.lead && cfg->resume &&
        (rc = jg_run_write_epochs_csv(st.csv, jg_trainer_history(tr), jg_trainer_epochs_done(tr))))
        jg_run_fail(err, rc, "%s: %s", st.csv, strerror(-rc));
    if (!rc) rc = open_energy(&st, err);
    if ((rc = jg_run_agreed(rc, err))) goto done;
    if (st.lead) log_start(&st, &dp, jg_trainer_epochs_done(tr));
    idle_baseline(&st);
    if ((rc = train_measured(&st, tr, err))) goto done;
    if (st.lead) rc = finish_run(&st, tr, &dp, err);

done:
    jg_run_probe_destroy(st.probe);
    jg_meter_close(st.meter);
    jg_trainer_destroy(tr);
    jg_model_destroy(st.model);
    jg_checkpoint_free(&ck);
    jg_data_prepared_free(&dp);
    cJSON_Delete(st.prior);
    // A directory this call made and left without a checkpoint is removed
    // again, so a failed start leaves no trace.
    if (st.lead) jg_run_unlock_dir(res->dir, st.lock_fd, rc && created && !res->saved_epochs);
    return rc;
}

void jg_run_train_result_free(jg_run_train_result_t *res)
{
    if (!res) return;
    jg_eval_free(&res->eval);
    jg_breakdown_destroy(res->breakdown);
    cJSON_Delete(res->cluster);
    res->cluster = NULL;
    for (int k = 0; res->class_names && k < res->classes; k++) free(res->class_names[k]);
    free(res->class_names);
    res->class_names = NULL;
    res->breakdown = NULL;
}
