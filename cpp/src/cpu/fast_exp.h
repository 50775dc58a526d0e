// A float32 exp for the host kernels' hot loops. libm's expf is an opaque call per element, so a
// loop around it stays scalar; this one is inline and branch-free on plain floats, so GCC
// vectorises the loops that call it with whatever vector width the build targets.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

namespace exafold::cpu {

/// e^x within 2 ulp of the correctly rounded result over the whole float range (0.96 measured
/// by tests/cpp/test_fast_exp.cpp); +inf above 88.72, subnormals down to -103.97 and 0 below,
/// NaN for NaN.
inline float fast_exp(float x) {
  // Past these bounds e^x is already 0 or inf; clamping keeps the exponent arithmetic below in
  // range. Written as comparisons so that a NaN passes through unchanged.
  x = x < -110.0f ? -110.0f : x;
  x = x > 90.0f ? 90.0f : x;

  // k = round(x / ln2): adding 1.5 * 2^23 rounds to an integer and leaves it in the low mantissa
  // bits, which is cheaper to vectorise than a float-to-int conversion with rounding.
  constexpr float kShift = 12582912.0f;
  const float t = x * 1.44269504f + kShift;
  const float kf = t - kShift;
  const uint32_t k = std::bit_cast<uint32_t>(t) - std::bit_cast<uint32_t>(kShift);

  // Cody-Waite: ln2 = hi + lo with hi of 9 significant bits, so k * hi and x - k * hi are exact
  // and r = x - k ln2 keeps its low bits; |r| <= ln2 / 2 (plus rounding).
  const float r = (x - kf * 0.693359375f) - kf * -2.12194440e-4f;

  // e^r = 1 + r + r^2 P(r), P the minimax fit of Cephes' expf.
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float er = p * (r * r) + r + 1.0f;

  // 2^k as two powers of two, 2^(k/2) and 2^(k - k/2), each a normal float for |k| <= 159: the
  // first product is exact, so a subnormal result is rounded once, and k = 128 overflows to inf.
  const uint32_t k1 = uint32_t(int32_t(k) >> 1);
  const uint32_t k2 = k - k1;
  const float s1 = std::bit_cast<float>((k1 + 127u) << 23);
  const float s2 = std::bit_cast<float>((k2 + 127u) << 23);
  return er * s1 * s2;
}

/// The logistic function, through fast_exp in float32 (so that gating loops vectorise).
template <class T>
inline T sigmoid(T x) {
  if constexpr (std::is_same_v<T, float>)
    return 1.0f / (1.0f + fast_exp(-x));
  else
    return T(1) / (T(1) + std::exp(-x));
}

}  // namespace exafold::cpu
