// A copy of cpp/src/cuda/layer_norm.cu (float32, scale 1, offset 0) with switchable bugs.
#include <algorithm>

#include "cuda/kernel.cuh"
#include "kernels/kernel_copies.cuh"

namespace exafold::emulation_test {
namespace {

using cuda::kFullWarp;
using cuda::kWarpSize;

constexpr int kWarpsPerBlock = 4;
constexpr float kEps = 1e-5f;

template <LayerNormBug kBug>
__device__ float warp_sum(float v) {
  const int first = kBug == LayerNormBug::halved_warp_reduction ? kWarpSize / 4 : kWarpSize / 2;
  for (int offset = first; offset > 0; offset /= 2) v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

template <LayerNormBug kBug>
__device__ float block_sum(float v, float* partial /* [32] shared */) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  v = warp_sum<kBug>(v);
  if (lane == 0) partial[warp] = v;
  if constexpr (kBug != LayerNormBug::no_first_reduction_barrier) __syncthreads();
  float total = 0.f;
  for (int w = 0; w < warps; ++w) total += partial[w];
  if constexpr (kBug != LayerNormBug::no_trailing_reduction_barrier) __syncthreads();
  return total;
}

template <class Sum>
__device__ void normalize_row(const float* x, int c, int t, int threads, float* y, Sum sum) {
  float s = 0.f;
  for (int j = t; j < c; j += threads) s += x[j];
  const float mean = sum(s) / float(c);
  float ss = 0.f;
  for (int j = t; j < c; j += threads) {
    const float d = x[j] - mean;
    ss += d * d;
  }
  const float rstd = 1.f / sqrtf(sum(ss) / float(c) + kEps);
  for (int j = t; j < c; j += threads) y[j] = (x[j] - mean) * rstd;
}

template <LayerNormBug kBug>
__global__ void warp_rows(const float* x, int64_t rows, int c, float* y) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t first = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t stride = int64_t(gridDim.x) * kWarpsPerBlock;
  for (int64_t row = first; row < rows; row += stride)
    normalize_row(x + row * c, c, lane, kWarpSize, y + row * c,
                  [](float v) { return warp_sum<kBug>(v); });
}

template <LayerNormBug kBug>
__global__ void block_rows(const float* x, int64_t rows, int c, float* y) {
  __shared__ float partial[kWarpSize];
  const auto sum = [&](float v) { return block_sum<kBug>(v, partial); };
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    normalize_row(x + row * c, c, int(threadIdx.x), int(blockDim.x), y + row * c, sum);
}

template <LayerNormBug kBug>
cudaError_t launch_warp_rows(const float* x, int64_t rows, int c, unsigned blocks, float* y) {
  EXAFOLD_LAUNCH(blocks, kWarpsPerBlock * kWarpSize, 0, nullptr, warp_rows<kBug>)(x, rows, c, y);
  return cudaGetLastError();
}

template <LayerNormBug kBug>
cudaError_t launch_block_rows(const float* x, int64_t rows, int c, unsigned threads,
                              unsigned blocks, float* y) {
  EXAFOLD_LAUNCH(blocks, threads, 0, nullptr, block_rows<kBug>)(x, rows, c, y);
  return cudaGetLastError();
}

}  // namespace

cudaError_t layer_norm_warp_rows(LayerNormBug bug, const float* x, int64_t rows, int c,
                                 unsigned blocks, float* y) {
  switch (bug) {
    case LayerNormBug::none:
      return launch_warp_rows<LayerNormBug::none>(x, rows, c, blocks, y);
    case LayerNormBug::halved_warp_reduction:
      return launch_warp_rows<LayerNormBug::halved_warp_reduction>(x, rows, c, blocks, y);
    default:
      return cudaErrorInvalidValue;  // the other bugs are in the block reduction
  }
}

cudaError_t layer_norm_block_rows(LayerNormBug bug, const float* x, int64_t rows, int c,
                                  unsigned threads, unsigned blocks, float* y) {
  switch (bug) {
    case LayerNormBug::none:
      return launch_block_rows<LayerNormBug::none>(x, rows, c, threads, blocks, y);
    case LayerNormBug::no_first_reduction_barrier:
      return launch_block_rows<LayerNormBug::no_first_reduction_barrier>(x, rows, c, threads,
                                                                         blocks, y);
    case LayerNormBug::no_trailing_reduction_barrier:
      return launch_block_rows<LayerNormBug::no_trailing_reduction_barrier>(x, rows, c, threads,
                                                                            blocks, y);
    case LayerNormBug::halved_warp_reduction:
      return launch_block_rows<LayerNormBug::halved_warp_reduction>(x, rows, c, threads, blocks, y);
  }
  return cudaErrorInvalidValue;
}

}  // namespace exafold::emulation_test
