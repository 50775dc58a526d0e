// Invariant point attention: AlphaFold2 supplement Alg 22.
#pragma once

#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/ops/geometry.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// IPA of one structure-module layer. The pair input is the same in all layers and so are the
/// weights (fold_iteration is shared), so the pair bias w_2d * attention_2d(z) is computed once
/// at construction and reused by every call.
///
/// As in AlphaFold2 (folding.InvariantPointAttention), unlike the supplement: the linears have
/// biases; points come from one Linear whose output splits into x, y, z blocks of H*P each; the
/// point weight is sqrt(1 / (3 * P_qk * 9/2)) * softplus(trainable_point_weights); masked pairs
/// get -1e5; the output concatenates scalar values (H*c_v), the value points in the query's
/// frame as x, y, z blocks (H*P_v each), their norms sqrt(1e-8 + |p|^2) (H*P_v) and the
/// attention over the pair (H*c_z), in this order, before output_projection.
class InvariantPointAttention {
 public:
  /// scope: fold_iteration/invariant_point_attention. pair [N, N, c_z]: the layer-normed pair
  /// representation (structure_module/pair_layer_norm applied).
  InvariantPointAttention(const StructureDims& dims, const ParamScope& scope, const Tensor& pair);

  /// act [N, c_s], seq_mask [N] (the run's dtype), frames: the backbone frames [N] (rotations
  /// [N, 3, 3], translations [N, 3] in nm) -> [N, c_s].
  Tensor operator()(const Tensor& act, const Tensor& seq_mask, const ops::Frames& frames) const;

 private:
  StructureDims dims_;
  ParamScope scope_;
  Tensor pair_;           ///< [N, N, c_z]
  Tensor bias_2d_;        ///< [N, N, H]: w_2d * attention_2d(pair)
  Tensor point_weights_;  ///< [H]: sqrt(1 / (3 P_qk 9/2)) softplus(trainable_point_weights)
};

}  // namespace exafold::model
