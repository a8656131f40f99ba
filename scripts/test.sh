#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds joulegrad (Release, in build/) and runs the whole test suite with ctest.
# Extra arguments go to cmake, e.g. scripts/test.sh -DJG_WERROR=ON
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"
