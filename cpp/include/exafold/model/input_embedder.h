// AlphaFold2 supplement Algorithms 3 and 4: the input embedder and the relative position
// encoding.
#pragma once

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

struct InputEmbedding {
  Tensor msa;   ///< [S, N, c_m]
  Tensor pair;  ///< [N, N, c_z]
};

/// Algorithm 3 without its relpos line: msa = preprocess_msa(msa_feat) + preprocess_1d(target_feat)
/// broadcast over the sequences, pair = left_single(target_feat)[i] + right_single(target_feat)[j].
/// target_feat [N, 22], msa_feat [S, N, 49] (any float dtype, on the parameters' device); p is the
/// `evoformer` scope.
/// The reference adds the recycled inputs before the relative positions; run_trunk keeps that
/// order (add_relative_position comes after the recycling embedder).
/// template_rows [T, N, c_m], when given, become the MSA's last T rows (msa [S + T, N, c_m]):
/// the template torsion rows of Algorithm 2 line 8. The reference appends them after the
/// extra-MSA stack, which neither reads nor writes the MSA, so placing them here is the same.
InputEmbedding input_embedder(const ParamScope& p, const Tensor& target_feat,
                              const Tensor& msa_feat, const Tensor& template_rows = {});

/// Algorithm 4: pair [N, N, c_z] += pair_activiations(one_hot(clip(ri[i] - ri[j] + r, 0, 2 r),
/// 2 r + 1)) with r = 32 (read from the parameter shape). residue_index [N], int32 or int64.
void add_relative_position(const ParamScope& p, const Tensor& residue_index, const Tensor& pair);

}  // namespace exafold::model
