// Float64 references for the per-op test table: naive loops written from the op contracts
// (exafold/ops/*.h) and the AlphaFold2 formulas (supplement; AF2-REFERENCE.md section 6), each
// returning, with every value, a first-order bound on the rounding error of a correct kernel
// in units of u (backend_ops_harness.h). Bounds follow the usual analysis: a rounded operation
// is off by u times its result, a sum of n terms by about n u times the sum of the terms'
// magnitudes, a function f of an input off by d by |f'| d plus its own error. Nothing here
// calls an exafold op.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "backend_ops_harness.h"

namespace exafold::op_table::ref {

/// Error of exp, sqrt, cbrt, log1p in units of u: within 2 ulp, and one ulp is at most 2 u.
/// (The cpu backend's float32 exp is within 2 ulp, tests/cpp/test_fast_exp.cpp; libm's are
/// within 1.)
inline constexpr double kFn = 4;

inline double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

/// Error of a computed sigmoid, relative to its value, in units of u: exp (kFn), the sum 1 + e
/// (1, plus e/(1+e) < 1 of exp's error) and the division (1).
inline constexpr double kSigmoid = kFn + 2;

/// softmax of logits l whose computed values may be off by el (units of u, absolute), and
/// the bound on each weight's relative error: a logit error d moves w_j by w_j (d_j - sum_k
/// w_k d_k); the subtraction of the maximum rounds (|l_j - max|), exp (kFn), the n-term sum of
/// positive terms (n) and the division (1) add their own.
struct Softmax {
  std::vector<double> w, rel;
};
inline Softmax softmax(const std::vector<double>& l, const std::vector<double>& el) {
  const size_t n = l.size();
  Softmax s{std::vector<double>(n), std::vector<double>(n)};
  if (n == 0) return s;
  const double m = *std::max_element(l.begin(), l.end());
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += (s.w[j] = std::exp(l[j] - m));
  double mean_el = 0;
  for (size_t j = 0; j < n; ++j) {
    s.w[j] /= sum;
    mean_el += s.w[j] * el[j];
  }
  for (size_t j = 0; j < n; ++j)
    s.rel[j] = el[j] + mean_el + std::abs(l[j] - m) + kFn + double(n) + 1;
  return s;
}

/// A rigid transform as a 4x4 homogeneous matrix, with the magnitudes |R|, |t| that bound the
/// rounding of products formed from it (each entry of a product of n-term dot products is off
/// by about n u times the product of the absolute values).
struct Frame {
  std::array<std::array<double, 4>, 4> m{};    // [R t; 0 1]
  std::array<std::array<double, 4>, 4> mag{};  // the same from |entries|

  static Frame identity() {
    Frame f;
    for (int i = 0; i < 4; ++i) f.m[i][i] = f.mag[i][i] = 1;
    return f;
  }
  /// This transform after `inner`: (this o inner)(x) = this(inner(x)).
  Frame operator*(const Frame& inner) const {
    Frame o;
    for (int r = 0; r < 4; ++r)
      for (int c = 0; c < 4; ++c)
        for (int k = 0; k < 4; ++k) {
          o.m[r][c] += m[r][k] * inner.m[k][c];
          o.mag[r][c] += mag[r][k] * inner.mag[k][c];
        }
    return o;
  }
  /// R p + t, with the magnitude |R| |p| + |t|.
  void apply(const double p[3], double out[3], double mag_out[3]) const {
    for (int r = 0; r < 3; ++r) {
      out[r] = m[r][3];
      mag_out[r] = mag[r][3];
      for (int c = 0; c < 3; ++c) {
        out[r] += m[r][c] * p[c];
        mag_out[r] += mag[r][c] * std::abs(p[c]);
      }
    }
  }
};

/// quat_affine.QUAT_TO_ROT: rot = sum over i <= j of q_i q_j T_ij, q = (w, x, y, z).
inline void quat_to_rot(const double q[4], double rot[3][3], double mag[3][3]) {
  struct Term {
    int i, j;
    double t[3][3];
  };
  static const Term kTerms[] = {
      {0, 0, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}},    // rr
      {1, 1, {{1, 0, 0}, {0, -1, 0}, {0, 0, -1}}},  // ii
      {2, 2, {{-1, 0, 0}, {0, 1, 0}, {0, 0, -1}}},  // jj
      {3, 3, {{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}},  // kk
      {1, 2, {{0, 2, 0}, {2, 0, 0}, {0, 0, 0}}},    // ij
      {1, 3, {{0, 0, 2}, {0, 0, 0}, {2, 0, 0}}},    // ik
      {2, 3, {{0, 0, 0}, {0, 0, 2}, {0, 2, 0}}},    // jk
      {0, 1, {{0, 0, 0}, {0, 0, -2}, {0, 2, 0}}},   // ir
      {0, 2, {{0, 0, 2}, {0, 0, 0}, {-2, 0, 0}}},   // jr
      {0, 3, {{0, -2, 0}, {2, 0, 0}, {0, 0, 0}}},   // kr
  };
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) {
      rot[r][c] = mag[r][c] = 0;
      for (const Term& t : kTerms) {
        rot[r][c] += q[t.i] * q[t.j] * t.t[r][c];
        mag[r][c] += std::abs(q[t.i] * q[t.j] * t.t[r][c]);
      }
    }
}

/// The Hamilton product a b as the matrix of left multiplication by a applied to b.
inline void quat_multiply(const double a[4], const double b[4], double out[4], double mag[4]) {
  const double w = a[0], x = a[1], y = a[2], z = a[3];
  const double left[4][4] = {{w, -x, -y, -z}, {x, w, -z, y}, {y, z, w, -x}, {z, -y, x, w}};
  for (int r = 0; r < 4; ++r) {
    out[r] = mag[r] = 0;
    for (int c = 0; c < 4; ++c) {
      out[r] += left[r][c] * b[c];
      mag[r] += std::abs(left[r][c] * b[c]);
    }
  }
}

/// A row of an [..., n] input as values, for the shape's leading index `row` (row-major).
inline std::vector<double> row_of(const In& x, int64_t row) {
  const int64_t n = x.size(-1);
  std::vector<double> r(static_cast<size_t>(n));
  const Shape& s = x.shape();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t off = offset_of(s, x.h.strides(), row * n + k);
    r[size_t(k)] = *reinterpret_cast<const double*>(static_cast<const char*>(x.h.data_ptr()) + off);
  }
  return r;
}

/// Element e (row-major) of an input.
inline double flat(const In& x, int64_t e) {
  return *reinterpret_cast<const double*>(static_cast<const char*>(x.h.data_ptr()) +
                                          offset_of(x.shape(), x.h.strides(), e));
}

}  // namespace exafold::op_table::ref
