// LayerNorm over the last axis. Statistics are two-pass in float32: the mean first, then the mean
// of (x - mean)^2, which stays accurate when |mean| >> std (E[x^2] - E[x]^2 would cancel). The
// passes re-read the row from global memory; a row of AlphaFold2's widths (<= 384 channels) stays
// in L1 between them.
#include <cuda_bf16.h>

#include <algorithm>
#include <climits>

#include "cuda/check.h"
#include "cuda/element_io.cuh"
#include "cuda/kernel.cuh"
#include "cuda/layer_norm.cuh"
#include "cuda/strided.cuh"

namespace exafold::cuda {
namespace {

// Rows of up to this many channels take one warp each (at most 32 elements per lane); wider rows
// take a block each, so every lane still has only a few elements.
constexpr int64_t kMaxWarpRowChannels = 1024;
constexpr int kWarpsPerBlock = 4;
constexpr int kBlockRowThreads = 256;
// Enough blocks to fill any current GPU; kernels stride over the rows beyond.
constexpr int64_t kMaxBlocks = int64_t(1) << 20;

// Every lane of the warp must call this; every lane receives the sum.
__device__ float warp_sum(float v) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2)
    v += __shfl_xor_sync(kFullWarp, v, offset);
  return v;
}

// Every thread of the block must call this; every thread receives the sum. blockDim.x is a
// multiple of 32 and at most 1024. The trailing __syncthreads lets the next call reuse `partial`.
__device__ float block_sum(float v, float* partial /* [32] shared */) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int warps = blockDim.x / kWarpSize;
  v = warp_sum(v);
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float total = 0.f;
  for (int w = 0; w < warps; ++w) total += partial[w];
  __syncthreads();
  return total;
}

// One row (channel j at x[j * cs]), spread over `threads` threads of which this one is `t`;
// `sum` reduces over exactly those threads. Each thread reads and writes the same indices in the
// last pass, so y may alias x.
template <class TIn, class TOut, class Sum>
__device__ void normalize_row(const TIn* x, int64_t cs, int c, int t, int threads,
                              const float* scale, const float* offset, float eps, TOut* y,
                              Sum sum) {
  float s = 0.f;
  for (int j = t; j < c; j += threads) s += load(x + j * cs);
  const float mean = sum(s) / float(c);
  float ss = 0.f;
  for (int j = t; j < c; j += threads) {
    const float d = load(x + j * cs) - mean;
    ss += d * d;
  }
  const float rstd = 1.f / sqrtf(sum(ss) / float(c) + eps);
  for (int j = t; j < c; j += threads)
    store(y + j, (load(x + j * cs) - mean) * rstd * scale[j] + offset[j]);
}

// One warp per row; the row index is uniform across the warp, so whole warps skip or take part
// in the shuffles together.
template <class TIn, class TOut>
__global__ void layer_norm_warp_rows(const TIn* x, const View lead, int64_t cs, int64_t rows, int c,
                                     const float* scale, const float* offset, float eps, TOut* y) {
  const int lane = threadIdx.x % kWarpSize;
  const int64_t first = int64_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / kWarpSize;
  const int64_t stride = int64_t(gridDim.x) * kWarpsPerBlock;
  for (int64_t row = first; row < rows; row += stride)
    normalize_row(x + offset_of(lead, row), cs, c, lane, kWarpSize, scale, offset, eps, y + row * c,
                  [](float v) { return warp_sum(v); });
}

// One block per row; the row index is uniform across the block, so the barriers in block_sum
// are reached by every thread.
template <class TIn, class TOut>
__global__ void layer_norm_block_rows(const TIn* x, const View lead, int64_t cs, int64_t rows,
                                      int c, const float* scale, const float* offset, float eps,
                                      TOut* y) {
  __shared__ float partial[kWarpSize];
  const auto sum = [&](float v) { return block_sum(v, partial); };
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x)
    normalize_row(x + offset_of(lead, row), cs, c, int(threadIdx.x), int(blockDim.x), scale, offset,
                  eps, y + row * c, sum);
}

template <class TIn, class TOut>
void launch(const void* x, const View& lead, int64_t cs, int64_t rows, int c, const float* scale,
            const float* offset, float eps, void* y, cudaStream_t stream) {
  const auto* in = static_cast<const TIn*>(x);
  auto* out = static_cast<TOut*>(y);
  if (c <= kMaxWarpRowChannels) {
    const int64_t blocks = std::min((rows + kWarpsPerBlock - 1) / kWarpsPerBlock, kMaxBlocks);
    EXAFOLD_LAUNCH(unsigned(blocks), kWarpsPerBlock * kWarpSize, 0, stream,
                   layer_norm_warp_rows<TIn, TOut>)
    (in, lead, cs, rows, c, scale, offset, eps, out);
  } else {
    const int64_t blocks = std::min(rows, kMaxBlocks);
    EXAFOLD_LAUNCH(unsigned(blocks), kBlockRowThreads, 0, stream, layer_norm_block_rows<TIn, TOut>)
    (in, lead, cs, rows, c, scale, offset, eps, out);
  }
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

void layer_norm(const View& x, const float* scale, const float* offset, float eps, void* y,
                DType y_dtype, cudaStream_t stream) {
  const int64_t c = x.shape[x.rank - 1];
  check(c <= INT_MAX, "layer_norm of ", c, " channels: at most ", INT_MAX);
  View lead = x;  // the rows: every dimension but the channels'
  lead.rank = x.rank - 1;
  const int64_t rows = lead.numel(), cs = x.stride[x.rank - 1];
  if (rows == 0) return;
  const bool x16 = x.dtype == DType::bfloat16, y16 = y_dtype == DType::bfloat16;
  const int ci = int(c);
  if (!x16 && !y16)
    launch<float, float>(x.data, lead, cs, rows, ci, scale, offset, eps, y, stream);
  else if (!x16 && y16)
    launch<float, __nv_bfloat16>(x.data, lead, cs, rows, ci, scale, offset, eps, y, stream);
  else if (x16 && !y16)
    launch<__nv_bfloat16, float>(x.data, lead, cs, rows, ci, scale, offset, eps, y, stream);
  else
    launch<__nv_bfloat16, __nv_bfloat16>(x.data, lead, cs, rows, ci, scale, offset, eps, y, stream);
}

void layer_norm(const void* x, DType x_dtype, int64_t rows, int64_t c, const float* scale,
                const float* offset, float eps, void* y, DType y_dtype, cudaStream_t stream) {
  View v;
  v.data = const_cast<void*>(x);
  v.dtype = x_dtype;
  v.rank = 2;
  v.shape[0] = rows;
  v.shape[1] = c;
  v.stride[0] = c;
  v.stride[1] = 1;
  layer_norm(v, scale, offset, eps, y, y_dtype, stream);
}

}  // namespace exafold::cuda
