// Which ops and dtypes the cuda backend implements: one answer for the backend and for its
// meta twin, so a replay on meta:cuda accepts exactly what a run on cuda does.
#pragma once

#include <span>

#include "exafold/backend/backend.h"

namespace exafold::cuda {

bool cuda_supports(backend::Op op, std::span<const DType> dtypes);

}  // namespace exafold::cuda
