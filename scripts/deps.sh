#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages joulegrad needs that are missing.
#   scripts/deps.sh        build, run and test (+ the bench-only packages)
#   scripts/deps.sh --ci   also the cross toolchain, qemu and clang (CI only)
# python3-torch (the PyTorch peer of bench/train_vs_torch.sh and the fixture
# generator test/torch/make_fixtures.py) is never installed by this script:
# it is optional and large; install it by hand when you need it.
# As root it runs apt-get; otherwise it prints the exact command and stops.
set -euo pipefail

pkgs=(gcc make cmake pkg-config libc6-dev
      libcmocka-dev libcjson-dev zlib1g-dev libstb-dev libpowercap-dev
      dataset-fashion-mnist
      gnuplot-nox                   # the figures (PNG/SVG) of train, profile, tune, reproduce
      libopenmpi-dev openmpi-bin)   # scale-out: mpirun -n N joulegrad train|tune|reproduce
# ---- bench-only -------------------------------------------------------------
# The anchors `joulegrad bench` compares against, loaded at run time with
# dlopen (the program links none of them): OpenBLAS and BLIS for SGEMM,
# oneDNN for conv2d (its header, from libdnnl-dev, is read at build time);
# and the tools of bench/*.sh.
pkgs+=(libopenblas0 libblis4 libdnnl-dev
       jq bc time)
if [[ "${1:-}" == "--ci" ]]; then
  pkgs+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user libcmocka-dev:arm64
         clang libclang-rt-14-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

need_arm64=0
for p in "${missing[@]}"; do [[ "$p" == *:arm64 ]] && need_arm64=1; done

if [[ $(id -u) -ne 0 ]]; then
  echo "joulegrad: missing Debian packages; run this, then run the command again:" >&2
  [[ $need_arm64 -eq 1 ]] && echo "  sudo dpkg --add-architecture arm64" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "joulegrad: installing ${missing[*]}"
if [[ $need_arm64 -eq 1 ]] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
