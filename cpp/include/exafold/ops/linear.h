// Matrix products: haiku's Linear (x @ W + b, W stored [in, out] as in the official parameter
// files) with fused epilogues, and batched matmul for the contractions of the outer product mean,
// the triangle multiplication and invariant point attention.
//
// Why epilogues: on a GPU, AlphaFold2's time goes to memory traffic and kernel launches, not
// arithmetic. Every Linear of the model is followed by at most an activation, a gate (an
// element-wise product) and a residual add; folding those into the product saves a pass over
// the output each, and on the host they run on the product's rows while they are still in cache.
#pragma once

#include <cstdint>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

enum class Activation : uint8_t { none, relu, sigmoid };

/// What a Linear does to x @ W + b before it is stored, in this order:
///   r = activation(x @ W + b); r = r * multiply (when defined); out = r, or out += r.
struct Epilogue {
  Activation activation = Activation::none;
  Tensor multiply;          ///< the output's shape (a broadcast view is fine), or undefined
  bool accumulate = false;  ///< add into `out` (the residual add) instead of overwriting it

  static Epilogue relu() { return with(Activation::relu); }
  static Epilogue sigmoid() { return with(Activation::sigmoid); }
  static Epilogue with(Activation a) {
    Epilogue e;
    e.activation = a;
    return e;
  }
  /// Multiplied by `gate` after the activation.
  Epilogue times(Tensor gate) const {
    Epilogue e = *this;
    e.multiply = std::move(gate);
    return e;
  }
  /// Added into the output (the residual).
  Epilogue added() const {
    Epilogue e = *this;
    e.accumulate = true;
    return e;
  }
};

/// x [..., in] @ w [in, out...] (+ bias [out...], optional), with `e` applied: a new tensor
/// [..., out...]. x's last dimension must be contiguous and its leading dimensions one matrix
/// (a row slice of a contiguous tensor is; a transposed view is not). w and bias contiguous.
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Epilogue& e = {});
/// linear into `out` (a view of shape [..., out...] with a contiguous last dimension, rows any
/// strides: a slice or a transposed view of a larger tensor).
void linear_into(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                 const Epilogue& e = {});

/// Batched matrix product: a [..., m, k] @ b [..., k, n] -> [..., m, n] (contiguous). The batch
/// dimensions of a and b are equal (stride-0 views broadcast). Each matrix must be contiguous
/// along one of its two last dimensions (a transposed view is the transposed product).
Tensor matmul(const Tensor& a, const Tensor& b);

}  // namespace exafold::ops
