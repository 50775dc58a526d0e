// Builds without CUDA have no GPU kernels; callers check gpu_kernels() before using the GPU path.
#include "exafold/ops/gpu_kernels.h"

namespace exafold::ops {

GpuKernels* gpu_kernels() { return nullptr; }

}  // namespace exafold::ops
