// AlphaFold2 supplement Algorithm 8: MSA column-wise gated self-attention.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// The update to msa [S, N, c_m]: each residue column attends over the sequences, keys masked
/// by msa_mask [S, N]. p is the `msa_column_attention` scope; chunk_size columns at a time
/// (<= 0: all).
template <class T>
Tensor msa_column_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                            int64_t chunk_size);

}  // namespace exafold::model
