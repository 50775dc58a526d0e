// What every kernel source shares, so that one source builds with nvcc and, as C++, against the
// CPU emulation of CUDA (tests/emulation, docs/gpu.md):
// - launches through EXAFOLD_LAUNCH(grid, block, shared_bytes, stream, kernel)(args...), never
//   <<<>>>, and dynamic shared memory through EXAFOLD_DYNAMIC_SHARED(type, name);
// - warp code through the *_sync intrinsics with explicit masks, kWarpSize lanes, and
//   __syncwarp() wherever lanes exchange data through memory (no implicit warp synchrony);
// - bfloat16 only through element_io.cuh;
// - tensor cores through nvcuda::wmma (<mma.h>, which the emulation provides), called by whole
//   warps, with fragment elements treated as opaque (uniform element-wise operations only);
// - no inline PTX in portable code: raw mma/wgmma, TMA and cp.async paths sit behind
//   `#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900` with a portable fallback, which is what
//   the emulation runs.
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>

namespace exafold::cuda {

constexpr int kWarpSize = 32;
constexpr unsigned kFullWarp = 0xffffffffu;

/// Kernel launches of this process (ops::GpuKernels::launches()): EXAFOLD_LAUNCH and every
/// cuBLASLt call count themselves, as launched now or, on a stream that captures a graph, as
/// recorded into it (ops::GpuKernels::captured_kernels(); they run when the graph is launched).
inline std::atomic<uint64_t>& launch_counter() {
  static std::atomic<uint64_t> launches{0};
  return launches;
}
inline std::atomic<uint64_t>& captured_counter() {
  static std::atomic<uint64_t> captured{0};
  return captured;
}
inline void count_launch(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  const bool captured = cudaStreamIsCapturing(stream, &status) == cudaSuccess &&
                        status != cudaStreamCaptureStatusNone;
  (captured ? captured_counter() : launch_counter()).fetch_add(1, std::memory_order_relaxed);
}

}  // namespace exafold::cuda

#if defined(__CUDACC__)
#define EXAFOLD_LAUNCH(grid, block, shared_bytes, stream, ...) \
  ::exafold::cuda::count_launch(stream), __VA_ARGS__<<<(grid), (block), (shared_bytes), (stream)>>>
#define EXAFOLD_DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#elif defined(EXAFOLD_CUDA_EMULATION)
#define EXAFOLD_LAUNCH(grid, block, shared_bytes, stream, ...)                             \
  ::exafold::cuda::count_launch(stream),                                                   \
      ::exafold::emulation::Launch(__VA_ARGS__, (grid), (block), (shared_bytes), (stream), \
                                   #__VA_ARGS__)
#define EXAFOLD_DYNAMIC_SHARED(type, name) \
  type* const name = ::exafold::emulation::dynamic_shared<type>()
#else
#error "kernel sources compile with nvcc, or as C++ against the CPU emulation (tests/emulation)"
#endif
