// AlphaFold2 supplement Algorithm 8: MSA column-wise gated self-attention.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out [S, N, c_m] (msa itself for the residual) the update to msa [S, N, c_m]: each
/// residue column attends over the sequences, keys masked by msa_mask [S, N]. p is the
/// `msa_column_attention` scope; chunk_size columns at a time
/// (<= 0: all).
void msa_column_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                          int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
