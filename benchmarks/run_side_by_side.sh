#!/usr/bin/env bash
# Builds side_by_side and runs deepid, OpenCV dnn and PyTorch interleaved on
# the DeepID1 nets (see benchmarks/side_by_side.cpp), writing the full log and
# a Markdown summary next to each other.
#
#   benchmarks/run_side_by_side.sh [--wait-quiet SECONDS] [side_by_side options]
#
# The machines are shared and noisy (docs/performance.md): with
# --wait-quiet it first waits, up to SECONDS, for a 5-second window in which
# other processes use less than 0.25 of a core, then runs at once. The run
# prints the other processes' load per case either way.
# Environment: DEEPID_BENCH_DIR (build folder, default build-bench),
# DEEPID_BENCH_OUT (output prefix, default <build folder>/side_by_side),
# DEEPID_BENCH_JOBS (build jobs, default all CPUs), DEEPID_BENCH_NO_BUILD=1
# (run the side_by_side already built, e.g. while include/ is being edited).
#
# PyTorch's fully connected layers need OpenBLAS (the reference BLAS is many
# times slower). Without libopenblas0-pthread installed, fetch it into the
# build folder without installing it; side_by_side finds it there:
#   mkdir -p build-bench/openblas && cd build-bench/openblas &&
#   apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb root
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${DEEPID_BENCH_DIR:-build-bench}"
out="${DEEPID_BENCH_OUT:-$build_dir/side_by_side}"

wait_quiet=0
if [ "${1:-}" = "--wait-quiet" ]; then
  wait_quiet="$2"
  shift 2
fi

if [ "${DEEPID_BENCH_NO_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build_dir" --target side_by_side -j "${DEEPID_BENCH_JOBS:-$(nproc)}"
fi

# Busy jiffies of the whole machine over 5 s, in cores (nothing of ours runs).
machine_load() {
  local a b
  a=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
  sleep 5
  b=$(awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat)
  awk -v a="$a" -v b="$b" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", (b-a)/hz/5}'
}

if [ "$wait_quiet" -gt 0 ]; then
  deadline=$((SECONDS + wait_quiet))
  while :; do
    load=$(machine_load)
    echo "run_side_by_side: other processes use $load cores"
    if awk -v l="$load" 'BEGIN{exit !(l < 0.25)}'; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "run_side_by_side: no quiet window within ${wait_quiet}s; running anyway (see the load per case)"
      break
    fi
  done
fi

echo "command: $0 $*" | tee "$out.log"
{
  date -u '+date: %Y-%m-%d %H:%M UTC'
  echo "cpu: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) CPUs)"
  echo "g++: $(g++ -dumpfullversion)"
  echo "source: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git --no-optional-locks status --porcelain -- include benchmarks 2>/dev/null | grep -q . && echo ' + uncommitted changes in include/ or benchmarks/'); binary built $(date -u -r "$build_dir/benchmarks/side_by_side" '+%Y-%m-%d %H:%M UTC')"
} | tee -a "$out.log"
"$build_dir/benchmarks/side_by_side" --markdown "$out.md" "$@" 2>&1 | tee -a "$out.log"
echo "run_side_by_side: log in $out.log, summary in $out.md"
