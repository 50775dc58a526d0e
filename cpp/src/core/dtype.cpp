#include "exafold/core/dtype.h"

#include <array>

#include "exafold/core/error.h"

namespace exafold {
namespace {

struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
  bool floating;
};

constexpr std::array<DTypeInfo, 9> kInfo{{
    {DType::float32, "float32", 4, true},
    {DType::float64, "float64", 8, true},
    {DType::bfloat16, "bfloat16", 2, true},
    {DType::float16, "float16", 2, true},
    {DType::int8, "int8", 1, false},
    {DType::int32, "int32", 4, false},
    {DType::int64, "int64", 8, false},
    {DType::uint8, "uint8", 1, false},
    {DType::bool_, "bool", 1, false},
}};

const DTypeInfo& info(DType t) {
  auto i = static_cast<size_t>(t);
  EXAFOLD_ASSERT(i < kInfo.size() && kInfo[i].type == t);
  return kInfo[i];
}

}  // namespace

size_t dtype_size(DType t) { return info(t).size; }
std::string_view dtype_name(DType t) { return info(t).name; }
bool dtype_is_floating(DType t) { return info(t).floating; }

DType dtype_from_name(std::string_view name) {
  for (const auto& i : kInfo)
    if (i.name == name) return i.type;
  fail("unknown dtype '", name,
       "' (expected one of float32, float64, bfloat16, float16, int8, int32, int64, uint8, bool)");
}

void to_bfloat16(const float* src, bfloat16* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bfloat16(src[i]);
}

void from_bfloat16(const bfloat16* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = float(src[i]);
}

float16::float16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) {  // NaN keeps a quiet payload bit
    bits = uint16_t(sign | 0x7e00u);
    return;
  }
  if (abs >= 0x477ff000u) {  // rounds to a value beyond the largest half (65504): infinity
    bits = uint16_t(sign | 0x7c00u);
    return;
  }
  if (abs < 0x38800000u) {    // below the smallest normal half: subnormal or zero
    if (abs < 0x33000000u) {  // below half of the smallest subnormal: rounds to zero
      bits = uint16_t(sign);
      return;
    }
    const uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    const int shift = 126 - int(abs >> 23);  // 14 + (113 - exponent) - 1 + 1
    const uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t mid = 1u << (shift - 1);
    uint32_t r = half + ((rem > mid || (rem == mid && (half & 1u))) ? 1u : 0u);
    bits = uint16_t(sign | r);
    return;
  }
  uint32_t r = abs - 0x38000000u;  // rebias exponent 127 -> 15
  r += 0xfffu + ((r >> 13) & 1u);  // round to nearest even on the 13 dropped bits
  bits = uint16_t(sign | (r >> 13));
}

float16::operator float() const {
  const uint32_t sign = uint32_t(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t mant = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0x1f) {
    out = sign | 0x7f800000u | (mant << 13);
  } else if (exp != 0) {
    out = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    out = sign;
  } else {  // subnormal half: normalise
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    out = sign | (uint32_t(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace exafold
