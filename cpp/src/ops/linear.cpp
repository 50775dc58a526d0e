// Linear and matmul: argument checks and dispatch (exafold/ops/linear.h).
#include "exafold/ops/linear.h"

#include <vector>

#include "dispatch.h"

namespace exafold::ops {

using backend::Op;
using detail::run;

namespace {

/// Dimensions [first, last] of t seen as one, when they are laid out as one; else fail naming
/// `what`.
Tensor collapse(const Tensor& t, int first, int last, std::string_view what) {
  if (first >= last) return t;
  std::vector<int> real;  // dimensions of size != 1, outer to inner
  for (int d = first; d <= last; ++d)
    if (t.size(d) != 1) real.push_back(d);
  int64_t n = 1;
  for (int d = first; d <= last; ++d) n *= t.size(d);
  for (size_t i = 0; i + 1 < real.size(); ++i)
    check(n == 0 || t.strides()[real[i]] == t.strides()[real[i + 1]] * t.size(real[i + 1]),
          "linear: ", what, " ", t.shape().str(), " cannot be seen as a matrix (axes ", first, "..",
          last, " are not laid out as one)");
  Shape shape;
  Strides strides;
  for (int d = 0; d < first; ++d) {
    shape.push_back(t.size(d));
    strides.push_back(t.strides()[d]);
  }
  shape.push_back(n);
  strides.push_back(real.empty() ? int64_t(t.itemsize()) : t.strides()[real.back()]);
  for (int d = last + 1; d < t.rank(); ++d) {
    shape.push_back(t.size(d));
    strides.push_back(t.strides()[d]);
  }
  return Tensor(t.storage(), t.offset(), shape, strides, t.dtype(), t.device());
}

Shape linear_shape(const Tensor& x, const Tensor& w) {
  Shape s = x.shape();
  s.erase(s.size() - 1);
  for (int i = 1; i < w.rank(); ++i) s.push_back(w.size(i));
  return s;
}

void check_operands(const Tensor& x, const Tensor& w, const Tensor& bias) {
  check(x.defined() && w.defined(), "linear: undefined input or weights");
  check(w.rank() >= 2 && w.is_contiguous(), "linear: weights ", w.shape().str(),
        " must be contiguous [in, out...]");
  check(x.rank() >= 1 && x.size(-1) == w.size(0), "linear: input ", x.shape().str(),
        " against weights ", w.shape().str());
  check(!bias.defined() || (bias.is_contiguous() && bias.numel() == w.numel() / w.size(0)),
        "linear: bias ", bias.defined() ? bias.shape().str() : "", " against weights ",
        w.shape().str());
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Epilogue& e) {
  check_operands(x, w, bias);
  check(!e.accumulate, "linear: an accumulating epilogue needs linear_into");
  Tensor out = Tensor::empty(linear_shape(x, w), x.dtype(), x.device());
  linear_into(out, x, w, bias, e);
  return out;
}

void linear_into(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                 const Epilogue& e) {
  check_operands(x, w, bias);
  detail::expect_shape("linear", out, "output", linear_shape(x, w));
  if (e.multiply.defined()) detail::expect_shape("linear", e.multiply, "gate", out.shape());
  detail::expect_unit_last("linear", x, "input");
  const int lead = x.rank() - 1;  // leading dimensions of x, and of out
  const Tensor xm = x.rank() == 1 ? x.unsqueeze(0) : collapse(x, 0, lead - 1, "input");
  const Tensor wm = w.reshape({w.size(0), w.numel() / w.size(0)});
  const Tensor bm = bias.defined() ? bias.reshape({bias.numel()}) : Tensor();
  const Tensor om = collapse(out, lead, out.rank() - 1, "output");
  detail::expect_unit_last("linear", om, "output");
  Epilogue em = e;
  if (e.multiply.defined()) em.multiply = collapse(e.multiply, lead, out.rank() - 1, "gate");
  run(Op::linear, {&om, &xm, &wm, &bm, &em.multiply},
      [&](backend::Backend& b) { b.linear(om, xm, wm, bm, em); });
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check(a.defined() && b.defined(), "matmul: undefined operand");
  check((a.rank() == 2 || a.rank() == 3) && a.rank() == b.rank(), "matmul: operands ",
        a.shape().str(), " and ", b.shape().str(),
        " must both be [m, k] / [k, n] or [B, m, k] / "
        "[B, k, n]");
  const Tensor a3 = a.rank() == 2 ? a.unsqueeze(0) : a;
  const Tensor b3 = b.rank() == 2 ? b.unsqueeze(0) : b;
  check(a3.size(0) == b3.size(0) && a3.size(2) == b3.size(1), "matmul: operands ", a.shape().str(),
        " and ", b.shape().str(), " do not match");
  auto unit = [](const Tensor& t) {
    const int64_t item = int64_t(t.itemsize());
    return t.size(2) <= 1 || t.size(1) <= 1 || t.strides()[2] == item || t.strides()[1] == item;
  };
  check(unit(a3) && unit(b3), "matmul: each matrix must be contiguous along a row or a column");
  Tensor out = Tensor::empty({a3.size(0), a3.size(1), b3.size(2)}, a.dtype(), a.device());
  run(Op::matmul, {&out, &a3, &b3}, [&](backend::Backend& be) { be.matmul(out, a3, b3); });
  if (a.rank() == 2) return out.select(0, 0);
  return out;
}

}  // namespace exafold::ops
