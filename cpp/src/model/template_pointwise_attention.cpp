// AlphaFold2 supplement Algorithm 17: template point-wise attention.
#include "exafold/model/template_pointwise_attention.h"

#include <cmath>

#include "layers.h"

namespace exafold::model {

using namespace detail;

void template_pointwise_attention(const ParamScope& p, const Tensor& templates,
                                  const Tensor& template_mask, const Tensor& present,
                                  const Tensor& pair, int64_t chunk_size, const Tensor& out) {
  const Tensor qw = p["query_w"], kw = p["key_w"], vw = p["value_w"], ow = p["output_w"];
  const int64_t c_z = qw.size(0), c_t = kw.size(0), heads = qw.size(1);
  const int64_t dk = qw.size(2), dv = vw.size(2), hk = heads * dk, hv = heads * dv;
  check(pair.rank() == 3, "template_pointwise_attention: pair ", pair.shape().str(),
        " must be [N, N, ", c_z, "]");
  const int64_t n = pair.size(0);
  check(templates.rank() == 4, "template_pointwise_attention: templates ", templates.shape().str(),
        " must be [N, N, T, ", c_t, "]");
  const int64_t t = templates.size(2);
  check_shape(pair, "pair", {n, n, c_z});
  check_shape(templates, "template pair embeddings", {n, n, t, c_t});
  check_shape(template_mask, "template_mask", {t});
  check_shape(present, "template presence", {1});
  check_shape(out, "pair update", pair.shape());
  check(templates.is_contiguous(), "template_pointwise_attention: templates must be contiguous");

  const Tensor& kv_w = attention_kv_weights(p);
  const Tensor q_w = qw.reshape({c_z, hk});
  const Tensor o_w = ow.reshape({hv, ow.size(2)});
  const int64_t rows = chunk_rows(chunk_size, n);
  for (int64_t i0 = 0; i0 < n; i0 += rows) {
    const int64_t i1 = std::min(n, i0 + rows), b = (i1 - i0) * n;
    // One query per pair entry, its templates as the keys: batch [b = rows * N].
    const Tensor q = ops::linear(pair.slice(0, i0, i1), q_w, Tensor()).reshape({b, 1, hk});
    const Tensor kv =
        ops::linear(templates.slice(0, i0, i1), kv_w, Tensor()).reshape({b, t, hk + hv});
    ops::AttentionInputs in;
    in.q = split_last(q, heads, dk);
    in.k = split_last(kv.slice(2, 0, hk), heads, dk);
    in.v = split_last(kv.slice(2, hk, hk + hv), heads, dv);
    in.mask = template_mask.unsqueeze(0).broadcast_to({b, t});
    in.scale = std::pow(double(dk), -0.5);
    // [b, 1, heads, dv] -> [b, 1, c_z], times present, added to out
    const Tensor o = ops::attention(in);
    const Shape shape{b, 1, ow.size(2)};
    ops::linear_into(out.slice(0, i0, i1).reshape(shape), merge_last(o), o_w, p["output_b"],
                     ops::Epilogue().times(present.reshape({1, 1, 1}).broadcast_to(shape)).added());
  }
}

}  // namespace exafold::model
