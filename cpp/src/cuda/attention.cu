// Fused gated attention, flash style. Each thread owns one query row of one (batch entry, head)
// and streams that pair's keys and values through shared memory, a tile at a time, keeping a
// running maximum, a running sum and an output accumulator in float32 registers (online
// softmax). The [heads, n_q, n_k] logits never exist in memory.
#include <cuda_bf16.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "cuda/attention.cuh"
#include "cuda/check.h"
#include "cuda/element_io.cuh"
#include "cuda/kernel.cuh"
#include "exafold/core/error.h"

namespace exafold::cuda {
namespace {

// The reference clips logits to this range before its softmax. Masked keys (bias -1e9) land on
// the lower bound, so a row whose keys are all masked becomes constant and attends uniformly.
constexpr float kLogitClip = 1e8f;
// Keys per shared-memory tile: 2 * 64 * 64 floats (32 KiB) at the widest head, within the
// 48 KiB of shared memory a block gets without opting in to more.
constexpr int kKeyTile = 64;
// The widest key or value head the kernels are instantiated for.
constexpr int64_t kMaxHeadDim = 64;
// Query rows per block at most: one thread each.
constexpr int kMaxThreads = 128;

template <class T>
struct Params {
  const T* q;
  const T* k;
  const T* v;
  const T* gate;
  const float* key_bias;
  const T* pair_bias;
  T* out;
  int64_t batch, n_q, n_k, heads, key_dim, value_dim;
  int64_t q_tiles;  // blocks of blockDim.x query rows per (batch entry, head)
  float scale;
};

// The shared tiles: keys and values [kKeyTile][kDim] in float32, then the key bias [kKeyTile].
template <int kDim>
constexpr size_t shared_bytes() {
  return (2 * kKeyTile * kDim + kKeyTile) * sizeof(float);
}

// kDim >= max(key_dim, value_dim): q, the accumulator and the shared tiles are zero-padded to
// kDim, so the padded channels add exact zeros and the loops have compile-time bounds (which
// keeps q and the accumulator in registers).
template <class T, int kDim>
__global__ void __launch_bounds__(kMaxThreads) attention_kernel(const Params<T> p) {
  EXAFOLD_DYNAMIC_SHARED(float, shared);
  float* const s_k = shared;
  float* const s_v = s_k + kKeyTile * kDim;
  float* const s_key_bias = s_v + kKeyTile * kDim;

  const int64_t hk = p.heads * p.key_dim, hv = p.heads * p.value_dim;
  const int64_t work = p.batch * p.heads * p.q_tiles;
  // A grid-stride loop over (batch entry, head, query tile), so any batch fits one launch; the
  // query tiles of one (batch entry, head) are neighbours and share its keys in L2.
  for (int64_t w = blockIdx.x; w < work; w += gridDim.x) {
    const int64_t bh = w / p.q_tiles;
    const int64_t b = bh / p.heads, h = bh % p.heads;
    const int64_t i = (w % p.q_tiles) * blockDim.x + threadIdx.x;
    // Threads past the last query still load their share of every tile.
    const bool active = i < p.n_q;

    float q[kDim], acc[kDim];
#pragma unroll
    for (int d = 0; d < kDim; ++d) {
      q[d] = active && d < p.key_dim ? load(p.q + (b * p.n_q + i) * hk + h * p.key_dim + d) : 0.f;
      acc[d] = 0.f;
    }
    // Every clipped logit is >= -kLogitClip, so this start is a true lower bound of the row's
    // maximum and exp(logit - max) never sees -inf - -inf.
    float max = -kLogitClip, sum = 0.f;
    const T* pair_row = p.pair_bias && active ? p.pair_bias + (h * p.n_q + i) * p.n_k : nullptr;

    for (int64_t j0 = 0; j0 < p.n_k; j0 += kKeyTile) {
      const int n = p.n_k - j0 < kKeyTile ? int(p.n_k - j0) : kKeyTile;  // keys in this tile
      __syncthreads();  // nobody reads the previous tile any more
      for (int e = threadIdx.x; e < kKeyTile * kDim; e += blockDim.x) {
        const int jj = e / kDim, d = e % kDim;
        const int64_t row = b * p.n_k + j0 + jj;
        s_k[e] = jj < n && d < p.key_dim ? load(p.k + row * hk + h * p.key_dim + d) : 0.f;
        s_v[e] = jj < n && d < p.value_dim ? load(p.v + row * hv + h * p.value_dim + d) : 0.f;
      }
      for (int jj = threadIdx.x; jj < kKeyTile; jj += blockDim.x)
        s_key_bias[jj] = jj < n && p.key_bias ? p.key_bias[b * p.n_k + j0 + jj] : 0.f;
      __syncthreads();

      if (active) {
        for (int jj = 0; jj < n; ++jj) {
          float dot = 0.f;
#pragma unroll
          for (int d = 0; d < kDim; ++d) dot += q[d] * s_k[jj * kDim + d];
          // The reference's order: scaled dot product, then the key bias, then the pair bias.
          float x = dot * p.scale + s_key_bias[jj];
          if (pair_row) x += load(pair_row + j0 + jj);
          // Written with comparisons rather than fminf/fmaxf so that a NaN stays NaN, as in
          // the reference's clip.
          x = x < -kLogitClip ? -kLogitClip : (x > kLogitClip ? kLogitClip : x);
          if (x > max) {
            const float c = expf(max - x);
            sum *= c;
#pragma unroll
            for (int d = 0; d < kDim; ++d) acc[d] *= c;
            max = x;
          }
          const float weight = expf(x - max);
          sum += weight;
#pragma unroll
          for (int d = 0; d < kDim; ++d) acc[d] += weight * s_v[jj * kDim + d];
        }
      }
    }

    if (active) {
      // sum >= 1: the key that set the final maximum contributed exp(0).
      const int64_t o = (b * p.n_q + i) * hv + h * p.value_dim;
#pragma unroll
      for (int d = 0; d < kDim; ++d) {
        if (d < p.value_dim) {
          float y = acc[d] / sum;
          if (p.gate) y *= 1.f / (1.f + expf(-load(p.gate + o + d)));
          store(p.out + o + d, y);
        }
      }
    }
  }
}

template <class T, int kDim>
void launch(const ops::GpuAttention& a, cudaStream_t stream) {
  // Short query rows (global column attention has one) waste fewer idle threads in small blocks.
  const int threads = a.n_q <= 32 ? 32 : a.n_q <= 64 ? 64 : kMaxThreads;
  const Params<T> p{static_cast<const T*>(a.q),
                    static_cast<const T*>(a.k),
                    static_cast<const T*>(a.v),
                    static_cast<const T*>(a.gate),
                    a.key_bias,
                    static_cast<const T*>(a.pair_bias),
                    static_cast<T*>(a.out),
                    a.batch,
                    a.n_q,
                    a.n_k,
                    a.heads,
                    a.key_dim,
                    a.value_dim,
                    (a.n_q + threads - 1) / threads,
                    a.scale};
  const int64_t work = a.batch * a.heads * p.q_tiles;
  const auto blocks = unsigned(std::min<int64_t>(work, INT_MAX));
  EXAFOLD_LAUNCH(blocks, threads, shared_bytes<kDim>(), stream, attention_kernel<T, kDim>)(p);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void launch_for_width(const ops::GpuAttention& a, cudaStream_t stream) {
  // The narrowest instantiation that holds both heads: AlphaFold2's are 8, 16 or 32 wide.
  const int64_t width = std::max(a.key_dim, a.value_dim);
  if (width <= 8)
    launch<T, 8>(a, stream);
  else if (width <= 16)
    launch<T, 16>(a, stream);
  else if (width <= 32)
    launch<T, 32>(a, stream);
  else
    launch<T, 64>(a, stream);
}

}  // namespace

void attention(const ops::GpuAttention& a, cudaStream_t stream) {
  check(a.key_dim <= kMaxHeadDim && a.value_dim <= kMaxHeadDim,
        "GPU attention supports heads of up to ", kMaxHeadDim, " channels, not key_dim ", a.key_dim,
        " and value_dim ", a.value_dim);
  if (a.batch == 0 || a.n_q == 0) return;
  if (a.dtype == DType::bfloat16)
    launch_for_width<__nv_bfloat16>(a, stream);
  else if (a.dtype == DType::float32)
    launch_for_width<float>(a, stream);
  else
    fail("GPU attention takes float32 or bfloat16, not ", dtype_name(a.dtype));
}

}  // namespace exafold::cuda
