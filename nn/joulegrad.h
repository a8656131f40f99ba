/* SPDX-License-Identifier: MIT */
/*
 * joulegrad.h - the installed C API of joulegrad's training engine, for
 * programs that embed it (e.g. an accelerator port's test harness): build a
 * model from a spec or preset (jg_model_create), load weights from a
 * checkpoint (jg_checkpoint_load + jg_checkpoint_restore or
 * jg_checkpoint_model), run jg_model_forward / jg_model_loss /
 * jg_model_backward, and read every activation and gradient through
 * jg_model_layer (jg_layer_info_t: in, out, dout, weight, dweight, bias,
 * dbias). The kernels (SGEMM, conv2d, ... with their _ref twins) are in
 * jg_kernels.h, included here.
 *
 * Build against the installed library with
 *   cc app.c $(pkg-config --cflags --libs joulegrad)
 * The contract of each function is in jg_kernels.h and jg_nn.h: 0 or a
 * negative errno, nothing prints or exits.
 */
#ifndef JOULEGRAD_H
#define JOULEGRAD_H

#include "jg_kernels.h"
#include "jg_nn.h"

#define JOULEGRAD_VERSION_MAJOR 0
#define JOULEGRAD_VERSION_MINOR 1
#define JOULEGRAD_VERSION_PATCH 0

#endif /* JOULEGRAD_H */
