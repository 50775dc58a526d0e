// Loads widen float32 or bfloat16 storage to float32 arithmetic; stores round back to nearest
// even, as the host's bfloat16 conversion does. Shared by every kernel family.
#pragma once

#include <cuda_bf16.h>

namespace exafold::cuda {

__device__ __forceinline__ float load(const float* p) { return *p; }
__device__ __forceinline__ float load(const __nv_bfloat16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void store(float* p, float x) { *p = x; }
__device__ __forceinline__ void store(__nv_bfloat16* p, float x) { *p = __float2bfloat16_rn(x); }

}  // namespace exafold::cuda
