// The per-op table's matrix products and LayerNorm (exafold/ops/linear.h, layer_norm.h): linear
// with every epilogue into new, strided and transposed outputs, batched matmul over every layout,
// and LayerNorm over contiguous and strided rows.
#include <gtest/gtest.h>

#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/core/thread_pool.h"
#include "exafold/ops/layer_norm.h"
#include "exafold/ops/linear.h"

namespace exafold::op_table {
namespace {

using backend::Op;
using ops::Activation;

/// x [rows, in] @ w [in, out] (+ b) for row r and column j, and its magnitude sum |x w| + |b|.
/// A dot product of n terms plus the bias is off by (n + 1) u times the magnitude (gamma_n+1),
/// with or without fused multiply-adds; one more for the rounding of the result.
struct Dot {
  double v, mag;
};
Dot dot(const In& x, int64_t r, const In& w, int64_t j, const In* b) {
  Dot d{b ? (*b)(j) : 0.0, b ? std::abs((*b)(j)) : 0.0};
  for (int64_t k = 0; k < w.size(0); ++k) {
    d.v += x(r, k) * w(k, j);
    d.mag += std::abs(x(r, k) * w(k, j));
  }
  return d;
}

/// The epilogue on one product s (bound es): activation, then the gate, as linear.h orders it.
struct Epi {
  double v, e;
};
Epi epilogue(Activation act, double s, double es, const double* gate) {
  Epi r{s, es};
  if (act == Activation::relu) r.v = std::max(s, 0.0);  // 1-Lipschitz and exact
  if (act == Activation::sigmoid) {
    r.v = ref::sigmoid(s);
    r.e = 0.25 * es + ref::kSigmoid * r.v;  // sigmoid' <= 1/4, plus its own error
  }
  if (gate) {
    r.e = r.e * std::abs(*gate) + std::abs(r.v * *gate);
    r.v *= *gate;
  }
  return r;
}

const char* name_of(Activation a) {
  return a == Activation::relu ? "relu" : a == Activation::sigmoid ? "sigmoid" : "none";
}

OP_CASE(linear, linear) {
  // Plain products: bias or none, an odd shape, no rows, a single vector, a row slice of a
  // wider input (any row stride), and weights with two output dimensions [in, heads, d] as
  // attention's projections.
  for (bool bias : {true, false}) {
    if (bias ? !e.require(Op::linear, {e.act, e.act, e.act, e.param})
             : !e.require(Op::linear, {e.act, e.act, e.act}))
      continue;
    const std::string tag = bias ? " + bias" : "";
    for (int64_t rows : {7, 0}) {
      const In x = e.normal({rows, 5}), w = e.normal({5, 3}), b = e.normal({3}, 1, e.param);
      Want want({rows, 3});
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < 3; ++j) {
          const Dot d = dot(x, r, w, j, bias ? &b : nullptr);
          want.set(want.at(r, j), d.v, (5 + 2) * d.mag);
        }
      e.variant("[" + std::to_string(rows) + ", 5] @ [5, 3]" + tag, [&] {
        e.expect("[" + std::to_string(rows) + ", 5] @ [5, 3]" + tag,
                 ops::linear(x.d, w.d, bias ? b.d : Tensor()), want);
      });
    }
    {
      const In x = e.normal({5}), w = e.normal({5, 3}), b = e.normal({3}, 1, e.param);
      const In xm = x.map([](const Tensor& t) { return t.unsqueeze(0); });
      Want want({3});
      for (int64_t j = 0; j < 3; ++j) {
        const Dot d = dot(xm, 0, w, j, bias ? &b : nullptr);
        want.set(size_t(j), d.v, (5 + 2) * d.mag);
      }
      e.variant("[5] @ [5, 3]" + tag, [&] {
        e.expect("[5] @ [5, 3]" + tag, ops::linear(x.d, w.d, bias ? b.d : Tensor()), want);
      });
    }
    const In wide = e.normal({6, 11});
    const In x = wide.map([](const Tensor& t) { return t.slice(1, 3, 10); });  // [6, 7]
    const In w = e.normal({7, 2, 4}), b = e.normal({2, 4}, 1, e.param);
    Want want({6, 2, 4});
    const In w2 = w.map([](const Tensor& t) { return t.reshape({7, 8}); });
    const In b2 = b.map([](const Tensor& t) { return t.reshape({8}); });
    for (int64_t r = 0; r < 6; ++r)
      for (int64_t j = 0; j < 8; ++j) {
        const Dot d = dot(x, r, w2, j, bias ? &b2 : nullptr);
        want.set(size_t(r * 8 + j), d.v, (7 + 2) * d.mag);
      }
    e.variant("columns 3:10 of [6, 11] @ [7, 2, 4]" + tag, [&] {
      e.expect("columns 3:10 of [6, 11] @ [7, 2, 4]" + tag,
               ops::linear(x.d, w.d, bias ? b.d : Tensor()), want);
    });
  }
}

OP_CASE(linear, linear_epilogue) {
  // Every epilogue, on x [2, 3, 4] @ w [4, 5] (6 rows), stored three ways: a new tensor, into
  // columns 1:6 of a wider [2, 3, 8] (row stride 8), and added into a transposed [3, 2, 5]
  // (the global column attention's residual). The gate is [2, 1, 5] broadcast over the 3.
  for (Activation act : {Activation::none, Activation::relu, Activation::sigmoid})
    for (bool gated : {false, true})
      for (bool bias : {true, false}) {
        std::vector<DType> sig{e.act, e.act, e.act};
        if (bias) sig.push_back(e.param);
        if (gated) sig.push_back(e.act);
        if (!e.require(Op::linear, sig)) continue;
        const std::string tag =
            std::string(name_of(act)) + (gated ? " * gate" : "") + (bias ? " + bias" : "");
        const In x = e.normal({2, 3, 4}), w = e.normal({4, 5}), b = e.normal({5}, 1, e.param);
        const In g = e.normal({2, 1, 5}).map([](const Tensor& t) {
          return t.broadcast_to({2, 3, 5});
        });
        const In xm = x.map([](const Tensor& t) { return t.reshape({6, 4}); });
        ops::Epilogue ep = ops::Epilogue::with(act);
        if (gated) ep = ep.times(g.d);
        // Each result r of row (a, c) and column j with its bound.
        auto result = [&](int64_t a, int64_t c, int64_t j) {
          const Dot d = dot(xm, a * 3 + c, w, j, bias ? &b : nullptr);
          const double gv = g(a, c, j);
          return epilogue(act, d.v, (4 + 2) * d.mag, gated ? &gv : nullptr);
        };
        Want fresh({2, 3, 5});
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < 5; ++j) {
              const Epi r = result(a, c, j);
              fresh.set(fresh.at(a, c, j), r.v, r.e);
            }
        e.variant(tag,
                  [&] { e.expect(tag, ops::linear(x.d, w.d, bias ? b.d : Tensor(), ep), fresh); });

        const In wide = e.normal({2, 3, 8});
        Want ww = Want::of(wide);
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < 5; ++j) {
              const Epi r = result(a, c, j);
              ww.set(ww.at(a, c, 1 + j), r.v, r.e);
            }
        e.variant(tag + " into [2, 3, 8][..., 1:6]", [&] {
          ops::linear_into(wide.d.slice(2, 1, 6), x.d, w.d, bias ? b.d : Tensor(), ep);
          e.expect(tag + " into [2, 3, 8][..., 1:6]", wide.d, ww);
        });

        // Overwriting a transposed view, then adding into one: the sum with out rounds once
        // more.
        const In over = e.normal({3, 2, 5});
        Want wv({3, 2, 5});
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < 5; ++j) {
              const Epi r = result(a, c, j);
              wv.set(wv.at(c, a, j), r.v, r.e);
            }
        e.variant(tag + " into [3, 2, 5]^T", [&] {
          ops::linear_into(over.d.transpose(0, 1), x.d, w.d, bias ? b.d : Tensor(), ep);
          e.expect(tag + " into [3, 2, 5]^T", over.d, wv);
        });
        const In out = e.normal({3, 2, 5});
        Want wo = Want::of(out);
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t c = 0; c < 3; ++c)
            for (int64_t j = 0; j < 5; ++j) {
              const Epi r = result(a, c, j);
              const double o = out(c, a, j);
              wo.set(wo.at(c, a, j), o + r.v, r.e + std::abs(o + r.v));
            }
        e.variant(tag + " added into [3, 2, 5]^T", [&] {
          ops::linear_into(out.d.transpose(0, 1), x.d, w.d, bias ? b.d : Tensor(), ep.added());
          e.expect(tag + " added into [3, 2, 5]^T", out.d, wo);
        });
      }
}

/// a @ b for [B, m, k] and [B, k, n] inputs (any views), each entry bounded by (k + 1) u times
/// its magnitude. The operands are read into plain arrays first: the sums are the work.
Want matmul_ref(const In& a, const In& b) {
  const int64_t B = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
  std::vector<double> av(static_cast<size_t>(B * m * k)), bv(static_cast<size_t>(B * k * n));
  for (int64_t i = 0; i < B * m * k; ++i) av[size_t(i)] = ref::flat(a, i);
  for (int64_t i = 0; i < B * k * n; ++i) bv[size_t(i)] = ref::flat(b, i);
  Want w({B, m, n});
  for (int64_t t = 0; t < B; ++t)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double s = 0, mag = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double x = av[size_t((t * m + i) * k + p)] * bv[size_t((t * k + p) * n + j)];
          s += x;
          mag += std::abs(x);
        }
        w.set(w.at(t, i, j), s, double(k + 1) * mag);
      }
  return w;
}

OP_CASE(matmul, matmul) {
  if (!e.require(Op::matmul, {e.act, e.act, e.act})) return;
  auto transposed = [](const In& x) {
    return x.map([](const Tensor& t) { return t.transpose(1, 2); });
  };
  // Row-major and transposed operands (a transposed view is the transposed product), odd sizes.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const In a = ta ? transposed(e.normal({3, 7, 5})) : e.normal({3, 5, 7});
      const In b = tb ? transposed(e.normal({3, 4, 7})) : e.normal({3, 7, 4});
      e.variant("layouts", [&] {
        e.expect(std::string("[3, 5, 7]") + (ta ? "^T" : "") + " @ [3, 7, 4]" + (tb ? "^T" : ""),
                 ops::matmul(a.d, b.d), matmul_ref(a, b));
      });
    }
  // One matrix shared by every batch entry (batch stride 0), as the outer product mean's
  // weights; then a single [m, k] @ [k, n] product.
  const In shared = e.normal({6, 3}).map([](const Tensor& t) {
    return t.unsqueeze(0).broadcast_to({4, 6, 3});
  });
  const In rhs = e.normal({4, 3, 5});
  e.expect("[6, 3] broadcast over 4 @ [4, 3, 5]", ops::matmul(shared.d, rhs.d),
           matmul_ref(shared, rhs));
  const In a2 = e.normal({5, 9}), b2 = e.normal({9, 2});
  const Want w2 = matmul_ref(a2.map([](const Tensor& t) { return t.unsqueeze(0); }),
                             b2.map([](const Tensor& t) { return t.unsqueeze(0); }));
  Want w2d({5, 2});
  w2d.v = w2.v;
  w2d.e = w2.e;
  e.expect("[5, 9] @ [9, 2]", ops::matmul(a2.d, b2.d), w2d);
  // Empty products: no rows, and an empty inner dimension (all zeros).
  e.expect("[2, 0, 3] @ [2, 3, 4]", ops::matmul(e.normal({2, 0, 3}).d, e.normal({2, 3, 4}).d),
           Want({2, 0, 4}));
  {
    const In a = e.normal({2, 3, 0}), b = e.normal({2, 0, 4});
    e.recycle({2, 3, 4});
    e.expect_exact("[2, 3, 0] @ [2, 0, 4]", ops::matmul(a.d, b.d), Want({2, 3, 4}));
  }
  // Large enough (m n k >= 2^18) that the product is split across the pool by blocks of 64
  // rows, the last one partial; the split must not change the bits from one run to the next.
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const In a = ta ? transposed(e.normal({1, 65, 130})) : e.normal({1, 130, 65});
      const In b = tb ? transposed(e.normal({1, 33, 65})) : e.normal({1, 65, 33});
      const std::string tag =
          std::string("[130, 65]") + (ta ? "^T" : "") + " @ [65, 33]" + (tb ? "^T" : "");
      e.variant(tag, [&] {
        const Tensor first = ops::matmul(a.d, b.d);
        e.expect(tag, first, matmul_ref(a, b));
        e.expect_exact(tag + " again", ops::matmul(a.d, b.d), Env::read(first));
      });
    }
}

TEST(BackendOpsMatmul, AgreesWithTheReferenceAtEveryThreadCount) {
  // The row split depends on the pool's size; each split must meet the same bound (the old
  // gemm test's second half, now through the op).
  Env e("cpu", Device::cpu(), configs()[1], "matmul_threads");
  const In a = e.normal({1, 300, 90}), b = e.normal({1, 90, 70});
  const Want want = matmul_ref(a, b);
  for (int threads : {1, 4, 2}) {
    set_num_threads(threads);
    e.expect("[300, 90] @ [90, 70], " + std::to_string(threads) + " threads", ops::matmul(a.d, b.d),
             want);
  }
  set_num_threads(num_threads_from_env());
}

/// LayerNorm of row `row` of x [..., c] (any view), with the first-order bound of the two-pass
/// algorithm: the mean is off by dmu = (c + 1) u mean|x|; each deviation d_k by dmu + u |d_k|;
/// the variance by 2 dmu mean|d| + (c + 3) u var; 1 / sqrt(var + eps) by half the variance's
/// relative error plus three roundings; the output's three operations round once each.
void layer_norm_row(const In& x, int64_t row, const In& scale, const In& offset, double eps,
                    Want& w, size_t at) {
  const std::vector<double> v = ref::row_of(x, row);
  const double c = double(v.size());
  double mean = 0, abs_mean = 0;
  for (double t : v) mean += t, abs_mean += std::abs(t);
  mean /= c;
  abs_mean /= c;
  double var = 0, abs_dev = 0;
  for (double t : v) var += (t - mean) * (t - mean), abs_dev += std::abs(t - mean);
  var /= c;
  abs_dev /= c;
  const double r = 1 / std::sqrt(var + eps);
  const double dmu = (c + 1) * abs_mean;
  const double dvar = 2 * dmu * abs_dev + (c + 3) * var;
  const double rel_r = 0.5 * dvar / (var + eps) + 3;
  for (size_t k = 0; k < v.size(); ++k) {
    const double d = v[k] - mean, s = scale(int64_t(k)), o = offset(int64_t(k));
    const double y = d * r * s + o;
    const double bound = std::abs(s) * r * (dmu + std::abs(d) + std::abs(d) * rel_r) +
                         2 * std::abs(d * r * s) + std::abs(y);
    w.set(at + k, y, bound);
  }
}

Want layer_norm_ref(const In& x, const In& scale, const In& offset) {
  Want w(x.shape());
  const int64_t c = x.size(-1), rows = c == 0 ? 0 : x.h.numel() / c;
  for (int64_t r = 0; r < rows; ++r) layer_norm_row(x, r, scale, offset, 1e-5, w, size_t(r * c));
  return w;
}

OP_CASE(layer_norm, layer_norm) {
  if (!e.require(Op::layer_norm, {e.act, e.act, e.param, e.param})) return;
  // scale ~ U(0.5, 1.5) and offset ~ 0.1 N(0, 1), as trained LayerNorms look.
  auto params = [&](int64_t c) {
    In scale = e.uniform({c}, 0.5, 1.5, e.param);
    return std::pair{scale, e.normal({c}, 0.1, e.param)};
  };
  // Rows far from zero mean, as the old direct-formula test had them.
  {
    const In x = e.around({5, 16}, 3, 2);
    auto [s, o] = params(16);
    e.expect("[5, 16], mean 3", ops::layer_norm(x.d, s.d, o.d), layer_norm_ref(x, s, o));
  }
  // An axial view (rows gathered with a stride), a transposed view (the channel is not the
  // unit-stride dimension), a single channel, odd widths, and no rows.
  {
    const In base = e.normal({7, 4, 9});
    const In x = base.map([](const Tensor& t) { return t.transpose(0, 1); });  // [4, 7, 9]
    auto [s, o] = params(9);
    e.variant("[7, 4, 9]^(0 1)", [&] {
      e.expect("[7, 4, 9] transposed (0, 1)", ops::layer_norm(x.d, s.d, o.d),
               layer_norm_ref(x, s, o));
    });
  }
  {
    const In x = e.normal({33, 6}).map([](const Tensor& t) { return t.transpose(0, 1); });
    auto [s, o] = params(33);
    e.variant("[33, 6]^T", [&] {
      e.expect("[33, 6]^T (channel stride 6)", ops::layer_norm(x.d, s.d, o.d),
               layer_norm_ref(x, s, o));
    });
  }
  for (int64_t c : {1, 3, 129}) {
    const In x = e.normal({4, c}, 3);
    auto [s, o] = params(c);
    e.expect("[4, " + std::to_string(c) + "]", ops::layer_norm(x.d, s.d, o.d),
             layer_norm_ref(x, s, o));
  }
  {
    auto [s, o] = params(8);
    e.expect("[0, 8]", ops::layer_norm(e.normal({0, 8}).d, s.d, o.d), Want({0, 8}));
  }
  // The fused cast to the next product's input type, where the backend has it.
  if (e.act == DType::bfloat16 &&
      e.require(Op::layer_norm, {e.act, DType::float32, e.param, e.param})) {
    const In x = e.normal({6, 40}, 1, DType::float32);
    auto [s, o] = params(40);
    e.expect("float32 [6, 40] to bfloat16", ops::layer_norm(x.d, s.d, o.d, e.act),
             layer_norm_ref(x, s, o));
  }
}

}  // namespace
}  // namespace exafold::op_table
