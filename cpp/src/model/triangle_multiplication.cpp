// AlphaFold2 supplement Algorithms 11 and 12: triangle multiplicative updates, outgoing and
// incoming edges, in the official (unfused) parameter layout.
#include "exafold/model/triangle_multiplication.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

void triangle_multiplication(const ParamScope& p, TriangleEdges edges, const Tensor& pair,
                             const Tensor& pair_mask, int64_t chunk_size, const Tensor& out) {
  check(pair.rank() == 3, "triangle_multiplication: pair ", pair.shape().str(),
        " must be [N, N, c_z]");
  const int64_t n = pair.size(0);
  const ParamScope ln_in = p / "layer_norm_input";
  const int64_t c = ln_in["scale"].numel();
  const int64_t ci = (p / "left_projection")["weights"].size(1);
  check_shape(pair, "pair", {n, n, c});
  check_shape(pair_mask, "pair_mask", {n, n});
  check_shape(out, "pair update", pair.shape());
  // The four projections of LayerNorm(pair) as one product: weights [c, 4 c_i], bias [4 c_i].
  const Tensor& w = triangle_projection_weights(p);
  const Tensor& b = triangle_projection_bias(p);

  // Channel-major operands [c_i, N, N], so each channel's contraction is one product
  // lhs @ rhs^T: outgoing o = a b^T; incoming o = b^T a = (b^T) (a^T)^T, so there both are
  // stored transposed and swapped.
  const bool incoming = edges == TriangleEdges::incoming;
  const Tensor lhs = Tensor::empty({ci, n, n}, pair.dtype(), pair.device());
  const Tensor rhs = Tensor::empty({ci, n, n}, pair.dtype(), pair.device());
  // Where a projection of row p, column q, channel k goes: (p, q, k) -> [k, p, q], or
  // [k, q, p] transposed.
  auto target = [incoming](const Tensor& t) {
    return incoming ? t.permute({2, 1, 0}) : t.permute({1, 2, 0});
  };
  const Tensor a_dst = target(incoming ? rhs : lhs), b_dst = target(incoming ? lhs : rhs);
  const int64_t chunk = chunk_rows(chunk_size, n);
  for (int64_t r0 = 0; r0 < n; r0 += chunk) {
    const int64_t r1 = std::min(n, r0 + chunk);
    // [nr, N, 4 c_i]: a, b, then their gates, masked and scattered channel-major
    const Tensor proj = ops::linear(layer_norm(ln_in, pair.slice(0, r0, r1)), w, b);
    const Tensor m = pair_mask.slice(0, r0, r1).unsqueeze(2).broadcast_to({r1 - r0, n, ci});
    ops::sigmoid_gate_into(a_dst.slice(0, r0, r1), proj.slice(2, 0, ci),
                           proj.slice(2, 2 * ci, 3 * ci), m);
    ops::sigmoid_gate_into(b_dst.slice(0, r0, r1), proj.slice(2, ci, 2 * ci),
                           proj.slice(2, 3 * ci, 4 * ci), m);
  }

  const ParamScope ln_center = p / "center_layer_norm";
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t i1 = std::min(n, i0 + chunk);
    // [c_i, ni, N], one product per channel: outgoing o[i, j] = sum_k a[i, k] b[j, k],
    // incoming o[i, j] = sum_k a[k, j] b[k, i] (the left operand is row k of column j)
    const Tensor prod = ops::matmul(lhs.slice(1, i0, i1), rhs.transpose(1, 2));
    // [ni, N, c_i], center_layer_norm over c_i
    const Tensor center = layer_norm(ln_center, prod.permute({1, 2, 0}));
    // out += output_projection(center) * sigmoid(gating_linear(LayerNorm(pair)))
    const Tensor gate = linear(p / "gating_linear", layer_norm(ln_in, pair.slice(0, i0, i1)),
                               ops::Epilogue::sigmoid());
    linear_into(out.slice(0, i0, i1), p / "output_projection", center,
                ops::Epilogue().times(gate).added());
  }
}

}  // namespace exafold::model
