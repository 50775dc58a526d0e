// AlphaFold2 supplement Algorithms 13 and 14: triangle self-attention around the starting and
// the ending node.
#include "exafold/model/triangle_attention.h"

#include <algorithm>

#include "exafold/ops/attention.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor triangle_attention(const ParamScope& p, TriangleNode node, const Tensor& pair,
                          const Tensor& pair_mask, int64_t chunk_size) {
  check(pair.rank() == 3, "triangle_attention: pair ", pair.shape().str(), " must be [N, N, c_z]");
  const int64_t n = pair.size(0), c = pair.size(2);
  const ops::AttentionWeights<T> w = attention_params<T>(p / "attention", true);
  check_input<T>(pair, "pair", {n, n, w.c_q});
  check_input<T>(pair_mask, "pair_mask", {n, n});
  const Tensor z = pair.contiguous(), mask = pair_mask.contiguous();

  // The ending node is the starting node on the transposed pair: columns become the batch.
  const Axial ax{n, n, c, node == TriangleNode::ending};
  // [heads, N, N], from the (transposed) pair
  const Tensor bias2d = pair_bias<T>(p, "query_norm", z.data<T>(), ax, chunk_size);
  // [N, N]
  const Tensor bias = key_bias<T>(mask.data<T>(), ax);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "query_norm");

  Tensor out = Tensor::empty({n, n, c}, dtype_v<T>);
  const int64_t chunk = chunk_rows(chunk_size, n);
  const Scratch<T> x(chunk * n * c);
  const Scratch<T> y(chunk * n * c);
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t ni = std::min(chunk, n - i0);
    // [ni, N, c_z]
    layer_norm_rows<T>(z.data<T>(), ax, i0, ni, ln, x.get());
    ops::attention<T>(x.get(), x.get(), ni, n, n, bias.data<T>() + i0 * n, bias2d.data<T>(), w,
                      y.get());
    place_rows<T>(y.get(), ax, i0, ni, out.data<T>());
  }
  return out;
}

template Tensor triangle_attention<float>(const ParamScope&, TriangleNode, const Tensor&,
                                          const Tensor&, int64_t);
template Tensor triangle_attention<double>(const ParamScope&, TriangleNode, const Tensor&,
                                           const Tensor&, int64_t);

}  // namespace exafold::model
