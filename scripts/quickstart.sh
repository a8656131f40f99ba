#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds joulegrad in Release (build/joulegrad) and
# runs the main job. Until the training engine lands the main job is the
# kernel benchmark: SGEMM against OpenBLAS and the default CNN's conv layers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
threads=$(nproc)
build/joulegrad info
build/joulegrad bench gemm --m 1024 --n 1024 --k 1024 --threads "$threads"
build/joulegrad bench conv --preset default --threads "$threads"
