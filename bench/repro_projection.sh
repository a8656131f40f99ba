#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Projection of `joulegrad reproduce all --scale full` on a cluster
# (issue 11, docs/scaling.md), from costs measured on this machine:
#
#   1. every network the reproduction trains (RQ1's three, RQ2's twelve
#      configurations) trains one epoch of full Fashion-MNIST (54000 images,
#      batch 512, as --scale full) with THREADS threads: the run's wall time
#      (data, one epoch, validation, test) and its seconds per epoch;
#   2. a sub-run's cost: an RQ1 study = 64 trials x (wall + 4 more epochs),
#      an RQ2 run = wall + 9 more epochs;
#   3. the coordinator's policy simulated: sub-runs in the reproduction's
#      order, each handed to the first rank to become free (rank 0
#      coordinates; every other rank runs whole sub-runs), on 1 worker and on
#      NODES nodes x RANKS ranks (RANKS = cores / THREADS, each rank as fast
#      as measured here with THREADS threads).
#
# Plus, per network, the bytes a data-parallel step would sum over the ranks
# (4 bytes per parameter), for the alternative of spreading one run.
#
# usage: bench/repro_projection.sh [path/to/joulegrad]
# env:   THREADS (default 1), RANKS (per node, default 2), NODES (default
#        "16 64"), SEEDS (default 5, as --scale full), TRIALS (64), EPOCHS (5),
#        RQ2_EPOCHS (10)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bin=${1:-build/joulegrad}
threads=${THREADS:-1}
ranks=${RANKS:-2}
nodes=${NODES:-16 64}
seeds=${SEEDS:-5}
trials=${TRIALS:-64}
epochs=${EPOCHS:-5}
rq2_epochs=${RQ2_EPOCHS:-10}
command -v jq >/dev/null || { echo "repro_projection.sh: needs jq (scripts/deps.sh)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $("$bin" info | sed -n 2p); $threads thread(s) per rank"

# The reproduction's networks (run/repro.c: NETS, then CFGS).
rq1=(paper-densepoly paper-denselinear paper-simplecnn)
rq2=(paper-simplecnn-norelu:conv=1,linear=3 paper-simplecnn-norelu:conv=4,linear=3
     paper-simplecnn-norelu:conv=1,linear=7 paper-simplecnn-norelu:conv=4,linear=7
     paper-simplecnn:conv=1,linear=3 paper-simplecnn:conv=4,linear=3
     paper-simplecnn:conv=1,linear=7 paper-simplecnn:conv=4,linear=7
     paper-simplecnn:conv=2,linear=3 paper-simplecnn:conv=3,linear=3
     paper-densepoly paper-denselinear)

# measure MODEL -> "wall epoch_s"
measure() {
  local out="$tmp/run" t0 wall
  rm -rf "$out"
  t0=$(now)
  OMP_WAIT_POLICY=passive "$bin" train --model "$1" --epochs 1 --batch 512 --threads "$threads" \
    --energy off --quiet --out "$out" >/dev/null
  wall=$(echo "$(now) - $t0" | bc -l)
  echo "$wall $(jq .seconds_per_epoch "$out/summary.json")"
}

printf '| network | wall of 1 epoch (s) | s/epoch | sub-run (s) | params | allreduce per step |\n|---|---|---|---|---|---|\n'
: >"$tmp/rq1"; : >"$tmp/rq2"
for m in "${rq1[@]}"; do
  read -r wall ep <<<"$(measure "$m")"
  p=$("$bin" models --json | jq --arg m "$m" '.models[] | select(.name == $m) | .params')
  sub=$(echo "$trials * ($wall + ($epochs - 1) * $ep)" | bc -l)
  echo "$sub" >>"$tmp/rq1"
  printf '| rq1 %s | %.2f | %.2f | %.0f (%d trials) | %s | %.2f MB |\n' "$m" "$wall" "$ep" "$sub" "$trials" "$p" "$(echo "$p * 4 / 1000000" | bc -l)"
done
for m in "${rq2[@]}"; do
  read -r wall ep <<<"$(measure "$m")"
  sub=$(echo "$wall + ($rq2_epochs - 1) * $ep" | bc -l)
  echo "$sub" >>"$tmp/rq2"
  printf '| rq2 %s | %.2f | %.2f | %.0f | | |\n' "$m" "$wall" "$ep" "$sub"
done

# The sub-runs in the reproduction's order: seed outermost, then net, space
# (2), strategy (4) for RQ1; repetition, then configuration for RQ2.
: >"$tmp/subs"
for _ in $(seq "$seeds"); do
  while read -r s; do for _ in 1 2 3 4 5 6 7 8; do echo "$s"; done; done <"$tmp/rq1" >>"$tmp/subs"
done
for _ in $(seq "$seeds"); do cat "$tmp/rq2" >>"$tmp/subs"; done

# makespan WORKERS: each sub-run to the first worker to become free.
makespan() {
  awk -v w="$1" '{ k = 0; for (i = 1; i < w; i++) if (f[i] < f[k]) k = i; f[k] += $1; if ($1 > m) m = $1 }
                 END { s = 0; for (i = 0; i < w; i++) if (f[i] > s) s = f[i]; printf "%.0f %.0f\n", s, m }' "$tmp/subs"
}
hours() { echo "$1 / 3600" | bc -l; }
total=$(awk '{ s += $1 } END { printf "%.0f", s }' "$tmp/subs")
n=$(wc -l <"$tmp/subs")
printf '\n%d sub-runs, %.1f h of work in all (1 worker)\n\n' "$n" "$(hours "$total")"
printf '| nodes | ranks | workers | projected wall (h) | speedup | longest sub-run (h) |\n|---|---|---|---|---|---|\n'
read -r one longest <<<"$(makespan 1)"
printf '| 1 | 1 | 1 | %.2f | 1.0 | %.2f |\n' "$(hours "$one")" "$(hours "$longest")"
for nd in $nodes; do
  w=$(( nd * ranks - 1 ))
  read -r span longest <<<"$(makespan "$w")"
  printf '| %d | %d | %d | %.2f | %.1f | %.2f |\n' "$nd" "$(( nd * ranks ))" "$w" "$(hours "$span")" \
    "$(echo "$one / $span" | bc -l)" "$(hours "$longest")"
done
