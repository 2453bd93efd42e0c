// The CUDA backend's kernels, compiled by nvcc. The target deepid::cuda adds
// this file to the programs that link it (see deepid/backend/cuda.hpp).
#include "deepid/backend/cuda/kernels.cuh"
