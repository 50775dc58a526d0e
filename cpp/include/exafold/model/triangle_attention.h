// AlphaFold2 supplement Algorithms 13 and 14: triangle self-attention around the starting and
// the ending node.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

enum class TriangleNode { starting, ending };

/// Adds to out [N, N, c_z] (pair itself for the residual) the update to pair with pair_mask
/// [N, N]. Starting node: row i attends over its
/// entries (i, k), biased per head by LayerNorm(pair)[j, k] @ feat_2d_weights. Ending node: the
/// same on the transposed pair and mask, transposed back (the bias comes from the transposed
/// pair too). p is the `triangle_attention_starting_node` / `_ending_node` scope; chunk_size rows
/// (columns for the ending node) at a time (<= 0: all).
void triangle_attention(const ParamScope& p, TriangleNode node, const Tensor& pair,
                        const Tensor& pair_mask, int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
