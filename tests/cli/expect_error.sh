#!/usr/bin/env bash
# Runs a command that must fail cleanly: non-zero exit status (not a signal),
# nothing on stdout, exactly one line on stderr starting with
# "deepid: error: " and containing EXPECTED. With --unchanged FILE, FILE must
# be byte-identical before and after (a failed run loses nothing).
# usage: expect_error.sh [--unchanged FILE] EXPECTED -- COMMAND [ARGS...]
set -u
source "$(dirname "$0")/lib.sh"  # without_archer_banner
unchanged=""
if [ "$1" = "--unchanged" ]; then unchanged=$2; shift 2; fi
expected=$1; shift
if [ "$1" = "--" ]; then shift; fi
command_text="$*"
before=""
if [ -n "$unchanged" ]; then before=$(cksum < "$unchanged") || exit 1; fi
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$@" >"$out" 2>"$err"
status=$?
# In a TSan build Archer's own banner line is the sanitizer's, not the tool's.
without_archer_banner "$err"
fail() {
  echo "FAIL: $1"
  echo "--- command: $command_text"
  echo "--- exit status: $status"
  echo "--- stderr:"; cat "$err"
  echo "--- stdout:"; cat "$out"
  exit 1
}
[ "$status" -ne 0 ] || fail "exit status 0, expected a failure"
[ "$status" -lt 128 ] || fail "killed by a signal or crashed"
lines=$(wc -l < "$err")
[ "$lines" -eq 1 ] || fail "stderr has $lines lines, expected exactly one"
case "$(head -n 1 "$err")" in
  "deepid: error: "*) ;;
  *) fail "stderr does not start with 'deepid: error: '" ;;
esac
grep -qF -- "$expected" "$err" || fail "stderr does not contain: $expected"
[ ! -s "$out" ] || fail "unexpected output on stdout"
if [ -n "$unchanged" ] && [ "$(cksum < "$unchanged")" != "$before" ]; then
  fail "$unchanged was changed by the failed run"
fi
echo "ok (status $status): $(cat "$err")"
