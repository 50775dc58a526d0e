// The two workhorses of every AlphaFold2 module: Linear (x @ W + b, W stored [in, out] as in
// haiku) and LayerNorm (eps 1e-5, biased variance, scale and offset).
#pragma once

#include <cstdint>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// y[rows, out] = x[rows, in] @ w[in, out] (+ bias[out] when bias is non-null).
template <class T>
void linear(const T* x, int64_t rows, int64_t in, const T* w, const T* bias, int64_t out, T* y);

/// y = (x - mean) / sqrt(var + eps) * scale + offset over the last dimension (c), per row.
/// y may alias x.
template <class T>
void layer_norm(const T* x, int64_t rows, int64_t c, const T* scale, const T* offset, T* y,
                T eps = T(1e-5));

/// Tensor forms: x [..., in] contiguous; w [in, ...] (trailing dims flattened to out);
/// bias [...] matching w's trailing dims, or an undefined tensor. Returns [..., out...].
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias);
Tensor layer_norm(const Tensor& x, const Tensor& scale, const Tensor& offset);

}  // namespace exafold::ops
