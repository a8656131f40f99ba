/* SPDX-License-Identifier: MIT */
/* Internal to jg_run: helpers any file of the run layer may use. */
#ifndef JG_RUN_INTERNAL_H
#define JG_RUN_INTERNAL_H

#include "jg_run.h"

/* printf into err (when not NULL) and return rc. */
int jg_run_fail(jg_run_error_t *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* mkdir -p dir, then jg_dir_lock it into *fd; -EBUSY names the process that
 * holds it. 0 or a negative errno with err set. */
int jg_run_lock_dir(const char *dir, int *fd, jg_run_error_t *err);
/* Releases the lock; with remove_empty, a directory this call created and
 * nothing was written to is removed again (its lock file first). */
void jg_run_unlock_dir(const char *dir, int fd, int remove_empty);

/* In a job every rank must take the same path: a step one rank failed
 * fails on every rank (the others saying another rank has the reason).
 * Returns the agreed rc (jg_cl_agree). */
int jg_run_agreed(int rc, jg_run_error_t *err);

/* Opens *meter in mode (NULL with off; assume_w, idle_w: 0 for the
 * estimate's defaults). A failure is its errno with err saying "--energy:"
 * and the status line. After a fallback to the estimate its short line goes
 * to brief and its full one to detail (each "" otherwise; a cap of 0: not
 * wanted). */
int jg_run_open_meter(jg_meter_t **meter, jg_energy_mode_t mode, double assume_w, double idle_w,
                      char *brief, size_t brief_cap, char *detail, size_t detail_cap,
                      jg_run_error_t *err);
/* Between batches: polls meter (NULL: nothing) once half its poll interval
 * has passed since *last_s, so counter wraps are never missed in a long run. */
void jg_run_poll_meter(jg_meter_t *meter, double now, double *last_s);

/* ---- the cluster's collectives (cluster.c); one rank: no-ops ---- */

/* on: this rank works alone until off (a reproduction's sub-run): it sees a
 * one-rank cluster and the collectives below do nothing. */
void jg_cl_set_solo(int on);
/* Fixed-order sums over every rank, in place, the same on each (the
 * trainer's reduce_f / reduce_d). 0 or -EIO. */
int jg_cl_sum_f(void *ctx, float *buf, int64_t n);
int jg_cl_sum_d(void *ctx, double *buf, int n);
/* Every rank's rc, agreed: the most negative (0 only when all are 0). */
int jg_cl_agree(int rc);
/* buf from root to every rank. 0 or -EIO. */
int jg_cl_bcast(void *buf, int64_t bytes, int root);
/* At rank 0: the texts of every rank (or of each node's first rank) that
 * passed one, in rank order (*n of them, malloc'd; free with
 * jg_cl_free_texts); NULL elsewhere. */
char **jg_cl_gather_text(const char *text, int only_leaders, int *n);
void jg_cl_free_texts(char **texts, int n);
/* Point to point, for the tuning worker pool: from < 0 receives from any
 * rank; *source and *tag (may be NULL) say which. 0 or -EIO. */
int jg_cl_send(const void *buf, int64_t bytes, int to, int tag);
int jg_cl_recv(void *buf, int64_t bytes, int from, int *source, int *tag);
/* 1 when a message with tag from rank `from` is waiting (not received). */
int jg_cl_pending(int from, int tag);

#endif
