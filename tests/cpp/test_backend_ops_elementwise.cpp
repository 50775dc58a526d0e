// The per-op table's element-wise cases (exafold/ops/elementwise.h): fill, copy and casts,
// unary and binary arithmetic, scalars and sigmoid gates, on contiguous tensors, strided views,
// broadcast operands and empty shapes.
#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/ops/elementwise.h"

namespace exafold::op_table {
namespace {

using backend::Op;
using ops::Binary;
using ops::Unary;

/// Every element of a fresh tensor of `shape` equal to v.
Want constant(const Shape& shape, double v) {
  Want w(shape);
  std::fill(w.v.begin(), w.v.end(), v);
  return w;
}

OP_CASE(fill, fill) {
  if (!e.require(Op::fill, {e.act})) return;
  const Tensor a = Tensor::empty({5, 7}, e.act, e.device);
  ops::fill(a, 1.5);
  e.expect_exact("[5, 7]", a, constant({5, 7}, 1.5));
  // Every other row and every third column of [6, 8]: the rest keeps its values.
  const In base = e.normal({6, 8});
  ops::fill(base.d.slice(0, 1, 6, 2).slice(1, 0, 8, 3), -2.25);
  Want wb = Want::of(base);
  for (int64_t i = 1; i < 6; i += 2)
    for (int64_t j = 0; j < 8; j += 3) wb.v[wb.at(i, j)] = -2.25;
  e.expect_exact("rows 1::2, columns ::3 of [6, 8]", base.d, wb);
  const Tensor z = Tensor::empty({0, 3}, e.act, e.device);
  ops::fill(z, 4);
  e.expect_exact("[0, 3]", z, Want({0, 3}));
  // Index tensors, once.
  if (e.act != DType::float64) return;
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::fill, {it})) continue;
    const Tensor t = Tensor::empty({3, 5}, it, e.device);
    ops::fill(t, -3);
    e.expect_exact(std::string(dtype_name(it)) + " [3, 5]", t, constant({3, 5}, -3));
  }
}

OP_CASE(copy, copy_views) {
  if (!e.require(Op::copy, {e.act, e.act})) return;
  // A transposed source into a new tensor.
  const In src = e.normal({7, 5});
  const Tensor dst = Tensor::empty({5, 7}, e.act, e.device);
  ops::copy(dst, src.d.transpose(0, 1));
  Want w({5, 7});
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t j = 0; j < 7; ++j) w.v[w.at(i, j)] = src(j, i);
  e.expect_exact("[7, 5]^T into [5, 7]", dst, w);
  // A permuted source into a permuted view of every other column of a wider tensor:
  // view[a, b, c] = b2[c, 1 + 2 a, b], source[a, b, c] = s2[c, b, a].
  const In b2 = e.normal({5, 9, 4});
  const Tensor view = b2.d.slice(1, 1, 9, 2).permute({1, 2, 0});  // [4, 4, 5]
  const In s2 = e.normal({5, 4, 4});
  ops::copy(view, s2.d.permute({2, 1, 0}));
  Want w2 = Want::of(b2);
  for (int64_t a = 0; a < 4; ++a)
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t c = 0; c < 5; ++c) w2.v[w2.at(c, 1 + 2 * a, b)] = s2(c, b, a);
  e.expect_exact("permuted into columns 1::2 of [5, 9, 4]", b2.d, w2);
  const Tensor z = Tensor::empty({0, 4}, e.act, e.device);
  ops::copy(z, e.normal({4, 0}).d.transpose(0, 1));
  e.expect_exact("[0, 4]", z, Want({0, 4}));
}

/// v rounded to nearest (ties to even) with `bits` significant bits; independent of the
/// library's conversions.
double round_to_bits(double v, int bits) {
  if (v == 0 || !std::isfinite(v)) return v;
  int ex;
  const double m = std::frexp(v, &ex);  // v = m 2^ex, 0.5 <= |m| < 1
  return std::ldexp(std::nearbyint(std::ldexp(m, bits)), ex - bits);
}

double converted(double v, DType to) {
  switch (to) {
    case DType::float32:
      return round_to_bits(v, 24);
    case DType::bfloat16:
      return round_to_bits(v, 8);
    default:
      return v;  // float64, and the integers the sources hold
  }
}

OP_CASE(copy, cast) {
  // Every pair of the dtypes the model converts between, once (float64 config).
  e.only_in(DType::float64);
  if (e.not_here()) return;
  const DType all[] = {DType::float64, DType::float32, DType::bfloat16, DType::int32, DType::int64};
  for (DType from : all)
    for (DType to : all) {
      const bool integer = from == DType::int32 || from == DType::int64;
      // Floats of every scale, ties of bfloat16 (1 + 2^-8 rounds to 1, 1 + 3 2^-8 up to
      // 1 + 2^-6) and integers; stored in `from` first, so the reference starts from them.
      const In x = integer ? e.ints({3, 7}, -1000, 1000, from) : e.normal({3, 7}, 100, from);
      const In ties = e.values({4}, {1 + 0x1p-8, 1 + 3 * 0x1p-8, -(2 + 0x1p-7), 0}, DType::float64);
      const std::string name = std::string(dtype_name(from)) + " to " + std::string(dtype_name(to));
      const bool to_int = to == DType::int32 || to == DType::int64;
      if (!to_int && !e.require(Op::copy, {to, from})) continue;
      if (!e.supported(Op::copy, {to, from})) {
        // Casts go to floats (integer features to float); a cast to an integer type the
        // backend lacks is an error that says which, never a silent truncation.
        e.expect_error(
            name, [&] { ops::cast(x.d, to); },
            {"copy is not implemented for (", dtype_name(to), dtype_name(from), e.device.str()});
        continue;
      }
      // Through a transposed view, so that even a same-dtype cast copies.
      const Tensor got = ops::cast(x.d.transpose(0, 1), to);
      Want w({7, 3});
      for (int64_t i = 0; i < 7; ++i)
        for (int64_t j = 0; j < 3; ++j) w.v[w.at(i, j)] = converted(x(j, i), to);
      e.expect_exact(name, got, w);
      if (from == DType::float64 && !to_int) {
        Want wt({4});
        for (int64_t i = 0; i < 4; ++i) wt.v[size_t(i)] = converted(ties(i), to);
        e.expect_exact(name + " ties", ops::cast(ties.d, to), wt);
      }
    }
}

/// f(x) and its error bound relative to |f(x)|, in units of u.
struct UnaryRef {
  double v, rel;
};
UnaryRef unary_ref(Unary f, double x) {
  switch (f) {
    case Unary::relu:
      return {std::max(x, 0.0), 0};
    case Unary::sigmoid:
      return {ref::sigmoid(x), ref::kSigmoid};
    case Unary::softplus:
      // max(x, 0) + log1p(exp(-|x|)), both terms non-negative: exp and log1p, and the sum.
      return {std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))), 2 * ref::kFn + 1};
    case Unary::sqrt:
      return {std::sqrt(x), 1};  // correctly rounded
    case Unary::positive:
      return {x > 0 ? 1.0 : 0.0, 0};  // exact
  }
  return {0, 0};
}

OP_CASE(unary, unary) {
  if (!e.require(Op::unary, {e.act, e.act})) return;
  for (auto [f, name] : {std::pair{Unary::relu, "relu"}, std::pair{Unary::sigmoid, "sigmoid"},
                         std::pair{Unary::softplus, "softplus"}, std::pair{Unary::sqrt, "sqrt"},
                         std::pair{Unary::positive, "positive"}}) {
    const bool sqrt_domain = f == Unary::sqrt;
    // Odd sizes through a transposed view, and the extremes where exp over- or underflows.
    const In x = sqrt_domain ? e.uniform({37, 3}, 0, 10) : e.normal({37, 3}, 4);
    const In ext = sqrt_domain ? e.values({5}, {0, 1e-30, 1e-3, 2, 1e30}, e.act)
                               : e.values({8}, {-100, -30, -1e-3, 0, 1e-3, 30, 100, -0.0}, e.act);
    for (const auto& [in, shape] :
         {std::pair{x.map([](const Tensor& t) { return t.transpose(0, 1); }), "[37, 3]^T"},
          std::pair{ext, "extremes"}}) {
      const Tensor got = ops::unary(f, in.d);
      Want w(in.shape());
      for (int64_t i = 0; i < in.h.numel(); ++i) {
        const UnaryRef r = unary_ref(f, ref::flat(in, i));
        w.set(size_t(i), r.v, r.rel * std::abs(r.v));
      }
      e.expect(std::string(name) + " " + shape, got, w);
    }
    e.expect(std::string(name) + " [0, 5]", ops::unary(f, e.normal({0, 5}).d), Want({0, 5}));
  }
}

double apply(Binary op, double a, double b) {
  switch (op) {
    case Binary::add:
      return a + b;
    case Binary::sub:
      return a - b;
    case Binary::mul:
      return a * b;
    case Binary::div:
      return a / b;
  }
  return 0;
}

constexpr std::pair<Binary, const char*> kBinary[] = {
    {Binary::add, "add"}, {Binary::sub, "sub"}, {Binary::mul, "mul"}, {Binary::div, "div"}};

OP_CASE(binary, binary) {
  if (!e.require(Op::binary, {e.act, e.act, e.act})) return;
  for (auto [op, name] : kBinary) {
    const std::string n = name;
    const In a = e.normal({4, 9});
    // The right operand a row broadcast over the rows (stride 0), away from 0 for div.
    const In row = op == Binary::div ? e.uniform({9}, 0.5, 2) : e.normal({9});
    const In b = row.map([](const Tensor& t) { return t.unsqueeze(0).broadcast_to({4, 9}); });
    // One rounding of the exact result.
    Want w({4, 9});
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 9; ++j) {
        const double v = apply(op, a(i, j), b(i, j));
        w.set(w.at(i, j), v, std::abs(v));
      }
    e.expect(n + " [4, 9] by a broadcast row", ops::binary(op, a.d, b.d), w);

    // Accumulated into a transposed view: the sum of the rounded result and out rounds once.
    const In out = e.normal({9, 4});
    ops::binary_into(op, out.d.transpose(0, 1), a.d, b.d, true);
    Want wo = Want::of(out);
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 9; ++j) {
        const double r = apply(op, a(i, j), b(i, j)), o = out(j, i);
        wo.set(wo.at(j, i), o + r, std::abs(r) + std::abs(o + r));
      }
    e.expect(n + " accumulated into [9, 4]^T", out.d, wo);

    // In place: out is the left operand itself.
    const In c = e.normal({4, 9});
    ops::binary_into(op, c.d, c.d, b.d);
    Want wc({4, 9});
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 9; ++j) {
        const double v = apply(op, c(i, j), b(i, j));
        wc.set(wc.at(i, j), v, std::abs(v));
      }
    e.expect(n + " in place", c.d, wc);
    e.expect(n + " [0, 9]", ops::binary(op, e.normal({0, 9}).d, e.normal({0, 9}).d), Want({0, 9}));
  }
}

OP_CASE(scalar, scalar) {
  if (!e.require(Op::scalar, {e.act, e.act})) return;
  for (auto [op, name] : kBinary)
    for (double s : {0.1, -3.0}) {
      const std::string n = std::string(name) + " " + std::to_string(s).substr(0, 4);
      // The scalar is rounded to the tensor's precision first (u |s|), then the result once;
      // a product or quotient by the rounded scalar is off by u |a op s| more.
      auto bound = [&](double v) {
        return op == Binary::add || op == Binary::sub ? std::abs(s) + std::abs(v) : 2 * std::abs(v);
      };
      const In a = e.normal({3, 11});
      Want w({3, 11});
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 11; ++j) {
          const double v = apply(op, a(i, j), s);
          w.set(w.at(i, j), v, bound(v));
        }
      e.expect(n, ops::scalar(op, a.d, s), w);
      // In place on a strided view (every other column): the others keep their values.
      const In c = e.normal({3, 8});
      const Tensor view = c.d.slice(1, 0, 8, 2);
      ops::scalar_into(op, view, view, s);
      Want wc = Want::of(c);
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 8; j += 2) {
          const double v = apply(op, c(i, j), s);
          wc.set(wc.at(i, j), v, bound(v));
        }
      e.expect(n + " in place on columns ::2", c.d, wc);
    }
}

OP_CASE(sigmoid_gate, sigmoid_gate) {
  for (bool masked : {true, false}) {
    if (masked ? !e.require(Op::sigmoid_gate, {e.act, e.act, e.act, e.act})
               : !e.require(Op::sigmoid_gate, {e.act, e.act, e.act}))
      continue;
    // Written through a transposed view, as the triangle multiplication stores its [c, N, N]
    // projections.
    const In value = e.normal({6, 5, 3}), gate = e.normal({6, 5, 3}, 2);
    const In mask = e.mask({6, 5, 3}, 0.7);
    const In out = e.normal({5, 6, 3});
    ops::sigmoid_gate_into(out.d.transpose(0, 1), value.d, gate.d, masked ? mask.d : Tensor());
    Want w = Want::of(out);
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t j = 0; j < 5; ++j)
        for (int64_t k = 0; k < 3; ++k) {
          const double m = masked ? mask(i, j, k) : 1.0;
          const double v = m * value(i, j, k) * ref::sigmoid(gate(i, j, k));
          // The sigmoid's error and the product's rounding (mask * value is exact for 0 / 1).
          w.set(w.at(j, i, k), v, (ref::kSigmoid + 2) * std::abs(v));
        }
    e.expect(masked ? "masked, into [5, 6, 3]^T" : "into [5, 6, 3]^T", out.d, w);
  }
}

}  // namespace
}  // namespace exafold::op_table
