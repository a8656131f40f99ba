#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""PyTorch side of bench/train_vs_torch.sh (benchmark peer only; not a test).

Trains the network given as a joulegrad spec (canonical text from
`joulegrad models --json`) on Fashion-MNIST with the same semantics as
`joulegrad train`:
- Data: the IDX files of Debian's dataset-fashion-mnist. Normalisation uses the
  mean and std of the training images. --train-limit takes the first N images
  (joulegrad is run with the same limit).
- Initialisation: the scheme joulegrad uses (docs/model-spec.md). That is
  He-normal (kaiming_normal_, fan_in, relu) when the net has a relu and
  Xavier-uniform otherwise. Biases are zero.
- Optimizer: Adam(lr, betas, eps). Each epoch is one seeded random
  permutation, cut into batches that keep the last partial batch.
- Threads: torch.set_num_threads(T).
It prints one JSON object: seconds per epoch (each epoch and the median; the
training loop only), test accuracy and loss, and peak resident memory (MiB).

Run with Debian's interpreter (/usr/bin/python3 has python3-torch).
"""
import argparse
import gzip
import json
import re
import resource
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def build(spec, c, h, w, classes):
    """Layers of a canonical joulegrad spec, e.g. 'conv(32,3,pad=1) relu maxpool(2) ...'."""
    layers, has_relu = [], False
    for name, args in re.findall(r"([a-z_0-9]+)(?:\(([^)]*)\))?", spec):
        pos = [a for a in (args or "").split(",") if a and "=" not in a]
        kw = dict(a.split("=") for a in (args or "").split(",") if "=" in a)
        if name in ("conv", "conv2d"):
            k = int(pos[1]) if len(pos) > 1 else int(kw["k"])
            stride = int(pos[2]) if len(pos) > 2 else int(kw.get("stride", 1))
            pad = int(pos[3]) if len(pos) > 3 else int(kw.get("pad", 0))
            layers.append(nn.Conv2d(c, int(pos[0]), k, stride, pad))
            c = int(pos[0])
            h, w = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
        elif name in ("maxpool", "maxpool2d", "avgpool", "avgpool2d"):
            k = int(pos[0]) if pos else int(kw["k"])
            stride = int(pos[1]) if len(pos) > 1 else int(kw.get("stride", k))
            pool = nn.MaxPool2d if name.startswith("max") else nn.AvgPool2d
            layers.append(pool(k, stride))
            h, w = (h - k) // stride + 1, (w - k) // stride + 1
        elif name in ("batchnorm", "batchnorm2d"):
            layers.append(nn.BatchNorm2d(c, eps=float(kw.get("eps", 1e-5)),
                                         momentum=float(kw.get("momentum", 0.1))))
        elif name == "relu":
            layers.append(nn.ReLU())
            has_relu = True
        elif name == "flatten":
            layers.append(nn.Flatten())
            c, h, w = c * h * w, 1, 1
        elif name == "linear":
            if h * w != 1:
                layers.append(nn.Flatten())
                c, h, w = c * h * w, 1, 1
            layers.append(nn.Linear(c, int(pos[0])))
            c = int(pos[0])
        else:
            raise SystemExit(f"torch_train.py: layer '{name}' not supported here")
    if c != classes:
        raise SystemExit(f"torch_train.py: the spec ends with {c} outputs, not {classes}")
    net = nn.Sequential(*layers)
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            if has_relu:
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            else:
                nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--spec", required=True)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train-limit", type=int, default=0)
    ap.add_argument("--data-dir", default=DATA)
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xtr = load_idx(f"{a.data_dir}/train-images-idx3-ubyte.gz").astype(np.float32) / 255
    ytr = load_idx(f"{a.data_dir}/train-labels-idx1-ubyte.gz").astype(np.int64)
    xte = load_idx(f"{a.data_dir}/t10k-images-idx3-ubyte.gz").astype(np.float32) / 255
    yte = load_idx(f"{a.data_dir}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if a.train_limit:
        xtr, ytr = xtr[:a.train_limit], ytr[:a.train_limit]
    mean, std = float(xtr.mean()), float(xtr.std())
    xtr = torch.from_numpy((xtr - mean) / std).unsqueeze(1)
    xte = torch.from_numpy((xte - mean) / std).unsqueeze(1)
    ytr, yte = torch.from_numpy(ytr), torch.from_numpy(yte)

    net = build(a.spec, 1, 28, 28, 10)
    opt = torch.optim.Adam(net.parameters(), lr=a.lr)
    gen = torch.Generator().manual_seed(a.seed)
    epoch_s = []
    for _ in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(ytr), generator=gen)
        for i in range(0, len(ytr), a.batch):
            idx = perm[i:i + a.batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        epoch_s.append(time.perf_counter() - t0)
    net.eval()
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, len(yte), 1000):
            out = net(xte[i:i + 1000])
            total_loss += F.cross_entropy(out, yte[i:i + 1000], reduction="sum").item()
            correct += (out.argmax(1) == yte[i:i + 1000]).sum().item()
    print(json.dumps({
        "peer": "pytorch", "torch": torch.__version__, "threads": a.threads,
        "epochs": a.epochs, "batch": a.batch, "seconds_per_epoch": statistics.median(epoch_s),
        "epoch_seconds": epoch_s, "test_accuracy": correct / len(yte),
        "test_loss": total_loss / len(yte),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
