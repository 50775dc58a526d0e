// AlphaFold2 supplement Algorithm 10: the outer product mean (MSA -> pair update).
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out [N, N, c_z] (the pair, for the residual) the pair update from msa [S, N, c] and
/// msa_mask [S, N]:
///   a, b = mask * (LayerNorm(msa) @ left/right_projection)                     [S, N, c_o]
///   out[i, j] = (sum_s a[s, i] (x) b[s, j]) @ output_w + output_b   (bias first)
///   out[i, j] /= 1e-3 + sum_s mask[s, i] mask[s, j]
/// p is the `outer_product_mean` scope; chunk_size output rows i at a time (<= 0: all).
void outer_product_mean(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                        int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
