// Fused gated multi-head attention with key and pair biases: online softmax, float32
// accumulation, no logits tensor in memory.
#pragma once

#include <cuda_runtime.h>

#include "exafold/ops/gpu_kernels.h"

namespace exafold::cuda {

void attention(const ops::GpuAttention& a, cudaStream_t stream);

}  // namespace exafold::cuda
