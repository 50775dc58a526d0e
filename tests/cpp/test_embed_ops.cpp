// The embedding gather with a scaled one-hot term (the template pair features) and the
// `positive` unary, on the cpu and strict backends, against the dense product written out here
// in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "exafold/core/error.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/embedding.h"

namespace exafold::ops {
namespace {

template <class T>
void scaled_one_hot_matches_the_dense_product(Device device) {
  constexpr int64_t kRows = 9, kFeatures = 12, kChannels = 5;
  std::mt19937 rng(11);
  std::normal_distribution<double> g;
  std::uniform_int_distribution<int> u(-1, 7);  // -1: no row (an all-zero one-hot)
  Tensor w = Tensor::empty({kFeatures, kChannels}, dtype_v<T>);
  Tensor bias = Tensor::empty({kChannels}, dtype_v<T>);
  Tensor index = Tensor::empty({kRows}, DType::int32);
  Tensor scale = Tensor::empty({kRows}, dtype_v<T>);
  Tensor value = Tensor::empty({kRows}, dtype_v<T>);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<T>()[i] = T(g(rng));
  for (int64_t k = 0; k < kChannels; ++k) bias.data<T>()[k] = T(g(rng));
  for (int64_t r = 0; r < kRows; ++r) {
    index.data<int32_t>()[r] = u(rng);
    scale.data<T>()[r] = r % 3 == 0 ? T(0) : T(g(rng));
    value.data<T>()[r] = T(g(rng));
  }
  const Tensor out = Tensor::empty({kRows, kChannels}, dtype_v<T>, device);
  embed_into(out, migrate(w, device), migrate(bias, device),
             {EmbedTerm::one_hot(migrate(index, device), 2, migrate(scale, device)),
              EmbedTerm::scalar(migrate(value, device), 11)},
             false);
  const Tensor got = migrate(out, Device::cpu()).contiguous();
  // Each element is at most three float products summed: within a few ulps of float64.
  const double tol = 64 * std::numeric_limits<T>::epsilon();
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t k = 0; k < kChannels; ++k) {
      const int32_t i = index.data<int32_t>()[r];
      double want = double(value.data<T>()[r]) * double(w.data<T>()[11 * kChannels + k]) +
                    double(bias.data<T>()[k]);
      if (i >= 0) want += double(scale.data<T>()[r]) * double(w.data<T>()[(2 + i) * kChannels + k]);
      EXPECT_NEAR(double(got.data<T>()[r * kChannels + k]), want, tol) << r << ", " << k;
    }
}

TEST(EmbedOps, ScaledOneHotMatchesTheDenseProductCpu) {
  scaled_one_hot_matches_the_dense_product<double>(Device::cpu());
  scaled_one_hot_matches_the_dense_product<float>(Device::cpu());
}

TEST(EmbedOps, ScaledOneHotMatchesTheDenseProductStrict) {
  scaled_one_hot_matches_the_dense_product<double>(Device::strict());
  scaled_one_hot_matches_the_dense_product<float>(Device::strict());
}

TEST(EmbedOps, AScaleNeedsAOneHotTermOfTheOutputsShape) {
  const Tensor out = zeros({4, 3}, DType::float64, Device::cpu());
  const Tensor w = zeros({5, 3}, DType::float64, Device::cpu());
  const Tensor idx = Tensor::empty({4}, DType::int32);
  for (int i = 0; i < 4; ++i) idx.data<int32_t>()[i] = 0;
  EXPECT_THROW(
      embed_into(out, w, {},
                 {EmbedTerm::one_hot(idx, 0, zeros({3}, DType::float64, Device::cpu()))}, false),
      InvalidArgument);
  EXPECT_THROW(
      embed_into(out, w, {},
                 {EmbedTerm::one_hot(idx, 0, zeros({4}, DType::float32, Device::cpu()))}, false),
      InvalidArgument);
}

TEST(EmbedOps, PositiveIsTheIndicatorOfPositiveValues) {
  for (DType dt : {DType::float32, DType::float64}) {
    const double values[] = {-2.0, -0.0, 0.0, 1e-30, 3.5};
    const Tensor x = from_host(values, {5}, dt, Device::cpu());
    const Tensor y = cast(unary(Unary::positive, x), DType::float64);
    const double want[] = {0, 0, 0, 1, 1};
    for (int i = 0; i < 5; ++i) EXPECT_EQ(y.data<double>()[i], want[i]) << i;
  }
}

}  // namespace
}  // namespace exafold::ops
