// LayerNorm over the last axis, float32 statistics, float32 or bfloat16 in and out.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/view.h"
#include "exafold/core/dtype.h"

namespace exafold::cuda {

void layer_norm(const void* x, DType x_dtype, int64_t rows, int64_t c, const float* scale,
                const float* offset, float eps, void* y, DType y_dtype, cudaStream_t stream);
/// The same over any strided view x (its last dimension the channels); y is contiguous.
void layer_norm(const View& x, const float* scale, const float* offset, float eps, void* y,
                DType y_dtype, cudaStream_t stream);

}  // namespace exafold::cuda
