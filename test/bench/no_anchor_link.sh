#!/bin/sh
# SPDX-License-Identifier: MIT
# The joulegrad program links none of the benchmark anchors (OpenBLAS, BLIS,
# oneDNN: bench/anchors.h loads them at run time, only in `bench`), and
# `joulegrad version` exits promptly under a 100 MB address-space limit
# (with OpenBLAS linked in it spun forever in OpenBLAS's thread shutdown).
# usage: no_anchor_link.sh path/to/joulegrad
set -u
bin=$1
found=$(ldd "$bin" | grep -Ei 'openblas|blis|dnnl|mkl')
if [ -n "$found" ]; then
  echo "FAIL: $bin links a benchmark anchor:"
  echo "$found"
  exit 1
fi
out=$( (ulimit -v 100000 && timeout 30 "$bin" version) 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAIL: '$bin version' under ulimit -v 100000 exited $rc (124: hung, killed after 30 s): $out"
  exit 1
fi
echo "ok: no anchor linked; 'version' under ulimit -v 100000: $out"
