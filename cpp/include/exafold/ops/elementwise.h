// Element-wise tensor operations: copies, fills, casts, unary and binary arithmetic. Every op
// dispatches on its tensors' device to that device's backend (exafold/backend/backend.h).
//
// Shapes: the operands of a binary op have the output's shape exactly; broadcasting is explicit,
// through stride-0 views (Tensor::broadcast_to, unsqueeze), so that no op guesses. Inputs may
// be any strided view; an output given by the caller may be a strided view too (a slice, a
// transposed view), but must not overlap an input except as the very same view (in place).
#pragma once

#include <cstdint>
#include <span>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

enum class Unary : uint8_t {
  relu,      ///< max(x, 0)
  sigmoid,   ///< 1 / (1 + exp(-x))
  softplus,  ///< log(1 + exp(x)), as jax.nn.softplus: max(x, 0) + log1p(exp(-|x|))
  sqrt,
  positive,  ///< 1 where x > 0, else 0: the reference's (x > 0).astype(dtype)
};

enum class Binary : uint8_t { add, sub, mul, div };

/// A new tensor of `shape` and `dtype` on `device`, every element `value`.
Tensor full(const Shape& shape, double value, DType dtype, Device device);
inline Tensor zeros(const Shape& shape, DType dtype, Device device) {
  return full(shape, 0.0, dtype, device);
}
/// A new tensor on `device` holding `values` (row-major) in `dtype`: the model's constants (bin
/// centres, residue tables), uploaded once.
Tensor from_host(std::span<const double> values, const Shape& shape, DType dtype, Device device);
Tensor from_host(std::span<const int32_t> values, const Shape& shape, Device device);

/// Sets every element of `out` (any view) to `value`.
void fill(const Tensor& out, double value);

/// dst = src element by element (same shape and dtype, any strides, one device).
void copy(const Tensor& dst, const Tensor& src);
/// `t` when contiguous, else a contiguous copy on its device.
Tensor contiguous(const Tensor& t);
/// `t` converted to `dtype` (float32, float64, bfloat16; integer features to float) on its
/// device; `t` itself when it already has that dtype and is contiguous.
Tensor cast(const Tensor& t, DType dtype);

/// f(x), a new contiguous tensor.
Tensor unary(Unary f, const Tensor& x);

/// a op b, a new contiguous tensor (a and b of one shape and dtype).
Tensor binary(Binary op, const Tensor& a, const Tensor& b);
/// out = a op b, or out += a op b when `accumulate`; out may be a itself (in place).
void binary_into(Binary op, const Tensor& out, const Tensor& a, const Tensor& b,
                 bool accumulate = false);
/// out += x: the residual update of every AlphaFold2 block.
inline void add_(const Tensor& out, const Tensor& x) { binary_into(Binary::add, out, out, x); }

/// a op s with a scalar s, a new contiguous tensor.
Tensor scalar(Binary op, const Tensor& a, double s);
/// out = a op s (out may be a itself).
void scalar_into(Binary op, const Tensor& out, const Tensor& a, double s);

/// (mask * value) * sigmoid(gate), written into `out` (any view, e.g. a transposed one): the
/// gated and masked projections of the triangle multiplication (Alg 11, 12). mask may be an
/// undefined tensor (no mask); all operands have out's shape.
void sigmoid_gate_into(const Tensor& out, const Tensor& value, const Tensor& gate,
                       const Tensor& mask);

}  // namespace exafold::ops
