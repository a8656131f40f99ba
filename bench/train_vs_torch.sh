#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Trains the same network on Fashion-MNIST with `joulegrad train` and with
# PyTorch (bench/torch_train.py, Debian's python3-torch) in one run,
# alternating the two REPS times. It prints a markdown table: seconds per
# epoch (median and best run of each, and the spread), test accuracy and peak
# resident memory (medians), with the ratios. Both processes run under
# /usr/bin/time -f %M, so memory is measured the same way for each.
#
# PyTorch runs at its best: Debian's PyTorch 1.13 runs conv and linear through
# OpenBLAS, whose own threads oversubscribe the cores against PyTorch's
# OpenMP pool, so OPENBLAS_NUM_THREADS=1; OpenBLAS's core type (of CORES)
# and the OpenMP wait policy (passive or libgomp's default) are the fastest
# in a short calibration (CAL_LIMIT images, one epoch, CAL_RUNS runs each,
# best run counts: PyTorch's epoch time is bimodal here). joulegrad gets the
# wait policy calibrated the same way. The settings chosen are printed. The
# ratio the targets use is joulegrad's median over PyTorch's best run.
#
# usage: bench/train_vs_torch.sh [default|simplecnn|all] [path/to/joulegrad]
# env:   REPS (default 3), THREADS (default 2), EPOCHS_DEFAULT (2),
#        EPOCHS_SIMPLECNN (3), TRAIN_LIMIT (0: all 60,000 images),
#        CORES (default "Haswell SkylakeX Cooperlake"), CAL_LIMIT (6400),
#        CAL_RUNS (2)
# The settings follow issue #3: default at batch 64 and paper-simplecnn at
# batch 512, both with Adam at lr 1e-3.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
which=${1:-all}
bin=${2:-build/joulegrad}
reps=${REPS:-3}
threads=${THREADS:-2}
limit=${TRAIN_LIMIT:-0}
cores=${CORES:-Haswell SkylakeX Cooperlake}
cal_limit=${CAL_LIMIT:-6400}
cal_runs=${CAL_RUNS:-2}
py=/usr/bin/python3
for tool in jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "train_vs_torch.sh: needs $tool (scripts/deps.sh)" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "train_vs_torch.sh: $bin not found; build first" >&2; exit 2; }
$py -c 'import torch' 2>/dev/null || {
  echo "train_vs_torch.sh: needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 2; }

jg_limit=()
[[ $limit -gt 0 ]] && jg_limit=(--train-limit "$limit")

least() { sort -g | head -1; }
spread() { sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Each side with the settings chosen by calibrate: torch_env for PyTorch,
# jg_env for joulegrad.
torch_env=(OPENBLAS_NUM_THREADS=1)
jg_env=(OMP_WAIT_POLICY=passive)
pt() { env "${torch_env[@]}" "$@"; }
jg() { env "${jg_env[@]}" "$@"; }
# env arguments for a wait policy: "default" is libgomp's own (unset)
policy() { if [[ $1 == default ]]; then echo "-u OMP_WAIT_POLICY"; else echo "OMP_WAIT_POLICY=$1"; fi; }

# Short runs (cal_limit images, one epoch, best of cal_runs): PyTorch over
# the OpenBLAS core types x OpenMP wait policies, joulegrad over the wait
# policies (passive, or libgomp's default: spin, then sleep; the variable
# unset). libgomp's default is fastest on a quiet
# machine, but when another process holds a core every parallel region can
# wait a whole scheduler slice; OMP_WAIT_POLICY=passive avoids that for both.
calibrate() { # preset batch spec
  local c p t bestc="" bestp="" bestt=999999
  echo "Calibration for $1 (batch $2): $cal_limit images, 1 epoch, best of $cal_runs runs (s/epoch)."
  for p in passive default; do
    for c in $cores; do
      local ts=()
      for ((r = 0; r < cal_runs; r++)); do
        ts+=("$(env $(policy "$p") OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=$c $py bench/torch_train.py \
          --spec "$3" --epochs 1 --batch "$2" --lr 1e-3 --threads "$threads" --seed $((r + 1)) \
          --train-limit "$cal_limit" | jq .seconds_per_epoch)")
      done
      t=$(printf '%s\n' "${ts[@]}" | least)
      printf '  PyTorch   OMP_WAIT_POLICY=%-8s OPENBLAS_CORETYPE=%-10s best %.2f (runs %s)\n' \
        "$p" "$c" "$t" "${ts[*]}"
      if (( $(echo "$t < $bestt" | bc -l) )); then bestt=$t; bestc=$c; bestp=$p; fi
    done
  done
  torch_env=($(policy "$bestp") OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE="$bestc")
  bestt=999999
  for p in passive default; do
    local ts=()
    for ((r = 0; r < cal_runs; r++)); do
      rm -rf "$tmp/cal"
      env $(policy "$p") "$bin" train --model "$1" --epochs 1 --batch "$2" --optimizer adam \
        --lr 1e-3 --threads "$threads" --seed $((r + 1)) --train-limit "$cal_limit" --energy off \
        --quiet --out "$tmp/cal" >/dev/null
      ts+=("$(jq .seconds_per_epoch "$tmp/cal/summary.json")")
    done
    t=$(printf '%s\n' "${ts[@]}" | least)
    printf '  joulegrad OMP_WAIT_POLICY=%-8s best %.2f (runs %s)\n' "$p" "$t" "${ts[*]}"
    if (( $(echo "$t < $bestt" | bc -l) )); then bestt=$t; bestp=$p; fi
  done
  jg_env=($(policy "$bestp"))
  echo "  chosen: PyTorch ${torch_env[*]}; joulegrad ${jg_env[*]}"
  echo
}

run_point() { # name preset epochs batch
  local name=$1 preset=$2 epochs=$3 batch=$4 spec
  spec=$("$bin" models --json | jq -r --arg p "$preset" '.models[] | select(.name == $p) | .spec')
  [[ -n $spec ]] || { echo "train_vs_torch.sh: preset $preset not found" >&2; exit 1; }
  calibrate "$preset" "$batch" "$spec" >>"$tmp/calibration"
  for ((r = 0; r < reps; r++)); do
    rm -rf "$tmp/jg"
    jg /usr/bin/time -f %M -o "$tmp/jg.rss" "$bin" train --model "$preset" --epochs "$epochs" \
      --batch "$batch" --optimizer adam --lr 1e-3 --threads "$threads" --seed $((r + 1)) \
      "${jg_limit[@]}" --energy off --quiet --out "$tmp/jg" >/dev/null
    jq -r '"\(.seconds_per_epoch) \(.test_accuracy)"' "$tmp/jg/summary.json" >>"$tmp/jg.$name"
    echo $(($(cat "$tmp/jg.rss") / 1024)) >>"$tmp/jg.$name.rss"
    pt /usr/bin/time -f %M -o "$tmp/pt.rss" $py bench/torch_train.py --spec "$spec" \
      --epochs "$epochs" --batch "$batch" --lr 1e-3 --threads "$threads" --seed $((r + 1)) \
      --train-limit "$limit" >"$tmp/pt.json"
    jq -r '"\(.seconds_per_epoch) \(.test_accuracy)"' "$tmp/pt.json" >>"$tmp/pt.$name"
    echo $(($(cat "$tmp/pt.rss") / 1024)) >>"$tmp/pt.$name.rss"
  done
  local js jb ja ps pb pa jm pm
  js=$(cut -d' ' -f1 "$tmp/jg.$name" | median); ja=$(cut -d' ' -f2 "$tmp/jg.$name" | median)
  jb=$(cut -d' ' -f1 "$tmp/jg.$name" | least)
  ps=$(cut -d' ' -f1 "$tmp/pt.$name" | median); pa=$(cut -d' ' -f2 "$tmp/pt.$name" | median)
  pb=$(cut -d' ' -f1 "$tmp/pt.$name" | least)
  jm=$(median <"$tmp/jg.$name.rss"); pm=$(median <"$tmp/pt.$name.rss")
  printf '| %s | %s | %s | %.2f (%.2f; %s) | %.2f (%.2f; %s) | %s; %s | %.3f | %.3f | %.2f%% | %.2f%% | %s | %s | %.2f |\n' \
    "$preset" "$batch" "$epochs" "$js" "$jb" "$(cut -d' ' -f1 "$tmp/jg.$name" | spread)" \
    "$ps" "$pb" "$(cut -d' ' -f1 "$tmp/pt.$name" | spread)" "${torch_env[*]}" "jg: ${jg_env[*]}" \
    "$(echo "$js / $pb" | bc -l)" "$(echo "$js / $ps" | bc -l)" \
    "$(echo "$ja * 100" | bc -l)" "$(echo "$pa * 100" | bc -l)" "$jm" "$pm" "$(echo "$jm / $pm" | bc -l)"
}

isa=$("$bin" info | awk '/selected/ { print $2 }')
echo "joulegrad train vs PyTorch $($py -c 'import torch; print(torch.__version__)'), isa=$isa," \
  "threads=$threads, $reps run(s) per point (medians), train-limit=${limit:-0}," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo
rows=$tmp/rows
[[ $which == default || $which == all ]] && run_point d default "${EPOCHS_DEFAULT:-2}" 64 >>"$rows"
[[ $which == simplecnn || $which == all ]] && run_point s paper-simplecnn "${EPOCHS_SIMPLECNN:-3}" 512 >>"$rows"
cat "$tmp/calibration"
echo "s/epoch: median (best run; range over runs). ratio/best: joulegrad's median over PyTorch's best run; ratio/median: over its median."
echo
echo "| model | batch | epochs | jg s/epoch | PyTorch s/epoch | settings | ratio/best | ratio/median | jg test acc | PyTorch test acc | jg peak MiB | PyTorch peak MiB | memory ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$rows"
exit 0
