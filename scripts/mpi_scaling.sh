#!/usr/bin/env bash
# Measures 'deepid train' samples/s on 1, 2 and 3 ranks of this machine
# (docs/performance.md, "Training across processes"): one DeepID1 net and one
# DeepID2+ net on built-in synthetic identities, shared batches, the gradients
# summed during the backward pass (the default) and after it (--sum-piece 0).
# Each rank runs one thread; the one-process rows also run with every core.
# usage: scripts/mpi_scaling.sh BUILD_DIR [WORK_DIR]
set -euo pipefail
deepid=$(cd "$1" && pwd)/examples/deepid
work=${2:-$(mktemp -d)}
mkdir -p "$work"
cd "$work"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi=(mpirun --oversubscribe --bind-to none -x OMP_NUM_THREADS=1)

# Samples/s of the last epoch line of a log.
rate() { grep -o '[0-9]* samples/s' "$1" | tail -1 | cut -d' ' -f1; }

run() {  # run SCHEME SYNTHETIC EPOCHS RANKS THREADS [SUM_PIECE]
  local scheme=$1 synthetic=$2 epochs=$3 ranks=$4 threads=$5 piece=${6:-} out="$1.$4x$5${6:+.piece$6}"
  local train=(train --scheme "$scheme" --patches 1 --synthetic "$synthetic" --epochs "$epochs" --batch 64 --seed 3
               --out "$out" ${piece:+--sum-piece "$piece"})
  local sums="-"
  [ "$ranks" -gt 1 ] && sums=$([ "$piece" = 0 ] && echo "after the backward pass" || echo "during the backward pass")
  rm -rf "$out"
  if [ "$ranks" -eq 1 ]; then
    OMP_NUM_THREADS=$threads "$deepid" "${train[@]}" > "$out.log" 2>&1
  else
    "${mpi[@]}" -n "$ranks" "$deepid" "${train[@]}" > "$out.log" 2>&1
  fi
  printf '| %s | %d | %d | %s | %s |\n' "$scheme" "$ranks" "$threads" "$sums" "$(rate "$out.log")"
}

echo "| net | ranks | threads per rank | gradient sums | samples/s (last epoch) |"
echo "|---|---|---|---|---|"
# DeepID1: 100 identities x 40 images, two epochs; DeepID2+: 60 x 20, one.
for job in "deepid1 100:40 2" "deepid2plus 60:20 1"; do
  set -- $job
  run "$1" "$2" "$3" 1 "$(nproc)"
  run "$1" "$2" "$3" 1 1
  run "$1" "$2" "$3" 2 1
  run "$1" "$2" "$3" 2 1 0
  run "$1" "$2" "$3" 3 1
  run "$1" "$2" "$3" 3 1 0
done
