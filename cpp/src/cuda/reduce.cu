// Reductions of the heads and of input checks. Their rows are short (at most a few hundred
// bins, or the residues of one column), so one thread reduces one row, in order, as the
// reference sums; pTM and the range check are one block each, reduced through shared memory.
#include <cuda_bf16.h>

#include <algorithm>
#include <cmath>

#include "cuda/check.h"
#include "cuda/kernel.cuh"
#include "cuda/reduce.cuh"
#include "cuda/strided.cuh"

namespace exafold::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kBlockThreads = 256;  // one-block kernels
constexpr int64_t kMaxBlocks = int64_t(1) << 16;

unsigned blocks_for(int64_t n) {
  return unsigned(std::min((n + kThreads - 1) / kThreads, kMaxBlocks));
}

/// The view of every dimension but the last: one entry per row.
View rows_of(const View& v) {
  View r = v;
  r.rank = v.rank - 1;
  return r;
}

__global__ void softmax_kernel(const View out, const View x, const View rows, int64_t n_rows,
                               int64_t n) {
  const int64_t xs = x.stride[x.rank - 1];
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < n_rows; r += stride) {
    const int64_t base = offset_of(rows, r);
    float max = -INFINITY;
    for (int64_t k = 0; k < n; ++k) max = fmaxf(max, load_f(x, base + k * xs));
    float sum = 0.f;
    for (int64_t k = 0; k < n; ++k) sum += expf(load_f(x, base + k * xs) - max);
    for (int64_t k = 0; k < n; ++k)
      store_f(out, r * n + k, expf(load_f(x, base + k * xs) - max) / sum);
  }
}

__global__ void expectation_kernel(const View out, const View probs, const View rows,
                                   const View values, int64_t n_rows, int64_t n) {
  const int64_t ps = probs.stride[probs.rank - 1];
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; r < n_rows; r += stride) {
    const int64_t base = offset_of(rows, r);
    float sum = 0.f;
    for (int64_t k = 0; k < n; ++k) sum += load_f(probs, base + k * ps) * load_f(values, k);
    store_f(out, r, sum);
  }
}

// One thread per (a, c), summing over r in order.
__global__ void masked_mean_kernel(const View out, const View x, const View mask, float eps) {
  const int64_t a_n = x.shape[0], r_n = x.shape[1], c_n = x.shape[2];
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < a_n * c_n; e += stride) {
    const int64_t a = e / c_n, c = e % c_n;
    float num = 0.f, den = 0.f;
    for (int64_t r = 0; r < r_n; ++r) {
      const float m = load_f(mask, a * mask.stride[0] + r * mask.stride[1]);
      num += m * load_f(x, a * x.stride[0] + r * x.stride[1] + c * x.stride[2]);
      den += m;
    }
    store_f(out, e, num / (den + eps));
  }
}

// Every thread of the block calls this; every thread receives the maximum.
__device__ float block_max(float v, float* partial /* [kBlockThreads] shared */) {
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int w = kBlockThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w)
      partial[threadIdx.x] = fmaxf(partial[threadIdx.x], partial[threadIdx.x + w]);
    __syncthreads();
  }
  const float m = partial[0];
  __syncthreads();
  return m;
}

__global__ void __launch_bounds__(kBlockThreads)
    predicted_tm_score_kernel(const View out, const View probs, const View centres,
                              const View weights) {
  __shared__ float partial[kBlockThreads];
  const int64_t n = probs.shape[0], bins = probs.shape[2];
  const int64_t ws = weights.stride[0];
  float total = 0.f;
  for (int64_t j = 0; j < n; ++j) total += load_f(weights, j * ws);
  // TM-score's d0 (Yang & Skolnick 2004) with the length clipped so that d0 stays positive.
  const float d0 = 1.24f * cbrtf(fmaxf(total, 19.f) - 15.f) - 1.8f;
  float best = -INFINITY;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    const float wi = load_f(weights, i * ws);
    float norm = 0.f;
    for (int64_t j = 0; j < n; ++j) norm += load_f(weights, j * ws) * wi;
    float per_alignment = 0.f;
    for (int64_t j = 0; j < n; ++j) {
      const int64_t base = i * probs.stride[0] + j * probs.stride[1];
      float term = 0.f;
      for (int64_t k = 0; k < bins; ++k) {
        const float c = load_f(centres, k);
        term += load_f(probs, base + k * probs.stride[2]) / (1.f + c * c / (d0 * d0));
      }
      per_alignment += term * (load_f(weights, j * ws) * wi / (1e-8f + norm));
    }
    best = fmaxf(best, per_alignment * wi);
  }
  best = block_max(best, partial);
  if (threadIdx.x == 0) store_f(out, 0, best);
}

__device__ int64_t load_index(const View& t, int64_t off) {
  return t.dtype == DType::int64 ? static_cast<const int64_t*>(t.data)[off]
                                 : int64_t(static_cast<const int32_t*>(t.data)[off]);
}

// result[0] = the first flat index outside [lo, hi] (or -1), result[1] its value.
__global__ void __launch_bounds__(kBlockThreads)
    check_range_kernel(const View t, int64_t n, int64_t lo, int64_t hi, int64_t* result) {
  __shared__ int64_t first[kBlockThreads];
  int64_t mine = n;
  for (int64_t e = threadIdx.x; e < n && mine == n; e += blockDim.x) {
    const int64_t v = load_index(t, offset_of(t, e));
    if (v < lo || v > hi) mine = e;
  }
  first[threadIdx.x] = mine;
  __syncthreads();
  for (int w = kBlockThreads / 2; w > 0; w /= 2) {
    if (int(threadIdx.x) < w && first[threadIdx.x + w] < first[threadIdx.x])
      first[threadIdx.x] = first[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    result[0] = first[0] < n ? first[0] : -1;
    result[1] = first[0] < n ? load_index(t, offset_of(t, first[0])) : 0;
  }
}

}  // namespace

void softmax(const View& out, const View& x, cudaStream_t stream) {
  const int64_t n = x.shape[x.rank - 1];
  const View rows = rows_of(x);
  const int64_t n_rows = rows.numel();
  if (n_rows == 0 || n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n_rows), kThreads, 0, stream, softmax_kernel)(out, x, rows, n_rows, n);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void expectation(const View& out, const View& probs, const View& values, cudaStream_t stream) {
  const View rows = rows_of(probs);
  const int64_t n_rows = rows.numel();
  if (n_rows == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n_rows), kThreads, 0, stream, expectation_kernel)
  (out, probs, rows, values, n_rows, probs.shape[probs.rank - 1]);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void masked_mean(const View& out, const View& x, const View& mask, float eps, cudaStream_t stream) {
  const int64_t n = x.shape[0] * x.shape[2];
  if (n == 0) return;
  EXAFOLD_LAUNCH(blocks_for(n), kThreads, 0, stream, masked_mean_kernel)(out, x, mask, eps);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void predicted_tm_score(const View& out, const View& probs, const View& centres,
                        const View& weights, cudaStream_t stream) {
  EXAFOLD_LAUNCH(1, kBlockThreads, 0, stream, predicted_tm_score_kernel)
  (out, probs, centres, weights);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

int64_t check_range(const View& t, int64_t lo, int64_t hi, int64_t* value, int64_t* scratch,
                    cudaStream_t stream) {
  const int64_t n = t.numel();
  if (n == 0) return -1;
  EXAFOLD_LAUNCH(1, kBlockThreads, 0, stream, check_range_kernel)(t, n, lo, hi, scratch);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
  int64_t result[2];
  EXAFOLD_CUDA_CHECK(
      cudaMemcpyAsync(result, scratch, sizeof(result), cudaMemcpyDeviceToHost, stream));
  EXAFOLD_CUDA_CHECK(cudaStreamSynchronize(stream));
  if (result[0] >= 0) *value = result[1];
  return result[0];
}

}  // namespace exafold::cuda
