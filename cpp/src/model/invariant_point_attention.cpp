// Invariant point attention: AlphaFold2 supplement Alg 22.
#include "exafold/model/invariant_point_attention.h"

#include <algorithm>
#include <cmath>

#include "layers.h"

namespace exafold::model {

using namespace detail;

InvariantPointAttention::InvariantPointAttention(const StructureDims& dims, const ParamScope& scope,
                                                 const Tensor& pair)
    : dims_(dims), scope_(scope), pair_(pair) {
  check(pair.rank() == 3 && pair.size(0) == pair.size(1),
        "invariant point attention: pair has shape ", pair.shape().str(), ", expected [N, N, c_z]");
  // Each of the three logit terms gets variance 1/3.
  const double w_2d = std::sqrt(1.0 / 3.0);
  // [N, N, c_z] -> [N, N, H]
  bias_2d_ = ops::scalar(ops::Binary::mul, linear(scope_ / "attention_2d", pair_), w_2d);
  const double base = std::sqrt(1.0 / (3.0 * double(std::max(dims.point_qk, 1)) * 9.0 / 2.0));
  point_weights_ = ops::scalar(
      ops::Binary::mul, ops::unary(ops::Unary::softplus, scope_["trainable_point_weights"]), base);
}

Tensor InvariantPointAttention::operator()(const Tensor& act, const Tensor& seq_mask,
                                           const ops::Frames& frames) const {
  const int64_t n = pair_.size(0), cz = pair_.size(2);
  const int64_t H = dims_.ipa_heads, cq = dims_.scalar_qk, cv = dims_.scalar_v;
  const int64_t pq = dims_.point_qk, pv = dims_.point_v, pk = pq + pv;
  check(act.rank() == 2 && act.size(0) == n, "invariant point attention: act has shape ",
        act.shape().str(), " for a pair of ", n, " residues");
  check_shape(seq_mask, "invariant point attention: seq_mask", {n});
  check_shape(frames.rot, "invariant point attention: frames", {n, 3, 3});
  const ParamScope& s = scope_;

  // [N, H, cq] and [N, H, cq + cv] (k then v per head)
  const Tensor q_scalar = split_last(linear(s / "q_scalar", act), H, cq);
  const Tensor kv_scalar = split_last(linear(s / "kv_scalar", act), H, cq + cv);
  // Points come as x, y, z blocks of H*P, each [H, P]; in the global frame: [N, H, P, 3]
  auto global_points = [&](const char* name, int64_t points) {
    const Tensor local = split_last(linear(s / name, act), 3, H * points).transpose(1, 2);
    return ops::rigid_apply(frames, local, false).reshape({n, H, points, 3});
  };
  const Tensor q_points = global_points("q_point_local", pq);
  const Tensor kv_points = global_points("kv_point_local", pk);

  ops::IpaInputs in;
  in.q_scalar = q_scalar;
  in.k_scalar = kv_scalar.slice(2, 0, cq);
  in.v_scalar = kv_scalar.slice(2, cq, cq + cv);
  in.q_points = q_points;
  in.k_points = kv_points.slice(2, 0, pq);
  in.v_points = kv_points.slice(2, pq, pk);
  in.bias = bias_2d_;
  in.pair = pair_;
  in.mask = seq_mask;
  in.point_weights = point_weights_;
  // Unit-variance scalar logits, then scaled to variance 1/3.
  in.scalar_weight = std::sqrt(1.0 / (3.0 * double(std::max<int64_t>(cq, 1))));
  const ops::IpaOutputs o = ops::invariant_point_attention(in);

  // Value points back in each query's frame, [N, H*pv, 3], and their norms.
  const Tensor local = ops::rigid_apply(frames, o.points.reshape({n, H * pv, 3}), true);
  // [N, F]: scalars (H*cv) | x, y, z (H*pv each) | norms (H*pv) | attention over pair (H*cz)
  const int64_t F = H * cv + 4 * H * pv + H * cz;
  Tensor features = Tensor::empty({n, F}, act.dtype(), act.device());
  ops::copy(features.slice(1, 0, H * cv), o.scalar.reshape({n, H * cv}));
  for (int x = 0; x < 3; ++x) {
    const int64_t at = H * cv + x * H * pv;
    ops::copy(features.slice(1, at, at + H * pv), local.select(2, x));
  }
  const int64_t norms = H * cv + 3 * H * pv;
  ops::copy(features.slice(1, norms, norms + H * pv), ops::point_norm(local, 1e-8));
  ops::copy(features.slice(1, norms + H * pv, F), o.pair.reshape({n, H * cz}));
  // [N, F] -> [N, c_s]
  return linear(s / "output_projection", features);
}

}  // namespace exafold::model
