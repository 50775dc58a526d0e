// The cuBLASLt workspace's size, apart from everything else so that gemm.cu (nvcc) and the
// memory model's account of memory outside the caching allocator read the one constant.
#pragma once

#include <cstddef>

namespace exafold::cuda {

/// Each host thread holds one cuBLASLt workspace per device from its first GEMM there, taken
/// with cudaMalloc (outside the caching allocator) and kept until the thread exits: NVIDIA's
/// recommended size for Hopper.
inline constexpr size_t kCublasLtWorkspaceBytes = size_t(32) << 20;

}  // namespace exafold::cuda
