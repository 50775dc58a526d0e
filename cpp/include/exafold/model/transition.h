// AlphaFold2 supplement Algorithms 9 and 15: the MSA and pair transitions.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out (act itself for the residual) the update LayerNorm -> Linear(c, n c) -> relu ->
/// Linear(n c, c) of act [A, B, c] (the MSA or the pair). As in the reference no mask is applied. p
/// is the `msa_transition` or `pair_transition` scope; chunk_size rows of A at a time bound the [B,
/// n c] intermediate
/// (<= 0: all).
void transition(const ParamScope& p, const Tensor& act, int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
