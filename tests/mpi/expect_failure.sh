#!/usr/bin/env bash
# Runs a command that must fail, and checks its output (stdout and stderr
# together, printed for ctest's log) against each expected pattern, in any
# order (the ranks' lines interleave).
# usage: expect_failure.sh [--expect REGEX]... -- COMMAND...
patterns=()
while [ "${1:-}" = "--expect" ]; do
  patterns+=("$2")
  shift 2
done
[ "${1:-}" = "--" ] || { echo "usage: expect_failure.sh [--expect REGEX]... -- COMMAND..."; exit 2; }
shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
echo "expect_failure: exit status $status"
if [ "$status" -eq 0 ]; then
  echo "expect_failure: FAILED: the command succeeded"
  exit 1
fi
for pattern in "${patterns[@]}"; do
  if ! grep -Eq -- "$pattern" <<< "$output"; then
    echo "expect_failure: FAILED: no line matches /$pattern/"
    exit 1
  fi
done
echo "expect_failure: failed as expected; every pattern matched"
