// Backbone update of the structure module: AlphaFold2 supplement Alg 23.
#pragma once

#include <span>
#include <vector>

#include "exafold/model/params.h"
#include "exafold/model/rigid.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// A backbone frame as the structure module carries it between layers (quat_affine.QuatAffine):
/// a unit quaternion (w, x, y, z) and a translation, in nanometres inside the loop.
template <class T>
struct QuatFrame {
  T quat[4] = {1, 0, 0, 0};
  T trans[3] = {0, 0, 0};

  /// The frame as (R, t) with the translation multiplied by `position_scale` (10 turns the
  /// loop's nanometres into Angstrom for the side chains and the trajectory).
  Rigid<T> to_rigid(T position_scale = T(1)) const {
    Rigid<T> r;
    quat_to_rot(quat, r.rot);
    for (int k = 0; k < 3; ++k) r.trans[k] = trans[k] * position_scale;
    return r;
  }

  /// QuatAffine.pre_compose: update = (b, c, d, tx, ty, tz). The quaternion becomes
  /// normalize(q + q (0, b, c, d)); the translation moves by R_old (tx, ty, tz), R_old being
  /// the rotation before the update.
  QuatFrame pre_compose(const T update[6]) const;
};

/// Alg 23 for every residue: affine_update (Linear c_s -> 6) on act [N, c_s], then
/// pre_compose. `scope` is fold_iteration/affine_update; frames has N entries and is updated.
template <class T>
void backbone_update(const ParamScope& scope, const Tensor& act, std::span<QuatFrame<T>> frames);

/// N frames as Rigids with translations scaled by `position_scale`.
template <class T>
std::vector<Rigid<T>> to_rigids(std::span<const QuatFrame<T>> frames, T position_scale);

}  // namespace exafold::model
