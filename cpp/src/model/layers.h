// Internal to cpp/src/model: haiku's Linear and LayerNorm taken from a parameter scope, input
// checks, chunking, views, and the gated self-attention that the axial modules share. All of it
// is ops on tensors: nothing here touches memory.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "exafold/model/params.h"
#include "exafold/ops/attention.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/layer_norm.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model::detail {

/// haiku's name for the k-th module created under one name in a scope: name, name_1, name_2...
std::string haiku_name(std::string name, int k);

/// x @ weights + bias of the scope's Linear ([..., in] -> [..., out...]), with an epilogue.
Tensor linear(const ParamScope& s, const Tensor& x, const ops::Epilogue& e = {});
/// The same into `out` (accumulated when e.accumulate: the residual add).
void linear_into(const Tensor& out, const ParamScope& s, const Tensor& x,
                 const ops::Epilogue& e = {});
/// LayerNorm over the last dimension with the scope's scale and offset.
Tensor layer_norm(const ParamScope& s, const Tensor& x);

/// Rows per chunk: chunk_size <= 0 means all n at once.
inline int64_t chunk_rows(int64_t chunk_size, int64_t n) {
  return chunk_size <= 0 || chunk_size > n ? (n > 0 ? n : 1) : chunk_size;
}

/// Fails unless t is defined with exactly `shape`, naming `what`.
void check_shape(const Tensor& t, std::string_view what, const Shape& shape);
/// A float input of exactly `shape` as contiguous `dtype` (no copy when it already is).
Tensor float_input(const Tensor& t, std::string_view what, const Shape& shape, DType dtype);
/// An integer input (int32 or int64) of exactly `shape`.
Tensor index_input(const Tensor& t, std::string_view what, const Shape& shape);

/// t [..., a * b] (last dimension contiguous) seen as [..., a, b].
Tensor split_last(const Tensor& t, int64_t a, int64_t b);
/// t [..., a, b] whose two last dimensions are laid out as one, seen as [..., a * b].
Tensor merge_last(const Tensor& t);

/// The per-head pair bias of Algorithms 7, 13 and 14: feat_2d_weights applied to
/// LayerNorm(pair) with the scope's `norm`, as [heads, N, N] for pair [N, N, c_z] (a transposed
/// view for the ending node), chunk_size rows at a time.
Tensor pair_bias(const ParamScope& p, std::string_view norm, const Tensor& pair,
                 int64_t chunk_size);

/// Projections that read one input, fused into one product. Each is derived from the parameters
/// once (Params::cached) and kept with them; prepare_fused_weights makes all of them up front.
/// Attention (scope `attention`): [query_w | key_w | value_w | gating_w] as [c, 2 hk + 2 hv] and
/// the bias [0 | 0 | 0 | gating_b] (q, k and v have none).
const Tensor& attention_qkvg_weights(const ParamScope& a);
const Tensor& attention_qkvg_bias(const ParamScope& a);
/// The key and value projections of an attention over a memory of its own, [key_w | value_w]
/// as [c, k + v]: global attention's shared head ([c, 2 d]) and the template point-wise
/// attention's templates ([c_t, 2 h d]).
const Tensor& attention_kv_weights(const ParamScope& a);
/// Triangle multiplication: [left | right projection | left | right gate], weights [c, 4 c_i]
/// and bias [4 c_i].
const Tensor& triangle_projection_weights(const ParamScope& p);
const Tensor& triangle_projection_bias(const ParamScope& p);

/// Derives every fused projection of `params` (all blocks of every stack) now, so that a
/// prediction's memory holds activations only.
void prepare_fused_weights(const Params& params);

/// The reference's Attention module on a layer-normed input x [B, T, c] attending within each
/// batch row (q, k, v and the gate from x; key mask [B, T]; pair_bias [H, T, T] or undefined),
/// its output projection added to out [B, T, c_out] (any view of that shape). `a` is the
/// module's `attention` scope; q, k, v and gating run as one product.
void gated_self_attention(const ParamScope& a, const Tensor& x, const Tensor& mask,
                          const Tensor& pair_bias, const Tensor& out);

}  // namespace exafold::model::detail
