// Rigid-body geometry of the structure module (supplement 1.8, Algorithms 20-25): frames as
// rotation matrices and translations, quaternion updates, invariant point attention and the
// construction of atoms from torsion angles. Small and sequential next to the trunk, but on the
// run's device like the rest, so that no prediction leaves it midway.
#pragma once

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// Rigid frames x -> rot x + trans (r3.Rigids): rot [..., 3, 3] row-major, trans [..., 3].
struct Frames {
  Tensor rot;
  Tensor trans;
};

/// Rotation matrices [N, 3, 3] of unit quaternions (w, x, y, z) [N, 4] (quat_affine.quat_to_rot).
Tensor quat_to_rot(const Tensor& quat);

/// rot[n] p + trans[n] for every point p of points [N, P, 3] (any strided view), or
/// rot[n]^T (p - trans[n]) when `inverse`: a new contiguous [N, P, 3].
Tensor rigid_apply(const Frames& frames, const Tensor& points, bool inverse);

/// Alg 23 lines 2-4 in place (QuatAffine.pre_compose): with update = (b, c, d, tx, ty, tz) [N, 6],
/// quat <- normalize(quat + quat * (0, b, c, d)) and trans <- trans + R(quat before) (tx, ty, tz).
/// quat [N, 4] and trans [N, 3] contiguous.
void backbone_update_(const Tensor& quat, const Tensor& trans, const Tensor& update);

/// Alg 22 lines 7-10 with the attention weights never stored: for each residue i and head h,
///   logit[j] = scalar_weight * (q_scalar[i,h] . k_scalar[j,h])
///              - 0.5 * point_weights[h] * sum_p |q_points[i,h,p] - k_points[j,h,p]|^2
///              + bias[i,j,h] - 1e5 (1 - mask[i] mask[j])
///   a = softmax_j(logit)
///   scalar[i,h] = sum_j a_j v_scalar[j,h], points[i,h] = sum_j a_j v_points[j,h] (global frame),
///   pair[i,h] = sum_j a_j pair[i,j]
/// Points are [N, H, P, 3]; scalars [N, H, c]; any strided views with a contiguous last dimension.
struct IpaInputs {
  Tensor q_scalar, k_scalar, v_scalar;
  Tensor q_points, k_points, v_points;
  Tensor bias;           ///< [N, N, H], already scaled by w_2d
  Tensor pair;           ///< [N, N, c_z]
  Tensor mask;           ///< [N]
  Tensor point_weights;  ///< [H]
  double scalar_weight = 1;
};
struct IpaOutputs {
  Tensor scalar;  ///< [N, H, cv]
  Tensor points;  ///< [N, H, pv, 3], global frame
  Tensor pair;    ///< [N, H, c_z]
};
IpaOutputs invariant_point_attention(const IpaInputs& in);

/// sqrt(eps + x_0^2 + x_1^2 + ...) over the last dimension (summed in order): [...].
Tensor point_norm(const Tensor& x, double eps);

/// x / sqrt(max(sum_k x_k^2, min_norm_sq)) over the last dimension, a new contiguous tensor
/// (the torsion angles' normalisation, Alg 20 line 13).
Tensor l2_normalize(const Tensor& x, double min_norm_sq);

/// |p_i - p_j| for every pair of points [N, 3]: [N, N].
Tensor pairwise_distance(const Tensor& points);

/// Alg 24 lines 1-10: the 8 rigid-group frames of every residue [N, 8] from its backbone frame
/// (rot [N, 3, 3], trans [N, 3]) and torsions sin_cos [N, 7, 2], with the residue types' default
/// frames default_frames [21, 8, 4, 4] (residue_constants.restype_rigid_group_default_frame).
Frames torsion_angles_to_frames(const Tensor& aatype, const Frames& backbone, const Tensor& sin_cos,
                                const Tensor& default_frames);

/// Alg 24 line 11: atom14 positions [N, 14, 3] = group frame of each atom applied to its
/// literature position, times the atom's mask; contiguous tables restype_atom14_to_rigid_group
/// [21, 14] (int), restype_atom14_rigid_group_positions [21, 14, 3], restype_atom14_mask [21, 14].
Tensor frames_to_atom14(const Tensor& aatype, const Frames& groups, const Tensor& atom_group,
                        const Tensor& atom_positions, const Tensor& atom_mask);

}  // namespace exafold::ops
