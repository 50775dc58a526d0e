// Backbone update of the structure module: AlphaFold2 supplement Alg 23.
#pragma once

#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Alg 23 for every residue, in place: affine_update (Linear c_s -> 6) on act [N, c_s] gives
/// (b, c, d, tx, ty, tz); the frame's unit quaternion quat [N, 4] (w, x, y, z) becomes
/// normalize(q + q (0, b, c, d)) and its translation trans [N, 3] (nm inside the loop) moves by
/// R_old (tx, ty, tz), R_old the rotation before the update (QuatAffine.pre_compose). `scope` is
/// fold_iteration/affine_update.
void backbone_update(const ParamScope& scope, const Tensor& act, const Tensor& quat,
                     const Tensor& trans);

}  // namespace exafold::model
