#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Issue #5's tuning benchmark: grid, random and Bayesian optimisation on the
# study's search space (lr on a log scale) with paper-simplecnn on a
# Fashion-MNIST subset, one `joulegrad tune` call per seed so every strategy
# gets the same seed, trials and data. Per seed it takes the best validation
# accuracy that every strategy reached (the common best) and the joules each
# strategy spent to first reach it; it prints a markdown table per seed and
# the medians over seeds:
#   - bayes' joules to the common best as a fraction of random's (target <= 0.5);
#   - bayes' proposal overhead: the last proposal's seconds over the median
#     trial's seconds, and all proposals over all training (target <= 1%).
#
# usage: bench/tune_energy.sh [path/to/joulegrad]
# env:   SEEDS (default 5), TRIALS (64, as the study), EPOCHS (3),
#        TRAIN_LIMIT (10000), TEST_LIMIT (2000), BATCH (512, as the study),
#        STRATEGIES (grid,random,bayes), THREADS (2), OUT (a temporary dir,
#        removed unless set), ENERGY (auto)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
bin=${1:-build/joulegrad}
seeds=${SEEDS:-5}
trials=${TRIALS:-64}
strategies=${STRATEGIES:-grid,random,bayes}
space='lr=log:1e-5:1e-1,beta1=0.1:0.999,beta2=0.8:0.9999'
command -v jq >/dev/null || { echo "tune_energy.sh: needs jq (scripts/deps.sh)" >&2; exit 2; }
[[ -x $bin ]] || { echo "tune_energy.sh: $bin not found; build first" >&2; exit 2; }
[[ $strategies == *random* && $strategies == *bayes* ]] || {
  echo "tune_energy.sh: STRATEGIES must include random and bayes" >&2; exit 2; }
if [[ -n ${OUT:-} ]]; then out=$OUT; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi


echo "# joulegrad tune benchmark: $(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs"
echo "# $bin tune --strategy $strategies --space '$space' --trials $trials --epochs ${EPOCHS:-3} --batch ${BATCH:-512} --model paper-simplecnn --train-limit ${TRAIN_LIMIT:-10000} --test-limit ${TEST_LIMIT:-2000}, seeds 1..$seeds"
ratios=() overheads=() shares=()
for seed in $(seq 1 "$seeds"); do
  dir=$out/seed-$seed
  if [[ -f $dir/summary.json ]] && jq -e .strategies "$dir/summary.json" >/dev/null 2>&1; then
    echo "seed $seed: reusing $dir" >&2
  else
    resume=(); [[ -d $dir ]] && resume=(--resume)
    "$bin" tune --strategy "$strategies" --space "$space" --trials "$trials" \
      --epochs "${EPOCHS:-3}" --batch "${BATCH:-512}" --model paper-simplecnn \
      --train-limit "${TRAIN_LIMIT:-10000}" --test-limit "${TEST_LIMIT:-2000}" \
      --threads "${THREADS:-2}" --energy "${ENERGY:-auto}" --seed "$seed" \
      --out "$dir" "${resume[@]}" > "$out/seed-$seed.log"
  fi
  s=$dir/summary.json
  src=$(jq -r .energy_source "$s")
  echo
  echo "## seed $seed (common best validation accuracy $(jq .common_best_val_accuracy "$s"), energy source: $src)"
  echo
  echo "| strategy | best val | total J | J to common best | records to it |"
  echo "|---|---|---|---|---|"
  jq -r '.strategies[] | "| \(.strategy) | \(.best_val_accuracy) | \(.total_energy_j | . * 10 | round / 10) | \(.energy_to_common_best_j // "never" | if type == "number" then (. * 10 | round / 10) else . end) | \(.records_to_common_best // "-") |"' "$s"
  jr=$(jq '.strategies[] | select(.strategy == "random") | .energy_to_common_best_j' "$s")
  jb=$(jq '.strategies[] | select(.strategy == "bayes") | .energy_to_common_best_j' "$s")
  ratio=$(awk -v b="$jb" -v r="$jr" 'BEGIN { printf "%.3f", b / r }')
  ratios+=("$ratio")
  b=$dir/bayes/summary.json
  read -r last total train < <(jq -r '"\(.proposals.last_seconds) \(.proposals.seconds) \(.training_seconds)"' "$b")
  med_trial=$(grep '"type":"trial"' "$dir/bayes/trials.jsonl" | jq .seconds | median)
  overheads+=("$(awk -v l="$last" -v m="$med_trial" 'BEGIN { printf "%.5f", l / m }')")
  shares+=("$(awk -v p="$total" -v t="$train" 'BEGIN { printf "%.5f", p / t }')")
  echo
  echo "bayes/random joules to the common best: $ratio; bayes' last proposal ${last} s vs median trial ${med_trial} s; all proposals ${total} s vs training ${train} s"
done
echo
echo "## medians over $seeds seeds"
echo
echo "| metric | median | each seed | target |"
echo "|---|---|---|---|"
echo "| bayes / random joules to the common best | $(printf '%s\n' "${ratios[@]}" | median) | ${ratios[*]} | <= 0.5 |"
echo "| last proposal / median trial time | $(printf '%s\n' "${overheads[@]}" | median) | ${overheads[*]} | <= 0.01 |"
echo "| all proposals / all training time | $(printf '%s\n' "${shares[@]}" | median) | ${shares[*]} | <= 0.01 |"
