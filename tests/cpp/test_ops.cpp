#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"
#include "exafold/ops/linear.h"

namespace exafold::ops {
namespace {

// Reference results in long double: independent of OpenBLAS and of the row split.
std::vector<long double> naive(bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                               const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<long double> c(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      long double s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += (long double)(ta ? a[size_t(p * m + i)] : a[size_t(i * k + p)]) *
             (tb ? b[size_t(j * k + p)] : b[size_t(p * n + j)]);
      c[size_t(i * n + j)] = s;
    }
  return c;
}

TEST(Gemm, MatchesLongDoubleForEveryTransposeAndSplit) {
  std::mt19937 rng(3);
  std::normal_distribution<double> g;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{3, 5, 7}, {257, 130, 65}}) {
        std::vector<double> a(size_t(m * k)), b(size_t(k * n));
        for (auto& v : a) v = g(rng);
        for (auto& v : b) v = g(rng);
        std::vector<double> c(size_t(m * n));
        gemm<double>(ta, tb, m, n, k, 1.0, a.data(), ta ? m : k, b.data(), tb ? k : n, 0.0,
                     c.data(), n);
        auto ref = naive(ta, tb, m, n, k, a, b);
        for (size_t i = 0; i < c.size(); ++i)
          ASSERT_NEAR(c[i], double(ref[i]), 1e-12 * std::sqrt(double(k)) * 10) << i;
      }
}

TEST(Gemm, RepeatsBitwiseAndAgreesAcrossThreadCounts) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  const int64_t m = 300, n = 70, k = 90;
  std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c1(size_t(m * n)), c4(size_t(m * n));
  std::vector<float> again(c4.size());
  for (auto& v : a) v = g(rng);
  for (auto& v : b) v = g(rng);
  set_num_threads(1);
  gemm<float>(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c1.data(), n);
  set_num_threads(4);
  gemm<float>(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c4.data(), n);
  gemm<float>(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, again.data(), n);
  set_num_threads(num_threads_from_env());
  EXPECT_EQ(c4, again);  // bitwise at a fixed thread count
  // Across counts only the kernel choice for the pieces differs: float32 rounding of a k=90 dot
  // product of unit normals (|sum| ~ 10) is below 1e-4.
  for (size_t i = 0; i < c1.size(); ++i) ASSERT_NEAR(c1[i], c4[i], 1e-4f) << i;
}

TEST(Linear, LayerNormAgainstDirectFormula) {
  const int64_t rows = 5, c = 16;
  std::vector<double> x(static_cast<size_t>(rows * c)), y(x.size());
  std::vector<double> scale(static_cast<size_t>(c)), offset(static_cast<size_t>(c));
  std::mt19937 rng(9);
  std::normal_distribution<double> g;
  for (auto& v : x) v = 3.0 + 2.0 * g(rng);
  for (auto& v : scale) v = 1.0 + 0.1 * g(rng);
  for (auto& v : offset) v = 0.1 * g(rng);
  layer_norm<double>(x.data(), rows, c, scale.data(), offset.data(), y.data());
  for (int64_t r = 0; r < rows; ++r) {
    long double mean = 0, var = 0;
    for (int64_t i = 0; i < c; ++i) mean += x[size_t(r * c + i)];
    mean /= c;
    for (int64_t i = 0; i < c; ++i)
      var += (x[size_t(r * c + i)] - mean) * (x[size_t(r * c + i)] - mean);
    var /= c;  // biased, as haiku's LayerNorm
    for (int64_t i = 0; i < c; ++i) {
      long double want = (x[size_t(r * c + i)] - mean) / std::sqrt(var + 1e-5L) * scale[size_t(i)] +
                         offset[size_t(i)];
      ASSERT_NEAR(y[size_t(r * c + i)], double(want), 1e-13);
    }
  }
}

TEST(Linear, TensorFormFlattensHeadDimensions) {
  Tensor x = Tensor::empty({2, 3, 4}, DType::float64);
  Tensor w = Tensor::empty({4, 2, 5}, DType::float64);  // [c, heads, d] as in attention weights
  Tensor b = Tensor::empty({2, 5}, DType::float64);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<double>()[i] = 0.1 * double(i);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<double>()[i] = 0.01 * double(i % 13);
  for (int64_t i = 0; i < b.numel(); ++i) b.data<double>()[i] = double(i);
  Tensor y = linear(x, w, b);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 2, 5}));
  // y[1,2,1,3] = sum_c x[1,2,c] * w[c,1,3] + b[1,3]
  double want = b.data<double>()[8];
  for (int c = 0; c < 4; ++c)
    want += x.data<double>()[(1 * 3 + 2) * 4 + c] * w.data<double>()[c * 10 + 8];
  EXPECT_NEAR(y.data<double>()[((1 * 3 + 2) * 2 + 1) * 5 + 3], want, 1e-12);
  EXPECT_THROW(linear(Tensor::empty({2, 3}, DType::float64), w, b), InvalidArgument);
}

}  // namespace
}  // namespace exafold::ops
