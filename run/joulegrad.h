/* SPDX-License-Identifier: MIT */
/*
 * joulegrad.h - the installed C API of joulegrad, for programs that embed it
 * (a course exercise, an accelerator port's test harness, a study of your
 * own). One include gives every module:
 *
 *   jg_run.h       what a user runs: a measured training run with its run
 *                  directory (jg_run_train), N profiled steps with the
 *                  per-layer energy (jg_run_profile), a checkpoint's test
 *                  accuracy and predictions, a tuning study, the reproduction
 *   jg_nn.h        the engine: models from specs and presets, forward, loss,
 *                  backward, every activation and gradient (jg_model_layer),
 *                  optimizers, the trainer, checkpoints
 *   jg_kernels.h   SGEMM, conv2d, activations, pooling, ... with _ref twins
 *   jg_energy.h    the meter (rapl, estimate), traces and the per-region
 *                  breakdown
 *   jg_tuning.h    search spaces, strategies, Bayesian optimisation, ASHA,
 *                  the trial log and the study loop
 *   jg_datasets.h  Fashion-MNIST, CIFAR-10, image folders, synthetic data
 *   jg_common.h    files, text buffers, figures, the clock
 *
 * Build against the installed library with
 *   cc app.c $(pkg-config --cflags --libs joulegrad)
 * examples/ holds small programs that do exactly this. The contract of each
 * function is in its module's header: 0 or a negative errno, nothing prints
 * or exits.
 */
#ifndef JOULEGRAD_H
#define JOULEGRAD_H

#include "jg_common.h"
#include "jg_datasets.h"
#include "jg_energy.h"
#include "jg_kernels.h"
#include "jg_nn.h"
#include "jg_run.h"
#include "jg_tuning.h"

#define JOULEGRAD_VERSION_MAJOR 0
#define JOULEGRAD_VERSION_MINOR 1
#define JOULEGRAD_VERSION_PATCH 0

#endif /* JOULEGRAD_H */
