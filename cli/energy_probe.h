/* SPDX-License-Identifier: MIT */
/*
 * energy_probe.h - the glue between the nn probes and the energy trace, and
 * the per-layer / per-type breakdown built from it (cli/energy_probe.c).
 * Private to cli/: energy/ does not depend on nn/, so the mapping of
 * (layer, phase) to trace regions lives here.
 *
 * Regions, for a model of L layers (the loss is layer L):
 *   2i     layer i forward (i in 0..L-1), 2L the loss forward
 *   2i + 1 layer i backward (i in 0..L), 2L + 1 the loss backward
 *   2L + 2 optimizer step, 2L + 3 data (gathering the batch)
 * A step is bracketed from DATA begin (the first event of a batch) to
 * OPTIMIZER end (the last); probe events outside a step (validation,
 * evaluation) are ignored. The callbacks only read the meter into the
 * trace's preallocated ring: no allocation, no formatting.
 *
 * Contract: functions return 0 or a negative errno and never print, except
 * jg_cli_eprobe_print() which writes the tables to the stream it is given.
 */
#ifndef JG_CLI_ENERGY_PROBE_H
#define JG_CLI_ENERGY_PROBE_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "jg_energy.h"
#include "jg_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jg_cli_eprobe jg_cli_eprobe_t;

/* Installs a probe on model that traces every step on meter (both borrowed:
 * they must outlive the probe). trace_path, when not NULL, receives the raw
 * per-step trace (JSON lines, docs/energy.md) as trace_path + ".part",
 * renamed to trace_path by jg_cli_eprobe_finish(). w_per_core is the
 * estimate backend's assumption (reported only). Returns 0, -EINVAL,
 * -E2BIG (more layers than the trace's regions), -ENOMEM or an errno from
 * opening the file. */
int jg_cli_eprobe_create(jg_cli_eprobe_t **ep, jg_model_t *model, jg_meter_t *meter,
                         const char *trace_path, double w_per_core);
/* Removes the probe from the model and frees; a trace file not finished is
 * deleted. NULL is a no-op. */
void jg_cli_eprobe_destroy(jg_cli_eprobe_t *ep);

/* After each batch (outside the step bracket): writes the step's raw marks
 * to the trace file and flushes the trace into the attribution. images is
 * the batch size. Returns 0 or a negative errno (a write error). */
int jg_cli_eprobe_step_done(jg_cli_eprobe_t *ep, int images);

/* Once, after the last step: computes the breakdown and completes the trace
 * file. Returns 0 or a negative errno. */
int jg_cli_eprobe_finish(jg_cli_eprobe_t *ep);

/* Idle baseline, before the first step: sleeps JG_CLI_IDLE_SETTLE_S
 * (not counted: worker threads stop spin-waiting, cores reach idle states),
 * then seconds (in (0, 3600]) in slices of JG_CLI_IDLE_SLICE_S, reading the
 * meter after each.
 *   idle_w = E(window) / t(window)            (counted zones, W)
 *   noise  = standard deviation of the per-slice powers (W), with min, max
 * For `estimate` the process is asleep, so idle_w is the estimate's own
 * modelled idle power (0 unless configured) plus the wake-ups' CPU time:
 * not a measurement. Afterwards every figure also has a net-of-idle twin,
 * net_j = j - idle_w * seconds. Returns 0, -EINVAL, or -EIO when a zone
 * faulted during the window (no baseline is kept). */
#define JG_CLI_IDLE_SLICE_S 0.1
#define JG_CLI_IDLE_SETTLE_S 0.2
int jg_cli_eprobe_idle(jg_cli_eprobe_t *ep, double seconds);

/* After finish: the breakdown's total (J, energy inside the step brackets)
 * and bracketed time (s); *valid is 0 when a zone faulted. */
void jg_cli_eprobe_totals(const jg_cli_eprobe_t *ep, double *total_j, double *seconds,
                          int *valid);

/* After finish: per-type table, per-layer table and a bar chart of the
 * types, each headed by the source label. */
void jg_cli_eprobe_print(const jg_cli_eprobe_t *ep, FILE *f);

/* After finish: writes dir/energy_layers.csv and dir/energy_types.csv
 * atomically. Returns 0 or a negative errno. */
int jg_cli_eprobe_write_csv(const jg_cli_eprobe_t *ep, const char *dir);

/* After finish: gnuplot figures in dir: energy_types.{dat,gp,png,svg}
 * (stacked bars by layer type, forward vs backward, J) and
 * power.{dat,gp,png,svg} (average W per traced interval of steps vs time).
 * The data and scripts are always written; gnuplot (found on PATH) is run
 * on each script when present. msg receives one line for people: what was
 * written, or why the images are missing. Returns 0 when the images were
 * made, 1 when only data and scripts were (no gnuplot, or it failed), or a
 * negative errno when they could not be written. */
int jg_cli_eprobe_write_figures(const jg_cli_eprobe_t *ep, const char *dir, char *msg,
                                size_t cap);

/* After finish: the `energy` object of summary.json and `profile --json`
 * (docs/energy.md lists its fields). NULL when out of memory. */
cJSON *jg_cli_eprobe_json(const jg_cli_eprobe_t *ep);

#ifdef __cplusplus
}
#endif

#endif /* JG_CLI_ENERGY_PROBE_H */
