/* SPDX-License-Identifier: MIT */
/*
 * jg_nn.h - joulegrad's training engine, part 1: layers, the model spec
 * parser, presets, forward/backward over preallocated arenas, and a
 * finite-difference gradient checker.
 *
 * Contract
 *  - Every function that can fail returns 0 or a negative errno value
 *    (-EINVAL bad argument or bad spec, -ENOMEM allocation failure, -ENOSPC a
 *    buffer reserved earlier is too small now). Parse and shape errors also
 *    fill a caller-provided jg_nn_error_t (may be NULL) with one line such as
 *    "spec:1:17: unknown layer 'cnv' (expected one of conv, linear, ...)".
 *    Nothing here prints or exits.
 *  - Layout is NCHW float32. A model owns four arenas (llm.c style):
 *    parameters, gradients (same layout as the parameters, so an optimizer
 *    runs one kernel over the whole arena), non-trainable buffers (batchnorm
 *    running statistics) and activations (sized by jg_model_reserve), plus one
 *    conv workspace shared by every conv layer. jg_model_forward, _loss and
 *    _backward allocate nothing.
 *  - The spec syntax, presets, initialisation and FLOP conventions are
 *    documented in docs/model-spec.md.
 */
#ifndef JG_NN_H
#define JG_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One line describing the first parse or shape error. */
typedef struct {
    char msg[256];
} jg_nn_error_t;

/* ------------------------------------------------------------------ */
/* Layer kinds                                                         */
/* ------------------------------------------------------------------ */

typedef enum {
    JG_LAYER_CONV2D = 0,
    JG_LAYER_LINEAR,
    JG_LAYER_RELU,
    JG_LAYER_LEAKY_RELU,
    JG_LAYER_SIGMOID,
    JG_LAYER_TANH,
    JG_LAYER_MAXPOOL2D,
    JG_LAYER_AVGPOOL2D,
    JG_LAYER_BATCHNORM2D,
    JG_LAYER_DROPOUT,
    JG_LAYER_FLATTEN,
    JG_LAYER_SOFTMAX_XENT, /* the loss; never part of a spec, always last */
    JG_LAYER_KIND_COUNT
} jg_layer_kind_t;

/* Type name used in specs and reports: "conv2d", "linear", "relu",
 * "leaky_relu", "sigmoid", "tanh", "maxpool2d", "avgpool2d", "batchnorm2d",
 * "dropout", "flatten", "softmax_xent"; "?" when out of range. */
const char *jg_nn_kind_name(jg_layer_kind_t kind);
/* Energy group: "conv", "linear", "relu" (relu, leaky_relu), "pool",
 * "batchnorm", "loss", "other" (sigmoid, tanh, dropout, flatten). */
const char *jg_nn_kind_group(jg_layer_kind_t kind);

/* ------------------------------------------------------------------ */
/* Spec parsing (no model needed)                                      */
/* ------------------------------------------------------------------ */

/* One parsed layer. Fields a kind does not use are 0. */
typedef struct {
    jg_layer_kind_t kind;
    int line, col;         /* 1-based position of the layer name in the spec */
    int out;               /* conv: output channels; linear: output features */
    int kh, kw;            /* conv / pool window */
    int stride_h, stride_w;
    int pad_h, pad_w;
    float eps, momentum;   /* batchnorm */
    float p;               /* dropout probability */
    float slope;           /* leaky_relu */
} jg_layer_spec_t;

/* Parse `spec` into at most `cap` layers; *count gets the number parsed.
 * Syntax errors only (no shapes). Returns 0, -EINVAL (err says where), or
 * -ENOSPC when there are more than `cap` layers. */
int jg_nn_parse(const char *spec, jg_layer_spec_t *layers, int cap, int *count,
                jg_nn_error_t *err);

/* ------------------------------------------------------------------ */
/* Presets                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;        /* "default", "lenet5", "paper-simplecnn", ... */
    const char *params;      /* accepted parameters, e.g. "conv=2,linear=3" */
    const char *description; /* one line */
} jg_nn_preset_t;

/* The preset table; *count gets its length. */
const jg_nn_preset_t *jg_nn_presets(int *count);

/* Expand "name" or "name:key=value,..." for an input of c x h x w pixels and
 * `classes` classes into spec text in buf (NUL-terminated). Returns 0,
 * -EINVAL (unknown preset, bad parameter, or a depth at which the feature
 * map vanishes; err explains), -ENOENT when `name` is not a preset at all
 * (err still filled), or -ENOSPC when buf is too small. */
int jg_nn_preset_expand(const char *preset, int c, int h, int w, int classes,
                        char *buf, size_t cap, jg_nn_error_t *err);

/* ------------------------------------------------------------------ */
/* Models                                                              */
/* ------------------------------------------------------------------ */

typedef struct jg_model jg_model_t;

/* Build a model from spec text, or from a preset name (with parameters) when
 * the whole text names a preset. Input is (c, h, w) per image; the last layer
 * must output exactly `classes` values per image (no auto-append: err says
 * to end the spec with linear(classes)). Weights are initialised from
 * `seed` (He-normal when the net has a relu/leaky_relu, else Xavier-uniform).
 * Activations are not reserved yet: call jg_model_reserve. */
int jg_model_create(jg_model_t **model, const char *spec, int c, int h, int w,
                    int classes, uint64_t seed, jg_nn_error_t *err);
void jg_model_destroy(jg_model_t *model);

/* Re-initialise all parameters and buffers from `seed` (bit-identical for
 * the same seed and spec on every run and platform). */
int jg_model_init_params(jg_model_t *model, uint64_t seed);

/* Size the activation arena and the conv workspace for up to `batch` images
 * at the current kernel thread count. Call again after
 * jg_kernels_set_threads. Returns 0, -EINVAL or -ENOMEM. */
int jg_model_reserve(jg_model_t *model, int batch);

/* logits = model(x). x: (batch, C, H, W); must stay valid until backward.
 * training = 1 uses batch statistics and dropout (and advances the dropout
 * step); 0 uses running statistics and no dropout. *logits (may be NULL)
 * points at the (batch, classes) output inside the activation arena.
 * Returns 0, -EINVAL (NULL, batch < 1 or > reserved capacity), -ENOSPC (the
 * conv workspace is too small for the current thread count: reserve again),
 * or a kernel error. */
int jg_model_forward(jg_model_t *model, const float *x, int batch, int training,
                     const float **logits);

/* loss = mean softmax cross-entropy of the last forward's logits.
 * labels: (batch) in [0, classes); must stay valid until backward. */
int jg_model_loss(jg_model_t *model, const int32_t *labels, float *loss);

/* Backpropagate the last loss through every layer (the first layer skips its
 * input gradient unless jg_model_set_input_grad is on). Each layer zeroes
 * its parameter gradients and its input gradient inside its own probe
 * bracket before accumulating into them, so the step's energy is all
 * inside layer brackets. Needs a training
 * forward and a loss first (-EINVAL otherwise). */
int jg_model_backward(jg_model_t *model);

/* Also compute d loss / d x into the arena (gradient checks). */
void jg_model_set_input_grad(jg_model_t *model, int on);
/* d loss / d x of the last backward, (batch, C, H, W); NULL when off. */
const float *jg_model_input_grad(const jg_model_t *model);

/* The dropout mask of a training forward depends on (seed, step, layer,
 * element); the step advances by one per training forward. */
uint64_t jg_model_step(const jg_model_t *model);
void jg_model_set_step(jg_model_t *model, uint64_t step);

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

/* Everything a harness needs about layer i; pointers refer to the arenas
 * and are valid until the next reserve/destroy. Activations are for the
 * last forward's batch. A ReLU after conv, linear, batchnorm or pooling runs
 * in place (as PyTorch's ReLU(inplace=True)) and a flatten after another
 * layer is a view: such a layer's out and dout are those of the layer
 * before, which then shows the ReLU's output and gradient. */
typedef struct {
    jg_layer_kind_t kind;
    const char *type_name, *group_name;
    int line, col;                /* position in the spec (0 for the loss) */
    int in_c, in_h, in_w;         /* per image */
    int out_c, out_h, out_w;      /* per image */
    const float *in;              /* (B, in_c, in_h, in_w) input of the layer */
    float *out, *dout;            /* (B, out_c, out_h, out_w) output, grad */
    float *weight, *dweight;      /* conv (K,C,KH,KW); linear (out,in); bn gamma */
    float *bias, *dbias;          /* conv/linear bias; bn beta */
    size_t n_weight, n_bias;
    float *running_mean, *running_var; /* batchnorm buffers (C), else NULL */
    int64_t n_params;
    double fwd_flops, bwd_flops;  /* per image, training mode */
    jg_layer_spec_t spec;
} jg_layer_info_t;

/* Number of layers, not counting the loss. */
int jg_model_n_layers(const jg_model_t *model);
/* Layer i in [0, n_layers); i == n_layers is the loss (out = probs). */
int jg_model_layer(const jg_model_t *model, int i, jg_layer_info_t *info);

/* Input shape (c, h, w) and number of classes. */
void jg_model_input_shape(const jg_model_t *model, int *c, int *h, int *w);
int jg_model_classes(const jg_model_t *model);
/* Reserved batch capacity (0 before jg_model_reserve). */
int jg_model_capacity(const jg_model_t *model);

/* Trainable parameter count, and the arenas (n_params floats each). */
int64_t jg_model_n_params(const jg_model_t *model);
float *jg_model_params(jg_model_t *model);
float *jg_model_grads(jg_model_t *model);
/* Non-trainable buffers (batchnorm running mean/var), n_buffers floats. */
float *jg_model_buffers(jg_model_t *model, size_t *n_buffers);

/* FLOPs per image for a training forward and a backward, loss included. */
double jg_model_fwd_flops(const jg_model_t *model);
double jg_model_bwd_flops(const jg_model_t *model);

/* Canonical spec text of the model (round-trips through jg_model_create).
 * Returns 0 or -ENOSPC when buf is too small. */
int jg_model_spec(const jg_model_t *model, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Probes (energy attribution without a dependency on energy/)         */
/* ------------------------------------------------------------------ */

typedef enum {
    JG_NN_PHASE_FORWARD = 0,
    JG_NN_PHASE_BACKWARD = 1,
    JG_NN_PHASE_LOSS = 2,     /* loss forward; its backward is BACKWARD */
    JG_NN_PHASE_OPTIMIZER = 3, /* the optimizer step (layer -1) */
    JG_NN_PHASE_DATA = 4,      /* copying/normalising a batch (layer -1) */
    JG_NN_PHASE_COMM = 5       /* data parallelism: summing the gradients over the shards (layer -1) */
} jg_nn_phase_t;

typedef struct {
    void *ctx;
    void (*begin)(void *ctx, int layer, int phase);
    void (*end)(void *ctx, int layer, int phase);
} jg_nn_probe_t;

/* Called around every layer's forward and backward and the loss (layer index
 * n_layers); the trainer (jg_train) also brackets the optimizer step and each
 * batch's data preparation with layer -1. NULL removes it. The probe struct
 * is copied. */
void jg_model_set_probe(jg_model_t *model, const jg_nn_probe_t *probe);

/* ------------------------------------------------------------------ */
/* Optimizers and learning-rate schedules (PyTorch semantics)          */
/* ------------------------------------------------------------------ */

typedef enum { JG_OPT_SGD = 0, JG_OPT_ADAM, JG_OPT_ADAMW } jg_opt_kind_t;
typedef enum { JG_SCHED_CONSTANT = 0, JG_SCHED_STEP, JG_SCHED_COSINE } jg_sched_kind_t;

typedef struct {
    jg_opt_kind_t kind;
    float lr;
    float momentum;      /* SGD */
    int nesterov;        /* SGD (needs momentum > 0) */
    float weight_decay;  /* SGD, Adam: L2 added to the gradient; AdamW: decoupled */
    float beta1, beta2, eps; /* Adam, AdamW */
    jg_sched_kind_t schedule; /* stepped once per epoch, as PyTorch's schedulers */
    int step_size;       /* STEP: multiply lr by gamma every step_size epochs */
    float gamma;         /* STEP */
    int t_max;           /* COSINE: epochs of the half period (0: the run's epochs) */
    float min_lr;        /* COSINE: eta_min */
} jg_optim_config_t;

/* PyTorch's defaults for kind: SGD lr 0.01 momentum 0; Adam lr 1e-3, betas
 * (0.9, 0.999), eps 1e-8, wd 0; AdamW the same with wd 0.01; constant lr,
 * step_size 1, gamma 0.1, t_max 0, min_lr 0. */
void jg_optim_defaults(jg_optim_config_t *cfg, jg_opt_kind_t kind);
/* 0 or -EINVAL with err naming the bad field ("beta2 must be in [0, 1)"). */
int jg_optim_check(const jg_optim_config_t *cfg, jg_nn_error_t *err);
/* "sgd", "adam", "adamw" / "constant", "step", "cosine"; parsers return 0 or
 * -EINVAL. */
const char *jg_optim_kind_name(jg_opt_kind_t kind);
const char *jg_sched_kind_name(jg_sched_kind_t kind);
int jg_optim_kind_parse(const char *s, jg_opt_kind_t *kind);
int jg_sched_kind_parse(const char *s, jg_sched_kind_t *kind);
/* Learning rate for 0-based `epoch` of a run of `epochs` epochs. */
float jg_optim_lr_at(const jg_optim_config_t *cfg, int epoch, int epochs);

typedef struct jg_optim jg_optim_t;

/* Optimizer over a parameter arena of n_params floats; its state (SGD
 * momentum, Adam m and v) is zeroed. Returns 0, -EINVAL or -ENOMEM. */
int jg_optim_create(jg_optim_t **opt, const jg_optim_config_t *cfg, int64_t n_params);
void jg_optim_destroy(jg_optim_t *opt);
/* One update of params from grads at learning rate lr (the schedule's value
 * for this epoch); advances the step count t. Allocates nothing. */
int jg_optim_step(jg_optim_t *opt, float *params, const float *grads, float lr);
const jg_optim_config_t *jg_optim_config(const jg_optim_t *opt);
/* Steps taken so far; settable for checkpoint restore. */
int64_t jg_optim_steps(const jg_optim_t *opt);
void jg_optim_set_steps(jg_optim_t *opt, int64_t t);
/* The state arena (*n floats: 0 for SGD without momentum, n_params for SGD
 * momentum, 2 * n_params for Adam/AdamW as m then v) for checkpoints. */
float *jg_optim_state(const jg_optim_t *opt, size_t *n);

/* ------------------------------------------------------------------ */
/* Data views, evaluation and the training loop                        */
/* ------------------------------------------------------------------ */

/* A labelled dataset in memory, (n, c, h, w) float pixels (already
 * normalised) and labels in [0, classes). nn does not load files: datasets/
 * does, and the caller passes a view. */
typedef struct {
    int n, c, h, w, classes;
    const float *x;
    const int32_t *y;
} jg_nn_data_t;

typedef struct {
    int n;                /* examples evaluated */
    int classes;
    double loss;          /* mean cross-entropy */
    double accuracy;      /* fraction correct */
    double *class_accuracy; /* (classes); a class with no examples gets NAN */
    int64_t *confusion;   /* (classes x classes), row = true, column = predicted */
} jg_eval_t;

/* Inference-mode pass over data in batches of at most the model's capacity
 * (reserve first). loss is the mean over examples (each batch weighted by
 * its size); a prediction is the first largest logit. Fills *ev (allocating
 * its arrays; free with jg_eval_free, also safe after a failure). Returns 0,
 * -EINVAL (model not reserved, empty data, shape/classes mismatch, a label
 * outside [0, classes)), -ENOMEM or a kernel error. */
int jg_evaluate(jg_model_t *model, const jg_nn_data_t *data, jg_eval_t *ev);
void jg_eval_free(jg_eval_t *ev);

/* Per-epoch record, also what a checkpoint keeps of the history. */
typedef struct {
    int epoch;            /* 0-based */
    float lr;
    double train_loss;    /* mean over the epoch's examples (batch means
                             weighted by batch size), during training */
    double train_accuracy; /* argmax hits of the training forwards */
    double val_loss, val_accuracy; /* NAN without a validation set */
    double seconds;       /* wall time of the epoch (training + validation) */
    int64_t images;
} jg_epoch_stats_t;

/* Progress passed to on_batch after every batch's update (the epoch's last
 * call has batch == batches). Cheap: called on the hot path, must not block. */
typedef struct {
    int epoch, epochs;
    int batch, batches;   /* batch = batches done in this epoch, 1..batches */
    double running_loss;  /* mean per-example loss so far in this epoch */
    double images_per_s;
    double elapsed_s;     /* since the epoch started */
} jg_train_progress_t;

struct jg_trainer;

typedef struct {
    int epochs;
    int batch;            /* images per step; the last batch may be smaller */
    uint64_t seed;        /* shuffling: permutation of epoch e from (seed, e) */
    jg_optim_config_t optim;
    int patience;         /* early stopping: epochs without a val-loss gain (0: off) */
    /* Called after every batch (may be NULL). Return non-zero to stop the run
     * cleanly after this batch (jg_trainer_run returns -ECANCELED). */
    int (*on_batch)(void *ctx, const jg_train_progress_t *p);
    /* Called after every epoch (may be NULL), e.g. to write a checkpoint
     * and a line of epochs.csv. The epoch is already counted (get_state
     * includes it); a non-zero return aborts with that value. */
    int (*on_epoch)(void *ctx, const jg_epoch_stats_t *st, struct jg_trainer *tr);
    void *ctx;
    /* Synchronous data parallelism (shards > 1; 0 or 1: off). Every shard
     * draws the same permutation and takes its contiguous slice of each
     * batch (images [b * shard / shards, b * (shard + 1) / shards) of a batch
     * of b) and of the validation set. After backward it scales its
     * gradients by its slice's share of the batch, and reduce_f sums them
     * over the shards (bracketed by the probe as JG_NN_PHASE_COMM);
     * reduce_d sums the epoch's statistics. Both must sum in a fixed order
     * with the same result on every shard, so a run is bit-identical to
     * itself, and return 0 or a negative errno. Dropout masks follow the
     * image's index in the global batch; batch norm uses each shard's own
     * batch statistics (as PyTorch's DDP without SyncBatchNorm). */
    int shard, shards;
    int (*reduce_f)(void *ctx, float *buf, int64_t n);
    int (*reduce_d)(void *ctx, double *buf, int n);
} jg_train_config_t;

typedef struct jg_trainer jg_trainer_t;

/* A trainer owns the optimizer, the batch buffers and the run state (epoch,
 * early-stopping counters, history). The model must have been reserved for
 * cfg->batch. val may be NULL. The data views are copied but not their
 * arrays, which must outlive the trainer. Determinism: the same seed, data,
 * model and thread count give bit-identical weights and metrics.
 * Returns 0, -ENOMEM or -EINVAL (err says why: bad config, model not
 * reserved for cfg->batch, data not matching the model or a label out of
 * range, a schedule whose lr is not > 0 at some epoch of the run, a model
 * without parameters). */
int jg_trainer_create(jg_trainer_t **tr, jg_model_t *model, const jg_train_config_t *cfg,
                      const jg_nn_data_t *train, const jg_nn_data_t *val, jg_nn_error_t *err);
void jg_trainer_destroy(jg_trainer_t *tr);
/* Runs the remaining epochs (all of them, or those after a restored state).
 * Epoch e: lr = jg_optim_lr_at(e, epochs); a permutation drawn from
 * (seed, e) only; batches in that order (the last may be smaller); then
 * validation. Early stopping: with patience > 0 and val, stop once `patience`
 * consecutive epochs gave no val loss strictly below the best so far.
 * Returns 0 when done or stopped early (jg_trainer_stopped_early tells),
 * -ECANCELED when on_batch asked to stop, -ERANGE when a batch loss is NaN or
 * infinite (the run stops before that batch's update, so the weights stay
 * finite), on_epoch's non-zero value, or an error. After -ECANCELED or
 * -ERANGE the current epoch is not counted; a resume restarts it but the
 * weights hold its partial updates, so resume from a checkpoint instead. */
int jg_trainer_run(jg_trainer_t *tr);
int jg_trainer_stopped_early(const jg_trainer_t *tr);
/* Epochs completed so far and their records (valid until destroy). */
int jg_trainer_epochs_done(const jg_trainer_t *tr);
const jg_epoch_stats_t *jg_trainer_history(const jg_trainer_t *tr);
jg_optim_t *jg_trainer_optim(jg_trainer_t *tr);
jg_model_t *jg_trainer_model(jg_trainer_t *tr);

/* The resumable part of a run, saved in checkpoints at epoch boundaries. */
typedef struct {
    int epochs_done;
    int64_t optim_steps;
    uint64_t model_step;  /* jg_model_step (dropout stream) */
    double best_val_loss; /* INFINITY before the first validation */
    int bad_epochs;       /* epochs since best_val_loss improved */
} jg_train_state_t;

void jg_trainer_get_state(const jg_trainer_t *tr, jg_train_state_t *st);
/* Restore a run state (after loading weights and optimizer state) together
 * with its history of st->epochs_done records: sets the optimizer's step
 * count and the model's dropout step too. -EINVAL when epochs_done is outside
 * [0, cfg->epochs], a count is negative, best_val_loss is NaN, history is
 * NULL with epochs_done > 0, or history[i].epoch != i. */
int jg_trainer_set_state(jg_trainer_t *tr, const jg_train_state_t *st,
                         const jg_epoch_stats_t *history);

/* ------------------------------------------------------------------ */
/* Checkpoints                                                         */
/* ------------------------------------------------------------------ */

/* Smallest input normalisation std a checkpoint may hold. Pixels are in
 * [0, 1] in steps of 1/255; a channel with std below 1e-6 is constant to
 * 1/3900 of a grey level, and normalising by it turns a one-level change
 * into ~4000 standard deviations (1e-38 gives inf). jg_dataset_stats
 * floors std at the same value (JG_DATA_STD_MIN), so every checkpoint
 * joulegrad writes passes. */
#define JG_CKPT_STD_MIN 1e-6f

/* What a checkpoint holds besides the weights. */
typedef struct {
    char spec[4096];      /* canonical spec text (jg_model_spec) */
    int c, h, w, classes;
    float mean[4], std[4]; /* input normalisation per channel (c <= 4) */
    jg_optim_config_t optim;
    jg_train_state_t state;
    int epochs;           /* the run's planned epochs */
    int batch;
    uint64_t seed;
    char dataset[64];     /* e.g. "fashion-mnist" (informative) */
    /* The class names, classes entries (label k is class_names[k]), or NULL
     * for none. Save writes them when not NULL: each 1..255 bytes of UTF-8
     * without control characters, all distinct (jg_class_names_check in
     * jg_common.h), else -EINVAL. A parsed checkpoint points them into its
     * own storage (valid until jg_checkpoint_free; clear the pointer in a
     * copy of meta that outlives it) or sets NULL (version 1 files, files
     * saved without names). */
    const char *const *class_names;
} jg_checkpoint_meta_t;

/* Write model parameters and buffers, the optimizer state (opt may be NULL:
 * weights only), the run history, meta and its class names (when
 * meta->class_names is not NULL) to path atomically: a temporary
 * file in the same directory, fsync, rename, fsync of the directory. A crash
 * at any moment leaves either the old file or the new one. spec, c, h, w
 * and classes come from the model; with opt, its config and step count
 * replace meta->optim and meta->state.optim_steps. history holds
 * meta->state.epochs_done records with history[i].epoch == i. Returns 0,
 * -EINVAL when meta breaks the rules of docs/checkpoint-format.md, or a
 * negative errno (err says which step failed). */
int jg_checkpoint_save(const char *path, const jg_model_t *model, const jg_optim_t *opt,
                       const jg_checkpoint_meta_t *meta, const jg_epoch_stats_t *history,
                       jg_nn_error_t *err);

/* A parsed checkpoint: meta, the history, and views into its payload. */
typedef struct {
    jg_checkpoint_meta_t meta;
    jg_epoch_stats_t *history;   /* meta.state.epochs_done records */
    const float *params;  size_t n_params;
    const float *buffers; size_t n_buffers;
    const float *optim_state; size_t n_optim_state;
    void *blob;                  /* owns everything */
} jg_checkpoint_t;

/* Parse a checkpoint image in memory (the fuzz target's entry point). Every
 * size is checked against the buffer before use; the CRC32 must match.
 * Values a model cannot use are refused too, even with a valid CRC: a
 * parameter, buffer or optimizer state value that is NaN or infinite, a
 * negative Adam second moment, a normalisation mean that is not finite or
 * a std below JG_CKPT_STD_MIN. Returns 0, -EBADMSG (bad magic, truncated,
 * CRC mismatch, inconsistent sizes, a value above; err says which value
 * and where, e.g. "parameter 17 of 195 is nan"), -EPROTO (unsupported
 * version) or -ENOMEM; err names the problem.
 * On success *ck owns a copy (jg_checkpoint_free). */
int jg_checkpoint_parse(const void *buf, size_t len, jg_checkpoint_t *ck, jg_nn_error_t *err);
/* Read and parse a file (size capped at 2 GiB). -ENOENT/-EIO for I/O,
 * -EISDIR, -EINVAL for what is not a regular file (a FIFO or a device such
 * as /dev/zero: refused at once, never read or waited on), -EFBIG over
 * 2 GiB; err starts with the path. */
int jg_checkpoint_load(const char *path, jg_checkpoint_t *ck, jg_nn_error_t *err);
void jg_checkpoint_free(jg_checkpoint_t *ck);
/* Build the model the checkpoint describes, seeded with meta.seed (the
 * dropout stream), and copy its weights in (not reserved yet). -EINVAL when
 * the spec does not build or a batchnorm running variance is negative. */
int jg_checkpoint_model(const jg_checkpoint_t *ck, jg_model_t **model, jg_nn_error_t *err);
/* Copy weights (and optimizer state when opt is not NULL) into an existing
 * model; -EINVAL (err says what differs) when spec, shapes or sizes do not
 * match, or a batchnorm running variance is negative (nothing copied). */
int jg_checkpoint_restore(const jg_checkpoint_t *ck, jg_model_t *model, jg_optim_t *opt,
                          jg_nn_error_t *err);
/* Compares two class name lists, a[0..na) known as `a_what` (e.g. "the
 * checkpoint") and b[0..nb) as `b_what` (e.g. "the data"): label k must
 * mean the same class in both. 0 when they match, and when either list is
 * NULL (nothing to compare: check that first if it matters). -EINVAL when
 * they differ, with err one line naming the first difference: "the
 * checkpoint has 3 classes (cat, dog, fox), the data 4 (ant, bee, cow,
 * ...)", or "class 1 is 'dog' in the checkpoint but 'bee' in the data"
 * (plus "(the same names in another order)" when that is the case).
 * Names are shown with jg_text_escape. */
int jg_nn_class_names_compare(const char *const *a, int na, const char *a_what,
                              const char *const *b, int nb, const char *b_what,
                              jg_nn_error_t *err);

/* ------------------------------------------------------------------ */
/* Gradient checker                                                    */
/* ------------------------------------------------------------------ */

/* Compare backward's gradients with central differences
 * (L(v + eps) - L(v - eps)) / 2eps for n_samples values spread round-robin
 * over every parameter tensor and the input x (batch, C, H, W). The loss is
 * recomputed in double from the float logits so the only float noise is in
 * the logits. Error per value: |g - fd| / max(|g|, |fd|, 1e-2). A value
 * whose +-eps window crosses a kink (a relu/leaky_relu input changes sign or
 * a maxpool winner changes) is retried with eps/4 and eps/16, then redrawn
 * from the same tensor, up to 16 draws (the last one counts regardless).
 * Training mode with the dropout step held fixed; parameters, buffers and
 * the step are restored. Needs batch <= capacity. Returns 0 (and *max_rel_err), or a
 * negative errno. Allocates (not for hot paths). */
int jg_model_gradcheck(jg_model_t *model, const float *x, const int32_t *labels,
                       int batch, float eps, int n_samples, double *max_rel_err);

#ifdef __cplusplus
}
#endif

#endif /* JG_NN_H */
