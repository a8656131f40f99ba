#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (clang, ASan+UBSan) in build-fuzz/ and runs
# each for SECONDS from a seed corpus generated here. Exits non-zero when a
# target crashes; the crashing input is left in build-fuzz/fuzz/crash-*.
#   usage: test/fuzz/run.sh SECONDS
set -eu

secs=${1:-}
case $secs in
  '' | *[!0-9]*) echo "usage: $0 SECONDS (a positive integer)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/build-fuzz
cc=${CC:-clang}
command -v "$cc" >/dev/null 2>&1 ||
  { echo "$0: $cc not found: install the Debian packages clang and libclang-rt-dev" >&2; exit 2; }

mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DJG_FUZZ=ON -DJG_WERROR=ON \
  -DJG_OPENMP=OFF -DJG_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j2 --target fuzz_idx fuzz_cifar fuzz_checkpoint

out=$build/fuzz
seed_idx=$out/corpus-idx
seed_cifar=$out/corpus-cifar
mkdir -p "$seed_idx" "$seed_cifar"

# IDX seeds: 2 images of 2x3, 3 labels, a truncated header, and gzip twins.
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\003' >"$seed_idx/images"
printf '\000\001\177\200\376\377\020\040\060\100\120\140' >>"$seed_idx/images"
printf '\000\000\010\001\000\000\000\003\000\001\011' >"$seed_idx/labels"
printf '\000\000\010\003\000\000\000\002\000' >"$seed_idx/short"
gzip -n -c "$seed_idx/images" >"$seed_idx/images.gz"
gzip -n -c "$seed_idx/labels" >"$seed_idx/labels.gz"

# CIFAR seeds: one and two records, and a gzip twin.
{ printf '\003'; head -c 3072 /dev/zero | tr '\000' '\200'; } >"$seed_cifar/one"
{ cat "$seed_cifar/one"; printf '\011'; head -c 3072 /dev/zero; } >"$seed_cifar/two"
gzip -n -c "$seed_cifar/two" >"$seed_cifar/two.gz"
printf '\001\002\003' >"$seed_cifar/short"

# Checkpoint seeds (format in docs/checkpoint-format.md): "flatten linear(2)"
# on 1x1x2, 2 classes, Adam, 1 epoch of history; 6 params, 12 floats of
# state; version 1, and version 2 with the class names "ab" and "c". The
# CRC-32 is the first half of gzip's 8-byte trailer.
seed_ckpt=$out/corpus-checkpoint
mkdir -p "$seed_ckpt"
le32() { # u32 little-endian
  v=$1
  for _ in 1 2 3 4; do printf "\\$(printf %03o $((v & 255)))"; v=$((v >> 8)); done
}
body() { # body VERSION: everything before the CRC
  if [ "$1" = 1 ]; then le32 1; le32 185; else le32 2; le32 189; fi
  le32 17; printf 'flatten linear(2)'                 # spec
  le32 1; le32 1; le32 2; le32 2                      # c h w classes
  le32 0; le32 1065353216                             # mean 0, std 1.0
  le32 8; printf 'fuzzseed'                           # dataset
  le32 1; le32 981668463; le32 0; le32 0; le32 0      # adam, lr 1e-3, momentum, nesterov, wd
  le32 1063675494; le32 1065336439; le32 841731191    # beta1 0.9, beta2 0.999, eps 1e-8
  le32 0; le32 1; le32 1036831949; le32 0; le32 0     # constant, step 1, gamma 0.1, t_max, min_lr
  le32 3; le32 4; le32 42; le32 0                     # epochs, batch, seed (u64)
  le32 1; le32 5; le32 0; le32 5; le32 0              # epochs_done, optim_steps, model_step
  le32 0; le32 2146435072; le32 0                     # best_val_loss inf, bad_epochs
  le32 6; le32 0; le32 0; le32 0; le32 12; le32 0; le32 1 # n_params, n_buffers, n_optim, n_history
  if [ "$1" = 2 ]; then
    le32 11                                           # names_bytes
    le32 2; printf 'ab'; le32 1; printf 'c'           # class names
  fi
  for v in 1056964608 3204448256 1048576000 1065353216 0 1056964608; do le32 $v; done
  for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do le32 981668463; done
  le32 0; le32 981668463                              # history: epoch 0, lr
  le32 0; le32 1072693248; le32 0; le32 1071644672    # train loss 1.0, accuracy 0.5
  le32 0; le32 2146959360; le32 0; le32 2146959360    # val loss, accuracy NaN
  le32 0; le32 1072693248; le32 4; le32 0             # seconds 1.0, images 4
}
for ver in 1 2; do
  { printf 'JGCKPT\000\000'; body $ver; } >"$seed_ckpt/body"
  { cat "$seed_ckpt/body"; gzip -n -c "$seed_ckpt/body" | tail -c 8 | head -c 4; } >"$seed_ckpt/adam-v$ver"
done
rm "$seed_ckpt/body"
head -c 100 "$seed_ckpt/adam-v2" >"$seed_ckpt/short"

run() {
  name=$1 corpus=$2 maxlen=$3
  echo "== $name: ${secs}s"
  "$out/$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/crash-$name-" "$corpus"
}
run fuzz_idx "$seed_idx" 4096
run fuzz_cifar "$seed_cifar" 8192
run fuzz_checkpoint "$seed_ckpt" 16384
echo "fuzz: no crashes in ${secs}s per target"
