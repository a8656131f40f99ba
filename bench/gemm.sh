#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs `joulegrad bench gemm` over the SGEMM size matrix against OpenBLAS in
# both of its kernel choices on this machine (its default detection, which
# calls Zen 5 "Haswell", and OPENBLAS_CORETYPE=SkylakeX, the AVX-512 kernels)
# and prints a markdown table of medians over REPS runs of each point.
#
# usage: bench/gemm.sh [path/to/joulegrad]   (default: build/joulegrad)
# env:   REPS (default 3), THREADS (default 2); OMP_WAIT_POLICY is passed
#        through and printed: on a machine where other processes keep a core
#        busy, libgomp's default spin-waiting makes 2-thread calls stall for
#        whole scheduler slices (8 ms); OMP_WAIT_POLICY=passive avoids that.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/joulegrad}
reps=${REPS:-3}
threads=${THREADS:-2}
if [[ ! -x $bin ]]; then
  echo "gemm.sh: $bin not found; build first (cmake --build build)" >&2
  exit 2
fi
command -v jq >/dev/null || { echo "gemm.sh: needs jq (apt-get install jq)" >&2; exit 2; }

# "m n k trans threads" per point; the last is a conv2d-like layer (3x3 conv,
# 32 in / 64 out channels, 14x14 output) as conv calls it: one image, serial.
points=()
for s in 128 256 512 1024 2048; do points+=("$s $s $s NN $threads"); done
points+=("1024 1024 1024 NT $threads" "1024 1024 1024 TN $threads" "64 196 288 NN 1")

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }

isa=$("$bin" info | awk '/selected/ { print $2 }')
echo "SGEMM, isa=$isa, OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}, $reps runs per point (medians;" \
  "range of joulegrad GFLOPS in brackets), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo
echo "| m x n x k | trans | threads | OpenBLAS core | joulegrad GFLOPS | OpenBLAS GFLOPS | ratio jg/OB | jg % peak |"
echo "|---|---|---|---|---|---|---|---|"
for core in default SkylakeX; do
  for pt in "${points[@]}"; do
    read -r m n k tr t <<<"$pt"
    out=$(mktemp)
    for ((r = 0; r < reps; r++)); do
      if [[ $core == default ]]; then
        "$bin" bench gemm --m "$m" --n "$n" --k "$k" --trans "$tr" --threads "$t" --json >>"$out"
      else
        OPENBLAS_CORETYPE=$core "$bin" bench gemm --m "$m" --n "$n" --k "$k" --trans "$tr" \
          --threads "$t" --json >>"$out"
      fi
    done
    jg=$(jq .gflops "$out" | median)
    range=$(jq .gflops "$out" | spread)
    ob=$(jq .openblas_gflops "$out" | median)
    ratio=$(jq .ratio "$out" | median)
    peak=$(jq .peak_fraction "$out" | median)
    name=$(jq -r .openblas_core "$out" | head -1)
    printf "| %sx%sx%s | %s | %s | %s | %.1f (%s) | %.1f | %.3f | %.1f%% |\n" \
      "$m" "$n" "$k" "$tr" "$t" "$name" "$jg" "$range" "$ob" "$ratio" "$(echo "$peak * 100" | bc -l)"
    rm -f "$out"
  done
done
