// AlphaFold2 supplement Algorithm 16: the template pair stack.
#pragma once

#include <cstdint>

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// `blocks` blocks of the stacked scope p
/// (`template_embedding/single_template_embedding/template_pair_stack/__layer_stack_no_state`)
/// on one template's pair activations pair [N, N, c_t], updated in place. Each block adds, in
/// the reference's order (which differs from the Evoformer's pair track): triangle attention
/// around the starting node, around the ending node, the outgoing and the incoming triangle
/// multiplication, and the pair transition (factor 2). pair_mask [N, N] is the query's
/// sequence mask in 2D, not the template's. pair contiguous, in the parameters' dtype and on
/// their device; chunk_size rows at a time (<= 0: all).
void template_pair_stack(const ParamScope& p, int blocks, const Tensor& pair,
                         const Tensor& pair_mask, int64_t chunk_size);

}  // namespace exafold::model
