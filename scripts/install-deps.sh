#!/usr/bin/env bash
# Installs the Debian 12 packages deepid builds, tests and benchmarks with.
# Run as root or with sudo. Safe to run again: apt skips what is present.
set -euo pipefail

packages=(
  build-essential cmake git pkg-config
  libeigen3-dev libxtensor-dev libxsimd-dev xtl-dev
  libopencv-dev
  doctest-dev libbenchmark-dev
  libomp-dev  # OpenMP for clang; the TSan build runs on LLVM's runtime and its Archer tool
  python3 python3-numpy python3-torch python3-opencv
  libopenblas0-pthread  # the PyTorch peer of the benchmarks runs on OpenBLAS (docs/performance.md)
)
optional=(libopenmpi-dev openmpi-bin)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}"
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${optional[@]}" \
  || echo "install-deps: Open MPI not installed; the optional MPI header stays off" >&2
