// AlphaFold2 supplement Algorithms 11 and 12: triangle multiplicative updates, outgoing and
// incoming edges, in the official (unfused) parameter layout.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

enum class TriangleEdges { outgoing, incoming };

/// Adds to out [N, N, c_z] (pair itself for the residual) the update to pair with pair_mask
/// [N, N]:
///   x = LayerNorm(pair); a = mask * left_projection(x) * sigmoid(left_gate(x)); b likewise
///   outgoing: o[i, j] = sum_k a[i, k] * b[j, k]
///   incoming: o[i, j] = sum_k a[k, j] * b[k, i]   (the reference's 'kjc,kic->ijc': the left
///             operand is row k of column j, which is why the supplement's a and b look swapped)
///   out = output_projection(center_layer_norm(o)) * sigmoid(gating_linear(x))
/// p is the `triangle_multiplication_outgoing` / `_incoming` scope; chunk_size output rows at a
/// time (<= 0: all). The projections a and b ([c, N, N] each) are held whole, as in the
/// reference.
void triangle_multiplication(const ParamScope& p, TriangleEdges edges, const Tensor& pair,
                             const Tensor& pair_mask, int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
