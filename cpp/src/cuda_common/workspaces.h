// What the cuda backend allocates besides its outputs, one rule per buffer. The backend
// (cpp/src/cuda/cuda_backend.cpp) allocates through these and so does its meta twin
// (meta_backend.cpp), so the memory model's replay on meta:cuda allocates what a run on cuda
// does, by construction. Every buffer comes from the tensor's device's caching allocator; the
// one device allocation outside it is the cuBLASLt workspace (cublaslt_workspace.h). No CUDA
// header here: the twin is in every build.
#pragma once

#include "exafold/ops/linear.h"
#include "exafold/tensor/tensor.h"

namespace exafold::cuda {

/// Whether a Linear's GEMM writes its float32 product straight into `out`: when the product
/// (plus bias, ReLU) is all the op computes and out is a contiguous float32 tensor.
bool linear_writes_output(const Tensor& out, const ops::Epilogue& e);
/// Where a Linear's GEMM writes: `out` when linear_writes_output, else a float32 tensor of out's
/// shape on its device, which one epilogue kernel turns into out (sigmoid, gate, residual add,
/// bfloat16 rounding, strided rows).
Tensor linear_product(const Tensor& out, const ops::Epilogue& e);
/// Where a matmul's GEMM writes: `out` when float32, else a float32 tensor of out's shape that
/// is then rounded into out.
Tensor matmul_product(const Tensor& out);
/// check_range's device scratch: two int64 (the first offending index and its value).
Tensor check_range_scratch(const Tensor& t);

}  // namespace exafold::cuda
