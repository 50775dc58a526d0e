// Embeddings as gathers of weight rows, the integer bins of relative positions and distances,
// and row gathers (exafold/ops/embedding.h).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/view.h"

namespace exafold::cuda {

inline constexpr int kMaxEmbedTerms = 16;

/// One term of an embedding: the weight row `row + index[...]` (none where the index is < 0),
/// times scale[...] when a scale is given, or `value[...] * w[row]`; t and scale have out's
/// leading shape.
struct EmbedTermView {
  View t;
  View scale;
  bool one_hot = false;
  int64_t row = 0;
};

struct EmbedArgs {
  View out;                     ///< [..., C], unit last stride
  const void* w = nullptr;      ///< [F, C] contiguous, out's dtype
  const float* bias = nullptr;  ///< [C] contiguous float32 (a per-channel parameter), or null
  EmbedTermView terms[kMaxEmbedTerms];
  int n_terms = 0;
  bool accumulate = false;
};

void embed(const EmbedArgs& a, cudaStream_t stream);
/// out int32 [N, N] (contiguous) = clip(ri[i] - ri[j] + r, 0, 2 r).
void relative_position_bins(const View& out, const View& residue_index, int64_t max_relative,
                            cudaStream_t stream);
/// out int32 [N, N] (contiguous): the distogram bin of each pair of float32 points [N, 3].
void distogram_bins(const View& out, const View& points, double min, double max, int64_t bins,
                    cudaStream_t stream);
/// out [N, B, ...] (contiguous) = x[n, index[n, b], ...], x contiguous [N, A, ...]; the indices
/// were checked to lie in 0..A-1.
void gather(const View& out, const View& x, const View& index, cudaStream_t stream);
/// out [N, ...] (contiguous) = x[n, CB or, for glycine, CA, ...], x contiguous [N, 37, ...].
void pseudo_beta(const View& out, const View& aatype, const View& x, cudaStream_t stream);

}  // namespace exafold::cuda
