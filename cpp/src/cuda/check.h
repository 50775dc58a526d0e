// Error checking for CUDA runtime calls: every call goes through EXAFOLD_CUDA_CHECK.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "exafold/core/error.h"

namespace exafold::cuda {

[[noreturn]] void cuda_fail(cudaError_t err, const char* stmt, const char* file, int line);

/// Kernels launched by this process so far, and kernels recorded into graphs (count_launch() in
/// kernel.cuh).
uint64_t launches();
uint64_t captured_kernels();

}  // namespace exafold::cuda

/// Throws (OutOfMemory for allocation failures, Error otherwise) naming the call and location.
#define EXAFOLD_CUDA_CHECK(stmt)                                           \
  do {                                                                     \
    cudaError_t exafold_err_ = (stmt);                                     \
    if (exafold_err_ != cudaSuccess)                                       \
      ::exafold::cuda::cuda_fail(exafold_err_, #stmt, __FILE__, __LINE__); \
  } while (0)
