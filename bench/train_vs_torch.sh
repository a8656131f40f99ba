#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Trains the same network on Fashion-MNIST with `joulegrad train` and with
# PyTorch (bench/torch_train.py, Debian's python3-torch) in one run,
# alternating the two REPS times. It prints a markdown table of medians:
# seconds per epoch, test accuracy and peak resident memory, with the ratios.
# Both processes run under /usr/bin/time -f %M, so memory is measured the
# same way for each.
#
# usage: bench/train_vs_torch.sh [default|simplecnn|all] [path/to/joulegrad]
# env:   REPS (default 1), THREADS (default 2), EPOCHS_DEFAULT (2),
#        EPOCHS_SIMPLECNN (3), TRAIN_LIMIT (0: all 60,000 images)
# The settings follow issue #3: default at batch 64 and paper-simplecnn at
# batch 512, both with Adam at lr 1e-3.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
bin=${2:-build/joulegrad}
reps=${REPS:-1}
threads=${THREADS:-2}
limit=${TRAIN_LIMIT:-0}
py=/usr/bin/python3
for tool in jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "train_vs_torch.sh: needs $tool (scripts/deps.sh)" >&2; exit 2; }
done
[[ -x $bin ]] || { echo "train_vs_torch.sh: $bin not found; build first" >&2; exit 2; }
$py -c 'import torch' 2>/dev/null || {
  echo "train_vs_torch.sh: needs Debian's python3-torch (apt-get install python3-torch)" >&2; exit 2; }

jg_limit=()
[[ $limit -gt 0 ]] && jg_limit=(--train-limit "$limit")

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run_point() { # name preset epochs batch
  local name=$1 preset=$2 epochs=$3 batch=$4 spec
  spec=$("$bin" models --json | jq -r --arg p "$preset" '.models[] | select(.name == $p) | .spec')
  [[ -n $spec ]] || { echo "train_vs_torch.sh: preset $preset not found" >&2; exit 1; }
  for ((r = 0; r < reps; r++)); do
    rm -rf "$tmp/jg"
    /usr/bin/time -f %M -o "$tmp/jg.rss" "$bin" train --model "$preset" --epochs "$epochs" \
      --batch "$batch" --optimizer adam --lr 1e-3 --threads "$threads" --seed $((r + 1)) \
      "${jg_limit[@]}" --energy off --quiet --out "$tmp/jg" >/dev/null
    jq -r '"\(.seconds_per_epoch) \(.test_accuracy)"' "$tmp/jg/summary.json" >>"$tmp/jg.$name"
    echo $(($(cat "$tmp/jg.rss") / 1024)) >>"$tmp/jg.$name.rss"
    /usr/bin/time -f %M -o "$tmp/pt.rss" $py bench/torch_train.py --spec "$spec" \
      --epochs "$epochs" --batch "$batch" --lr 1e-3 --threads "$threads" --seed $((r + 1)) \
      --train-limit "$limit" >"$tmp/pt.json"
    jq -r '"\(.seconds_per_epoch) \(.test_accuracy)"' "$tmp/pt.json" >>"$tmp/pt.$name"
    echo $(($(cat "$tmp/pt.rss") / 1024)) >>"$tmp/pt.$name.rss"
  done
  local js ja ps pa jm pm
  js=$(cut -d' ' -f1 "$tmp/jg.$name" | median); ja=$(cut -d' ' -f2 "$tmp/jg.$name" | median)
  ps=$(cut -d' ' -f1 "$tmp/pt.$name" | median); pa=$(cut -d' ' -f2 "$tmp/pt.$name" | median)
  jm=$(median <"$tmp/jg.$name.rss"); pm=$(median <"$tmp/pt.$name.rss")
  printf '| %s | %s | %s | %.2f | %.2f | %.3f | %.2f%% | %.2f%% | %s | %s | %.2f |\n' \
    "$preset" "$batch" "$epochs" "$js" "$ps" "$(echo "$js / $ps" | bc -l)" \
    "$(echo "$ja * 100" | bc -l)" "$(echo "$pa * 100" | bc -l)" "$jm" "$pm" "$(echo "$jm / $pm" | bc -l)"
}

isa=$("$bin" info | awk '/selected/ { print $2 }')
echo "joulegrad train vs PyTorch $($py -c 'import torch; print(torch.__version__)'), isa=$isa," \
  "threads=$threads, $reps run(s) per point (medians), train-limit=${limit:-0}," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo
echo "| model | batch | epochs | jg s/epoch | PyTorch s/epoch | ratio | jg test acc | PyTorch test acc | jg peak MiB | PyTorch peak MiB | memory ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
[[ $which == default || $which == all ]] && run_point d default "${EPOCHS_DEFAULT:-2}" 64
[[ $which == simplecnn || $which == all ]] && run_point s paper-simplecnn "${EPOCHS_SIMPLECNN:-3}" 512
exit 0
