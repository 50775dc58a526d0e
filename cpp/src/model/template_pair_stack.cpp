// AlphaFold2 supplement Algorithm 16: the template pair stack.
#include "exafold/model/template_pair_stack.h"

#include "exafold/model/transition.h"
#include "exafold/model/triangle_attention.h"
#include "exafold/model/triangle_multiplication.h"
#include "layers.h"

namespace exafold::model {

void template_pair_stack(const ParamScope& p, int blocks, const Tensor& pair,
                         const Tensor& pair_mask, int64_t chunk_size) {
  check(pair.is_contiguous(),
        "template_pair_stack: pair is updated in place and must be contiguous");
  for (int i = 0; i < blocks; ++i) {
    const ParamScope b = p.block(i);
    // Residuals added in place, as in the Evoformer block (evoformer.cpp says why that is safe).
    triangle_attention(b / "triangle_attention_starting_node", TriangleNode::starting, pair,
                       pair_mask, chunk_size, pair);
    triangle_attention(b / "triangle_attention_ending_node", TriangleNode::ending, pair, pair_mask,
                       chunk_size, pair);
    triangle_multiplication(b / "triangle_multiplication_outgoing", TriangleEdges::outgoing, pair,
                            pair_mask, chunk_size, pair);
    triangle_multiplication(b / "triangle_multiplication_incoming", TriangleEdges::incoming, pair,
                            pair_mask, chunk_size, pair);
    transition(b / "pair_transition", pair, chunk_size, pair);
  }
}

}  // namespace exafold::model
