#include "exafold/ops/linear.h"

#include <cmath>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"

namespace exafold::ops {

template <class T>
void linear(const T* x, int64_t rows, int64_t in, const T* w, const T* bias, int64_t out, T* y) {
  if (bias) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < out; ++j) y[r * out + j] = bias[j];
  }
  gemm<T>(false, false, rows, out, in, T(1), x, in, w, out, bias ? T(1) : T(0), y, out);
}

template <class T>
void layer_norm(const T* x, int64_t rows, int64_t c, const T* scale, const T* offset, T* y, T eps) {
  thread_pool().parallel_for(rows, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * c;
      T* yr = y + r * c;
      T mean = 0;
      for (int64_t i = 0; i < c; ++i) mean += xr[i];
      mean /= T(c);
      T var = 0;
      for (int64_t i = 0; i < c; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      var /= T(c);
      const T inv = T(1) / std::sqrt(var + eps);
      for (int64_t i = 0; i < c; ++i) yr[i] = (xr[i] - mean) * inv * scale[i] + offset[i];
    }
  });
}

template void linear<float>(const float*, int64_t, int64_t, const float*, const float*, int64_t,
                            float*);
template void linear<double>(const double*, int64_t, int64_t, const double*, const double*, int64_t,
                             double*);
template void layer_norm<float>(const float*, int64_t, int64_t, const float*, const float*, float*,
                                float);
template void layer_norm<double>(const double*, int64_t, int64_t, const double*, const double*,
                                 double*, double);

namespace {

template <class T>
Tensor linear_t(const Tensor& x, const Tensor& w, const Tensor& bias) {
  const int64_t in = w.size(0), out = w.numel() / in;
  check(x.rank() >= 1 && x.size(-1) == in, "linear: input ", x.shape().str(), " against weights ",
        w.shape().str());
  check(!bias.defined() || bias.numel() == out, "linear: bias ", bias.shape().str(),
        " against weights ", w.shape().str());
  Tensor xc = x.contiguous(), wc = w.contiguous();
  Tensor bc = bias.defined() ? bias.contiguous() : Tensor();
  Shape s = x.shape();
  s.erase(s.size() - 1);
  for (int i = 1; i < w.rank(); ++i) s.push_back(w.size(i));
  Tensor y = Tensor::empty(s, x.dtype());
  linear<T>(xc.data<T>(), x.numel() / in, in, wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr,
            out, y.data<T>());
  return y;
}

template <class T>
Tensor layer_norm_t(const Tensor& x, const Tensor& scale, const Tensor& offset) {
  const int64_t c = x.size(-1);
  check(scale.numel() == c && offset.numel() == c, "layer_norm: ", x.shape().str(), " with scale ",
        scale.shape().str(), " and offset ", offset.shape().str());
  Tensor xc = x.contiguous(), sc = scale.contiguous(), oc = offset.contiguous();
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  layer_norm<T>(xc.data<T>(), x.numel() / c, c, sc.data<T>(), oc.data<T>(), y.data<T>());
  return y;
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  if (x.dtype() == DType::float64) return linear_t<double>(x, w, bias);
  check(x.dtype() == DType::float32, "linear: unsupported dtype ", dtype_name(x.dtype()));
  return linear_t<float>(x, w, bias);
}

Tensor layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset) {
  if (x.dtype() == DType::float64) return layer_norm_t<double>(x, scale, offset);
  check(x.dtype() == DType::float32, "layer_norm: unsupported dtype ", dtype_name(x.dtype()));
  return layer_norm_t<float>(x, scale, offset);
}

}  // namespace exafold::ops
