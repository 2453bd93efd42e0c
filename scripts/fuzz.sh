#!/usr/bin/env bash
# Builds the loader harnesses of tests/fuzz/ with clang's libFuzzer, ASan and
# UBSan, and fuzzes each loader in turn.
#
#   scripts/fuzz.sh [seconds-per-loader] [loader...]
#
# seconds-per-loader defaults to 600; the loaders default to all of them
# (tests/fuzz/*.cpp). Work goes to build-fuzz/: bin/ the fuzzers,
# corpus/<loader>/ the working corpus (seeded from tests/fuzz/corpus/<loader>/
# and kept between runs), artifacts/<loader>/ crash, timeout and
# out-of-memory inputs (kept across runs; the summary counts the new ones),
# logs/<loader>.log each run's output. One line per loader sums up the run.
# Exits non-zero when a fuzzer found something new.
#
# The fuzzers run one at a time, niced, since they share the machine. Each
# runs in libFuzzer's fork mode with crashes, timeouts and out-of-memory
# inputs recorded and skipped, so one finding does not end a loader's run.
# CXX_FUZZ names the compiler (default clang++).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-600}
shift || true
out="$root/build-fuzz"
cxx=${CXX_FUZZ:-clang++}

loaders=("$@")
if [ ${#loaders[@]} -eq 0 ]; then
  for src in "$root"/tests/fuzz/*.cpp; do
    name=$(basename "$src" .cpp)
    case $name in replay_main | make_seeds) continue ;; esac
    loaders+=("$name")
  done
fi

# -fsanitize=fuzzer links libFuzzer itself; this only checks that it is installed.
fuzzer_lib=$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null | sort -V | tail -n 1)
if [ -z "$fuzzer_lib" ]; then
  echo "deepid: error: fuzz.sh: libFuzzer not found (install clang: libclang_rt.fuzzer-x86_64.a)" >&2
  exit 1
fi

mkdir -p "$out/bin" "$out/logs"
# No -fopenmp: DEEPID_OPENMP is 0 (core/config.hpp), so the harnesses run single-threaded.
cflags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -I"$root/include" -I"$root/tests/fuzz" $(pkg-config --cflags opencv4 eigen3))
# xtensor, xtl and xsimd are found in /usr/include, on the default path.
libs=(-lopencv_imgcodecs -lopencv_imgproc -lopencv_core)

status=0
summary=()
for loader in "${loaders[@]}"; do
  src="$root/tests/fuzz/$loader.cpp"
  [ -f "$src" ] || { echo "deepid: error: fuzz.sh: no harness $src" >&2; exit 1; }
  bin="$out/bin/$loader"
  if [ ! -x "$bin" ] || [ -n "$(find "$root/tests/fuzz" "$root/include" -newer "$bin" -name '*.hpp' -o -newer "$bin" -name "$loader.cpp" | head -n 1)" ]; then
    echo "== building $loader"
    nice -n 5 "$cxx" "${cflags[@]}" "$src" -o "$bin" "${libs[@]}"
  fi
  corpus="$out/corpus/$loader"
  artifacts="$out/artifacts/$loader"
  mkdir -p "$corpus" "$artifacts"
  cp -n "$root/tests/fuzz/corpus/$loader/"* "$corpus/" 2>/dev/null || true
  dict=()
  [ -f "$root/tests/fuzz/dict/$loader.dict" ] && dict=(-dict="$root/tests/fuzz/dict/$loader.dict")
  log="$out/logs/$loader.log"
  echo "== fuzzing $loader for $seconds s (log $log)"
  # Findings of earlier runs stay in the folder for study; only this run's count.
  started="$out/logs/$loader.started"
  touch "$started"
  set +e
  nice -n 5 "$bin" "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -timeout=10 -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  # The last status line: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: ..." (fork mode).
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1 || true)
  execs=$(echo "$last" | grep -oE '^#[0-9]+' | tr -d '#' || true)
  cov=$(echo "$last" | grep -o 'cov: [0-9]*' | grep -o '[0-9]*' || true)
  ft=$(echo "$last" | grep -o 'ft: [0-9]*' | grep -o '[0-9]*' || true)
  files=$(ls "$corpus" | wc -l)
  kb=$(du -sk --apparent-size "$corpus" | cut -f1)
  found=$(find "$artifacts" -type f -newer "$started" | wc -l)
  # Crashes are ignored so the run goes on: a finding shows in the artifacts.
  [ "$found" -eq 0 ] || rc=1
  line="$loader: ${seconds}s, ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, corpus $files files / ${kb} KB, new artifacts $found (exit $rc)"
  echo "$line" | tee -a "$out/logs/summary.txt"
  summary+=("$line")
  [ "$rc" -eq 0 ] || status=1
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
