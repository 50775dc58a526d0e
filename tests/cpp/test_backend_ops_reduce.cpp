// The per-op table's reductions (exafold/ops/reduce.h): softmax, expectations over bins, masked
// means, the pTM score and range checks, over strided views, masked rows and empty shapes.
#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/ops/reduce.h"

namespace exafold::op_table {
namespace {

using backend::Op;

Want softmax_ref(const In& x) {
  Want w(x.shape());
  const int64_t b = x.size(-1), rows = b == 0 ? 0 : x.h.numel() / b;
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> l = ref::row_of(x, r);
    const ref::Softmax s = ref::softmax(l, std::vector<double>(l.size(), 0.0));
    for (int64_t k = 0; k < b; ++k)
      w.set(size_t(r * b + k), s.w[size_t(k)], s.w[size_t(k)] * s.rel[size_t(k)]);
  }
  return w;
}

OP_CASE(softmax, softmax) {
  if (!e.require(Op::softmax, {e.act, e.act})) return;
  // Odd widths; a row of large logits (exp would overflow without the maximum); a transposed
  // view (the bins not the unit-stride dimension); one bin (exactly 1); no rows.
  const In x = e.normal({4, 13}, 3);
  e.expect("[4, 13]", ops::softmax(x.d), softmax_ref(x));
  const In big = e.values({2, 3}, {80, 90, 100, -80, -90, -100}, e.act);
  e.expect("logits +-100", ops::softmax(big.d), softmax_ref(big));
  const In t = e.normal({50, 3}, 2).map([](const Tensor& v) { return v.transpose(0, 1); });
  e.expect("[50, 3]^T", ops::softmax(t.d), softmax_ref(t));
  const In one = e.normal({5, 1});
  e.expect_exact("[5, 1]", ops::softmax(one.d), softmax_ref(one));
  e.expect("[0, 7]", ops::softmax(e.normal({0, 7}).d), Want({0, 7}));
}

OP_CASE(expectation, expectation) {
  if (!e.require(Op::expectation, {e.act, e.act, e.act})) return;
  // pLDDT's 50 bins with centres (k + 0.5) / 50, over a transposed [7, 5] of residue pairs.
  std::vector<double> centres(50);
  for (int k = 0; k < 50; ++k) centres[size_t(k)] = (k + 0.5) / 50;
  const In v = e.values({50}, centres, e.act);
  for (bool transposed : {false, true}) {
    const In p =
        transposed
            ? e.uniform({7, 5, 50}, 0, 0.04).map([](const Tensor& t) { return t.transpose(0, 1); })
            : e.uniform({5, 7, 50}, 0, 0.04);
    Want w({5, 7});
    for (int64_t i = 0; i < 5; ++i)
      for (int64_t j = 0; j < 7; ++j) {
        double s = 0, mag = 0;
        for (int64_t k = 0; k < 50; ++k) {
          s += p(i, j, k) * v(k);
          mag += std::abs(p(i, j, k) * v(k));
        }
        w.set(w.at(i, j), s, (50 + 1) * mag);
      }
    e.expect(transposed ? "[7, 5, 50] transposed (0, 1)" : "[5, 7, 50]", ops::expectation(p.d, v.d),
             w);
  }
  e.expect("[0, 50]", ops::expectation(e.uniform({0, 50}, 0, 1).d, v.d), Want({0}));
}

OP_CASE(masked_mean, masked_mean) {
  if (!e.require(Op::masked_mean, {e.act, e.act, e.act})) return;
  // The global column attention's query: x = msa^T [N, S, c], mask = msa_mask^T [N, S], with a
  // column of only masked sequences (the result is 0, not 0 / 0) and fractional weights.
  const int64_t a = 4, r = 6, c = 5;
  const In x = e.normal({r, a, c}).map([](const Tensor& t) { return t.transpose(0, 1); });
  std::vector<double> m(static_cast<size_t>(r * a));
  const In m0 = e.mask({r, a}, 0.6);
  for (int64_t i = 0; i < r * a; ++i) m[size_t(i)] = ref::flat(m0, i);
  for (int64_t s = 0; s < r; ++s) {
    m[size_t(s * a + 1)] = 0;                     // column 1: every sequence masked
    m[size_t(s * a + 3)] = 0.25 * double(s % 4);  // column 3: fractional
  }
  const In mask = e.values({r, a}, m, e.act).map([](const Tensor& t) { return t.transpose(0, 1); });
  const double eps = 1e-10;
  Want w({a, c});
  for (int64_t i = 0; i < a; ++i) {
    double count = 0;
    for (int64_t s = 0; s < r; ++s) count += mask(i, s);
    for (int64_t k = 0; k < c; ++k) {
      double num = 0, mag = 0;
      for (int64_t s = 0; s < r; ++s) {
        num += mask(i, s) * x(i, s, k);
        mag += std::abs(mask(i, s) * x(i, s, k));
      }
      const double v = num / (count + eps);
      // The numerator's r-term sum; the count's r-term sum and eps; the division.
      w.set(w.at(i, k), v, double(r + 1) * mag / (count + eps) + double(r + 2) * std::abs(v));
    }
  }
  e.expect("[6, 4, 5]^T, mask [6, 4]^T", ops::masked_mean(x.d, mask.d, eps), w);
  e.expect("[0, 3, 2]", ops::masked_mean(e.normal({0, 3, 2}).d, e.mask({0, 3}, 1).d, eps),
           Want({0, 2}));
  e.expect("[2, 0, 3]", ops::masked_mean(e.normal({2, 0, 3}).d, e.mask({2, 0}, 1).d, eps),
           Want({2, 3}));
}

/// pTM (supplement 1.9.7) and its bound. d0 = 1.24 cbrt(X - 15) - 1.8 with X = max(sum w, 19)
/// cancels: at X = 19 it is 0.168 against terms of 1.97 and 1.8, so its relative error is
/// about 12 times that of its parts (the sum, the subtraction of 15, cbrt, the two constants
/// and their roundings). Each f_b is off by twice d0's relative error plus five roundings;
/// every other step sums positive terms: B bins, N residues in the normaliser and in the sum,
/// and a few products and divisions.
Want ptm_ref(const In& probs, const In& centres, const In& weights) {
  const int64_t n = probs.size(0), bins = probs.size(2);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) total += weights(i);
  const double x = std::max(total, 19.0);
  const double root = std::cbrt(x - 15);
  const double d0 = 1.24 * root - 1.8;
  const double ex = double(n) * total;  // error of the sum (and so of X), units of u
  const double e_d0 =
      1.24 * root * ((ex + (x - 15)) / (3 * (x - 15)) + ref::kFn + 2) + 1.8 + std::abs(d0);
  const double rel_d0 = e_d0 / std::abs(d0);
  std::vector<double> f(static_cast<size_t>(bins));
  for (int64_t b = 0; b < bins; ++b) f[size_t(b)] = 1 / (1 + centres(b) * centres(b) / (d0 * d0));
  double best = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < n; ++j) norm += weights(j) * weights(i);
    double per = 0;
    for (int64_t j = 0; j < n; ++j) {
      double term = 0;
      for (int64_t b = 0; b < bins; ++b) term += probs(i, j, b) * f[size_t(b)];
      per += term * (weights(j) * weights(i) / (1e-8 + norm));
    }
    best = std::max(best, per * weights(i));
  }
  Want w(Shape{});
  w.set(0, best, std::abs(best) * (2 * rel_d0 + 2 * double(n) + double(bins) + 13));
  return w;
}

/// Rows of probabilities over `bins` (a softmax of random logits, computed here).
std::vector<double> probabilities(Env& e, int64_t rows, int64_t bins) {
  const In logits = e.normal({rows, bins}, 2, DType::float64);
  std::vector<double> p(static_cast<size_t>(rows * bins));
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t b = 0; b < bins; ++b) sum += p[size_t(r * bins + b)] = std::exp(logits(r, b));
    for (int64_t b = 0; b < bins; ++b) p[size_t(r * bins + b)] /= sum;
  }
  return p;
}

OP_CASE(predicted_tm_score, predicted_tm_score) {
  if (!e.require(Op::predicted_tm_score, {e.act, e.act, e.act, e.act})) return;
  // A short chain (the length clipped to 19), a masked residue, a chain longer than 19 and one
  // residue; the PAE head's 64 bins with centres 0.25 .. 31.75 and an odd count.
  for (auto [n, bins, masked] : {std::tuple<int64_t, int64_t, bool>{5, 64, true},
                                 {23, 64, false},
                                 {24, 13, true},
                                 {1, 7, false}}) {
    const In probs = e.values({n, n, bins}, probabilities(e, n * n, bins), e.act);
    std::vector<double> c(static_cast<size_t>(bins));
    for (int64_t b = 0; b < bins; ++b)
      c[size_t(b)] = b + 1 < bins ? 0.25 + 31.0 * double(b) / double(bins - 2) : 31.75;
    const In centres = e.values({bins}, c, e.act);
    std::vector<double> wv(static_cast<size_t>(n), 1.0);
    if (masked) wv[size_t(n / 2)] = 0;
    const In weights = e.values({n}, wv, e.act);
    e.expect("N = " + std::to_string(n) + ", " + std::to_string(bins) + " bins" +
                 (masked ? ", one masked" : ""),
             ops::predicted_tm_score(probs.d, centres.d, weights.d),
             ptm_ref(probs, centres, weights));
  }
}

OP_CASE(check_range, check_range) {
  e.only_in(DType::float64);  // integer tensors: once
  if (e.not_here()) return;
  for (DType it : {DType::int32, DType::int64}) {
    if (!e.require(Op::check_range, {it})) continue;
    const std::string dt(dtype_name(it));
    std::vector<double> v(12);
    for (int i = 0; i < 12; ++i) v[size_t(i)] = (i * 7) % 21;
    const In ok = e.values({3, 4}, v, it);
    ops::check_range(ok.d, 0, 20, "aatype");  // in range: no error
    v[6] = 99;                                // [1, 2]
    const In bad = e.values({3, 4}, v, it);
    e.expect_error(dt + " 99 at [1, 2]", [&] { ops::check_range(bad.d, 0, 20, "aatype"); },
                   {"aatype", "holds 99", "at flat index 6", "0..20"});
    // Flat indices count in the view's own row-major order: [1, 2] is [2, 1] of the transpose.
    e.expect_error(dt + " transposed",
                   [&] { ops::check_range(bad.d.transpose(0, 1), 0, 20, "aatype"); },
                   {"holds 99", "at flat index 7"});
    v[6] = 3;
    v[10] = -5;
    const In low = e.values({3, 4}, v, it);
    e.expect_error(dt + " -5 below", [&] { ops::check_range(low.d, -1, 20, "residue_index"); },
                   {"residue_index", "holds -5", "at flat index 10", "-1..20"});
    ops::check_range(e.values({0, 4}, std::vector<double>{}, it).d, 0, 0, "empty");
  }
}

}  // namespace
}  // namespace exafold::op_table
