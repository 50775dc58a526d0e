// AlphaFold2 supplement Algorithm 32: the recycling embedder.
#pragma once

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// The recycled inputs of one iteration (zeros for the first), on the run's device:
/// representations in the trunk's dtype, positions in full_precision of it (coordinates are
/// never bfloat16).
struct Recycled {
  Tensor prev_msa_first_row;  ///< [N, c_m]
  Tensor prev_pair;           ///< [N, N, c_z]
  Tensor prev_pos;            ///< [N, 37, 3] atom37 positions, Angstrom

  /// All-zero inputs for the first iteration of a run computing in `dtype`.
  static Recycled zeros(int64_t n, int64_t c_m, int64_t c_z, DType dtype,
                        Device device = Device::cpu());
};

/// The recycled-distance bin [N, N] (int32) of the pseudo-beta atoms (CB, CA for glycine,
/// aatype 7): lower = linspace(3.25, 20.75, bins)^2, upper = [lower[1:], 1e8], bin b where
/// lower[b] < d^2 < upper[b] (strict, so a distance exactly on an edge is in no bin: -1).
/// aatype [N] int32/int64; prev_pos [N, 37, 3].
Tensor recycled_distogram_bins(const Tensor& aatype, const Tensor& prev_pos, int64_t bins);

/// Algorithm 32, in the reference's order: pair += prev_pos_linear(recycled_distogram),
/// msa[0] += prev_msa_first_row_norm(prev_msa_first_row), pair += prev_pair_norm(prev_pair).
/// msa [S, N, c_m] and pair [N, N, c_z] are updated in place; p is the `evoformer` scope.
void recycling_embedder(const ParamScope& p, const Tensor& aatype, const Recycled& prev,
                        const Tensor& msa, const Tensor& pair);

}  // namespace exafold::model
