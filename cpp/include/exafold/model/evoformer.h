// AlphaFold2 supplement Algorithm 6: the Evoformer block and stack.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Which MSA column attention a block runs: Algorithm 8 in the Evoformer, Algorithm 19 (global)
/// in the extra-MSA stack.
enum class ColumnAttention { full, global };

/// One block (Algorithm 6 lines 2-10), updating msa [S, N, c] and pair [N, N, c_z] in place:
/// row attention with pair bias, column attention, MSA transition, outer product mean,
/// triangle multiplication outgoing and incoming, triangle attention starting and ending node,
/// pair transition, each added as a residual. msa_mask [S, N]; pair_mask [N, N]; p is the
/// block's scope (a stacked scope with .block(i) selected). Both must be contiguous, in the
/// parameters' dtype and on their device.
void evoformer_block(const ParamScope& p, ColumnAttention column, const Tensor& msa,
                     const Tensor& pair, const Tensor& msa_mask, const Tensor& pair_mask,
                     int64_t chunk_size);

/// `blocks` blocks of the stacked scope p (`evoformer/evoformer_iteration`), in order.
void evoformer_stack(const ParamScope& p, int blocks, const Tensor& msa, const Tensor& pair,
                     const Tensor& msa_mask, const Tensor& pair_mask, int64_t chunk_size);

}  // namespace exafold::model
