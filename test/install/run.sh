#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build tree into a temporary prefix with `cmake --install`, then
# builds test/install/consumer.c and the examples using only what pkg-config
# reports, and runs them: the consumer checks the engine's read-back;
# layer_energy must print one `TYPE FORWARD_J BACKWARD_J` line per layer type
# and a `total TOTAL_J SOURCE` line, the types adding up to the total within
# 3%; tune_lr must print its 3 trials and the best of them.
# usage: test/install/run.sh BUILD_DIR [DATA_DIR]
set -euo pipefail
build=$1
data=${2:-/usr/share/datasets/fashion-mnist}
src=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs joulegrad)
cc -std=c11 -o "$prefix/consumer" "$src/consumer.c" $flags
"$prefix/consumer"
cc -std=c11 -O2 -o "$prefix/layer_energy" "$src/../../examples/layer_energy.c" $flags
# Passive OpenMP waiting, as the energy CLI tests: with libgomp's spinning,
# idle workers' CPU time falls between the layers when the machine is shared
# (docs/energy.md, "OpenMP spin-waiting and closure"); this checks the API.
OMP_WAIT_POLICY=passive "$prefix/layer_energy" "$data" 20 >"$prefix/out.txt"
cat "$prefix/out.txt"
awk '
  NF == 3 && $1 == "total" { total = $2; source = $3; next }
  NF == 3 { sum += $2 + $3; types++; next }
  { print "layer_energy: unexpected line: " $0; bad = 1 }
  END {
    if (bad || types < 5 || !(total > 0) || (source != "rapl" && source != "estimate")) {
      print "layer_energy: expected >= 5 type lines and a total with its source"; exit 1
    }
    rel = (sum - total) / total; if (rel < 0) rel = -rel
    printf "layer_energy: types sum to %.4f J, total %.4f J (%s): %.2f%% apart\n", sum, total, source, 100 * rel
    if (rel > 0.03) exit 1
  }' "$prefix/out.txt"

# A study through the library: 3 trials, each `TRIAL LR VAL JOULES SOURCE`,
# then `best TRIAL LR VAL` naming the trial with the highest accuracy.
cc -std=c11 -O2 -o "$prefix/tune_lr" "$src/../../examples/tune_lr.c" $flags
OMP_WAIT_POLICY=passive "$prefix/tune_lr" "$prefix/study" "$data" 3 >"$prefix/tune.txt" 2>/dev/null
cat "$prefix/tune.txt"
awk '
  NF == 5 && $1 == n + 1 && $4 > 0 && ($5 == "rapl" || $5 == "estimate") {
    n++; if ($3 > best) { best = $3; bt = $1 }; next }
  NF == 4 && $1 == "best" { got = $2; gv = $4; next }
  { print "tune_lr: unexpected line: " $0; bad = 1 }
  END {
    if (bad || n != 3 || got != bt || gv != best) { print "tune_lr: expected 3 trials and the best of them"; exit 1 }
    print "tune_lr: 3 trials, best trial " bt
  }' "$prefix/tune.txt"
[ -s "$prefix/study/summary.json" ] || { echo "tune_lr: no summary.json in the study directory"; exit 1; }
