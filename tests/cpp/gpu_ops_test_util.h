// The per-op GPU test table (in the manner of ggml's test-backend-ops): each case runs one
// kernel on the GPU and an independent float64 reference on the CPU, and prints one line with
// the op, its shape and precision, the measured error and the tolerance it must meet. Cases
// skip, saying why, without a CUDA build or device.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "exafold/memory/gpu_backend.h"
#include "exafold/memory/migrate.h"
#include "exafold/ops/gpu_kernels.h"
#include "exafold/tensor/tensor.h"

namespace exafold::gpu_test {

class GpuOps : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ops::gpu_kernels() == nullptr) GTEST_SKIP() << "built without CUDA";
    if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device present";
  }
  ops::GpuKernels& k() { return *ops::gpu_kernels(); }
};

/// n values ~ scale * N(0, 1), reproducible from seed.
inline std::vector<double> normal(size_t n, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(0.0, scale);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

/// The values as the GPU will see them: rounded to `dtype` (float32 or bfloat16) and back, so
/// the float64 reference starts from exactly the GPU's inputs and measures only the kernel.
inline std::vector<double> rounded(std::vector<double> v, DType dtype) {
  for (auto& x : v)
    x = dtype == DType::bfloat16 ? double(float(bfloat16(float(x)))) : double(float(x));
  return v;
}

/// A device tensor of `dtype` holding v (rounded to dtype).
inline Tensor to_device(const std::vector<double>& v, DType dtype) {
  Tensor h = Tensor::empty({int64_t(v.size())}, dtype, Device::cpu());
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == DType::bfloat16)
      h.data<bfloat16>()[i] = bfloat16(float(v[i]));
    else
      h.data<float>()[i] = float(v[i]);
  }
  return migrate(h, Device::cuda(0));
}

/// An uninitialised device tensor of n elements.
inline Tensor device_empty(int64_t n, DType dtype) {
  return Tensor::empty({n}, dtype, Device::cuda(0), MemoryKind::device);
}

/// A device tensor's values, widened to double.
inline std::vector<double> to_host(const Tensor& d) {
  Tensor h = migrate(d, Device::cpu());
  std::vector<double> v(size_t(h.numel()));
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = h.dtype() == DType::bfloat16 ? double(float(h.data<bfloat16>()[i]))
                                        : double(h.data<float>()[i]);
  return v;
}

/// One row of the table: the largest |got - want| relative to the largest |want| (so the
/// tolerance reads as a fraction of the output's scale), checked against `tolerance`. `slack`,
/// when given, is an absolute allowance per element on top of it (an error bound that scales
/// with something other than the output), and the row shows the worst error as a fraction of
/// each element's whole bound.
inline void expect_close(const std::string& op, const std::string& shape, DType dtype,
                         const std::vector<double>& got, const std::vector<double>& want,
                         double tolerance, const std::vector<double>& slack = {}) {
  ASSERT_EQ(got.size(), want.size()) << op;
  ASSERT_TRUE(slack.empty() || slack.size() == want.size()) << op;
  double err = 0, scale = 0;
  bool finite = true;
  for (size_t i = 0; i < got.size(); ++i) {
    finite = finite && std::isfinite(got[i]);
    err = std::max(err, std::abs(got[i] - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  const double rel = err / std::max(scale, 1e-30);
  bool ok = finite;
  double worst = 0;  // of the bound
  for (size_t i = 0; i < got.size(); ++i) {
    const double bound = tolerance * scale + (slack.empty() ? 0.0 : slack[i]);
    const double e = std::abs(got[i] - want[i]);
    worst = std::max(worst, e / std::max(bound, 1e-30));
    ok = ok && e <= bound;
  }
  std::printf("  %-14s %-32s %-8s err %.2e of scale %.2e  <= %.1e%s  %.2f of bound  %s\n",
              op.c_str(), shape.c_str(), std::string(dtype_name(dtype)).c_str(), rel, scale,
              tolerance, slack.empty() ? "" : " + slack", worst, ok ? "OK" : "FAIL");
  EXPECT_TRUE(ok) << op << " " << shape << " " << dtype_name(dtype) << ": error " << rel
                  << " of the output scale, " << worst << " of the bound (" << tolerance
                  << " of the scale" << (slack.empty() ? "" : " plus the slack") << ")";
}

}  // namespace exafold::gpu_test
