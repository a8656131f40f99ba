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
cmake --build "$build" -j2 --target fuzz_idx fuzz_cifar

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

run() {
  name=$1 corpus=$2 maxlen=$3
  echo "== $name: ${secs}s"
  "$out/$name" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/crash-$name-" "$corpus"
}
run fuzz_idx "$seed_idx" 4096
run fuzz_cifar "$seed_cifar" 8192
echo "fuzz: no crashes in ${secs}s per target"
