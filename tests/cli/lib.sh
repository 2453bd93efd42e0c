# Helpers for the CLI test scripts (tests/cli/*.sh), which source this file.
#
# Where they write: suite.cmake hands each script a WORK folder (the CLI
# fixtures or the studies' fixtures); a script writes only in its own folder
# WORK/<its name>, emptied when it starts (fresh_folder) and left afterwards
# so that a failure's files can be looked at. The fixtures' own scripts
# (setup.sh, studies_fixtures.cpp) fill WORK itself, which the other tests
# only read.
#
# fail, expect and refuse read the output of the last command from the file
# named by $log; refuse runs $deepid.

# fresh_folder DIR: DIR, empty (made, or emptied when it exists).
fresh_folder() { rm -rf "$1" && mkdir -p "$1"; }

# fail MESSAGE: prints MESSAGE and the output, and ends the test as failed.
fail() { echo "FAIL: $1"; echo "--- output:"; cat "$log"; exit 1; }

# expect PATTERN: the output matches the extended regular expression PATTERN.
expect() { grep -qE -- "$1" "$log" || fail "output lacks: $1"; }

# without_archer_banner FILE: drops the line that the OpenMP runtime's race
# detection tool (Archer, in a TSan build: OMP_TOOL_LIBRARIES) prints of its
# own when the first parallel region starts.
without_archer_banner() {
  [ -n "${OMP_TOOL_LIBRARIES:-}" ] || return 0
  sed -i "/^Warning: please export TSAN_OPTIONS='ignore_noninstrumented_modules=1' to avoid false positive reports from the OpenMP runtime!\$/d" "$1"
}

# refuse EXPECTED ARGS...: 'deepid ARGS' fails cleanly with one line naming EXPECTED.
refuse() {
  local expected=$1; shift
  "$deepid" "$@" > "$log" 2>&1 && fail "deepid $* succeeded"
  without_archer_banner "$log"
  [ "$(wc -l < "$log")" -eq 1 ] || fail "deepid $*: more than one line"
  grep -qF -- "$expected" "$log" || fail "deepid $*: no '$expected'"
}
