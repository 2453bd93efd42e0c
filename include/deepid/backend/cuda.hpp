#pragma once
// The optional CUDA backend: the library's nets on a GPU.
//
//   #include <deepid/deepid.hpp>
//   #include <deepid/backend/cuda.hpp>
//   deepid::cuda::device_model<deepid::deepid2plus<patch>> gpu(deepid::init::seed{7});
//   gpu.forward_host(batch, n, deepid::mode::training, deepid::head_pass::run);
//
// This header is plain C++ for the host compiler. The kernels behind it are
// compiled by nvcc from deepid/backend/cuda/kernels.cu, which CMake's target
// deepid::cuda adds to the programs that link it (with CUDA's runtime and
// cuBLAS); deepid::cuda_emulated runs the same kernels on the CPU instead.
// Nothing else in the library includes this header.
#include "deepid/backend/cuda/device_api.hpp"
#include "deepid/backend/cuda/device_buffer.hpp"
#include "deepid/backend/cuda/device_model.hpp"
