// AlphaFold2 supplement Algorithm 17: template point-wise attention.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Adds to out [N, N, c_z] (pair itself in the trunk) what every pair entry reads from the
/// templates: the un-normalised pair [N^2, 1, c_z] is the query, each entry's T template
/// embeddings templates [N, N, T, c_t] the keys and values (Attention with 4 heads, no gating,
/// q scaled by key_dim^-0.5, the key bias 1e9 (template_mask - 1)), and the result, output_b
/// included, is multiplied by present (1 when any template_mask is set, else 0: a fully masked
/// set attends uniformly and must add nothing). p is the `template_embedding/attention` scope;
/// template_mask [T]; present [1]; chunk_size rows of the pair at a time (<= 0: all). Row i of
/// out is written after row i of pair is read, so out may be pair.
void template_pointwise_attention(const ParamScope& p, const Tensor& templates,
                                  const Tensor& template_mask, const Tensor& present,
                                  const Tensor& pair, int64_t chunk_size, const Tensor& out);

}  // namespace exafold::model
