#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds joulegrad in Release (build/joulegrad) and
# runs the main job: the default CNN, 2 epochs on the full Fashion-MNIST
# training set, evaluated on its test set; results in runs/quickstart.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
build/joulegrad info
# A finished earlier quickstart is kept: remove runs/quickstart to train again.
if [ -e runs/quickstart/summary.json ]; then
  echo "runs/quickstart already holds a finished run (summary.json); remove it to train again"
  exit 0
fi
resume=()
[ -e runs/quickstart/checkpoint.jgc ] && resume=(--resume)
build/joulegrad train --model default --epochs 2 --out runs/quickstart "${resume[@]}"
