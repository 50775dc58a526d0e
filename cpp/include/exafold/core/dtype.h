// Element types of tensors, with the 16-bit float formats stored as raw bits.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace exafold {

enum class DType : uint8_t {
  float32,
  float64,
  bfloat16,
  float16,
  int8,
  int32,
  int64,
  uint8,
  bool_
};

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);
/// Parses the names dtype_name() gives ("float32", "bfloat16", "bool", ...); throws on others.
DType dtype_from_name(std::string_view name);
bool dtype_is_floating(DType t);

/// bfloat16: the top 16 bits of an IEEE float32. Conversion rounds to nearest even; NaN stays NaN.
struct bfloat16 {
  uint16_t bits = 0;

  bfloat16() = default;
  explicit bfloat16(float f) : bits(round_bits(f)) {}
  explicit operator float() const {
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }

 private:
  static uint16_t round_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return uint16_t(u >> 16);
  }
};

/// IEEE binary16, stored as raw bits; conversions round to nearest even.
struct float16 {
  uint16_t bits = 0;

  float16() = default;
  explicit float16(float f);
  explicit operator float() const;
};

static_assert(sizeof(bfloat16) == 2 && sizeof(float16) == 2);

/// Bulk conversions between float32 and bfloat16.
void to_bfloat16(const float* src, bfloat16* dst, size_t n);
void from_bfloat16(const bfloat16* src, float* dst, size_t n);

template <class T>
struct dtype_of;
template <>
struct dtype_of<float> {
  static constexpr DType value = DType::float32;
};
template <>
struct dtype_of<double> {
  static constexpr DType value = DType::float64;
};
template <>
struct dtype_of<bfloat16> {
  static constexpr DType value = DType::bfloat16;
};
template <>
struct dtype_of<float16> {
  static constexpr DType value = DType::float16;
};
template <>
struct dtype_of<int8_t> {
  static constexpr DType value = DType::int8;
};
template <>
struct dtype_of<int32_t> {
  static constexpr DType value = DType::int32;
};
template <>
struct dtype_of<int64_t> {
  static constexpr DType value = DType::int64;
};
template <>
struct dtype_of<uint8_t> {
  static constexpr DType value = DType::uint8;
};
template <>
struct dtype_of<bool> {
  static constexpr DType value = DType::bool_;
};
template <class T>
inline constexpr DType dtype_v = dtype_of<T>::value;

}  // namespace exafold
