// AlphaFold2 supplement Algorithms 13 and 14: triangle self-attention around the starting and
// the ending node.
#include "exafold/model/triangle_attention.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

void triangle_attention(const ParamScope& p, TriangleNode node, const Tensor& pair,
                        const Tensor& pair_mask, int64_t chunk_size, const Tensor& out) {
  check(pair.rank() == 3, "triangle_attention: pair ", pair.shape().str(), " must be [N, N, c_z]");
  const int64_t n = pair.size(0);
  check_shape(pair, "pair", {n, n, (p / "query_norm")["scale"].numel()});
  check_shape(pair_mask, "pair_mask", {n, n});
  check_shape(out, "pair update", pair.shape());

  // The ending node is the starting node on the transposed pair: columns become the batch.
  const bool ending = node == TriangleNode::ending;
  const Tensor z = ending ? pair.transpose(0, 1) : pair;
  const Tensor mask = ending ? pair_mask.transpose(0, 1) : pair_mask;
  const Tensor o = ending ? out.transpose(0, 1) : out;
  // [heads, N, N], from the (transposed) pair
  const Tensor bias2d = pair_bias(p, "query_norm", z, chunk_size);
  const ParamScope ln = p / "query_norm";
  const int64_t chunk = chunk_rows(chunk_size, n);
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t i1 = std::min(n, i0 + chunk);
    // [ni, N, c_z]
    const Tensor x = layer_norm(ln, z.slice(0, i0, i1));
    gated_self_attention(p / "attention", x, mask.slice(0, i0, i1), bias2d, o.slice(0, i0, i1));
  }
}

}  // namespace exafold::model
