#!/usr/bin/env bash
# Configures, builds and runs the whole test suite (README command 2).
# Tests that need real face data read DEEPID_DATA (a folder laid out like
# ../shared/data); unset, they are reported as skipped.
#
# scripts/test.sh --sanitize address|thread builds the unit tests, the fuzz
# replay tests and the deepid tool under ASan + UBSan (build-asan) or TSan
# (build-tsan) and runs their tests; tests/sanitize/runtime.cmake lists the
# suites a sanitized build leaves out, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${DEEPID_JOBS:-$(nproc)}"

if [ $# -gt 0 ]; then
  case "$1:${2:-}" in
    --sanitize:address) build_dir=build-asan ;;
    --sanitize:thread) build_dir=build-tsan ;;
    *) echo "usage: scripts/test.sh [--sanitize address|thread]" >&2; exit 2 ;;
  esac
  [ $# -eq 2 ] || { echo "usage: scripts/test.sh [--sanitize address|thread]" >&2; exit 2; }
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DDEEPID_SANITIZE="$2" -DDEEPID_TEST_SUBSET= \
        -DDEEPID_BUILD_EXAMPLES=ON -DDEEPID_BUILD_BENCHMARKS=OFF
  cmake --build "$build_dir" -j "$jobs"
  ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
  exit
fi

build_dir="${DEEPID_BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs"
if [ -z "${DEEPID_DATA:-}" ]; then
  echo "test.sh: DEEPID_DATA is not set: tests on real face data will be SKIPPED" >&2
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
