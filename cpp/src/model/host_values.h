// Internal to cpp/src/model: reading small host tensors (masks, indices, frames) of any numeric
// dtype as plain values, with the caller's name in the error.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model::detail {

/// The elements of t (float32, float64 or int32, any strides) converted to V, row-major.
template <class V>
std::vector<V> host_values(const Tensor& t, std::string_view what) {
  check(t.device().is_host(), what, " must be in host memory, not on ", t.device().str());
  Tensor c = t.contiguous();
  std::vector<V> out(size_t(c.numel()));
  auto convert = [&](const auto* p) {
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<V>(p[i]);
  };
  switch (c.dtype()) {
    case DType::float32:
      convert(c.data<float>());
      break;
    case DType::float64:
      convert(c.data<double>());
      break;
    case DType::int32:
      convert(c.data<int32_t>());
      break;
    case DType::int64:
      convert(c.data<int64_t>());
      break;
    default:
      fail(what, " has dtype ", dtype_name(c.dtype()), "; expected float32, float64 or int32");
  }
  return out;
}

/// Fails unless t has exactly `shape`.
inline void check_shape(const Tensor& t, const Shape& shape, std::string_view what) {
  check(t.defined(), what, " is missing");
  check(t.shape() == shape, what, " has shape ", t.shape().str(), ", expected ", shape.str());
}

/// Fails unless t holds the compute type T (the parameters' dtype).
template <class T>
void check_dtype(const Tensor& t, std::string_view what) {
  check(t.dtype() == dtype_v<T>, what, " is ", dtype_name(t.dtype()), " but the model runs in ",
        dtype_name(dtype_v<T>));
}

}  // namespace exafold::model::detail
