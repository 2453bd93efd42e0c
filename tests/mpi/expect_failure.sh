#!/usr/bin/env bash
# Runs a command that must fail: prints its output (ctest matches the
# message) and exits 0 only when the command exited non-zero.
"$@" 2>&1
status=$?
echo "expect_failure: exit status $status"
if [ "$status" -eq 0 ]; then
  echo "expect_failure: FAILED: the command succeeded"
  exit 1
fi
