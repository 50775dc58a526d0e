// Builds without CUDA (EXAFOLD_CUDA=OFF, or no nvcc) have no GPU backend: gpu_backend() says so
// and every caller reports that GPU memory is unavailable.
#include "exafold/memory/gpu_backend.h"

namespace exafold {

GpuBackend* gpu_backend() { return nullptr; }

}  // namespace exafold
