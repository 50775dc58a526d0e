// AlphaFold2 supplement Algorithm 6: the Evoformer block and stack.
#include "exafold/model/evoformer.h"

#include "exafold/model/msa_column_attention.h"
#include "exafold/model/msa_column_global_attention.h"
#include "exafold/model/msa_row_attention.h"
#include "exafold/model/outer_product_mean.h"
#include "exafold/model/transition.h"
#include "exafold/model/triangle_attention.h"
#include "exafold/model/triangle_multiplication.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

namespace {

template <class T>
void add_residual(Tensor& act, const Tensor& update) {
  add_into<T>(act.data<T>(), update.data<T>(), act.numel());
}

}  // namespace

template <class T>
void evoformer_block(const ParamScope& p, ColumnAttention column, Tensor& msa, Tensor& pair,
                     const Tensor& msa_mask, const Tensor& pair_mask, int64_t chunk_size) {
  check(msa.is_contiguous() && pair.is_contiguous(),
        "evoformer_block: msa and pair are updated in place and must be contiguous");
  // Each update reads the activations as the previous step left them (the reference's order;
  // outer_product_mean.first is False in every monomer config).
  add_residual<T>(msa, msa_row_attention_with_pair_bias<T>(p / "msa_row_attention_with_pair_bias",
                                                           msa, msa_mask, pair, chunk_size));
  if (column == ColumnAttention::full)
    add_residual<T>(msa,
                    msa_column_attention<T>(p / "msa_column_attention", msa, msa_mask, chunk_size));
  else
    add_residual<T>(msa, msa_column_global_attention<T>(p / "msa_column_global_attention", msa,
                                                        msa_mask, chunk_size));
  add_residual<T>(msa, transition<T>(p / "msa_transition", msa, chunk_size));
  add_residual<T>(pair, outer_product_mean<T>(p / "outer_product_mean", msa, msa_mask, chunk_size));
  add_residual<T>(pair,
                  triangle_multiplication<T>(p / "triangle_multiplication_outgoing",
                                             TriangleEdges::outgoing, pair, pair_mask, chunk_size));
  add_residual<T>(pair,
                  triangle_multiplication<T>(p / "triangle_multiplication_incoming",
                                             TriangleEdges::incoming, pair, pair_mask, chunk_size));
  add_residual<T>(pair, triangle_attention<T>(p / "triangle_attention_starting_node",
                                              TriangleNode::starting, pair, pair_mask, chunk_size));
  add_residual<T>(pair, triangle_attention<T>(p / "triangle_attention_ending_node",
                                              TriangleNode::ending, pair, pair_mask, chunk_size));
  add_residual<T>(pair, transition<T>(p / "pair_transition", pair, chunk_size));
}

template <class T>
void evoformer_stack(const ParamScope& p, int blocks, Tensor& msa, Tensor& pair,
                     const Tensor& msa_mask, const Tensor& pair_mask, int64_t chunk_size) {
  for (int i = 0; i < blocks; ++i)
    evoformer_block<T>(p.block(i), ColumnAttention::full, msa, pair, msa_mask, pair_mask,
                       chunk_size);
}

template void evoformer_block<float>(const ParamScope&, ColumnAttention, Tensor&, Tensor&,
                                     const Tensor&, const Tensor&, int64_t);
template void evoformer_block<double>(const ParamScope&, ColumnAttention, Tensor&, Tensor&,
                                      const Tensor&, const Tensor&, int64_t);
template void evoformer_stack<float>(const ParamScope&, int, Tensor&, Tensor&, const Tensor&,
                                     const Tensor&, int64_t);
template void evoformer_stack<double>(const ParamScope&, int, Tensor&, Tensor&, const Tensor&,
                                      const Tensor&, int64_t);

}  // namespace exafold::model
