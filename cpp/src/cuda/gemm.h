// Row-major GEMMs through cuBLASLt, with the bias and ReLU fused into its epilogue.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "exafold/core/dtype.h"

namespace exafold::cuda {

/// A row-major operand [r, c] of a batched product: element (i, j) of batch entry e at
/// data + e * batch + i * row + j * col elements, with row or col equal to 1.
struct Matrix {
  const void* data;
  int64_t row, col, batch;
};

void gemm(const void* a, const void* b, DType ab_dtype, int64_t m, int64_t n, int64_t k,
          const float* bias, bool relu, void* c, DType c_dtype, bool tf32, cudaStream_t stream);

/// out[e] [m, n] (float32, row stride out_row, batch stride out_batch) = a[e] [m, k] @ b[e]
/// [k, n] (+ bias [n]) (then max(0, .) when relu) for e < batch, float32 accumulation, one
/// cuBLASLt call. a and b share ab_dtype (float32 or bfloat16).
void batched_gemm(const Matrix& a, const Matrix& b, DType ab_dtype, int64_t batch, int64_t m,
                  int64_t n, int64_t k, const float* bias, bool relu, float* out, int64_t out_row,
                  int64_t out_batch, bool tf32, cudaStream_t stream);

}  // namespace exafold::cuda
