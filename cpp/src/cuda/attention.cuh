// Fused gated multi-head attention with key and pair biases: online softmax, float32
// accumulation, no logits tensor in memory; a portable kernel and a tensor-core one for
// bfloat16, chosen by ops::attention_kernel_for unless the views name one.
#pragma once

#include <cuda_runtime.h>

#include "cuda/view.h"
#include "exafold/ops/gpu_kernels.h"

namespace exafold::cuda {

/// The operands of ops::AttentionInputs as views with unit last strides: q, k, v, gate and out
/// [B, N, H, d], mask [B, Nk] of the activations' dtype, pair_bias [H, Nq, Nk]; gate, mask and
/// pair_bias absent when their data is null. key_bias is a float32 [B, Nk] additive bias
/// (contiguous) used instead of a mask.
struct AttentionViews {
  View q, k, v, gate, mask, pair_bias, out;
  const float* key_bias = nullptr;
  float scale = 1.f;
  ops::AttentionKernel kernel = ops::AttentionKernel::automatic;
};

void attention(const AttentionViews& a, cudaStream_t stream);
/// The contiguous operands of ops::GpuAttention.
void attention(const ops::GpuAttention& a, cudaStream_t stream);

}  // namespace exafold::cuda
