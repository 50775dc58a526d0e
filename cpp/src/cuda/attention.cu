// Fused gated attention, flash style: online softmax, float32 statistics and accumulation, no
// [heads, n_q, n_k] logits in memory. Two kernels behind one dispatch (docs/gpu.md):
// - portable (float32 storage, and bfloat16 on request): each thread owns one query row of one
//   (batch entry, head) and streams that pair's keys and values through shared memory a tile at
//   a time, keeping a running maximum, sum and output accumulator in float32 registers;
// - tensor cores (bfloat16 storage): each warp owns 16 query rows, forms their logits for a
//   tile of keys with wmma products, updates the online softmax row by row in shared memory,
//   and adds the probabilities (rounded to bfloat16) times the values with wmma products again.
#include <cuda_bf16.h>
#include <mma.h>

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

namespace wmma = nvcuda::wmma;

// One wmma product is 16 x 16 x 16 (bfloat16 in, float32 out): a warp owns 16 query rows, and
// keys and channels go in blocks of 16.
constexpr int kMma = 16;
// Warps per block at most: 64 query rows share each key tile.
constexpr int kMmaWarps = 4;
// Row lengths of the shared tiles in elements, each 16 bytes longer than its data so that
// successive rows start 4 banks apart (conflict-free fragment loads), and a multiple of 16
// bytes, as wmma requires of a leading dimension: keys and values, logits, probabilities (which
// also stage the rows of q) and the output accumulator.
template <int kDim>
constexpr int kLdKeys = kDim + 8;
constexpr int kLdLogits = kKeyTile + 4;
constexpr int kLdProbs = kKeyTile + 8;
template <int kDim>
constexpr int kLdOut = kDim + 4;

// The tensor-core kernel's shared memory: keys and values [kKeyTile][kLdKeys] in bfloat16 and
// the key bias [kKeyTile], then per warp logits [16][kLdLogits] float32, probabilities
// [16][kLdProbs] bfloat16 and the output accumulator [16][kLdOut] float32. Every part is a
// multiple of 32 bytes, so each starts 32-byte aligned as wmma requires, given an aligned start:
// dynamic shared memory is promised only 16, hence the 32 bytes of slack.
template <int kDim>
struct MmaShared {
  static constexpr size_t keys = size_t(kKeyTile) * kLdKeys<kDim> * sizeof(__nv_bfloat16);
  static constexpr size_t bias = kKeyTile * sizeof(float);
  static constexpr size_t logits = size_t(kMma) * kLdLogits * sizeof(float);
  static constexpr size_t probs = size_t(kMma) * kLdProbs * sizeof(__nv_bfloat16);
  static constexpr size_t out = size_t(kMma) * kLdOut<kDim> * sizeof(float);
  static constexpr size_t per_warp = logits + probs + out;
  static_assert(keys % 32 == 0 && bias % 32 == 0 && logits % 32 == 0 && probs % 32 == 0 &&
                out % 32 == 0);
  static constexpr size_t bytes(int warps) { return 32 + 2 * keys + bias + warps * per_warp; }
};

// kDim = 16, 32 or 64 >= max(key_dim, value_dim): q, k and v are zero-padded to it, so padded
// channels add exact zeros. Fragments are opaque (their element-to-lane mapping is the
// hardware's), so everything row-wise (biases, clip, online softmax, rescaling, the final
// division and gate) is done by lanes on rows in shared memory: lane l owns row l % 16 of the
// warp's 16 and half l / 16 of that row's keys or channels, and the two halves of a row meet in
// one shuffle. Lanes of one warp exchange data only through wmma calls or after __syncwarp.
template <int kDim>
__global__ void __launch_bounds__(kMmaWarps* kWarpSize)
    attention_mma_kernel(const Params<__nv_bfloat16> p) {
  using bf16 = __nv_bfloat16;
  using Shared = MmaShared<kDim>;
  using RowMajorA = wmma::fragment<wmma::matrix_a, kMma, kMma, kMma, bf16, wmma::row_major>;
  using Accumulator = wmma::fragment<wmma::accumulator, kMma, kMma, kMma, float>;
  constexpr int kChunks = kDim / kMma;         // 16-channel blocks of a head
  constexpr int kKeyBlocks = kKeyTile / kMma;  // 16-key blocks of a tile
  constexpr int kLdK = kLdKeys<kDim>, kLdO = kLdOut<kDim>;
  constexpr int kHalfKeys = kKeyTile / 2, kHalfDim = kDim / 2;

  EXAFOLD_DYNAMIC_SHARED(float, mma_shared);
  char* const base =
      reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(mma_shared) + 31) & ~uintptr_t(31));
  bf16* const s_k = reinterpret_cast<bf16*>(base);
  bf16* const s_v = reinterpret_cast<bf16*>(base + Shared::keys);
  float* const s_key_bias = reinterpret_cast<float*>(base + 2 * Shared::keys);
  const int warp = int(threadIdx.x) / kWarpSize, lane = int(threadIdx.x) % kWarpSize;
  char* const mine = base + 2 * Shared::keys + Shared::bias + warp * Shared::per_warp;
  float* const s_logits = reinterpret_cast<float*>(mine);
  bf16* const s_probs = reinterpret_cast<bf16*>(mine + Shared::logits);
  float* const s_out = reinterpret_cast<float*>(mine + Shared::logits + Shared::probs);

  const int r = lane % kMma, half = lane / kMma;
  float* const logit_row = s_logits + r * kLdLogits;
  bf16* const prob_row = s_probs + r * kLdProbs;
  float* const out_row = s_out + r * kLdO;
  const int64_t rows_per_block = int64_t(blockDim.x / kWarpSize) * kMma;
  const int64_t work = p.batch * p.heads * p.q_tiles;
  for (int64_t w = blockIdx.x; w < work; w += gridDim.x) {
    const int64_t bh = w / p.q_tiles;
    const int64_t b = bh / p.heads, h = bh % p.heads;
    const int64_t i0 = (w % p.q_tiles) * rows_per_block + warp * kMma;  // the warp's first row
    // The same on every lane of the warp, so the wmma calls it guards are warp-uniform. Warps
    // without rows still load their share of every tile.
    const bool has_rows = i0 < p.n_q;
    const int64_t i = i0 + r;
    const bool active = i < p.n_q;

    RowMajorA q[kChunks];
    if (has_rows) {
      for (int e = lane; e < kMma * kDim; e += kWarpSize) {
        const int row = e / kDim, d = e % kDim;
        const int64_t ii = i0 + row;
        store(s_probs + row * kLdProbs + d,
              ii < p.n_q && d < p.key_dim ? load(p.q + b * p.qs.b + ii * p.qs.n + h * p.qs.h + d)
                                          : 0.f);
      }
      __syncwarp(kFullWarp);
#pragma unroll
      for (int c = 0; c < kChunks; ++c) wmma::load_matrix_sync(q[c], s_probs + c * kMma, kLdProbs);
      for (int d = half * kHalfDim; d < (half + 1) * kHalfDim; ++d) out_row[d] = 0.f;
    }
    // Row r's running maximum and sum, the same on both of its lanes. Every clipped logit is
    // >= -kLogitClip, so exp(logit - max) never sees -inf - -inf.
    float max = -kLogitClip, sum = 0.f;
    const bf16* pair_row = p.pair_bias && active ? p.pair_bias + h * p.ps.b + i * p.ps.n : nullptr;

    for (int64_t j0 = 0; j0 < p.n_k; j0 += kKeyTile) {
      const int n = p.n_k - j0 < kKeyTile ? int(p.n_k - j0) : kKeyTile;  // keys in this tile
      __syncthreads();  // nobody reads the previous tile any more
      for (int e = threadIdx.x; e < kKeyTile * kDim; e += blockDim.x) {
        const int jj = e / kDim, d = e % kDim;
        const int64_t j = j0 + jj;
        store(s_k + jj * kLdK + d,
              jj < n && d < p.key_dim ? load(p.k + b * p.ks.b + j * p.ks.n + h * p.ks.h + d) : 0.f);
        store(s_v + jj * kLdK + d, jj < n && d < p.value_dim
                                       ? load(p.v + b * p.vs.b + j * p.vs.n + h * p.vs.h + d)
                                       : 0.f);
      }
      for (int jj = threadIdx.x; jj < kKeyTile; jj += blockDim.x) {
        const int64_t j = j0 + jj;
        float bias = 0.f;
        if (jj < n && p.key_bias) bias = p.key_bias[b * p.kbs.b + j * p.kbs.n];
        if (jj < n && p.mask) bias = 1e9f * (load(p.mask + b * p.ms.b + j * p.ms.n) - 1.f);
        s_key_bias[jj] = bias;
      }
      __syncthreads();
      if (!has_rows) continue;

      // Logits of the 16-key blocks that hold keys: K stored [key][channel] is K^T column-major.
      const int key_blocks = (n + kMma - 1) / kMma;
      for (int kb = 0; kb < key_blocks; ++kb) {
        Accumulator s;
        wmma::fill_fragment(s, 0.f);
#pragma unroll
        for (int c = 0; c < kChunks; ++c) {
          if (c * kMma < p.key_dim) {
            wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, bf16, wmma::col_major> kt;
            wmma::load_matrix_sync(kt, s_k + kb * kMma * kLdK + c * kMma, kLdK);
            wmma::mma_sync(s, q[c], kt, s);
          }
        }
        wmma::store_matrix_sync(s_logits + kb * kMma, s, kLdLogits, wmma::mem_row_major);
      }
      __syncwarp(kFullWarp);

      // The reference's order: scaled dot product, key bias, pair bias, clip (by comparisons,
      // so that a NaN stays NaN). Each lane finishes its half of the row in place.
      const int j_begin = half * kHalfKeys,
                j_end = j_begin + kHalfKeys < n ? j_begin + kHalfKeys : n;
      float tile_max = -kLogitClip;
      for (int jj = j_begin; jj < j_end; ++jj) {
        float x = logit_row[jj] * p.scale + s_key_bias[jj];
        if (pair_row) x += load(pair_row + j0 + jj);
        x = x < -kLogitClip ? -kLogitClip : (x > kLogitClip ? kLogitClip : x);
        logit_row[jj] = x;
        if (x > tile_max) tile_max = x;
      }
      const float other_max = __shfl_xor_sync(kFullWarp, tile_max, kMma);
      float new_max = max;
      if (tile_max > new_max) new_max = tile_max;
      if (other_max > new_max) new_max = other_max;
      const float correction = expf(max - new_max);
      max = new_max;
      // The sum takes the float32 weights, P V their bfloat16 roundings (zero past the tile's
      // keys, so that the last block's padding adds nothing).
      float tile_sum = 0.f;
      for (int jj = j_begin; jj < j_begin + kHalfKeys; ++jj) {
        const float weight = jj < j_end ? expf(logit_row[jj] - max) : 0.f;
        tile_sum += weight;
        store(prob_row + jj, weight);
      }
      sum = sum * correction + (tile_sum + __shfl_xor_sync(kFullWarp, tile_sum, kMma));
      for (int d = half * kHalfDim; d < (half + 1) * kHalfDim; ++d) out_row[d] *= correction;
      __syncwarp(kFullWarp);

      // out += P V, 16 channels at a time, into the rescaled accumulator.
      RowMajorA probs[kKeyBlocks];
#pragma unroll
      for (int kb = 0; kb < kKeyBlocks; ++kb)
        if (kb < key_blocks) wmma::load_matrix_sync(probs[kb], s_probs + kb * kMma, kLdProbs);
#pragma unroll
      for (int c = 0; c < kChunks; ++c) {
        if (c * kMma < p.value_dim) {
          Accumulator o;
          wmma::load_matrix_sync(o, s_out + c * kMma, kLdO, wmma::mem_row_major);
#pragma unroll
          for (int kb = 0; kb < kKeyBlocks; ++kb) {
            if (kb < key_blocks) {
              wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, bf16, wmma::row_major> v;
              wmma::load_matrix_sync(v, s_v + kb * kMma * kLdK + c * kMma, kLdK);
              wmma::mma_sync(o, probs[kb], v, o);
            }
          }
          wmma::store_matrix_sync(s_out + c * kMma, o, kLdO, wmma::mem_row_major);
        }
      }
      __syncwarp(kFullWarp);
    }

    if (active) {
      // sum >= 1 (the key that set the final maximum contributed exp(0)), or 0 without keys.
      const int64_t o = b * p.os.b + i * p.os.n + h * p.os.h;
      const int64_t g = b * p.gs.b + i * p.gs.n + h * p.gs.h;
      for (int d = half * kHalfDim; d < (half + 1) * kHalfDim && d < p.value_dim; ++d) {
        float y = sum > 0.f ? out_row[d] / sum : 0.f;
        if (p.gate) y *= 1.f / (1.f + expf(-load(p.gate + g + d)));
        store(p.out + o + d, y);
      }
    }
  }
}

Strides3 strides3(const View& v) { return {v.stride[0], v.stride[1], v.stride[2]}; }
Strides2 strides2(const View& v) { return {v.stride[0], v.stride[1]}; }

// The kernels' parameters for blocks of `rows` query rows.
template <class T>
Params<T> params(const AttentionViews& a, int rows) {
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
  p.batch = a.q.shape[0];
  p.n_q = a.q.shape[1];
  p.n_k = a.k.shape[1];
  p.heads = a.q.shape[2];
  p.key_dim = a.q.shape[3];
  p.value_dim = a.v.shape[3];
  p.q_tiles = (p.n_q + rows - 1) / rows;
  p.scale = a.scale;
  return p;
}

unsigned grid_for(int64_t work) { return unsigned(std::min<int64_t>(work, INT_MAX)); }

template <class T, int kDim>
void launch(const AttentionViews& a, cudaStream_t stream) {
  const int64_t n_q = a.q.shape[1];
  // Short query rows (global column attention has one) waste fewer idle threads in small blocks.
  const int threads = n_q <= 32 ? 32 : n_q <= 64 ? 64 : kMaxThreads;
  const Params<T> p = params<T>(a, threads);
  const unsigned blocks = grid_for(p.batch * p.heads * p.q_tiles);
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

// Without opting in, a block gets 48 KiB of dynamic shared memory.
constexpr size_t kDefaultSharedBytes = size_t(48) << 10;

template <int kDim>
void launch_mma(const AttentionViews& a, cudaStream_t stream) {
  // As few warps as the query rows need: one for global column attention's single query.
  const int warps = int(std::min<int64_t>(kMmaWarps, (a.q.shape[1] + kMma - 1) / kMma));
  const Params<__nv_bfloat16> p = params<__nv_bfloat16>(a, warps * kMma);
  const size_t shared = MmaShared<kDim>::bytes(warps);
  if (shared > kDefaultSharedBytes)
    EXAFOLD_CUDA_CHECK(cudaFuncSetAttribute(
        attention_mma_kernel<kDim>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)));
  const unsigned blocks = grid_for(p.batch * p.heads * p.q_tiles);
  EXAFOLD_LAUNCH(blocks, warps * kWarpSize, shared, stream, attention_mma_kernel<kDim>)(p);
  EXAFOLD_CUDA_CHECK(cudaGetLastError());
}

void launch_mma_for_width(const AttentionViews& a, cudaStream_t stream) {
  // Heads padded to a multiple of 16 channels, the wmma product's depth.
  const int64_t width = std::max(a.q.shape[3], a.v.shape[3]);
  if (width <= 16)
    launch_mma<16>(a, stream);
  else if (width <= 32)
    launch_mma<32>(a, stream);
  else
    launch_mma<64>(a, stream);
}

}  // namespace

void attention(const AttentionViews& a, cudaStream_t stream) {
  const int64_t key_dim = a.q.shape[3], value_dim = a.v.shape[3];
  check(key_dim <= kMaxHeadDim && value_dim <= kMaxHeadDim,
        "GPU attention supports heads of up to ", kMaxHeadDim, " channels, not key_dim ", key_dim,
        " and value_dim ", value_dim);
  check(a.q.dtype == DType::float32 || a.q.dtype == DType::bfloat16,
        "GPU attention takes float32 or bfloat16, not ", dtype_name(a.q.dtype));
  const ops::AttentionKernel kernel =
      a.kernel == ops::AttentionKernel::automatic ? ops::attention_kernel_for(a.q.dtype) : a.kernel;
  check(kernel != ops::AttentionKernel::tensor_cores || a.q.dtype == DType::bfloat16,
        "the tensor-core attention takes bfloat16, not ", dtype_name(a.q.dtype));
  if (a.q.shape[0] == 0 || a.q.shape[1] == 0) return;
  if (kernel == ops::AttentionKernel::tensor_cores)
    launch_mma_for_width(a, stream);
  else if (a.q.dtype == DType::bfloat16)
    launch_for_width<__nv_bfloat16>(a, stream);
  else
    launch_for_width<float>(a, stream);
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
  v.kernel = a.kernel;
  attention(v, stream);
}

}  // namespace exafold::cuda
