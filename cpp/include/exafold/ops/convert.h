// Precision changes between float32 and float64 (recycled inputs, mixed-precision fixtures).
#pragma once

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// A contiguous host copy of t in `dtype` (float32 <-> float64), or t itself when it already is.
Tensor to_dtype(const Tensor& t, DType dtype);

}  // namespace exafold::ops
