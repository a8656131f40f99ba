/* SPDX-License-Identifier: MIT */
/* Internal to jg_run: the measured training run's state (train.c) and its
 * run-directory files (train_files.c). */
#ifndef JG_RUN_TRAIN_INTERNAL_H
#define JG_RUN_TRAIN_INTERNAL_H

#include "jg_run.h"

/* Everything the trainer callbacks and the file writers need. */
typedef struct {
    const jg_run_train_config_t *cfg;
    jg_run_train_result_t *res;
    char ckpt[4200], csv[4200];
    jg_checkpoint_meta_t meta;  /* template: state is filled at each save */
    jg_model_t *model;
    jg_meter_t *meter;
    double last_poll_s;         /* meter watchdog (jg_run_poll_meter) */
    jg_run_probe_t *probe;      /* per-layer energy; NULL with energy off */
    double w_per_core;          /* estimate's assumption, for the reports */
    char energy_detail[JG_ENERGY_TEXT_MAX]; /* the fallback line, or "" */
    const char *source;         /* the meter's source ("off" without one): every rank's */
    int n_train;                /* training images, for the last batch's size */
    struct cJSON *prior;        /* earlier invocations' energy parts (array), or NULL */
    char parts_path[4200];      /* DIR/energy_parts.json */
    char trace_name[64];        /* this invocation's raw trace file */
    int lock_fd;                /* the run directory's lock */
    int invocation;             /* this invocation of the run: 1, 2, ... */
    int lead;                   /* rank 0 of a job (or alone): writes the files */
    char err[4400];             /* why on_epoch failed */
} jg_run_train_state_t;

/* epochs.csv from the trainer's history (epoch numbered from 1; val_*
 * empty without validation), atomically. 0 or a negative errno. */
int jg_run_write_epochs_csv(const char *path, const jg_epoch_stats_t *h, int n);
/* checkpoint.jgc from the trainer; sets res->saved_epochs or st->err. */
int jg_run_save_checkpoint(jg_run_train_state_t *st, jg_trainer_t *tr);
/* 0 when cfg describes the run in checkpoint meta m; else -EINVAL with the
 * first setting that differs in err ("cannot resume: ..."). */
int jg_run_check_resume(const jg_run_train_config_t *cfg, const jg_checkpoint_meta_t *m,
                        const char *spec, const jg_dataset_t *train, const float *mean,
                        const float *std, jg_run_error_t *err);
/* Reads the earlier invocations' energy parts of a resumed run into
 * st->prior (none: NULL and a note in the log). 0 or -EINVAL with err. */
int jg_run_read_parts(jg_run_train_state_t *st, jg_run_error_t *err);
/* Writes DIR/energy_parts.json: the earlier parts and current, this
 * invocation's so far (every rank's in a job). 0 or a negative errno. */
int jg_run_write_parts(jg_run_train_state_t *st, const struct cJSON *current);

/* ---- over the ranks of a job (train_cluster.c) ---- */

/* 1 when this rank reads meter: every rank with the estimate, one per node
 * with RAPL (the node's ranks share its packages). */
int jg_run_reads_meter(const jg_meter_t *meter);
/* The invocation after the earlier parts' (1 without). */
int jg_run_invocation(const struct cJSON *prior);
/* Collective: every rank's energy part of this invocation so far (tagged
 * with invocation, and rank, node and host in a job), gathered at rank 0 as
 * a JSON array; NULL on the other ranks. */
struct cJSON *jg_run_current_parts(jg_run_train_state_t *st);
/* Rank 0: adds the other ranks' parts of current into its breakdown. */
int jg_run_add_rank_parts(jg_run_train_state_t *st, const struct cJSON *current,
                          jg_run_error_t *err);
/* Rank 0: the `cluster` object of summary.json's energy (ranks, nodes, who
 * read, per node its source and joules). */
struct cJSON *jg_run_cluster_json(const struct cJSON *current, const char *source);
/* Writes DIR/summary.json. 0 or a negative errno. */
int jg_run_write_summary(const jg_run_train_state_t *st, jg_trainer_t *tr,
                         const jg_data_prepared_t *dp, const char *path);

#endif
