// Builds without CUDA have no CUDA backend: ops on a cuda device fail naming the device.
#include "exafold/backend/backend.h"

namespace exafold::backend {

Backend* cuda_backend() { return nullptr; }

}  // namespace exafold::backend
