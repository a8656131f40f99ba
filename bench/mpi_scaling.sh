#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Scale-out on this machine with Open MPI (issue 11's targets, docs/scaling.md):
#
#   train  one epoch of the default model on Fashion-MNIST, 1 rank x 2 threads
#          against 2 ranks x 1 thread (data parallel), alternated REPS times:
#          median seconds per epoch and the per-pair ratio (target <= 1.15)
#   tune   a random-search study (paper-simplecnn, the study's space), 1 worker
#          (no mpirun) against mpirun -n 2 and -n 3 (1 and 2 workers beside the
#          coordinating rank), 1 thread each: the median seconds of the whole
#          command and of the study's trials, trials per hour and efficiency
#          (target: 2 workers >= 1.8x one)
#
# usage: bench/mpi_scaling.sh [train|tune|all] [path/to/joulegrad]
# env:   REPS (default 3), TRIALS (default 12), TRAIN_LIMIT (tune's images,
#        default 30000), EPOCHS (tune's epochs per trial, default 1)
# Every rank is on this machine (mpirun --oversubscribe): the figures measure
# the code's overheads, not a network.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
which=${1:-all}
bin=${2:-build/joulegrad}
reps=${REPS:-3}
trials=${TRIALS:-12}
limit=${TRAIN_LIMIT:-30000}
epochs=${EPOCHS:-1}
mpirun=(mpirun --allow-run-as-root --oversubscribe)
for tool in jq mpirun; do
  command -v "$tool" >/dev/null || { echo "mpi_scaling.sh: needs $tool (scripts/deps.sh)" >&2; exit 2; }
done
"$bin" info | grep -q '^mpi: yes' || { echo "mpi_scaling.sh: $bin is not built with MPI" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $("$bin" info | sed -n 2p)"

if [[ $which == train || $which == all ]]; then
  flags=(train --model default --epochs 1 --batch 64 --energy estimate --quiet)
  : >"$tmp/a"; : >"$tmp/b"; : >"$tmp/r"
  for r in $(seq "$reps"); do
    "$bin" "${flags[@]}" --threads 2 --out "$tmp/a$r" >/dev/null
    "${mpirun[@]}" -n 2 "$bin" "${flags[@]}" --threads 1 --out "$tmp/b$r" >/dev/null
    a=$(jq .seconds_per_epoch "$tmp/a$r/summary.json"); b=$(jq .seconds_per_epoch "$tmp/b$r/summary.json")
    echo "$a" >>"$tmp/a"; echo "$b" >>"$tmp/b"; echo "$b / $a" | bc -l >>"$tmp/r"
    printf 'train pair %d: 1 rank x 2 threads %.2f s, 2 ranks x 1 thread %.2f s (test acc %s vs %s)\n' \
      "$r" "$a" "$b" "$(jq .test_accuracy "$tmp/a$r/summary.json")" "$(jq .test_accuracy "$tmp/b$r/summary.json")"
  done
  printf '\n| train, default, 1 epoch, 60000 images | median s/epoch |\n|---|---|\n'
  printf '| 1 rank x 2 threads | %.2f |\n| 2 ranks x 1 thread | %.2f |\n' "$(median <"$tmp/a")" "$(median <"$tmp/b")"
  printf '| ratio (2x1 / 1x2), median of %d pairs | %.3f |\n\n' "$reps" "$(median <"$tmp/r")"
fi

if [[ $which == tune || $which == all ]]; then
  tflags=(tune --strategy random --space 'lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999'
          --model paper-simplecnn --batch 512 --epochs "$epochs" --trials "$trials"
          --train-limit "$limit" --threads 1 --energy estimate)
  # Each output line stamped as it arrives: the trials run from the "tune:"
  # line (data loaded, meters open) to the "records, stopped by" line.
  stamp() { while IFS= read -r l; do printf '%s %s\n' "$(now)" "$l"; done; }
  # Interleaved (1, 2, 3 ranks, then again) so drifts in the machine's speed
  # fall on every configuration alike; speedups are per round, then the median.
  for r in $(seq "$reps"); do
    for n in 1 2 3; do
      out="$tmp/tune$n-$r"
      t0=$(now)
      if [[ $n == 1 ]]; then "$bin" "${tflags[@]}" --out "$out" | stamp >"$tmp/log"
      else "${mpirun[@]}" -n "$n" "$bin" "${tflags[@]}" --out "$out" | stamp >"$tmp/log"; fi
      echo "$(now) - $t0" | bc -l >>"$tmp/t$n"
      p=$(awk '$2 == "tune:" { a = $1 } / records, stopped by / { b = $1 } END { printf "%.3f", b - a }' "$tmp/log")
      echo "$p" >>"$tmp/p$n"
      eval "p$n=$p"
    done
    echo "$p1 / $p2" | bc -l >>"$tmp/s2"; echo "$p1 / $p3" | bc -l >>"$tmp/s3"
    echo "$p2 / $p3" | bc -l >>"$tmp/s32"
    printf 'tune round %d: trials s %.1f (1 rank), %.1f (2 ranks), %.1f (3 ranks)\n' "$r" "$p1" "$p2" "$p3" >&2
  done
  printf '\n| tune, %d random trials of %d epoch(s), paper-simplecnn, %d images | ranks | workers | command s | trials s | trials/h | speedup | efficiency |\n|---|---|---|---|---|---|---|---|---|\n' \
    "$trials" "$epochs" "$limit"
  : >"$tmp/s1"; for _ in $(seq "$reps"); do echo 1 >>"$tmp/s1"; done
  for n in 1 2 3; do
    s=$(median <"$tmp/t$n"); p=$(median <"$tmp/p$n"); w=$(( n > 1 ? n - 1 : 1 )); sp=$(median <"$tmp/s$n")
    printf '| | %d | %d | %.1f | %.1f | %.0f | %.2f | %.2f |\n' "$n" "$w" "$s" "$p" \
      "$(echo "$trials * 3600 / $p" | bc -l)" "$sp" "$(echo "$sp / $w" | bc -l)"
  done
  printf '2 workers against 1 worker (3 ranks against 2), median of %d rounds: %.2fx\n' "$reps" "$(median <"$tmp/s32")"
  echo "(trials s: from the study's first line to its last, the trials themselves; command s adds"
  echo " starting the ranks, loading the data and drawing the figures; speedup and efficiency are on trials s)"
fi
