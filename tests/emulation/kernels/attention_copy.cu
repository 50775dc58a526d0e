// A copy of cpp/src/cuda/attention.cu (float32, heads of 32, key bias only) with switchable
// bugs.
#include <algorithm>
#include <climits>

#include "cuda/kernel.cuh"
#include "kernels/kernel_copies.cuh"

namespace exafold::emulation_test {
namespace {

constexpr float kLogitClip = 1e8f;
constexpr int kKeyTile = 64;
constexpr int kDim = kCopyHeadDim;

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

constexpr size_t kSharedBytes = (2 * kKeyTile * kDim + kKeyTile) * sizeof(float);

template <AttentionBug kBug>
__global__ void attention_kernel(const Params p) {
  EXAFOLD_DYNAMIC_SHARED(float, shared);
  float* const s_k = shared;
  float* const s_v = s_k + kKeyTile * kDim;
  float* const s_key_bias = s_v + kKeyTile * kDim;

  const int64_t hd = p.heads * kDim;
  const int64_t work = p.batch * p.heads * p.q_tiles;
  for (int64_t w = blockIdx.x; w < work; w += gridDim.x) {
    const int64_t bh = w / p.q_tiles;
    const int64_t b = bh / p.heads, h = bh % p.heads;
    const int64_t i = (w % p.q_tiles) * blockDim.x + threadIdx.x;
    const bool active = i < p.n_q;

    float q[kDim], acc[kDim];
    for (int d = 0; d < kDim; ++d) {
      q[d] = active ? p.q[(b * p.n_q + i) * hd + h * kDim + d] : 0.f;
      acc[d] = 0.f;
    }
    float max = -kLogitClip, sum = 0.f;

    for (int64_t j0 = 0; j0 < p.n_k; j0 += kKeyTile) {
      const int n = p.n_k - j0 < kKeyTile ? int(p.n_k - j0) : kKeyTile;
      if constexpr (kBug != AttentionBug::no_barrier_before_tile_load) __syncthreads();
      for (int e = threadIdx.x; e < kKeyTile * kDim; e += blockDim.x) {
        const int jj = e / kDim, d = e % kDim;
        const int64_t row = b * p.n_k + j0 + jj;
        const bool in_tile = kBug == AttentionBug::unguarded_key_load || jj < n;
        s_k[e] = in_tile ? p.k[row * hd + h * kDim + d] : 0.f;
        s_v[e] = in_tile ? p.v[row * hd + h * kDim + d] : 0.f;
      }
      for (int jj = threadIdx.x; jj < kKeyTile; jj += blockDim.x)
        s_key_bias[jj] = jj < n ? p.key_bias[b * p.n_k + j0 + jj] : 0.f;
      if constexpr (kBug != AttentionBug::no_barrier_after_tile_load) __syncthreads();

      if (active) {
        for (int jj = 0; jj < n; ++jj) {
          float dot = 0.f;
          for (int d = 0; d < kDim; ++d) dot += q[d] * s_k[jj * kDim + d];
          float x = dot * p.scale + s_key_bias[jj];
          x = x < -kLogitClip ? -kLogitClip : (x > kLogitClip ? kLogitClip : x);
          if (x > max) {
            const float c = expf(max - x);
            if constexpr (kBug != AttentionBug::no_sum_rescale) sum *= c;
            for (int d = 0; d < kDim; ++d) acc[d] *= c;
            max = x;
          }
          const float weight = expf(x - max);
          sum += weight;
          for (int d = 0; d < kDim; ++d) acc[d] += weight * s_v[jj * kDim + d];
        }
      }
    }

    if (active) {
      const int64_t o = (b * p.n_q + i) * hd + h * kDim;
      for (int d = 0; d < kDim; ++d) p.out[o + d] = acc[d] / sum;
    }
  }
}

template <AttentionBug kBug>
cudaError_t launch(const Params& p, int threads, unsigned blocks) {
  EXAFOLD_LAUNCH(blocks, threads, kSharedBytes, nullptr, attention_kernel<kBug>)(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t attention(AttentionBug bug, const float* q, const float* k, const float* v,
                      const float* key_bias, float* out, AttentionShape s, float scale, int threads,
                      unsigned blocks) {
  const Params p{q,       k,     v,     key_bias, out,
                 s.batch, s.n_q, s.n_k, s.heads,  (s.n_q + threads - 1) / threads,
                 scale};
  const int64_t work = s.batch * s.heads * p.q_tiles;
  if (blocks == 0) blocks = unsigned(std::min<int64_t>(work, INT_MAX));
  switch (bug) {
    case AttentionBug::none:
      return launch<AttentionBug::none>(p, threads, blocks);
    case AttentionBug::no_barrier_before_tile_load:
      return launch<AttentionBug::no_barrier_before_tile_load>(p, threads, blocks);
    case AttentionBug::no_barrier_after_tile_load:
      return launch<AttentionBug::no_barrier_after_tile_load>(p, threads, blocks);
    case AttentionBug::no_sum_rescale:
      return launch<AttentionBug::no_sum_rescale>(p, threads, blocks);
    case AttentionBug::unguarded_key_load:
      return launch<AttentionBug::unguarded_key_load>(p, threads, blocks);
  }
  return cudaErrorInvalidValue;
}

}  // namespace exafold::emulation_test
