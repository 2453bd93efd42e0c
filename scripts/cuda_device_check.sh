#!/usr/bin/env bash
# The CUDA backend's check on a machine with a GPU, prepared where there is
# none (the GPU machine has CUDA but not this project's Debian packages).
#
#   scripts/cuda_device_check.sh bundle BUILD_DIR    (here) builds test_cuda_gpu
#       and bench_cuda in BUILD_DIR and copies them, with the libraries they
#       need that are not CUDA's or the C library's, into .cuda-bundle/ (ignored
#       by git; carry it to the GPU machine).
#   scripts/cuda_device_check.sh run [OUT_DIR]      (there) runs the comparison
#       with the CPU model, then the benchmark, logging both to OUT_DIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$root/.cuda-bundle

case "${1:-}" in
  bundle)
    build=${2:?usage: $0 bundle BUILD_DIR}
    cmake --build "$build" --target test_cuda_gpu bench_cuda -j "$(nproc)"
    rm -rf "$bundle" && mkdir -p "$bundle"
    cp "$build/tests/test_cuda_gpu" "$build/benchmarks/bench_cuda" "$bundle/"
    # CUDA's libraries come from the GPU machine (cuBLAS is over 500 MB).
    for program in "$bundle/test_cuda_gpu" "$bundle/bench_cuda"; do
      ldd "$program" | awk '/=>/ {print $3}' |
        grep -v -E '/(libc|libm|libdl|libpthread|librt|ld-linux[^/]*)\.so|libcu(da|dart|blas)' |
        xargs -r -I{} cp -n {} "$bundle/"
    done
    du -sh "$bundle"
    ;;
  run)
    out=${2:-${OUT:-.}}
    [ -d "$bundle" ] || { echo "cuda_device_check: no $bundle (run the bundle step first)" >&2; exit 1; }
    cuda_libs=$(ls -d /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib 2>/dev/null | paste -sd:)
    pip_libs=$(python3 -c 'import nvidia.cublas, nvidia.cuda_runtime, os; print(os.path.dirname(nvidia.cublas.__file__) + "/lib:" + os.path.dirname(nvidia.cuda_runtime.__file__) + "/lib")' 2>/dev/null || true)
    export LD_LIBRARY_PATH=$bundle:$cuda_libs:$pip_libs:${LD_LIBRARY_PATH:-}
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/gpu.txt"
    set +e
    "$bundle/test_cuda_gpu" 2>&1 | tee "$out/test_cuda_gpu.log"
    test_status=${PIPESTATUS[0]}
    "$bundle/bench_cuda" 2>&1 | tee "$out/bench_cuda.log"
    bench_status=${PIPESTATUS[0]}
    echo "test_cuda_gpu exit $test_status, bench_cuda exit $bench_status"
    [ "$test_status" = 0 ] && [ "$bench_status" = 0 ]
    ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
