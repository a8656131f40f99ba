#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Executed instructions of four kernel calls, NEON against the scalar ref
# twins, under qemu-aarch64: qemu-user cannot time code, so the NEON kernels
# are counted. Each call runs once in bench/neon/neon_count.c (one thread);
# `qemu-aarch64 -d in_asm,exec,nochain` logs every translated block and
# every block executed, the guest instructions of each block times its
# executions add up to the run's total, and the same run without the call
# ("none") is subtracted.
#
# usage: bench/neon_count.sh        (needs gcc-aarch64-linux-gnu, qemu-user;
#                                    builds build-aarch64 as .ci/run does)
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null || {
    echo "neon_count.sh: needs $tool (apt-get install gcc-aarch64-linux-gnu qemu-user)" >&2
    exit 2
  }
done
build=build-aarch64
if [[ ! -f $build/kernels/libjg_kernels.a ]]; then
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DCMAKE_BUILD_TYPE=Release -DJG_KERNELS_ONLY=ON >/dev/null
fi
cmake --build "$build" --target jg_kernels -j"$(nproc)" >/dev/null
drv=$build/neon_count
aarch64-linux-gnu-gcc -O3 -fopenmp -Ikernels bench/neon/neon_count.c \
  "$build/kernels/libjg_kernels.a" -lm -o "$drv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Executed guest instructions of one run: instructions per translated block
# (in_asm) times that block's executions (exec lines name the block's pc).
count() { # isa case
  local log=$tmp/log
  OMP_NUM_THREADS=1 JOULEGRAD_ISA=$1 qemu-aarch64 -L /usr/aarch64-linux-gnu \
    -d in_asm,exec,nochain -D "$log" "$drv" "$2" >/dev/null
  awk '
    function norm(p) { sub(/^0x/, "", p); sub(/^0+/, "", p); return "0x" p }
    /^IN:/ { inblk = 1; start = ""; k = 0; next }
    inblk && /^0x[0-9a-f]+:/ { pc = norm(substr($1, 1, length($1) - 1)); if (start == "") start = pc; k++; next }
    inblk { if (start != "") n[start] = k; inblk = 0; next }
    /^Trace / { if (match($0, /\[[0-9a-f]+\/[0-9a-f]+\//)) {
        split(substr($0, RSTART + 1, RLENGTH - 2), f, "/"); exec[norm(f[2])]++ } }
    END { for (p in exec) total += exec[p] * n[p]; print total }
  ' "$log"
}

echo "Executed instructions per call under qemu-aarch64 ($(qemu-aarch64 --version | head -1 | awk '{print $3}'), $(aarch64-linux-gnu-gcc -dumpfullversion) -O3, one thread, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo
echo "| call | ref | NEON | ratio |"
echo "|---|---|---|---|"
declare -A label=(
  [gemm]='`jg_sgemm` 96^3 NN'
  [conv]='`jg_conv2d_forward` (4,1,28,28) -> 32, 3x3 p1 (direct)'
  [maxpool]='`jg_maxpool2d_forward` (4,32,14,14) 2x2'
  [relu]='`jg_relu_forward`, 25,088 floats'
)
declare -A base
for isa in ref neon; do base[$isa]=$(count "$isa" none); done
for c in gemm conv maxpool relu; do
  r=$(( $(count ref "$c") - ${base[ref]} ))
  v=$(( $(count neon "$c") - ${base[neon]} ))
  printf '| %s | %s | %s | %.1fx |\n' "${label[$c]}" "$r" "$v" "$(echo "$r / $v" | bc -l)"
done
