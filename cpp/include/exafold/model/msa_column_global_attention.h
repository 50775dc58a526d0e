// AlphaFold2 supplement Algorithm 19: MSA column-wise global attention (extra-MSA stack).
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out [E, N, c_e] (msa itself for the residual) the update to the extra MSA msa: per
/// residue column one query per head, the masked mean (eps 1e-10) of the layer-normed column,
/// attends over the sequences through a single shared key/value head; each sequence gates the
/// result with its own activations. msa_mask [E, N]; p is the `msa_column_global_attention` scope;
/// chunk_size columns at a time
/// (<= 0: all).
void msa_column_global_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                                 int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
