// Gated multi-head attention with a key-mask bias and a pair bias: the core of AlphaFold2's MSA
// row and column attention, triangle attention, global column attention and template point-wise
// attention (supplement Algorithms 7, 8, 13, 14, 17, 19), after their projections. One contract
// for every backend; the projections are ops::linear (q, k, v and gate in one product).
#pragma once

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// For each batch entry b, head h and query i (every tensor may be a strided view whose last
/// dimension is contiguous; stride 0 broadcasts, e.g. one key head shared by all heads):
///   logits[j] = (scale * q[b,i,h]) . k[b,j,h] + 1e9 * (mask[b,j] - 1) + pair_bias[h,i,j]
///   w = softmax_j(clip(logits, -1e8, 1e8))
///   out[b,i,h] = (sum_j w[j] v[b,j,h]) * sigmoid(gate[b,i,h])
/// A query whose keys are all masked attends uniformly (the clip makes its logits equal), as in
/// the reference. Softmax and accumulation are in float32 at least.
struct AttentionInputs {
  Tensor q;          ///< [B, Nq, H, dk]
  Tensor k;          ///< [B, Nk, H, dk]
  Tensor v;          ///< [B, Nk, H, dv]
  Tensor gate;       ///< [B, Nq, H, dv], before the sigmoid; undefined: no gating
  Tensor mask;       ///< [B, Nk], 1 keeps a key and 0 masks it; undefined: none
  Tensor pair_bias;  ///< [H, Nq, Nk], shared by every batch entry; undefined: none
  double scale = 1;  ///< applied to q before the product (the reference's key_dim^-0.5)
};

/// A new contiguous [B, Nq, H, dv].
Tensor attention(const AttentionInputs& in);

}  // namespace exafold::ops
