// Compiled by nvcc (the test cuda.nvcc_compiles): the part of the CUDA
// backend nvcc reads (the kernels, device memory) and a program using it.
// The rest of the backend, device_model, is compiled by the host compiler:
// nvcc's host-code pass cannot regenerate the library's model templates.
// Never run; building it is the test.
#include <deepid/backend/cuda/device_buffer.hpp>
#include <deepid/backend/cuda/kernels.cuh>

#include <vector>

namespace cu = deepid::cuda;

float relu_of_one_value(float x) {
  cu::device_buffer<float> in(1), out(1);
  in.upload(std::vector<float>{x});
  cu::ops<float>::relu_forward(in.data(), out.data(), 1);
  return out.to_host()[0];
}
