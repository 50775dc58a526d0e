// Shared plumbing of the trunk modules (not an algorithm of its own): parameter views, input
// checks, chunking, and the layer-normed row/column gathers the axial attentions are built on.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "exafold/model/params.h"
#include "exafold/ops/attention.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model::detail {

template <class T>
struct LinearParams {
  const T* weights;
  const T* bias;  ///< null where the module has none
  int64_t in, out;
};

template <class T>
struct LayerNormParams {
  const T* scale;
  const T* offset;
  int64_t c;
};

/// `weights` [in, ...out] and `bias` of a haiku Linear at scope p.
template <class T>
LinearParams<T> linear_params(const ParamScope& p);
template <class T>
LayerNormParams<T> layer_norm_params(const ParamScope& p);
/// The attention module at scope p (query_w, key_w, ..., gating only where `gated`).
template <class T>
ops::AttentionWeights<T> attention_params(const ParamScope& p, bool gated);
/// One parameter of scope p as a contiguous pointer.
template <class T>
const T* param(const ParamScope& p, std::string_view name);

/// Checks that `t` holds T with exactly `shape`; InvalidArgument names `what` and both shapes.
template <class T>
void check_input(const Tensor& t, std::string_view what, const Shape& shape);

/// The values of an integer feature (int32 or int64) that must have exactly `shape`.
std::vector<int64_t> int_feature(const Tensor& t, std::string_view what, const Shape& shape);
/// A float feature (float32 or float64) as contiguous T with exactly `shape`; no copy when it
/// already is.
template <class T>
Tensor float_feature(const Tensor& t, std::string_view what, const Shape& shape);

/// Rows per chunk: chunk_size <= 0 means all n at once.
inline int64_t chunk_rows(int64_t chunk_size, int64_t n) {
  return chunk_size <= 0 || chunk_size > n ? (n > 0 ? n : 1) : chunk_size;
}

/// How an axial module sees act [A, B, c]: as A batch rows of B tokens, or (columns) as B batch
/// rows of A tokens, act transposed.
struct Axial {
  int64_t a, b, c;
  bool columns;
  int64_t batch() const { return columns ? b : a; }
  int64_t tokens() const { return columns ? a : b; }
};

/// dst [nb, tokens, c] = LayerNorm of batch rows [b0, b0 + nb) of act as `ax` sees it.
template <class T>
void layer_norm_rows(const T* act, const Axial& ax, int64_t b0, int64_t nb,
                     const LayerNormParams<T>& ln, T* dst);
/// Writes src [nb, tokens, c] to batch rows [b0, b0 + nb) of dst (act's layout).
template <class T>
void place_rows(const T* src, const Axial& ax, int64_t b0, int64_t nb, T* dst);

/// 1e9 * (mask - 1) of mask [A, B] as `ax` sees it: [batch, tokens].
template <class T>
Tensor key_bias(const T* mask, const Axial& ax);

/// The per-head pair bias of Algorithms 7, 13 and 14: LayerNorm(pair) @ feat_2d_weights,
/// [heads, N, N], over pair [N, N, c_z] seen through `ax` (columns: the transposed pair).
template <class T>
Tensor pair_bias(const ParamScope& p, std::string_view norm, const T* pair, const Axial& ax,
                 int64_t chunk_size);

/// y = x + u elementwise over n values, in place into x.
template <class T>
void add_into(T* x, const T* u, int64_t n);

template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

}  // namespace exafold::model::detail
