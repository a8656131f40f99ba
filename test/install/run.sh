#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the build tree into a temporary prefix with `cmake --install`, then
# builds and runs test/install/consumer.c using only what pkg-config reports.
# usage: test/install/run.sh BUILD_DIR
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc -std=c11 -o "$prefix/consumer" "$src/consumer.c" $(pkg-config --cflags --libs joulegrad)
"$prefix/consumer"
