// Element-wise ops: argument checks and dispatch (exafold/ops/elementwise.h).
#include "exafold/ops/elementwise.h"

#include <algorithm>

#include "dispatch.h"

namespace exafold::ops {

using backend::Op;
using detail::run;

namespace {

void same_shape(std::string_view op, const Tensor& out, const Tensor& x, std::string_view what) {
  detail::expect_shape(op, x, what, out.shape());
}

}  // namespace

Tensor full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor out = Tensor::empty(shape, dtype, device);
  fill(out, value);
  return out;
}

Tensor from_host(std::span<const double> values, const Shape& shape, DType dtype, Device device) {
  check(int64_t(values.size()) == shape.product(), "from_host: ", values.size(),
        " values for shape ", shape.str());
  Tensor host = Tensor::empty(shape, DType::float64, Device::cpu(), MemoryKind::host);
  std::copy(values.begin(), values.end(), host.data<double>());
  return cast(migrate(host, device), dtype);
}

Tensor from_host(std::span<const int32_t> values, const Shape& shape, Device device) {
  check(int64_t(values.size()) == shape.product(), "from_host: ", values.size(),
        " values for shape ", shape.str());
  Tensor host = Tensor::empty(shape, DType::int32, Device::cpu(), MemoryKind::host);
  std::copy(values.begin(), values.end(), host.data<int32_t>());
  return migrate(host, device);
}

void fill(const Tensor& out, double value) {
  check(out.defined(), "fill: the output is undefined");
  run(Op::fill, {&out}, [&](backend::Backend& b) { b.fill(out, value); });
}

void copy(const Tensor& dst, const Tensor& src) {
  check(dst.defined() && src.defined(), "copy: undefined operand");
  same_shape("copy", dst, src, "source");
  run(Op::copy, {&dst, &src}, [&](backend::Backend& b) { b.copy(dst, src); });
}

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor out = Tensor::empty(t.shape(), t.dtype(), t.device());
  copy(out, t);
  return out;
}

Tensor cast(const Tensor& t, DType dtype) {
  check(t.defined(), "cast of an undefined tensor");
  if (t.dtype() == dtype) return contiguous(t);
  Tensor out = Tensor::empty(t.shape(), dtype, t.device());
  run(Op::copy, {&out, &t}, [&](backend::Backend& b) { b.copy(out, t); });
  return out;
}

Tensor unary(Unary f, const Tensor& x) {
  check(x.defined(), "unary op on an undefined tensor");
  Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
  run(Op::unary, {&out, &x}, [&](backend::Backend& b) { b.unary(f, out, x); });
  return out;
}

Tensor binary(Binary op, const Tensor& a, const Tensor& b) {
  check(a.defined(), "binary op on an undefined tensor");
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  binary_into(op, out, a, b);
  return out;
}

void binary_into(Binary op, const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate) {
  check(out.defined(), "binary op into an undefined tensor");
  same_shape("binary", out, a, "left operand");
  same_shape("binary", out, b, "right operand");
  run(Op::binary, {&out, &a, &b},
      [&](backend::Backend& be) { be.binary(op, out, a, b, accumulate); });
}

Tensor scalar(Binary op, const Tensor& a, double s) {
  check(a.defined(), "scalar op on an undefined tensor");
  Tensor out = Tensor::empty(a.shape(), a.dtype(), a.device());
  scalar_into(op, out, a, s);
  return out;
}

void scalar_into(Binary op, const Tensor& out, const Tensor& a, double s) {
  check(out.defined(), "scalar op into an undefined tensor");
  same_shape("scalar", out, a, "operand");
  run(Op::scalar, {&out, &a}, [&](backend::Backend& b) { b.scalar(op, out, a, s); });
}

void sigmoid_gate_into(const Tensor& out, const Tensor& value, const Tensor& gate,
                       const Tensor& mask) {
  check(out.defined(), "sigmoid_gate into an undefined tensor");
  same_shape("sigmoid_gate", out, value, "value");
  same_shape("sigmoid_gate", out, gate, "gate");
  if (mask.defined()) same_shape("sigmoid_gate", out, mask, "mask");
  run(Op::sigmoid_gate, {&out, &value, &gate, &mask},
      [&](backend::Backend& b) { b.sigmoid_gate(out, value, gate, mask); });
}

}  // namespace exafold::ops
