// Internal helpers of the model's modules (layers.h).
#include "layers.h"

#include <cmath>

#include "exafold/core/error.h"

namespace exafold::model::detail {

std::string haiku_name(std::string name, int k) {
  if (k > 0) {
    name += '_';
    name += std::to_string(k);
  }
  return name;
}

Tensor linear(const ParamScope& s, const Tensor& x, const ops::Epilogue& e) {
  return ops::linear(x, s["weights"], s["bias"], e);
}

void linear_into(const Tensor& out, const ParamScope& s, const Tensor& x, const ops::Epilogue& e) {
  ops::linear_into(out, x, s["weights"], s["bias"], e);
}

Tensor layer_norm(const ParamScope& s, const Tensor& x) {
  return ops::layer_norm(x, s["scale"], s["offset"]);
}

void check_shape(const Tensor& t, std::string_view what, const Shape& shape) {
  check(t.defined(), what, " is missing (expected ", shape.str(), ")");
  check(t.shape() == shape, what, " has shape ", t.shape().str(), ", expected ", shape.str());
}

Tensor float_input(const Tensor& t, std::string_view what, const Shape& shape, DType dtype) {
  check_shape(t, what, shape);
  check(dtype_is_floating(t.dtype()), what, " must hold floats, not ", dtype_name(t.dtype()));
  return ops::cast(t, dtype);
}

Tensor index_input(const Tensor& t, std::string_view what, const Shape& shape) {
  check_shape(t, what, shape);
  check(t.dtype() == DType::int32 || t.dtype() == DType::int64, what,
        " must hold int32 or int64, not ", dtype_name(t.dtype()));
  return t;
}

Tensor split_last(const Tensor& t, int64_t a, int64_t b) {
  EXAFOLD_ASSERT(t.size(-1) == a * b);
  Shape shape = t.shape();
  Strides strides = t.strides();
  const int64_t item = int64_t(t.itemsize());
  shape[shape.size() - 1] = a;
  strides[strides.size() - 1] = b * item;
  shape.push_back(b);
  strides.push_back(item);
  return Tensor(t.storage(), t.offset(), shape, strides, t.dtype(), t.device());
}

Tensor merge_last(const Tensor& t) {
  const int r = t.rank();
  EXAFOLD_ASSERT(r >= 2 && t.strides()[r - 2] == t.strides()[r - 1] * t.size(-1));
  Shape shape = t.shape();
  Strides strides = t.strides();
  shape.erase(r - 1);
  strides.erase(r - 2);
  shape[r - 2] = t.size(-2) * t.size(-1);
  return Tensor(t.storage(), t.offset(), shape, strides, t.dtype(), t.device());
}

Tensor pair_bias(const ParamScope& p, std::string_view norm, const Tensor& pair,
                 int64_t chunk_size) {
  const int64_t n = pair.size(0);
  const Tensor w = p["feat_2d_weights"];
  const int64_t heads = w.size(1);
  const ParamScope ln = p / norm;
  Tensor bias = Tensor::empty({heads, n, n}, pair.dtype(), pair.device());
  const int64_t rows = chunk_rows(chunk_size, n);
  for (int64_t q0 = 0; q0 < n; q0 += rows) {
    const int64_t q1 = std::min(n, q0 + rows);
    // [nq, N, c_z] -> [nq, N, heads] -> bias[:, q0:q1, :]
    const Tensor x = layer_norm(ln, pair.slice(0, q0, q1));
    const Tensor proj = ops::linear(x, w, Tensor());
    ops::copy(bias.slice(1, q0, q1), proj.permute({2, 0, 1}));
  }
  return bias;
}

namespace {

/// Parameters [in, out...] concatenated along their outputs: [in, sum of outs].
Tensor concat_outputs(std::initializer_list<Tensor> parts) {
  const Tensor& first = *parts.begin();
  const int64_t in = first.size(0);
  int64_t total = 0;
  for (const Tensor& part : parts) {
    EXAFOLD_ASSERT(part.dtype() == first.dtype());  // one placement rule for the parts
    total += part.numel() / in;
  }
  Tensor f = Tensor::empty({in, total}, first.dtype(), first.device());
  int64_t at = 0;
  for (const Tensor& part : parts) {
    const int64_t width = part.numel() / in;
    ops::copy(f.slice(1, at, at + width), part.reshape({in, width}));
    at += width;
  }
  return f;
}

}  // namespace

const Tensor& attention_qkvg_weights(const ParamScope& a) {
  return a.cached("qkvg_weights", [&] {
    return concat_outputs({a["query_w"], a["key_w"], a["value_w"], a["gating_w"]});
  });
}

const Tensor& attention_qkvg_bias(const ParamScope& a) {
  return a.cached("qkvg_bias", [&] {
    const Tensor qw = a["query_w"], vw = a["value_w"], gb = a["gating_b"];
    const int64_t hk = qw.numel() / qw.size(0), hv = vw.numel() / vw.size(0);
    // A bias: in gating_b's dtype (float32 in a bfloat16 run), not the weights'.
    Tensor f = ops::zeros({2 * hk + 2 * hv}, gb.dtype(), gb.device());
    ops::copy(f.slice(0, 2 * hk + hv, 2 * hk + 2 * hv), gb.reshape({hv}));
    return f;
  });
}

const Tensor& attention_kv_weights(const ParamScope& a) {
  return a.cached("kv_weights", [&] { return concat_outputs({a["key_w"], a["value_w"]}); });
}

const Tensor& triangle_projection_weights(const ParamScope& p) {
  return p.cached("projection_weights", [&] {
    return concat_outputs({(p / "left_projection")["weights"], (p / "right_projection")["weights"],
                           (p / "left_gate")["weights"], (p / "right_gate")["weights"]});
  });
}

const Tensor& triangle_projection_bias(const ParamScope& p) {
  return p.cached("projection_bias", [&] {
    const Tensor first = (p / "left_projection")["bias"];
    const int64_t ci = first.size(0);
    Tensor f = Tensor::empty({4 * ci}, first.dtype(), first.device());
    int k = 0;
    for (const char* part : {"left_projection", "right_projection", "left_gate", "right_gate"}) {
      EXAFOLD_ASSERT((p / part)["bias"].dtype() == first.dtype());
      ops::copy(f.slice(0, k * ci, (k + 1) * ci), (p / part)["bias"]);
      ++k;
    }
    return f;
  });
}

void prepare_fused_weights(const Params& params) {
  // Every scope with fusable projections, found by a parameter that only it has; stacked
  // scopes (a leading block axis) get one fusion per block.
  auto each_block = [&](const std::string& scope, const Tensor& probe, int unstacked_rank,
                        auto&& fuse) {
    if (probe.rank() == unstacked_rank) {
      fuse(ParamScope(params, scope));
      return;
    }
    for (int b = 0; b < probe.size(0); ++b) fuse(ParamScope(params, scope, b));
  };
  constexpr std::string_view kGating = "/attention//gating_w", kGate = "/left_gate//weights";
  constexpr std::string_view kKey = "/attention//key_w";
  auto scope_of = [](const std::string& name, std::string_view leaf) {
    return name.substr(0, name.size() - leaf.size());
  };
  for (const auto& [name, t] : params.arrays()) {
    if (name.ends_with(kKey) && !params.arrays().count(scope_of(name, "//key_w") + "//gating_w")) {
      // Ungated attention over a memory of its own: the template point-wise attention.
      each_block(scope_of(name, "//key_w"), t, 3,
                 [](const ParamScope& a) { attention_kv_weights(a); });
    } else if (name.ends_with(kGating)) {
      const std::string scope = name.substr(0, name.size() - std::string_view("//gating_w").size());
      const bool stacked = t.rank() == 4;
      const int64_t key_rank = params.get(scope + "//key_w").rank() - (stacked ? 1 : 0);
      each_block(scope, t, 3, [&](const ParamScope& a) {
        if (key_rank == 3) {
          attention_qkvg_weights(a);
          attention_qkvg_bias(a);
        } else {
          attention_kv_weights(a);
        }
      });
    } else if (name.ends_with(kGate)) {
      const std::string scope = name.substr(0, name.size() - kGate.size());
      each_block(scope, t, 2, [](const ParamScope& p) {
        triangle_projection_weights(p);
        triangle_projection_bias(p);
      });
    }
  }
}

void gated_self_attention(const ParamScope& a, const Tensor& x, const Tensor& mask,
                          const Tensor& pair_bias, const Tensor& out) {
  const Tensor qw = a["query_w"], vw = a["value_w"], ow = a["output_w"];
  const int64_t heads = qw.size(1), dk = qw.size(2), dv = vw.size(2);
  const int64_t hk = heads * dk, hv = heads * dv;
  const Tensor& w = attention_qkvg_weights(a);
  const Tensor& b = attention_qkvg_bias(a);
  // [B, T, 2 hk + 2 hv]
  const Tensor proj = ops::linear(x, w, b);
  ops::AttentionInputs in;
  in.q = split_last(proj.slice(2, 0, hk), heads, dk);
  in.k = split_last(proj.slice(2, hk, 2 * hk), heads, dk);
  in.v = split_last(proj.slice(2, 2 * hk, 2 * hk + hv), heads, dv);
  in.gate = split_last(proj.slice(2, 2 * hk + hv, 2 * hk + 2 * hv), heads, dv);
  in.mask = mask;
  in.pair_bias = pair_bias;
  in.scale = std::pow(double(dk), -0.5);
  // [B, T, heads, dv] -> [B, T, c_out], added to out
  const Tensor o = ops::attention(in);
  ops::linear_into(out, merge_last(o), ow.reshape({hv, ow.size(2)}), a["output_b"],
                   ops::Epilogue().added());
}

}  // namespace exafold::model::detail
