// The per-op GPU table for LayerNorm and the cuBLASLt GEMM, each case against a float64
// reference computed from exactly the inputs the GPU sees. Skips without CUDA or a device.
//
// Tolerances are fractions of the output's largest |value| (expect_close):
// - float32 LayerNorm, 1e-5: float32 statistics of O(1)-normalised rows lose a few ulps (2^-24)
//   of values of at most ~5, far below 1e-5 of the scale.
// - bfloat16 outputs, 5e-3: bfloat16 has 8 significant bits, so rounding an output to nearest
//   costs up to 2^-8 (3.9e-3) of its value, hence of the scale; the rest is room for the float32
//   part (a float32 emulation of these cases on the CPU measured up to 3.6e-3).
// - float32 GEMM, 1e-5: float32 accumulation errors grow like sqrt(k) * 2^-24 of |a| |b| sums;
//   for k <= 384 that is ~1e-6 of the output's scale.
// - bfloat16 inputs: products of bfloat16 values are exact in float32, so with a float32 output
//   the float32 bound (1e-5) holds; with a bfloat16 output the output rounding dominates (5e-3).
//   The bias is rounded to bfloat16 in the reference then, as the kernel's contract says.
// - TF32, 3e-3: the tensor cores keep 10 of the 23 mantissa bits of each float32 input, so each
//   product is off by up to 2^-10 of itself, and if the hardware truncates rather than rounds the
//   error is biased towards zero: up to ~1e-3 of the output itself plus a sqrt(k)-sized random
//   part below 1e-3 of the scale (a CPU emulation with truncation measured up to 1e-3). The
//   (1, 1, 1) case is a single value, its own scale: its seeds give a * b = -0.035 and
//   a * b + bias = 0.29, no cancellation that would magnify the error.
// - float32 inputs with a bfloat16 output: float32 accumulation, one rounding to bfloat16: 5e-3.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpu_ops_test_util.h"

namespace exafold::gpu_test {
namespace {

constexpr double kLayerNormFloat32 = 1e-5;
constexpr double kLayerNormBfloat16Out = 5e-3;
constexpr double kGemmFloat32 = 1e-5;
constexpr double kGemmTf32 = 3e-3;
constexpr double kGemmBfloat16Out = 5e-3;

constexpr float kEps = 1e-5f;  // AlphaFold2's (haiku's default)

std::string short_name(DType t) { return t == DType::bfloat16 ? "bf16" : "f32"; }

std::vector<double> layer_norm_reference(const std::vector<double>& x, int64_t rows, int64_t c,
                                         const std::vector<double>& scale,
                                         const std::vector<double>& offset) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = x.data() + r * c;
    double mean = 0;
    for (int64_t j = 0; j < c; ++j) mean += row[j];
    mean /= double(c);
    double var = 0;
    for (int64_t j = 0; j < c; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= double(c);
    const double rstd = 1.0 / std::sqrt(var + double(kEps));
    for (int64_t j = 0; j < c; ++j)
      y[size_t(r * c + j)] = (row[j] - mean) * rstd * scale[size_t(j)] + offset[size_t(j)];
  }
  return y;
}

TEST_F(GpuOps, LayerNormTable) {
  struct Shape {
    int64_t rows, c;
  };
  struct Types {
    DType x, y;
  };
  const Shape shapes[] = {{1, 8}, {37, 128}, {1000, 256}, {64, 384}, {5, 2048}};
  const Types types[] = {{DType::float32, DType::float32},
                         {DType::float32, DType::bfloat16},
                         {DType::bfloat16, DType::float32},
                         {DType::bfloat16, DType::bfloat16}};
  uint64_t seed = 1;
  for (const Shape& s : shapes) {
    const auto n = size_t(s.rows * s.c);
    const auto c = size_t(s.c);
    // A mean of 5 against a spread of 1 makes E[x^2] - E[x]^2 lose ~5 bits; the two-pass
    // statistics must not.
    std::vector<double> x0 = normal(n, seed++);
    for (double& v : x0) v += 5.0;
    std::vector<double> scale = normal(c, seed++, 0.2);
    for (double& v : scale) v += 1.0;
    scale = rounded(scale, DType::float32);
    const std::vector<double> offset = rounded(normal(c, seed++, 0.2), DType::float32);
    const Tensor d_scale = to_device(scale, DType::float32);
    const Tensor d_offset = to_device(offset, DType::float32);
    for (const Types& t : types) {
      const std::vector<double> x = rounded(x0, t.x);
      const Tensor d_x = to_device(x, t.x);
      const Tensor d_y = device_empty(int64_t(n), t.y);
      k().layer_norm(d_x.data_ptr(), t.x, s.rows, s.c, d_scale.data<float>(),
                     d_offset.data<float>(), kEps, d_y.data_ptr(), t.y);
      k().synchronize();
      const std::string shape = "[" + std::to_string(s.rows) + ", " + std::to_string(s.c) + "] " +
                                short_name(t.x) + "->" + short_name(t.y);
      expect_close("layer_norm", shape, t.y, to_host(d_y),
                   layer_norm_reference(x, s.rows, s.c, scale, offset),
                   t.y == DType::bfloat16 ? kLayerNormBfloat16Out : kLayerNormFloat32);
    }
  }
}

// Row-major a [m, k] @ b [k, n] in float64.
std::vector<double> matmul_reference(const std::vector<double>& a, const std::vector<double>& b,
                                     int64_t m, int64_t n, int64_t k) {
  std::vector<double> c(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const double aip = a[size_t(i * k + p)];
      for (int64_t j = 0; j < n; ++j) c[size_t(i * n + j)] += aip * b[size_t(p * n + j)];
    }
  return c;
}

TEST_F(GpuOps, GemmTable) {
  struct Shape {
    int64_t m, n, k;
  };
  struct Precision {
    DType ab, c;
    bool tf32;
    double tolerance;
  };
  const Shape shapes[] = {
      {1, 1, 1}, {37, 65, 129}, {512, 128, 256}, {1024, 384, 384}, {7, 2048, 16}};
  const Precision precisions[] = {{DType::float32, DType::float32, false, kGemmFloat32},
                                  {DType::float32, DType::float32, true, kGemmTf32},
                                  {DType::bfloat16, DType::float32, false, kGemmFloat32},
                                  {DType::bfloat16, DType::bfloat16, false, kGemmBfloat16Out},
                                  {DType::float32, DType::bfloat16, false, kGemmBfloat16Out}};
  uint64_t seed = 100;
  for (const Shape& s : shapes) {
    const std::vector<double> a0 = normal(size_t(s.m * s.k), seed++);
    const std::vector<double> b0 = normal(size_t(s.k * s.n), seed++);
    const std::vector<double> bias = rounded(normal(size_t(s.n), seed++), DType::float32);
    const Tensor d_bias = to_device(bias, DType::float32);
    for (const Precision& p : precisions) {
      const std::vector<double> a = rounded(a0, p.ab), b = rounded(b0, p.ab);
      const std::vector<double> product = matmul_reference(a, b, s.m, s.n, s.k);
      const Tensor d_a = to_device(a, p.ab), d_b = to_device(b, p.ab);
      const bool bias_in_bf16 = p.ab == DType::bfloat16 && p.c == DType::bfloat16;
      const std::vector<double> applied_bias = bias_in_bf16 ? rounded(bias, DType::bfloat16) : bias;
      for (const bool with_bias : {false, true})
        for (const bool relu : {false, true}) {
          const Tensor d_c = device_empty(s.m * s.n, p.c);
          k().gemm(d_a.data_ptr(), d_b.data_ptr(), p.ab, s.m, s.n, s.k,
                   with_bias ? d_bias.data<float>() : nullptr, relu, d_c.data_ptr(), p.c, p.tf32);
          k().synchronize();
          std::vector<double> want = product;
          for (int64_t i = 0; i < s.m; ++i)
            for (int64_t j = 0; j < s.n; ++j) {
              double& v = want[size_t(i * s.n + j)];
              if (with_bias) v += applied_bias[size_t(j)];
              if (relu) v = std::max(v, 0.0);
            }
          const std::string op =
              std::string("gemm") + (with_bias ? "+bias" : "") + (relu ? "+relu" : "");
          const std::string shape = "[" + std::to_string(s.m) + "," + std::to_string(s.k) + "]x[" +
                                    std::to_string(s.k) + "," + std::to_string(s.n) + "] " +
                                    short_name(p.ab) + "->" + short_name(p.c) +
                                    (p.tf32 ? " tf32" : "");
          expect_close(op, shape, p.c, to_host(d_c), want, p.tolerance);
        }
    }
  }
}

TEST_F(GpuOps, EmptyInputsQueueNoWork) {
  k().layer_norm(nullptr, DType::float32, 0, 8, nullptr, nullptr, kEps, nullptr, DType::float32);
  k().gemm(nullptr, nullptr, DType::bfloat16, 0, 4, 4, nullptr, true, nullptr, DType::bfloat16,
           false);
  k().synchronize();
}

}  // namespace
}  // namespace exafold::gpu_test
