// All-atom coordinates from torsion angles: AlphaFold2 supplement Alg 24 (with makeRotX, Alg 25).
#pragma once

#include <span>
#include <vector>

#include "exafold/model/rigid.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Alg 24 lines 1-10: the 8 rigid-group frames of every residue in the global frame, N*8
/// entries residue-major (groups: backbone, pre-omega, phi, psi, chi1..4). Each group's default
/// frame in its parent (residue_constants.restype_rigid_group_default_frame) is rotated about x
/// by its torsion; chi2..4 chain onto the previous chi frame, the others onto the backbone.
/// aatype [N] (0..20), backbone: N frames in Angstrom, sin_cos [N, 7, 2] as (sin, cos).
template <class T>
std::vector<Rigid<T>> torsion_angles_to_frames(const Tensor& aatype,
                                               std::span<const Rigid<T>> backbone,
                                               const Tensor& sin_cos);

/// Alg 24 line 11: atom14 positions [N, 14, 3] (Angstrom): each slot's literature position
/// placed by its rigid group's global frame, zero where the residue type has no such atom.
/// group_frames: N*8 frames from torsion_angles_to_frames.
template <class T>
Tensor frames_to_atom14_positions(const Tensor& aatype, std::span<const Rigid<T>> group_frames);

/// atom14 [N, 14, 3] -> atom37 [N, 37, 3]: gathers residx_atom37_to_atom14 [N, 37] (int32) and
/// multiplies by atom37_atom_exists [N, 37] (all_atom.atom14_to_atom37). Any float T.
template <class T>
Tensor atom14_to_atom37(const Tensor& atom14, const Tensor& residx_atom37_to_atom14,
                        const Tensor& atom37_atom_exists);

}  // namespace exafold::model
