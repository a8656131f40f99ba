#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# SGEMM of joulegrad against its anchors at their best, over the size matrix:
# OpenBLAS with the fastest of its core types on this machine (calibrated
# first at 1024^3: its own detection, or OPENBLAS_CORETYPE set by the
# environment, is not always its fastest) and BLIS (its own detection; BLIS
# 0.9's BLIS_ARCH_TYPE override aborts in Debian's build). Every point runs
# REPS times, each run one `joulegrad bench gemm` process that times joulegrad
# and both anchors interleaved; the table shows medians, each anchor's best
# run and spread, and the ratio to the better anchor.
#
# usage: bench/gemm.sh [path/to/joulegrad]   (default: build/joulegrad)
# env:   REPS (default 3), THREADS (default 2), ISAS (default "native avx2":
#        the selected ISA, then the AVX2 path against AVX2 anchors:
#        OpenBLAS's fastest AVX2 core type and BLIS), CORES (OpenBLAS core
#        types to calibrate; default "Haswell Zen SkylakeX Cooperlake", AVX2
#        ones only for the avx2 section). OMP_WAIT_POLICY is passed through
#        and printed: on a machine where other processes keep a core busy,
#        libgomp's default spin-waiting makes 2-thread calls stall for whole
#        scheduler slices (8 ms); OMP_WAIT_POLICY=passive avoids that.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bin=${1:-build/joulegrad}
reps=${REPS:-3}
threads=${THREADS:-2}
isas=${ISAS:-native avx2}
cores=${CORES:-Haswell Zen SkylakeX Cooperlake}
if [[ ! -x $bin ]]; then
  echo "gemm.sh: $bin not found; build first (cmake --build build)" >&2
  exit 2
fi
command -v jq >/dev/null || { echo "gemm.sh: needs jq (apt-get install jq)" >&2; exit 2; }

spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }
best() { sort -g | tail -1; }

# One `bench gemm` run: jq-able JSON on stdout.
run() { # isa core m n k trans threads anchors
  local isa=$1 core=$2; shift 2
  local envs=(OPENBLAS_CORETYPE="$core")
  [[ $isa != native ]] && envs+=(JOULEGRAD_ISA="$isa")
  env "${envs[@]}" "$bin" bench gemm --m "$1" --n "$2" --k "$3" --trans "$4" --threads "$5" \
    --anchors "$6" --json
}

# The core type whose OpenBLAS runs fastest at 1024^3 (median of 3); the
# calibration table goes to the file $cal.
cal=$(mktemp)
trap 'rm -f "$cal"' EXIT
calibrate() { # isa
  local isa=$1 c out g bestc="" bestg=0
  echo "OpenBLAS core type calibration ($isa section), 1024^3 NN, $threads threads, 3 runs each:" >"$cal"
  for c in $cores; do
    if [[ $isa == avx2 && ( $c == SkylakeX || $c == Cooperlake ) ]]; then continue; fi
    out=$(mktemp)
    for ((r = 0; r < 3; r++)); do run "$isa" "$c" 1024 1024 1024 NN "$threads" openblas >>"$out"; done
    g=$(jq .openblas_gflops "$out" | median)
    printf '  %-10s median %.1f GFLOPS (runs %s; reports itself as %s)\n' "$c" "$g" \
      "$(jq .openblas_gflops "$out" | spread)" "$(jq -r .openblas_core "$out" | head -1)" >>"$cal"
    if (( $(echo "$g > $bestg" | bc -l) )); then bestg=$g; bestc=$c; fi
    rm -f "$out"
  done
  echo "$bestc"
}

# "m n k trans threads" per point; the last is a conv2d-like layer (3x3 conv,
# 32 in / 64 out channels, 14x14 output) as conv calls it: one image, serial.
points=()
for s in 128 256 384 512 768 1024 1536 2048; do points+=("$s $s $s NN $threads"); done
points+=("1024 1024 1024 NT $threads" "1024 1024 1024 TN $threads" "64 196 288 NN 1")

echo "SGEMM against OpenBLAS and BLIS at their best; OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-unset}," \
  "OPENBLAS_CORETYPE in the environment: ${OPENBLAS_CORETYPE:-unset} (overridden below)," \
  "$reps runs per point, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for isa in $isas; do
  core=$(calibrate "$isa")
  [[ -n $core ]] || { echo "gemm.sh: OpenBLAS did not run (libopenblas0 installed?)" >&2; exit 1; }
  label=$isa
  [[ $isa == native ]] && label=$("$bin" info | awk '/selected/ { print $2 }')
  echo
  cat "$cal"
  echo
  echo "joulegrad isa=$label; OpenBLAS at OPENBLAS_CORETYPE=$core (fastest above); BLIS its own" \
    "choice. jg/best: joulegrad's median over the better anchor's median; jg/best-run: over" \
    "the better anchor's fastest run."
  echo
  echo "| m x n x k | trans | threads | joulegrad GFLOPS (runs) | OpenBLAS median (best; runs) | BLIS median (best; runs) | jg/best | jg/best-run | jg % peak |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for pt in "${points[@]}"; do
    read -r m n k tr t <<<"$pt"
    out=$(mktemp)
    for ((r = 0; r < reps; r++)); do run "$isa" "$core" "$m" "$n" "$k" "$tr" "$t" openblas,blis >>"$out"; done
    jg=$(jq .gflops "$out" | median)
    ob=$(jq .openblas_gflops "$out" | median); obb=$(jq .openblas_gflops "$out" | best)
    bl=$(jq '.blis_gflops // 0' "$out" | median); blb=$(jq '.blis_gflops // 0' "$out" | best)
    peak=$(jq .peak_fraction "$out" | median)
    better=$(echo "if ($ob > $bl) $ob else $bl" | bc -l)
    betterb=$(echo "if ($obb > $blb) $obb else $blb" | bc -l)
    printf "| %sx%sx%s | %s | %s | %.1f (%s) | %.1f (%.1f; %s) | %.1f (%.1f; %s) | %.3f | %.3f | %.1f%% |\n" \
      "$m" "$n" "$k" "$tr" "$t" "$jg" "$(jq .gflops "$out" | spread)" \
      "$ob" "$obb" "$(jq .openblas_gflops "$out" | spread)" \
      "$bl" "$blb" "$(jq '.blis_gflops // 0' "$out" | spread)" \
      "$(echo "$jg / $better" | bc -l)" "$(echo "$jg / $betterb" | bc -l)" \
      "$(echo "$peak * 100" | bc -l)"
    rm -f "$out"
  done
done
