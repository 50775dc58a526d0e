// Internal to cpp/src/model: haiku's Linear and LayerNorm taken from a parameter scope, and the
// element-wise steps between them, as used by Alg 20-29.
#pragma once

#include <algorithm>
#include <string>

#include "exafold/core/error.h"
#include "exafold/model/params.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model::detail {

/// haiku's name for the k-th module created under one name in a scope: name, name_1, name_2...
inline std::string haiku_name(std::string name, int k) {
  if (k > 0) {
    name += '_';
    name += std::to_string(k);
  }
  return name;
}

/// x @ weights + bias with the scope's parameters ([..., in] -> [..., out]).
inline Tensor linear(const ParamScope& s, const Tensor& x) {
  return ops::linear(x, s["weights"], s["bias"]);
}

/// LayerNorm over the last dimension with the scope's scale and offset.
inline Tensor layer_norm(const ParamScope& s, const Tensor& x) {
  return ops::layer_norm(x, s["scale"], s["offset"]);
}

/// max(x, 0) as a new contiguous tensor.
template <class T>
Tensor relu(const Tensor& x) {
  Tensor y = x.clone();
  T* p = y.data<T>();
  for (int64_t k = 0; k < y.numel(); ++k) p[k] = std::max(p[k], T(0));
  return y;
}

/// acc += x; acc contiguous, x of the same shape.
template <class T>
void add_into(Tensor& acc, const Tensor& x) {
  EXAFOLD_ASSERT(acc.is_contiguous() && acc.shape() == x.shape());
  const Tensor xc = x.contiguous();
  T* a = acc.data<T>();
  const T* b = xc.data<T>();
  for (int64_t k = 0; k < acc.numel(); ++k) a[k] += b[k];
}

}  // namespace exafold::model::detail
