/* SPDX-License-Identifier: MIT */
/*
 * tune_pool.c - `mpirun -n N joulegrad tune`: rank 0 runs the studies
 * (proposals, trial log, resume, budget, ASHA, comparison) with the other
 * N-1 ranks as a pool of workers, one slot each (tuning/'s asynchronous
 * evaluator); each worker trains the trials it is sent with its own kernel
 * threads and meter, exactly as one process would (a trial's seed is the
 * study's seed + its number, wherever it runs).
 *
 * Messages are fixed-size structs sent as bytes: the ranks run the same
 * build (a homogeneous cluster). rank 0 -> worker: a job or stop; worker
 * -> rank 0: the job's result. After an error rank 0 tells every worker to
 * stop; a worker asks between batches and cancels its trial, so the job
 * ends without waiting for it (the log's proposal lines let a resume
 * submit it again).
 *
 * Energy: a trial's joules must be its own. A worker alone on its node can
 * read the node's RAPL packages around its trial; workers sharing a node
 * cannot tell their trials apart in one counter, so then (and when some
 * worker cannot read RAPL) every worker estimates its own CPU time, and the
 * study has one source, never a mix (docs/scaling.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trial_internal.h"

enum { TAG_JOB = 101, TAG_STOP = 102, TAG_RESULT = 103 };
#define PATH_CAP 4096

typedef struct {
    int64_t trial;
    int rung, epochs, from_epochs;
    char strategy[32];
    jg_tune_point_t params;
    char resume_path[PATH_CAP], save_path[PATH_CAP]; /* "": none */
} job_msg_t;

typedef struct {
    int rc;
    jg_tune_trial_t t;
    char msg[512];
} result_msg_t;

/* Rank 0's view: the trial each worker (rank w + 1) runs, or -1. */
typedef struct {
    int workers, running;
    int64_t *busy;
} pool_t;

static int stop_asked(void)
{
    return jg_cl_pending(0, TAG_STOP);
}

int jg_run_pool_meters(trial_env_t *e, jg_energy_mode_t mode, double assume_w,
                       const char **source, char *note, size_t cap, jg_run_error_t *err)
{
    const jg_run_cluster_t *cl = jg_run_cluster();
    const int worker = cl->rank > 0;
    const int on_node = cl->node_size - (cl->node == 0); // rank 0 only coordinates
    const int shared = on_node > 1;
    char why[JG_ENERGY_TEXT_MAX * 2] = ""; // this worker's reason to estimate
    int rc = 0;
    if (worker && mode == JG_ENERGY_MODE_RAPL && shared) {
        rc = jg_run_fail(err, -EINVAL, "--energy rapl: %d workers share node %d (%s), so one "
                         "trial's joules cannot be read from its RAPL packages; start one "
                         "worker per node, or use --energy estimate", on_node, cl->node, cl->host);
    } else if (worker) {
        rc = jg_run_trial_meter(e, mode, assume_w, why, sizeof why, err);
    }
    if ((rc = jg_run_agreed(rc, err))) return rc;
    // One source for the study: rapl only when every worker reads it alone.
    const int rapl = !worker || (!strcmp(e->source, "rapl") && !shared);
    const char *agreed = mode == JG_ENERGY_MODE_OFF ? "off" : "estimate";
    if (mode != JG_ENERGY_MODE_OFF && jg_cl_agree(rapl ? 0 : -1) == 0) {
        agreed = "rapl";
    } else if (worker && e->meter && !strcmp(e->source, "rapl")) {
        if (shared)
            snprintf(why, sizeof why, "%d workers share node %d's RAPL packages, so each "
                     "trial's joules are estimated from its worker's CPU time", on_node, cl->node);
        jg_meter_close(e->meter);
        e->meter = NULL;
        char unused[JG_ENERGY_TEXT_MAX * 2];
        rc = jg_run_trial_meter(e, JG_ENERGY_MODE_ESTIMATE, assume_w, unused, sizeof unused, err);
    }
    if ((rc = jg_run_agreed(rc, err))) return rc;
    *source = agreed; // may be &e->source
    // The first worker's reason, at rank 0.
    char text[sizeof why + 32];
    snprintf(text, sizeof text, "rank %d: %s", cl->rank, why);
    int n = 0;
    char **texts = jg_cl_gather_text(why[0] ? text : NULL, 0, &n);
    note[0] = '\0';
    if (n == 1) snprintf(note, cap, "%s", texts[0]);
    if (n > 1) snprintf(note, cap, "%s (and %d other rank%s)", texts[0], n - 1, n > 2 ? "s" : "");
    jg_cl_free_texts(texts, n);
    return 0;
}

static int pool_submit(void *ctx, const jg_tune_job_t *job, char *msg, size_t cap)
{
    pool_t *p = ctx;
    int w = 0;
    while (w < p->workers && p->busy[w] >= 0) w++;
    if (w == p->workers) {
        snprintf(msg, cap, "no idle worker for trial %lld", (long long)job->trial + 1);
        return -EAGAIN;
    }
    job_msg_t *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(msg, cap, "out of memory");
        return -ENOMEM;
    }
    m->trial = job->trial;
    m->rung = job->rung;
    m->epochs = job->epochs;
    m->from_epochs = job->from_epochs;
    m->params = *job->params;
    int rc = 0;
    if (snprintf(m->strategy, sizeof m->strategy, "%s", job->strategy) >= (int)sizeof m->strategy ||
        snprintf(m->resume_path, PATH_CAP, "%s", job->resume_path ? job->resume_path : "") >=
            PATH_CAP ||
        snprintf(m->save_path, PATH_CAP, "%s", job->save_path ? job->save_path : "") >= PATH_CAP)
        rc = -ENAMETOOLONG;
    if (rc) snprintf(msg, cap, "trial %lld: a path is longer than %d bytes",
                     (long long)job->trial + 1, PATH_CAP - 1);
    else if ((rc = jg_cl_send(m, sizeof *m, w + 1, TAG_JOB)))
        snprintf(msg, cap, "MPI: cannot reach rank %d", w + 1);
    free(m);
    if (rc) return rc;
    p->busy[w] = job->trial;
    p->running++;
    return 0;
}

/* One worker's result; that worker is idle again. 0, or -EIO when no
 * worker's result came. */
static int pool_receive(pool_t *p, result_msg_t *r, int *from)
{
    if (jg_cl_recv(r, sizeof *r, -1, from, NULL) || *from < 1 || *from > p->workers ||
        p->busy[*from - 1] < 0)
        return -EIO;
    p->busy[*from - 1] = -1;
    p->running--;
    r->msg[sizeof r->msg - 1] = '\0';
    return 0;
}

static int pool_wait(void *ctx, jg_tune_trial_t *out, char *msg, size_t cap)
{
    result_msg_t r;
    int from = 0;
    if (pool_receive(ctx, &r, &from)) {
        out->trial = -1;
        snprintf(msg, cap, "MPI: lost contact with the workers");
        return -EIO;
    }
    *out = r.t;
    if (r.rc) snprintf(msg, cap, "rank %d, trial %lld: %s", from, (long long)r.t.trial + 1, r.msg);
    return r.rc;
}

/* Every worker told to stop; the results of trials still running (now
 * cancelled) received and dropped. */
static void pool_stop(pool_t *p)
{
    const int stop = 0;
    for (int w = 0; w < p->workers; w++) jg_cl_send(&stop, sizeof stop, w + 1, TAG_STOP);
    result_msg_t r;
    int from = 0;
    while (p->running > 0 && !pool_receive(p, &r, &from)) {}
}

int jg_run_pool_study(jg_tune_study_t *study, const char *source, const jg_log_t *log,
                      jg_tune_error_t *err)
{
    pool_t p = {.workers = jg_run_cluster()->size - 1};
    p.busy = malloc((size_t)p.workers * sizeof *p.busy);
    if (!p.busy) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -ENOMEM;
    }
    for (int w = 0; w < p.workers; w++) p.busy[w] = -1;
    const jg_tune_async_evaluator_t ev = {
        .slots = p.workers, .submit = pool_submit, .wait = pool_wait, .ctx = &p,
        .energy_source = source,
    };
    const int rc = jg_tune_study_run_async(study, &ev, log, err);
    pool_stop(&p);
    free(p.busy);
    return rc;
}

int jg_run_pool_serve(trial_env_t *e)
{
    job_msg_t *m = malloc(sizeof *m);
    result_msg_t *r = malloc(sizeof *r);
    int rc = m && r ? 0 : -ENOMEM, tag = 0;
    e->stop = stop_asked;
    while (!rc && !(rc = jg_cl_recv(m, sizeof *m, 0, NULL, &tag)) && tag == TAG_JOB) {
        m->strategy[sizeof m->strategy - 1] = '\0';
        m->resume_path[PATH_CAP - 1] = m->save_path[PATH_CAP - 1] = '\0';
        const jg_tune_job_t job = {
            .trial = m->trial, .rung = m->rung, .epochs = m->epochs,
            .from_epochs = m->from_epochs, .strategy = m->strategy, .params = &m->params,
            .resume_path = m->resume_path[0] ? m->resume_path : NULL,
            .save_path = m->save_path[0] ? m->save_path : NULL,
        };
        memset(r, 0, sizeof *r);
        r->rc = jg_run_eval_trial(e, &job, &r->t, r->msg, sizeof r->msg);
        r->t.trial = m->trial;
        r->t.rung = m->rung;
        rc = jg_cl_send(r, sizeof *r, 0, TAG_RESULT);
    }
    free(m);
    free(r);
    return rc;
}
