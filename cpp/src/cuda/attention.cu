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

// Element strides of a [B, N, H, d] operand (d unit) and of a [B, N] one.
struct Strides3 {
  int64_t b, n, h;
};
struct Strides2 {
  int64_t b, n;
};

template <class T>
struct Params {
  const T* q;
  const T* k;
  const T* v;
  const T* gate;
  const float* key_bias;  // float32 additive bias [B, Nk], or
  const T* mask;          // a key mask [B, Nk] (bias 1e9 * (mask - 1)); either may be null
  const T* pair_bias;     // [H, Nq, Nk], unit key stride
  T* out;
  Strides3 qs, ks, vs, gs, os;
  Strides2 kbs, ms, ps;  // ps: (head, query) strides of the pair bias
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
      q[d] = active && d < p.key_dim ? load(p.q + b * p.qs.b + i * p.qs.n + h * p.qs.h + d) : 0.f;
      acc[d] = 0.f;
    }
    // Every clipped logit is >= -kLogitClip, so this start is a true lower bound of the row's
    // maximum and exp(logit - max) never sees -inf - -inf.
    float max = -kLogitClip, sum = 0.f;
    const T* pair_row = p.pair_bias && active ? p.pair_bias + h * p.ps.b + i * p.ps.n : nullptr;

    for (int64_t j0 = 0; j0 < p.n_k; j0 += kKeyTile) {
      const int n = p.n_k - j0 < kKeyTile ? int(p.n_k - j0) : kKeyTile;  // keys in this tile
      __syncthreads();  // nobody reads the previous tile any more
      for (int e = threadIdx.x; e < kKeyTile * kDim; e += blockDim.x) {
        const int jj = e / kDim, d = e % kDim;
        const int64_t j = j0 + jj;
        s_k[e] =
            jj < n && d < p.key_dim ? load(p.k + b * p.ks.b + j * p.ks.n + h * p.ks.h + d) : 0.f;
        s_v[e] =
            jj < n && d < p.value_dim ? load(p.v + b * p.vs.b + j * p.vs.n + h * p.vs.h + d) : 0.f;
      }
      for (int jj = threadIdx.x; jj < kKeyTile; jj += blockDim.x) {
        const int64_t j = j0 + jj;
        float bias = 0.f;
        if (jj < n && p.key_bias) bias = p.key_bias[b * p.kbs.b + j * p.kbs.n];
        if (jj < n && p.mask) bias = 1e9f * (load(p.mask + b * p.ms.b + j * p.ms.n) - 1.f);
        s_key_bias[jj] = bias;
      }
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
      // sum >= 1 (the key that set the final maximum contributed exp(0)), or 0 without keys,
      // whose weighted sum is empty.
      const int64_t o = b * p.os.b + i * p.os.n + h * p.os.h;
      const int64_t g = b * p.gs.b + i * p.gs.n + h * p.gs.h;
#pragma unroll
      for (int d = 0; d < kDim; ++d) {
        if (d < p.value_dim) {
          float y = sum > 0.f ? acc[d] / sum : 0.f;
          if (p.gate) y *= 1.f / (1.f + expf(-load(p.gate + g + d)));
          store(p.out + o + d, y);
        }
      }
    }
  }
}

Strides3 strides3(const View& v) { return {v.stride[0], v.stride[1], v.stride[2]}; }
Strides2 strides2(const View& v) { return {v.stride[0], v.stride[1]}; }

template <class T, int kDim>
void launch(const AttentionViews& a, cudaStream_t stream) {
  const int64_t batch = a.q.shape[0], n_q = a.q.shape[1];
  // Short query rows (global column attention has one) waste fewer idle threads in small blocks.
  const int threads = n_q <= 32 ? 32 : n_q <= 64 ? 64 : kMaxThreads;
  Params<T> p{};
  p.q = static_cast<const T*>(a.q.data);
  p.k = static_cast<const T*>(a.k.data);
  p.v = static_cast<const T*>(a.v.data);
  p.gate = static_cast<const T*>(a.gate.data);
  p.key_bias = a.key_bias;
  p.mask = static_cast<const T*>(a.mask.data);
  p.pair_bias = static_cast<const T*>(a.pair_bias.data);
  p.out = static_cast<T*>(a.out.data);
  p.qs = strides3(a.q);
  p.ks = strides3(a.k);
  p.vs = strides3(a.v);
  p.gs = a.gate.data ? strides3(a.gate) : Strides3{};
  p.os = strides3(a.out);
  p.kbs = {a.k.shape[1], 1};
  p.ms = a.mask.data ? strides2(a.mask) : Strides2{};
  p.ps = a.pair_bias.data ? strides2(a.pair_bias) : Strides2{};
  p.batch = batch;
  p.n_q = n_q;
  p.n_k = a.k.shape[1];
  p.heads = a.q.shape[2];
  p.key_dim = a.q.shape[3];
  p.value_dim = a.v.shape[3];
  p.q_tiles = (n_q + threads - 1) / threads;
  p.scale = a.scale;
  const int64_t work = batch * p.heads * p.q_tiles;
  const auto blocks = unsigned(std::min<int64_t>(work, INT_MAX));
  EXAFOLD_LAUNCH(blocks, threads, shared_bytes<kDim>(), stream, attention_kernel<T, kDim>)(p);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void launch_for_width(const AttentionViews& a, cudaStream_t stream) {
  // The narrowest instantiation that holds both heads: AlphaFold2's are 8, 16 or 32 wide.
  const int64_t width = std::max(a.q.shape[3], a.v.shape[3]);
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

void attention(const AttentionViews& a, cudaStream_t stream) {
  const int64_t key_dim = a.q.shape[3], value_dim = a.v.shape[3];
  check(key_dim <= kMaxHeadDim && value_dim <= kMaxHeadDim,
        "GPU attention supports heads of up to ", kMaxHeadDim, " channels, not key_dim ", key_dim,
        " and value_dim ", value_dim);
  if (a.q.shape[0] == 0 || a.q.shape[1] == 0) return;
  if (a.q.dtype == DType::bfloat16)
    launch_for_width<__nv_bfloat16>(a, stream);
  else if (a.q.dtype == DType::float32)
    launch_for_width<float>(a, stream);
  else
    fail("GPU attention takes float32 or bfloat16, not ", dtype_name(a.q.dtype));
}

namespace {

View packed(const void* p, DType dtype, std::initializer_list<int64_t> shape) {
  View v;
  v.data = const_cast<void*>(p);
  v.dtype = dtype;
  for (int64_t n : shape) v.shape[v.rank++] = n;
  int64_t stride = 1;
  for (int k = v.rank - 1; k >= 0; --k) {
    v.stride[k] = stride;
    stride *= v.shape[k];
  }
  return v;
}

}  // namespace

void attention(const ops::GpuAttention& a, cudaStream_t stream) {
  AttentionViews v;
  v.q = packed(a.q, a.dtype, {a.batch, a.n_q, a.heads, a.key_dim});
  v.k = packed(a.k, a.dtype, {a.batch, a.n_k, a.heads, a.key_dim});
  v.v = packed(a.v, a.dtype, {a.batch, a.n_k, a.heads, a.value_dim});
  if (a.gate) v.gate = packed(a.gate, a.dtype, {a.batch, a.n_q, a.heads, a.value_dim});
  v.key_bias = a.key_bias;
  if (a.pair_bias) v.pair_bias = packed(a.pair_bias, a.dtype, {a.heads, a.n_q, a.n_k});
  v.out = packed(a.out, a.dtype, {a.batch, a.n_q, a.heads, a.value_dim});
  v.scale = a.scale;
  attention(v, stream);
}

}  // namespace exafold::cuda
