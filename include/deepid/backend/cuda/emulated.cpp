// The CUDA backend's kernels run on the CPU: the same bodies as kernels.cu,
// built by the host compiler, for testing the backend where no GPU is. Link
// it instead of kernels.cu (target deepid::cuda_emulated).
#define DEEPID_CUDA_EMULATE 1
#include "deepid/backend/cuda/kernels.cuh"
