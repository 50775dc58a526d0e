// bfloat16 for the CPU emulation of CUDA: the storage type and CUDA's conversions, rounding to
// nearest even, NaN to CUDA's canonical NaN (0x7fff), as the device's cvt.rn.bf16.f32 does.
//
// Deliberately no implicit conversions and no arithmetic operators: exafold's kernels convert
// only through cpp/src/cuda/element_io.cuh (docs/gpu.md), so this file is the one model of
// bfloat16 rounding, and kernel code that relies on CUDA's implicit conversions fails to compile
// here instead of rounding somewhere unnoticed.
#pragma once

#include <cstdint>
#include <cstring>

#include "cuda_runtime.h"

struct __nv_bfloat16_raw {
  unsigned short x;
};

struct __nv_bfloat16 {
  unsigned short __x;
  __nv_bfloat16() = default;
  constexpr __nv_bfloat16(__nv_bfloat16_raw r) : __x(r.x) {}
  constexpr operator __nv_bfloat16_raw() const { return {__x}; }
};

struct alignas(4) __nv_bfloat162 {
  __nv_bfloat16 x, y;
};

typedef __nv_bfloat16 nv_bfloat16;
typedef __nv_bfloat162 nv_bfloat162;

namespace exafold::emulation {

inline unsigned short float_to_bfloat16_bits(float f, bool toward_zero) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fff;
  if (!toward_zero) u += 0x7fffu + ((u >> 16) & 1u);  // to nearest, ties to even
  return static_cast<unsigned short>(u >> 16);
}

}  // namespace exafold::emulation

inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  return __nv_bfloat16_raw{exafold::emulation::float_to_bfloat16_bits(f, false)};
}
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline __nv_bfloat16 __float2bfloat16_rz(float f) {
  return __nv_bfloat16_raw{exafold::emulation::float_to_bfloat16_bits(f, true)};
}
inline float __bfloat162float(__nv_bfloat16 h) {
  const uint32_t u = uint32_t(h.__x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline __nv_bfloat162 __floats2bfloat162_rn(float a, float b) {
  return {__float2bfloat16_rn(a), __float2bfloat16_rn(b)};
}
inline __nv_bfloat162 __float22bfloat162_rn(float2 v) { return __floats2bfloat162_rn(v.x, v.y); }
inline float2 __bfloat1622float2(__nv_bfloat162 v) {
  return {__bfloat162float(v.x), __bfloat162float(v.y)};
}
inline float __low2float(__nv_bfloat162 v) { return __bfloat162float(v.x); }
inline float __high2float(__nv_bfloat162 v) { return __bfloat162float(v.y); }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) { return __nv_bfloat16_raw{u}; }
