// Row-major GEMMs through cuBLASLt, with the bias and ReLU fused into its epilogue.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "exafold/core/dtype.h"

namespace exafold::cuda {

void gemm(const void* a, const void* b, DType ab_dtype, int64_t m, int64_t n, int64_t k,
          const float* bias, bool relu, void* c, DType c_dtype, bool tf32, cudaStream_t stream);

}  // namespace exafold::cuda
