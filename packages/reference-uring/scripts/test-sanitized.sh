#!/usr/bin/env bash
# Builds the addon with ASan + UBSan, runs this package's tests against it, and fails on any
# sanitizer report, or on any leak whose stack passes through the addon. Node and V8 leave
# some memory at exit by design, so only the addon's own leaks count: exit codes stay neutral
# and the logs decide. Rebuilds the normal addon afterwards, whatever happened.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(cd ../.. && pwd)
export PATH="$root/node_modules/.bin:$PATH"
logs=$(mktemp -d)
# Writable by all: a test runs a child as another user (EACCES), whose reports must land here too.
chmod 1777 "$logs"
trap 'echo "::: rebuilding the normal addon"; node-gyp rebuild >/dev/null' EXIT

echo "::: building the addon with -fsanitize=address,undefined"
IOLEASE_SANITIZE=1 node-gyp rebuild >/dev/null
runtime="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"

echo "::: running the tests (logs in $logs)"
status=0
LD_PRELOAD="$runtime" \
  ASAN_OPTIONS="detect_leaks=1:log_path=$logs/asan:exitcode=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan" \
  vitest run --root "$root" --project reference-uring || status=$?

bad=0
for log in "$logs"/*; do
  [ -e "$log" ] || continue
  if grep -qE "ERROR: AddressSanitizer|runtime error:" "$log"; then
    echo "sanitizer error in $log:"; sed -n 1,60p "$log"; bad=1
  elif grep -q "iolease_uring" "$log"; then
    echo "leak through the addon in $log:"; grep -B2 -A20 "iolease_uring" "$log" | head -60; bad=1
  fi
done
[ "$bad" = 0 ] && echo "::: sanitizers: clean ($(ls "$logs" | wc -l) process logs, no report from the addon)"
[ "$status" = 0 ] && [ "$bad" = 0 ]
