// Embeddings as gathers: a Linear applied to one-hot features is a row of its weights, so the
// input embeddings of AlphaFold2 (relative positions, recycled distances, the extra MSA and the
// template pair features) gather rows instead of multiplying by mostly zero inputs. Results are
// exactly those of the product.
#pragma once

#include <cstdint>
#include <vector>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// One input feature of an embedding Linear with weights w [F, C]:
///   one-hot: the row w[offset + index[...]] (no row where index < 0: an all-zero one-hot),
///            times scale[...] when a scale is given (a one-hot feature multiplied by a mask,
///            as the template pair features are);
///   scalar:  value[...] * w[row].
struct EmbedTerm {
  Tensor index;  ///< integer [...], for a one-hot term
  Tensor value;  ///< float [...], for a scalar term
  int64_t row = 0;
  Tensor scale;  ///< float [...] or undefined, multiplying a one-hot term's row

  static EmbedTerm one_hot(Tensor index, int64_t offset, Tensor scale = {}) {
    return {std::move(index), {}, offset, std::move(scale)};
  }
  static EmbedTerm scalar(Tensor value, int64_t row) { return {{}, std::move(value), row, {}}; }
};

/// out[..., :] = ((term_0 + term_1) + ...) + bias, or out += that when `accumulate`; out is
/// [..., C] (contiguous last dimension), every term's tensor has out's leading shape [...];
/// w and bias contiguous.
void embed_into(const Tensor& out, const Tensor& w, const Tensor& bias,
                const std::vector<EmbedTerm>& terms, bool accumulate);

/// clip(ri[i] - ri[j] + r, 0, 2 r) for residue indices ri [N]: int32 [N, N], the one-hot index
/// of the relative position encoding (Alg 4).
Tensor relative_position_bins(const Tensor& residue_index, int64_t max_relative);

/// The distogram bin of every pair of points [N, 3]: b where lower[b] < d^2 < upper[b], with
/// lower = linspace(min, max, bins)^2 and upper = (lower[1:], 1e8), else -1; int32 [N, N].
Tensor distogram_bins(const Tensor& points, double min, double max, int64_t bins);

/// out[n, b, ...] = x[n, index[n, b], ...]: x [N, A, ...] contiguous, index integer [N, B];
/// a new contiguous [N, B, ...].
Tensor gather(const Tensor& x, const Tensor& index);

/// The pseudo-beta atom of each residue (CB, CA for glycine) from atom37 data x [N, 37, ...]
/// (positions [N, 37, 3] or masks [N, 37]) and aatype [N]: a new contiguous [N, ...].
Tensor pseudo_beta(const Tensor& aatype, const Tensor& x);

}  // namespace exafold::ops
