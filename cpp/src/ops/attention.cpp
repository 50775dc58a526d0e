// Attention: argument checks and dispatch (exafold/ops/attention.h).
#include "exafold/ops/attention.h"

#include "dispatch.h"

namespace exafold::ops {

Tensor attention(const AttentionInputs& in) {
  constexpr std::string_view op = "attention";
  detail::expect_rank(op, in.q, "q", 4);
  const int64_t b = in.q.size(0), nq = in.q.size(1), h = in.q.size(2), dk = in.q.size(3);
  detail::expect_rank(op, in.k, "k", 4);
  const int64_t nk = in.k.size(1);
  detail::expect_shape(op, in.k, "k", {b, nk, h, dk});
  detail::expect_rank(op, in.v, "v", 4);
  const int64_t dv = in.v.size(3);
  detail::expect_shape(op, in.v, "v", {b, nk, h, dv});
  for (const Tensor* t : {&in.q, &in.k, &in.v}) detail::expect_unit_last(op, *t, "q, k and v");
  if (in.gate.defined()) {
    detail::expect_shape(op, in.gate, "gate", {b, nq, h, dv});
    detail::expect_unit_last(op, in.gate, "gate");
  }
  if (in.mask.defined()) detail::expect_shape(op, in.mask, "mask", {b, nk});
  if (in.pair_bias.defined()) {
    detail::expect_shape(op, in.pair_bias, "pair_bias", {h, nq, nk});
    detail::expect_unit_last(op, in.pair_bias, "pair_bias");
  }
  Tensor out = Tensor::empty({b, nq, h, dv}, in.q.dtype(), in.q.device());
  detail::run(backend::Op::attention,
              {&out, &in.q, &in.k, &in.v, &in.gate, &in.mask, &in.pair_bias},
              [&](backend::Backend& be) { be.attention(out, in); });
  return out;
}

}  // namespace exafold::ops
