// AlphaFold2 supplement Algorithm 7: MSA row-wise gated self-attention with pair bias.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out [S, N, c] (msa itself for the residual) the update to msa [S, N, c] (c = c_m, or c_e
/// in the extra-MSA stack): each MSA row attends over its residues, biased per head by
/// LayerNorm(pair) @ feat_2d_weights (no bias term) and by 1e9 * (msa_mask - 1) on the keys.
/// msa_mask [S, N], pair [N, N, c_z]; p is the `msa_row_attention_with_pair_bias` scope. chunk_size
/// MSA rows are attended at a time
/// (<= 0: all).
void msa_row_attention_with_pair_bias(const ParamScope& p, const Tensor& msa,
                                      const Tensor& msa_mask, const Tensor& pair,
                                      int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
