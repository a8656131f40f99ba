#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""
make_fixtures.py - PyTorch reference fixtures for test/nn/test_torch_parity.c.

Run by hand (not in CI), from the repository root, with Debian's python3-torch
(1.13) and numpy:

    /usr/bin/python3 test/torch/make_fixtures.py            # writes test/fixtures/
    /usr/bin/python3 test/torch/make_fixtures.py --out DIR

then rebuild and run `ctest -R test_torch_parity`. The output is a pure
function of SEED and the torch version (CPU, one thread).

What it computes, for the presets `default` and `paper-simplecnn` on a
1x28x28 input with 10 classes (the layers are written out below exactly as
`jg_nn_preset_expand` expands them, so nn.Sequential index i is joulegrad
layer i):
  - PyTorch's default initialisation (kaiming_uniform a=sqrt(5), uniform
    biases; batchnorm gamma 1, beta 0, running mean 0, var 1) under
    torch.manual_seed(SEED), a batch of BATCH randn images and randint labels;
  - in training mode (model.train(): batchnorm uses batch statistics), STEPS
    steps of torch.optim.Adam(lr=1e-3, default betas/eps), each one
    zero_grad, forward, mean cross-entropy, backward, step, on the same batch;
  - the logits, the loss and every parameter gradient of the first step, the
    batchnorm running mean/var after the first forward, the loss of every
    step, and the parameters and running mean/var after the last step.
The reference is computed in float64 from the float32 initial weights and
inputs (so it carries no float32 rounding noise of its own) and stored as
float32. The script also reruns in float32 and prints PyTorch's own
float32-vs-float64 error per tensor with the plain metric
max|a - b| / max(max|b|, 1e-6) over all elements. It shows why the C test
exempts Adam elements with a noise-level gradient (see its header): a conv
bias feeding a batchnorm has a zero gradient in exact arithmetic, and Adam
turns its rounding noise into steps of about lr, so PyTorch float32 itself
is off by ~1e-2 there (and ~3e-4 on a few weights of the big linear layer
whose gradient is tiny).

File format (all integers u32 little-endian, floats f32 little-endian IEEE):
    magic     8 bytes  "JGTORCH\\0"
    version   u32      1
    count     u32      number of tensors that follow
    count times:
      name_len u32     1..63
      name     name_len bytes, ASCII, not NUL-terminated, unique in the file
      flags    u32     0: full data; 1: sampled
      ndim     u32     0..8 (0 is a scalar)
      dims     ndim x u32, each >= 1: the FULL shape of the tensor
      if flags == 0:
        data   prod(dims) x f32, row-major (C order)
      if flags == 1 (tensors of more than 4096 elements):
        n      u32     number of samples (4096)
        index  n x u32 flat row-major indices, strictly increasing, < prod(dims);
                       index[k] = floor(k * prod(dims) / n), evenly strided
        data   n x f32 the values at those indices
    nothing after the last tensor.

Tensor names (i is the nn.Sequential / joulegrad layer index):
    input (B,C,H,W); labels (B) as exact float integers; logits (B,K);
    loss () of step 1; losses (STEPS); adam (5) = lr, beta1, beta2, eps, STEPS;
    init.i.{weight,bias,running_mean,running_var}   full, before step 1;
    grad.i.{weight,bias}                            step 1, sampled if large;
    step1.i.{running_mean,running_var}              after the first forward;
    final.i.{weight,bias,running_mean,running_var}  after STEPS, sampled if large.
Weights are in PyTorch layout, which is also joulegrad's: conv (K,C,KH,KW),
linear (out,in), batchnorm (C).

Size: about 1.86 MB (default) + 1.19 MB (paper-simplecnn). The full initial
weights dominate (421,642 + 252,565 floats = 2.7 MB); the batch of 8 images
is 25 KB, so a smaller batch would not make the files much smaller.
"""
import argparse
import copy
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 20240601
BATCH = 8
STEPS = 3
LR = 1e-3
C, H, W, CLASSES = 1, 28, 28, 10
MAX_FULL = 4096  # tensors larger than this are stored as MAX_FULL samples
MAGIC = b"JGTORCH\0"
VERSION = 1
TINY = 1e-6  # floor of the relative-error denominator, as in the C test


def build(preset):
    """The preset's layers, in joulegrad's order (see docs/model-spec.md)."""
    if preset == "default":
        # conv(32,3,pad=1) relu maxpool(2) conv(64,3,pad=1) relu maxpool(2)
        # flatten linear(128) relu linear(10)
        layers = [nn.Conv2d(C, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                  nn.Linear(128, CLASSES)]
    elif preset == "paper-simplecnn":
        # conv(3,3,pad=1) batchnorm relu maxpool(2) conv(9,3,pad=1) batchnorm
        # relu maxpool(2) flatten linear(392) relu linear(196) relu linear(10)
        bn = dict(eps=1e-5, momentum=0.1)  # joulegrad's batchnorm defaults
        chw = C * H * W
        layers = [nn.Conv2d(C, 3, 3, padding=1), nn.BatchNorm2d(3, **bn), nn.ReLU(),
                  nn.MaxPool2d(2),
                  nn.Conv2d(3, 9, 3, padding=1), nn.BatchNorm2d(9, **bn), nn.ReLU(),
                  nn.MaxPool2d(2),
                  nn.Flatten(), nn.Linear(9 * 7 * 7, chw // 2), nn.ReLU(),
                  nn.Linear(chw // 2, chw // 4), nn.ReLU(), nn.Linear(chw // 4, CLASSES)]
    else:
        raise ValueError(preset)
    return nn.Sequential(*layers)


def state(net):
    """Parameters and batchnorm buffers by name, without num_batches_tracked."""
    return {k: v.detach().clone() for k, v in net.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def train(net0, x, y, dtype):
    """STEPS Adam steps in training mode; returns the first step's logits, loss,
    gradients and batchnorm running statistics, every step's loss, and the
    final state."""
    net = copy.deepcopy(net0).to(dtype)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    x = x.to(dtype)
    losses, first = [], None
    for t in range(STEPS):
        opt.zero_grad()
        logits = net(x)
        loss = F.cross_entropy(logits, y)  # mean over the batch
        loss.backward()
        if t == 0:
            grads = {k: p.grad.detach().clone() for k, p in net.named_parameters()}
            stats = {k: v for k, v in state(net).items() if k.endswith(("_mean", "_var"))}
            first = (logits.detach().clone(), loss.detach().clone(), grads, stats)
        opt.step()
        losses.append(loss.item())
    return first + (torch.tensor(losses, dtype=torch.float64), state(net))


def rel_err(a, b):
    a = a.double().flatten()
    b = b.double().flatten()
    return ((a - b).abs().max() / max(b.abs().max().item(), TINY)).item()


class Writer:
    def __init__(self):
        self.records = []
        self.names = set()

    def add(self, name, t, sample=False):
        assert name not in self.names and 0 < len(name) < 64, name
        self.names.add(name)
        a = t.detach().cpu().double().numpy().astype("<f4", order="C")  # keeps 0-d
        dims = list(a.shape)
        rec = struct.pack("<I", len(name)) + name.encode("ascii")
        flat = a.reshape(-1)
        if sample and flat.size > MAX_FULL:
            n = flat.size
            idx = (np.arange(MAX_FULL, dtype=np.int64) * n) // MAX_FULL
            rec += struct.pack("<II", 1, len(dims)) + struct.pack("<%dI" % len(dims), *dims)
            rec += struct.pack("<I", MAX_FULL) + idx.astype("<u4").tobytes()
            rec += flat[idx].astype("<f4").tobytes()
        else:
            rec += struct.pack("<II", 0, len(dims)) + struct.pack("<%dI" % len(dims), *dims)
            rec += flat.tobytes()
        self.records.append(rec)

    def write(self, path):
        blob = MAGIC + struct.pack("<II", VERSION, len(self.records)) + b"".join(self.records)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(blob)
        os.replace(tmp, path)
        return len(blob)


def make(preset, out_dir):
    torch.manual_seed(SEED)
    net = build(preset)  # float32, PyTorch's default init
    x = torch.randn(BATCH, C, H, W)
    y = torch.randint(0, CLASSES, (BATCH,))
    init = state(net)

    logits, loss, grads, stats, losses, final = train(net, x, y, torch.float64)
    l32, s32, g32, st32, ls32, f32 = train(net, x, y, torch.float32)

    w = Writer()
    w.add("input", x)
    w.add("labels", y.double())
    w.add("logits", logits)
    w.add("loss", loss)
    w.add("losses", losses)
    w.add("adam", torch.tensor([LR, 0.9, 0.999, 1e-8, STEPS], dtype=torch.float64))
    for k, v in init.items():
        w.add("init." + k, v)
    for k, v in grads.items():
        w.add("grad." + k, v, sample=True)
    for k, v in stats.items():
        w.add("step1." + k, v)
    for k, v in final.items():
        w.add("final." + k, v, sample=True)
    path = os.path.join(out_dir, "torch_%s.bin" % preset)
    size = w.write(path)

    print("%s: %d bytes, loss %.6f -> %.6f after %d Adam steps" %
          (path, size, losses[0].item(), losses[-1].item(), STEPS))
    print("  PyTorch float32 vs float64, max|a-b| / max(max|b|, %g), all elements:" % TINY)
    print("    %-28s %.2e" % ("logits", rel_err(l32, logits)))
    print("    %-28s %.2e" % ("loss", rel_err(s32, loss)))
    print("    %-28s %.2e" % ("losses", rel_err(ls32, losses)))
    for k in grads:
        print("    %-28s %.2e" % ("grad." + k, rel_err(g32[k], grads[k])))
    for k in stats:
        print("    %-28s %.2e" % ("step1." + k, rel_err(st32[k], stats[k])))
    for k in final:
        print("    %-28s %.2e" % ("final." + k, rel_err(f32[k], final[k])))
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "fixtures")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    total = sum(make(p, args.out) for p in ("default", "paper-simplecnn"))
    print("total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
