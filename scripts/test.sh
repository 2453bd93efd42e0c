#!/usr/bin/env bash
# Configures, builds and runs the whole test suite (README command 2).
# Tests that need real face data read DEEPID_DATA (a folder laid out like
# ../shared/data); unset, they are reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${DEEPID_BUILD_DIR:-build}"
jobs="${DEEPID_JOBS:-$(nproc)}"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build_dir" -j "$jobs"
if [ -z "${DEEPID_DATA:-}" ]; then
  echo "test.sh: DEEPID_DATA is not set: tests on real face data will be SKIPPED" >&2
fi
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"
