#!/usr/bin/env bash
# Builds the addon with fault injection (src/native/faults.h) and runs the conformance kit and
# this package's tests against it under several seeds: enters refused with EAGAIN/EBUSY/EINTR,
# a full SQ, partial sends, receives armed on an "empty" ring, multishot receives ended early
# and, in the resets test, ended with ECONNRESET. Every byte must arrive in order or as a
# coded error, with no stall, and nothing left open afterwards. The buffer-done test sets a
# schedule of its own: one reset placed to finish an incremental buffer whose piece is leased.
#
# Usage: scripts/test-faults.sh [seeds...]   (default: 1 2 3 4 5; IOLEASE_FAULT_RATE=0.05)
# The normal addon is not touched: the fault build is copied aside and loaded from there.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
export PATH="$root/node_modules/.bin:$PATH"
seeds=("${@:-1 2 3 4 5}")
# shellcheck disable=SC2206
seeds=(${seeds[*]})
rate=${IOLEASE_FAULT_RATE:-0.05}
out=build/faults
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "::: building the addon with fault injection"
cp -r binding.gyp src "$scratch/"
(cd "$scratch" && IOLEASE_FAULTS_BUILD=1 NODE_PATH="$root/node_modules" node-gyp rebuild >/dev/null)
mkdir -p "$out"
cp "$scratch/build/Release/iolease_uring.node" "$out/"
export IOLEASE_URING_ADDON="$PWD/$out/iolease_uring.node"

status=0
for seed in "${seeds[@]}"; do
  # The kit's process tests start children from dist/, which load the same addon.
  echo "::: seed $seed, rate $rate"
  IOLEASE_FAULTS="seed=$seed,rate=$rate" vitest run --root . --config vitest.faults.config.ts \
    --reporter=dot .test.ts || status=1
  IOLEASE_FAULTS="seed=$seed,rate=$rate,reset=0.1" vitest run --root . --config vitest.faults.config.ts \
    --reporter=dot test/faults || status=1
done
[ "$status" = 0 ] && echo "::: fault injection: clean under seeds ${seeds[*]}"
exit "$status"
