// Shared plumbing of the trunk modules (see trunk_common.h).
#include "model/trunk_common.h"
#include "exafold/tensor/scratch.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/linear.h"

namespace exafold::model::detail {

namespace {

void check_shape(const Tensor& t, std::string_view what, const Shape& shape) {
  check(t.defined(), what, " is missing (expected ", shape.str(), ")");
  check(t.shape() == shape, what, " has shape ", t.shape().str(), ", expected ", shape.str());
  check(t.device().is_host(), what, " lives on ", t.device().str(), "; the trunk runs on the cpu");
}

template <class S, class D>
void convert(const Tensor& src, Tensor& dst) {
  const Tensor c = src.contiguous();
  const S* s = c.data<S>();
  D* d = dst.data<D>();
  for (int64_t i = 0; i < src.numel(); ++i) d[i] = D(s[i]);
}

}  // namespace

template <class T>
const T* param(const ParamScope& p, std::string_view name) {
  Tensor t = p[name];
  // Stacked blocks are selected along the leading axis, so every view stays contiguous; the
  // storage belongs to Params and outlives the view.
  EXAFOLD_ASSERT(t.is_contiguous());
  return t.data<T>();
}

template <class T>
LinearParams<T> linear_params(const ParamScope& p) {
  Tensor w = p["weights"];
  return {param<T>(p, "weights"), param<T>(p, "bias"), w.size(0), w.numel() / w.size(0)};
}

template <class T>
LayerNormParams<T> layer_norm_params(const ParamScope& p) {
  return {param<T>(p, "scale"), param<T>(p, "offset"), p["scale"].numel()};
}

template <class T>
ops::AttentionWeights<T> attention_params(const ParamScope& p, bool gated) {
  Tensor q = p["query_w"], k = p["key_w"], v = p["value_w"], o = p["output_w"];
  ops::AttentionWeights<T> w;
  w.query_w = param<T>(p, "query_w");
  w.key_w = param<T>(p, "key_w");
  w.value_w = param<T>(p, "value_w");
  if (gated) {
    w.gating_w = param<T>(p, "gating_w");
    w.gating_b = param<T>(p, "gating_b");
  }
  w.output_w = param<T>(p, "output_w");
  w.output_b = param<T>(p, "output_b");
  w.c_q = q.size(0);
  w.c_m = k.size(0);
  w.heads = q.size(1);
  w.key_dim = q.size(2);
  w.value_dim = v.size(2);
  w.c_out = o.size(2);
  return w;
}

template <class T>
void check_input(const Tensor& t, std::string_view what, const Shape& shape) {
  check_shape(t, what, shape);
  check(t.dtype() == dtype_v<T>, what, " is ", dtype_name(t.dtype()), ", expected ",
        dtype_name(dtype_v<T>));
}

std::vector<int64_t> int_feature(const Tensor& t, std::string_view what, const Shape& shape) {
  check_shape(t, what, shape);
  const Tensor c = t.contiguous();
  std::vector<int64_t> v(size_t(t.numel()));
  if (t.dtype() == DType::int32)
    std::copy_n(c.data<int32_t>(), v.size(), v.begin());
  else if (t.dtype() == DType::int64)
    std::copy_n(c.data<int64_t>(), v.size(), v.begin());
  else
    fail(what, " must hold int32 or int64, not ", dtype_name(t.dtype()));
  return v;
}

template <class T>
Tensor float_feature(const Tensor& t, std::string_view what, const Shape& shape) {
  check_shape(t, what, shape);
  if (t.dtype() == dtype_v<T>) return t.contiguous();
  Tensor out = Tensor::empty(shape, dtype_v<T>);
  if (t.dtype() == DType::float32)
    convert<float, T>(t, out);
  else if (t.dtype() == DType::float64)
    convert<double, T>(t, out);
  else
    fail(what, " must hold float32 or float64, not ", dtype_name(t.dtype()));
  return out;
}

template <class T>
void layer_norm_rows(const T* act, const Axial& ax, int64_t b0, int64_t nb,
                     const LayerNormParams<T>& ln, T* dst) {
  const int64_t l = ax.tokens(), c = ax.c;
  if (!ax.columns) {
    ops::layer_norm<T>(act + b0 * l * c, nb * l, c, ln.scale, ln.offset, dst);
    return;
  }
  // Column b of act is batch row b: token t is act[t, b].
  thread_pool().parallel_for(nb, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t t = 0; t < l; ++t)
        std::copy_n(act + (t * ax.b + b0 + r) * c, c, dst + (r * l + t) * c);
  });
  ops::layer_norm<T>(dst, nb * l, c, ln.scale, ln.offset, dst);
}

template <class T>
void place_rows(const T* src, const Axial& ax, int64_t b0, int64_t nb, T* dst) {
  const int64_t l = ax.tokens(), c = ax.c;
  if (!ax.columns) {
    std::copy_n(src, nb * l * c, dst + b0 * l * c);
    return;
  }
  thread_pool().parallel_for(nb, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int64_t t = 0; t < l; ++t)
        std::copy_n(src + (r * l + t) * c, c, dst + (t * ax.b + b0 + r) * c);
  });
}

template <class T>
Tensor key_bias(const T* mask, const Axial& ax) {
  const int64_t nb = ax.batch(), l = ax.tokens();
  Tensor out = Tensor::empty({nb, l}, dtype_v<T>);
  T* o = out.data<T>();
  for (int64_t r = 0; r < nb; ++r)
    for (int64_t t = 0; t < l; ++t) {
      const T m = ax.columns ? mask[t * ax.b + r] : mask[r * ax.b + t];
      ops::mask_bias<T>(&m, 1, o + r * l + t);
    }
  return out;
}

template <class T>
Tensor pair_bias(const ParamScope& p, std::string_view norm, const T* pair, const Axial& ax,
                 int64_t chunk_size) {
  const int64_t n = ax.batch(), c = ax.c;
  const T* w = param<T>(p, "feat_2d_weights");
  const int64_t heads = p["feat_2d_weights"].size(1);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / norm);
  Tensor bias = Tensor::empty({heads, n, n}, dtype_v<T>);
  T* out = bias.data<T>();
  const int64_t rows = chunk_rows(chunk_size, n);
  const Scratch<T> x(rows * n * c);
  const Scratch<T> proj(rows * n * heads);
  for (int64_t q0 = 0; q0 < n; q0 += rows) {
    const int64_t nq = std::min(rows, n - q0);
    // [nq, N, c_z] -> [nq, N, heads] -> bias[:, q0:q0+nq, :]
    layer_norm_rows<T>(pair, ax, q0, nq, ln, x.get());
    ops::linear<T>(x.get(), nq * n, c, w, nullptr, heads, proj.get());
    for (int64_t q = 0; q < nq; ++q)
      for (int64_t k = 0; k < n; ++k)
        for (int64_t h = 0; h < heads; ++h)
          out[(h * n + q0 + q) * n + k] = proj[(q * n + k) * heads + h];
  }
  return bias;
}

template <class T>
void add_into(T* x, const T* u, int64_t n) {
  thread_pool().parallel_for(n, 1 << 14, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) x[i] += u[i];
  });
}

#define EXAFOLD_INSTANTIATE(T)                                                              \
  template const T* param<T>(const ParamScope&, std::string_view);                          \
  template LinearParams<T> linear_params<T>(const ParamScope&);                             \
  template LayerNormParams<T> layer_norm_params<T>(const ParamScope&);                      \
  template ops::AttentionWeights<T> attention_params<T>(const ParamScope&, bool);           \
  template void check_input<T>(const Tensor&, std::string_view, const Shape&);              \
  template Tensor float_feature<T>(const Tensor&, std::string_view, const Shape&);          \
  template void layer_norm_rows<T>(const T*, const Axial&, int64_t, int64_t,                \
                                   const LayerNormParams<T>&, T*);                          \
  template void place_rows<T>(const T*, const Axial&, int64_t, int64_t, T*);                \
  template Tensor key_bias<T>(const T*, const Axial&);                                      \
  template Tensor pair_bias<T>(const ParamScope&, std::string_view, const T*, const Axial&, \
                               int64_t);                                                    \
  template void add_into<T>(T*, const T*, int64_t);
EXAFOLD_INSTANTIATE(float)
EXAFOLD_INSTANTIATE(double)
#undef EXAFOLD_INSTANTIATE

}  // namespace exafold::model::detail
