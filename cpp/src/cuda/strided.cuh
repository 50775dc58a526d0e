// Element addressing of a View inside kernels, and loads and stores of any dtype a View holds.
#pragma once

#include <cuda_bf16.h>

#include <cstdint>

#include "cuda/view.h"

namespace exafold::cuda {

/// The element offset of row-major flat index e of v.
__device__ __forceinline__ int64_t offset_of(const View& v, int64_t e) {
  int64_t off = 0;
  for (int k = v.rank - 1; k >= 0; --k) {
    const int64_t n = v.shape[k];
    off += (e % n) * v.stride[k];
    e /= n;
  }
  return off;
}

/// Element `off` of v as double (integers up to 2^53 exactly): for copies and casts only.
__device__ __forceinline__ double load_any(const View& v, int64_t off) {
  switch (v.dtype) {
    case DType::float64:
      return static_cast<const double*>(v.data)[off];
    case DType::bfloat16:
      return double(__bfloat162float(static_cast<const __nv_bfloat16*>(v.data)[off]));
    case DType::int32:
      return double(static_cast<const int32_t*>(v.data)[off]);
    case DType::int64:
      return double(static_cast<const int64_t*>(v.data)[off]);
    default:
      return double(static_cast<const float*>(v.data)[off]);
  }
}

/// Stores x into element `off` of v, rounding to nearest (bfloat16 via float32, as the host's
/// conversion does; integers truncate, which a cast to them only meets on integral values).
__device__ __forceinline__ void store_any(const View& v, int64_t off, double x) {
  switch (v.dtype) {
    case DType::float64:
      static_cast<double*>(v.data)[off] = x;
      return;
    case DType::bfloat16:
      static_cast<__nv_bfloat16*>(v.data)[off] = __float2bfloat16_rn(float(x));
      return;
    case DType::int32:
      static_cast<int32_t*>(v.data)[off] = int32_t(x);
      return;
    case DType::int64:
      static_cast<int64_t*>(v.data)[off] = int64_t(x);
      return;
    default:
      static_cast<float*>(v.data)[off] = float(x);
  }
}

/// Element `off` of a float32 or bfloat16 view, widened to float32.
__device__ __forceinline__ float load_f(const View& v, int64_t off) {
  return v.dtype == DType::bfloat16
             ? __bfloat162float(static_cast<const __nv_bfloat16*>(v.data)[off])
             : static_cast<const float*>(v.data)[off];
}

__device__ __forceinline__ void store_f(const View& v, int64_t off, float x) {
  if (v.dtype == DType::bfloat16)
    static_cast<__nv_bfloat16*>(v.data)[off] = __float2bfloat16_rn(x);
  else
    static_cast<float*>(v.data)[off] = x;
}

}  // namespace exafold::cuda
