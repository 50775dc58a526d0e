#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "exafold/core/dtype.h"
#include "exafold/core/error.h"

namespace exafold {
namespace {

float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Independent reference: the nearest bfloat16 by comparing both truncation candidates in double.
uint16_t reference_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t lo = uint16_t(u >> 16), hi = uint16_t(lo + 1);
  const double x = f, dl = std::fabs(x - double(bits_to_float(uint32_t(lo) << 16)));
  const double dh = std::fabs(x - double(bits_to_float(uint32_t(hi) << 16)));
  if (dl < dh) return lo;
  if (dh < dl) return hi;
  return (lo & 1) ? hi : lo;
}

TEST(DType, SizesAndNames) {
  EXPECT_EQ(dtype_size(DType::float32), 4u);
  EXPECT_EQ(dtype_size(DType::float64), 8u);
  EXPECT_EQ(dtype_size(DType::bfloat16), 2u);
  EXPECT_EQ(dtype_size(DType::float16), 2u);
  EXPECT_EQ(dtype_size(DType::int64), 8u);
  EXPECT_EQ(dtype_size(DType::bool_), 1u);
  for (auto t : {DType::float32, DType::float64, DType::bfloat16, DType::float16, DType::int8,
                 DType::int32, DType::int64, DType::uint8, DType::bool_})
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
  EXPECT_THROW(dtype_from_name("float8"), InvalidArgument);
}

TEST(DType, Bfloat16RoundsToNearestEven) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 200000; ++i) {
    float f = bits_to_float(any(rng));
    if (std::isnan(f) || std::isinf(f)) continue;
    if (std::fabs(f) > 3.3e38f) continue;  // rounding past the largest finite value
    ASSERT_EQ(bfloat16(f).bits, reference_bf16(f)) << f;
  }
  EXPECT_EQ(float(bfloat16(1.0f)), 1.0f);
  EXPECT_TRUE(std::isnan(float(bfloat16(std::nanf("")))));
  // A tie rounds to even: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7.
  EXPECT_EQ(float(bfloat16(1.0f + 1.0f / 256)), 1.0f);
}

TEST(DType, Float16MatchesCompilerHalf) {
  for (uint32_t b = 0; b < 65536; ++b) {  // every half value decodes exactly
    float16 h;
    h.bits = uint16_t(b);
    _Float16 ref;
    std::memcpy(&ref, &h.bits, 2);
    float got = float(h), want = float(ref);
    if (std::isnan(want)) {
      ASSERT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(got, want) << b;
    }
  }
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> any;
  std::uniform_real_distribution<float> small(-70000.f, 70000.f);
  for (int i = 0; i < 400000; ++i) {  // encoding: random bit patterns and a dense value range
    float f = i % 2 ? bits_to_float(any(rng)) : small(rng) * (i % 3 ? 1e-6f : 1.f);
    _Float16 ref = _Float16(f);
    uint16_t want;
    std::memcpy(&want, &ref, 2);
    if (std::isnan(f)) {
      ASSERT_TRUE(std::isnan(float(float16(f))));
    } else {
      ASSERT_EQ(float16(f).bits, want) << f;
    }
  }
}

TEST(DType, BulkBfloat16) {
  float in[3] = {1.5f, -2.25f, 3.0e-3f};
  bfloat16 mid[3];
  float out[3];
  to_bfloat16(in, mid, 3);
  from_bfloat16(mid, out, 3);
  EXPECT_EQ(out[0], 1.5f);
  EXPECT_EQ(out[1], -2.25f);
  EXPECT_NEAR(out[2], 3.0e-3f, 3.0e-3f / 128);  // 8 significant bits
}

}  // namespace
}  // namespace exafold
