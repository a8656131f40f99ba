/* SPDX-License-Identifier: MIT */
/* profile.c - N training steps of a model with every layer bracketed by the
 * energy meter (jg_run_profile): the quick per-layer breakdown for a class,
 * and what examples/layer_energy.c shows. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jg_run.h"
#include "run_internal.h"

typedef struct {
    jg_breakdown_t *bd;
    int n, batch;    /* training images, images per step */
    int steps, want; /* done, asked for */
} prof_t;

static int on_batch(void *ctx, const jg_train_progress_t *p)
{
    prof_t *r = ctx;
    const int left = r->n - (p->batch - 1) * r->batch;
    jg_breakdown_step_done(r->bd, left < r->batch ? left : r->batch);
    return ++r->steps >= r->want;
}

/* The meter for cfg (the fallback line goes to the log). */
static int open_meter(const jg_run_profile_config_t *cfg, jg_meter_t **meter,
                      jg_energy_source_t *source, jg_run_error_t *err)
{
    char brief[JG_ENERGY_TEXT_MAX * 3];
    const int rc = jg_run_open_meter(meter, cfg->energy, cfg->assume_w, cfg->idle_w, brief,
                                     sizeof brief, NULL, 0, err);
    if (rc) return rc;
    if (!*meter) return jg_run_fail(err, -EINVAL, "--energy: profile needs a meter");
    if (brief[0]) jg_logf(cfg->log, JG_LOG_NOTE, "%s", brief);
    *source = jg_meter_source(*meter);
    return 0;
}

int jg_run_profile(const jg_run_profile_config_t *cfg, jg_run_profile_result_t *res,
                   jg_run_error_t *err)
{
    if (err) err->msg[0] = '\0';
    if (!res) return jg_run_fail(err, -EINVAL, "no result");
    memset(res, 0, sizeof *res);
    if (!cfg || !cfg->model || !cfg->data.name || cfg->steps < 1 || cfg->batch < 1 ||
        cfg->energy == JG_ENERGY_MODE_OFF || !(cfg->idle_s >= 0))
        return jg_run_fail(err, -EINVAL, "bad profile settings");
    jg_data_prepared_t dp;
    jg_model_t *model = NULL;
    jg_trainer_t *tr = NULL;
    jg_meter_t *meter = NULL;
    jg_run_probe_t *probe = NULL;
    jg_nn_error_t nerr = {{0}};
    jg_data_error_t derr = {{0}};
    prof_t r = {.batch = cfg->batch, .want = cfg->steps};

    // Data: a seeded subset of steps x batch images (all when fewer), normalised.
    const int64_t want_n = (int64_t)cfg->steps * cfg->batch;
    const jg_data_prep_config_t dcfg = {
        .source = cfg->data, .train = 1, .train_limit = want_n < INT32_MAX ? (int)want_n : 0,
        .subset_seed = cfg->seed ^ JG_RUN_SEED_PROFILE_SUBSET,
    };
    int rc = jg_data_prepare(&dcfg, &dp, &derr);
    if (rc) return jg_run_fail(err, rc, "%s", derr.msg);
    r.n = dp.train.n;
    rc = jg_model_create(&model, cfg->model, dp.train.c, dp.train.h, dp.train.w,
                         dp.train.classes, cfg->seed, &nerr);
    if (rc) {
        jg_run_fail(err, rc == -ENOENT ? -EINVAL : rc, "--model: %s", nerr.msg);
        goto done;
    }
    res->fwd_flops = jg_model_fwd_flops(model);
    if (jg_model_spec(model, res->spec, sizeof res->spec)) res->spec[0] = '\0';
    rc = jg_model_reserve(model, cfg->batch);
    if (rc) {
        jg_run_fail(err, rc, "cannot reserve activations for --batch %d: %s", cfg->batch, strerror(-rc));
        goto done;
    }
    const int per_epoch = (dp.train.n + cfg->batch - 1) / cfg->batch;
    jg_train_config_t tc = {.epochs = (cfg->steps + per_epoch - 1) / per_epoch,
                            .batch = cfg->batch, .seed = cfg->seed, .on_batch = on_batch,
                            .ctx = &r};
    jg_optim_defaults(&tc.optim, JG_OPT_ADAM);
    const jg_nn_data_t tv = jg_run_data_view(&dp.train);
    rc = jg_trainer_create(&tr, model, &tc, &tv, NULL, &nerr);
    if (rc) {
        jg_run_fail(err, rc, "%s", nerr.msg[0] ? nerr.msg : strerror(-rc));
        goto done;
    }
    if ((rc = open_meter(cfg, &meter, &res->source, err))) goto done;
    char tpath[4400];
    if (cfg->out) {
        rc = jg_mkdir_p(cfg->out);
        if (rc) {
            jg_run_fail(err, rc, "cannot create --out %s: %s", cfg->out, strerror(-rc));
            goto done;
        }
        snprintf(tpath, sizeof tpath, "%s/energy_trace.jsonl", cfg->out);
    }
    const jg_run_probe_config_t pc = {
        .trace_path = cfg->out ? tpath : NULL,
        .w_per_core = cfg->assume_w > 0 ? cfg->assume_w : JG_ESTIMATE_DEFAULT_W_PER_CORE,
    };
    rc = jg_run_probe_create(&probe, model, meter, &pc);
    if (rc) {
        jg_run_fail(err, rc, "cannot set up the energy trace: %s", strerror(-rc));
        goto done;
    }
    r.bd = jg_run_probe_breakdown(probe);
    if (cfg->idle_s > 0) {
        const int irc = jg_breakdown_idle(r.bd, cfg->idle_s);
        if (irc)
            jg_logf(cfg->log, JG_LOG_NOTE, "no idle baseline (%s during the idle window); the "
                    "figures stay gross", irc == -EIO ? "a meter zone faulted" : strerror(-irc));
    }
    rc = jg_trainer_run(tr);
    res->steps = r.steps;
    if (rc == -ECANCELED) rc = 0; /* stopped after the steps asked for */
    if (rc == -ERANGE) {
        jg_run_fail(err, rc, "the training loss became NaN or infinite after %d steps", r.steps);
        goto done;
    }
    res->breakdown = jg_run_probe_take(probe);
    probe = NULL;
    if (!rc) rc = jg_breakdown_finish(res->breakdown);
    if (!rc && cfg->out) rc = jg_breakdown_write_csv(res->breakdown, cfg->out);
    if (rc) {
        jg_run_fail(err, rc, "%s", strerror(-rc));
        goto done;
    }
    if (cfg->out) { // figures never fail the run: the line says what is missing
        res->figures_rc = jg_breakdown_write_figures(res->breakdown, cfg->out, res->figures_msg,
                                                     sizeof res->figures_msg);
        if (res->figures_rc < 0)
            snprintf(res->figures_msg, sizeof res->figures_msg, "figures: cannot write the "
                     "data and scripts in %s: %s", cfg->out, strerror(-res->figures_rc));
    }
done:
    jg_run_probe_destroy(probe);
    jg_meter_close(meter);
    jg_trainer_destroy(tr);
    jg_model_destroy(model);
    jg_data_prepared_free(&dp);
    return rc;
}

void jg_run_profile_result_free(jg_run_profile_result_t *res)
{
    if (!res) return;
    jg_breakdown_destroy(res->breakdown);
    res->breakdown = NULL;
}
