// Torsion-angle prediction of the structure module: AlphaFold2 supplement Alg 20 lines 11-14.
#pragma once

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

struct TorsionAngles {
  Tensor unnormalized;  ///< [N, 7, 2] the ResNet's raw (sin, cos) pairs
  Tensor sin_cos;       ///< [N, 7, 2] the same, each pair scaled to unit length
};

/// The rigid_sidechain ResNet (folding.MultiRigidSidechain up to the angles): input_projection
/// on relu(act) plus input_projection_1 on relu(initial_act), residual blocks of two relu-Linear
/// layers (resblock1, resblock2, then resblock1_1, resblock2_1, ...), unnormalized_angles on the
/// relu'd result, then x / sqrt(max(|x|^2, 1e-12)) per pair. Angles are pre-omega, phi, psi,
/// chi1..4, each as (sin, cos).
/// scope: fold_iteration/rigid_sidechain; act [N, c_s] (this layer's), initial_act [N, c_s]
/// (the layer-normed single representation); num_blocks: StructureDims::sidechain_blocks.
TorsionAngles predict_torsion_angles(const ParamScope& scope, int num_blocks, const Tensor& act,
                                     const Tensor& initial_act);

}  // namespace exafold::model
