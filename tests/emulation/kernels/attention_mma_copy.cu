// A copy of the tensor-core kernel of cpp/src/cuda/attention.cu (bfloat16 products, heads of
// 32, key bias only, float32 inputs rounded to bfloat16 on load) with switchable bugs.
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <climits>

#include "cuda/element_io.cuh"
#include "cuda/kernel.cuh"
#include "kernels/kernel_copies.cuh"

namespace exafold::emulation_test {
namespace {

namespace wmma = nvcuda::wmma;
using bf16 = __nv_bfloat16;
using cuda::kFullWarp;
using cuda::kWarpSize;
using cuda::load;
using cuda::store;

constexpr float kLogitClip = 1e8f;
constexpr int kKeyTile = 64, kMma = 16, kDim = kCopyHeadDim, kWarps = 2;
constexpr int kLdK = kDim + 8, kLdS = kKeyTile + 4, kLdP = kKeyTile + 8, kLdO = kDim + 4;
constexpr size_t kKeys = size_t(kKeyTile) * kLdK * sizeof(bf16), kBias = kKeyTile * sizeof(float);
constexpr size_t kLogits = size_t(kMma) * kLdS * sizeof(float);
constexpr size_t kProbs = size_t(kMma) * kLdP * sizeof(bf16);
constexpr size_t kOut = size_t(kMma) * kLdO * sizeof(float);
constexpr size_t kCorrections = 32;  // 16 floats, rounded up to 32 bytes
constexpr size_t kPerWarp = kLogits + kProbs + kOut + kCorrections;
constexpr size_t kSharedBytes = 32 + 2 * kKeys + kBias + kWarps * kPerWarp;

struct Params {
  const float* q;
  const float* k;
  const float* v;
  const float* key_bias;
  float* out;
  int64_t batch, n_q, n_k, heads;
  int64_t q_tiles;
  float scale;
};

// The row of accumulator element i of `lane` in PTX mma.m16n8k16's layout, which sm_80 and
// later wmma fragments are reported to follow (lanes in groups of 4 per row, elements 2-3 and
// 6-7 eight rows down): what a kernel must not assume.
__device__ int hardware_row(int lane, int i) { return lane / 4 + 8 * (i / 2 % 2); }

template <MmaAttentionBug kBug>
__global__ void attention_mma_kernel(const Params p) {
  using RowMajorA = wmma::fragment<wmma::matrix_a, kMma, kMma, kMma, bf16, wmma::row_major>;
  using Accumulator = wmma::fragment<wmma::accumulator, kMma, kMma, kMma, float>;
  constexpr int kChunks = kDim / kMma, kKeyBlocks = kKeyTile / kMma;
  constexpr int kHalfKeys = kKeyTile / 2, kHalfDim = kDim / 2;
  EXAFOLD_DYNAMIC_SHARED(float, mma_shared);
  char* const base =
      reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(mma_shared) + 31) & ~uintptr_t(31));
  bf16* const s_k = reinterpret_cast<bf16*>(base);
  bf16* const s_v = reinterpret_cast<bf16*>(base + kKeys);
  float* const s_key_bias = reinterpret_cast<float*>(base + 2 * kKeys);
  const int warp = int(threadIdx.x) / kWarpSize, lane = int(threadIdx.x) % kWarpSize;
  char* const mine = base + 2 * kKeys + kBias + warp * kPerWarp;
  float* const s_logits = reinterpret_cast<float*>(mine);
  bf16* const s_probs = reinterpret_cast<bf16*>(mine + kLogits);
  float* const s_out = reinterpret_cast<float*>(mine + kLogits + kProbs);
  float* const s_corrections = reinterpret_cast<float*>(mine + kLogits + kProbs + kOut);

  const int r = lane % kMma, half = lane / kMma;
  float* const logit_row = s_logits + r * kLdS;
  bf16* const prob_row = s_probs + r * kLdP;
  float* const out_row = s_out + r * kLdO;
  const int64_t hd = p.heads * kDim;
  const int64_t work = p.batch * p.heads * p.q_tiles;
  for (int64_t w = blockIdx.x; w < work; w += gridDim.x) {
    const int64_t bh = w / p.q_tiles;
    const int64_t b = bh / p.heads, h = bh % p.heads;
    const int64_t i0 = (w % p.q_tiles) * kWarps * kMma + warp * kMma;
    const bool has_rows = i0 < p.n_q;
    const int64_t i = i0 + r;
    const bool active = i < p.n_q;

    RowMajorA q[kChunks];
    if (has_rows) {
      for (int e = lane; e < kMma * kDim; e += kWarpSize) {
        const int row = e / kDim, d = e % kDim;
        const int64_t ii = i0 + row;
        store(s_probs + row * kLdP + d,
              ii < p.n_q ? p.q[(b * p.n_q + ii) * hd + h * kDim + d] : 0.f);
      }
      __syncwarp(kFullWarp);
      for (int c = 0; c < kChunks; ++c) wmma::load_matrix_sync(q[c], s_probs + c * kMma, kLdP);
      for (int d = half * kHalfDim; d < (half + 1) * kHalfDim; ++d) out_row[d] = 0.f;
    }
    float max = -kLogitClip, sum = 0.f;

    for (int64_t j0 = 0; j0 < p.n_k; j0 += kKeyTile) {
      const int n = p.n_k - j0 < kKeyTile ? int(p.n_k - j0) : kKeyTile;
      __syncthreads();
      for (int e = threadIdx.x; e < kKeyTile * kDim; e += blockDim.x) {
        const int jj = e / kDim, d = e % kDim;
        const int64_t row = b * p.n_k + j0 + jj;
        store(s_k + jj * kLdK + d, jj < n ? p.k[row * hd + h * kDim + d] : 0.f);
        store(s_v + jj * kLdK + d, jj < n ? p.v[row * hd + h * kDim + d] : 0.f);
      }
      for (int jj = threadIdx.x; jj < kKeyTile; jj += blockDim.x)
        s_key_bias[jj] = jj < n ? p.key_bias[b * p.n_k + j0 + jj] : 0.f;
      __syncthreads();
      if (!has_rows) continue;

      const int key_blocks = (n + kMma - 1) / kMma;
      for (int kb = 0; kb < key_blocks; ++kb) {
        Accumulator s;
        wmma::fill_fragment(s, 0.f);
        for (int c = 0; c < kChunks; ++c) {
          wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, bf16, wmma::col_major> kt;
          wmma::load_matrix_sync(kt, s_k + kb * kMma * kLdK + c * kMma, kLdK);
          wmma::mma_sync(s, q[c], kt, s);
        }
        wmma::store_matrix_sync(s_logits + kb * kMma, s, kLdS, wmma::mem_row_major);
      }
      if constexpr (kBug != MmaAttentionBug::no_syncwarp_after_logits) __syncwarp(kFullWarp);

      const int j_begin = half * kHalfKeys;
      const int j_end = j_begin + kHalfKeys < n ? j_begin + kHalfKeys : n;
      float tile_max = -kLogitClip;
      for (int jj = j_begin; jj < j_end; ++jj) {
        float x = logit_row[jj] * p.scale + s_key_bias[jj];
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
      float tile_sum = 0.f;
      for (int jj = j_begin; jj < j_begin + kHalfKeys; ++jj) {
        const float weight = jj < j_end ? expf(logit_row[jj] - max) : 0.f;
        tile_sum += weight;
        store(prob_row + jj, weight);
      }
      sum = sum * correction + (tile_sum + __shfl_xor_sync(kFullWarp, tile_sum, kMma));
      if constexpr (kBug == MmaAttentionBug::none ||
                    kBug == MmaAttentionBug::no_syncwarp_after_logits)
        for (int d = half * kHalfDim; d < (half + 1) * kHalfDim; ++d) out_row[d] *= correction;
      if constexpr (kBug == MmaAttentionBug::rescale_by_hardware_mapping)
        if (half == 0) s_corrections[r] = correction;
      __syncwarp(kFullWarp);

      RowMajorA probs[kKeyBlocks];
      for (int kb = 0; kb < kKeyBlocks; ++kb)
        if (kb < key_blocks) wmma::load_matrix_sync(probs[kb], s_probs + kb * kMma, kLdP);
      for (int c = 0; c < kChunks; ++c) {
        Accumulator o;
        wmma::load_matrix_sync(o, s_out + c * kMma, kLdO, wmma::mem_row_major);
        if constexpr (kBug == MmaAttentionBug::rescale_by_hardware_mapping)
          for (int e = 0; e < o.num_elements; ++e) o.x[e] *= s_corrections[hardware_row(lane, e)];
        for (int kb = 0; kb < kKeyBlocks; ++kb) {
          if (kb < key_blocks) {
            wmma::fragment<wmma::matrix_b, kMma, kMma, kMma, bf16, wmma::row_major> v;
            wmma::load_matrix_sync(v, s_v + kb * kMma * kLdK + c * kMma, kLdK);
            wmma::mma_sync(o, probs[kb], v, o);
          }
        }
        wmma::store_matrix_sync(s_out + c * kMma, o, kLdO, wmma::mem_row_major);
      }
      __syncwarp(kFullWarp);
    }

    if (active) {
      const int64_t o = (b * p.n_q + i) * hd + h * kDim;
      for (int d = half * kHalfDim; d < (half + 1) * kHalfDim; ++d) p.out[o + d] = out_row[d] / sum;
    }
  }
}

template <MmaAttentionBug kBug>
cudaError_t launch(const Params& p, unsigned blocks) {
  EXAFOLD_LAUNCH(blocks, kWarps * kWarpSize, kSharedBytes, nullptr, attention_mma_kernel<kBug>)(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t attention_mma(MmaAttentionBug bug, const float* q, const float* k, const float* v,
                          const float* key_bias, float* out, AttentionShape s, float scale) {
  const int64_t rows = kWarps * kMma;
  const Params p{
      q, k, v, key_bias, out, s.batch, s.n_q, s.n_k, s.heads, (s.n_q + rows - 1) / rows, scale};
  const auto blocks = unsigned(std::min<int64_t>(s.batch * s.heads * p.q_tiles, INT_MAX));
  switch (bug) {
    case MmaAttentionBug::none:
      return launch<MmaAttentionBug::none>(p, blocks);
    case MmaAttentionBug::no_output_rescale:
      return launch<MmaAttentionBug::no_output_rescale>(p, blocks);
    case MmaAttentionBug::no_syncwarp_after_logits:
      return launch<MmaAttentionBug::no_syncwarp_after_logits>(p, blocks);
    case MmaAttentionBug::rescale_by_hardware_mapping:
      return launch<MmaAttentionBug::rescale_by_hardware_mapping>(p, blocks);
  }
  return cudaErrorInvalidValue;
}

}  // namespace exafold::emulation_test
