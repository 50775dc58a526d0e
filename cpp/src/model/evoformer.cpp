// AlphaFold2 supplement Algorithm 6: the Evoformer block and stack.
#include "exafold/model/evoformer.h"

#include "exafold/model/msa_column_attention.h"
#include "exafold/model/msa_column_global_attention.h"
#include "exafold/model/msa_row_attention.h"
#include "exafold/model/outer_product_mean.h"
#include "exafold/model/transition.h"
#include "exafold/model/triangle_attention.h"
#include "exafold/model/triangle_multiplication.h"
#include "layers.h"

namespace exafold::model {

void evoformer_block(const ParamScope& p, ColumnAttention column, const Tensor& msa,
                     const Tensor& pair, const Tensor& msa_mask, const Tensor& pair_mask,
                     int64_t chunk_size) {
  check(msa.is_contiguous() && pair.is_contiguous(),
        "evoformer_block: msa and pair are updated in place and must be contiguous");
  // Each update reads the activations as the previous step left them (the reference's order;
  // outer_product_mean.first is False in every monomer config), and is added to them in place:
  // every module reads a chunk of rows (or columns) before it adds to that chunk, and never
  // reads another chunk's rows after, so the residual needs no update tensor of its own.
  msa_row_attention_with_pair_bias(p / "msa_row_attention_with_pair_bias", msa, msa_mask, pair,
                                   chunk_size, msa);
  if (column == ColumnAttention::full)
    msa_column_attention(p / "msa_column_attention", msa, msa_mask, chunk_size, msa);
  else
    msa_column_global_attention(p / "msa_column_global_attention", msa, msa_mask, chunk_size, msa);
  transition(p / "msa_transition", msa, chunk_size, msa);
  outer_product_mean(p / "outer_product_mean", msa, msa_mask, chunk_size, pair);
  triangle_multiplication(p / "triangle_multiplication_outgoing", TriangleEdges::outgoing, pair,
                          pair_mask, chunk_size, pair);
  triangle_multiplication(p / "triangle_multiplication_incoming", TriangleEdges::incoming, pair,
                          pair_mask, chunk_size, pair);
  triangle_attention(p / "triangle_attention_starting_node", TriangleNode::starting, pair,
                     pair_mask, chunk_size, pair);
  triangle_attention(p / "triangle_attention_ending_node", TriangleNode::ending, pair, pair_mask,
                     chunk_size, pair);
  transition(p / "pair_transition", pair, chunk_size, pair);
}

void evoformer_stack(const ParamScope& p, int blocks, const Tensor& msa, const Tensor& pair,
                     const Tensor& msa_mask, const Tensor& pair_mask, int64_t chunk_size) {
  for (int i = 0; i < blocks; ++i)
    evoformer_block(p.block(i), ColumnAttention::full, msa, pair, msa_mask, pair_mask, chunk_size);
}

}  // namespace exafold::model
