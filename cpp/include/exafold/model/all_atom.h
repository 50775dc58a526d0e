// All-atom coordinates from torsion angles: AlphaFold2 supplement Alg 24 (with makeRotX, Alg 25).
#pragma once

#include "exafold/ops/geometry.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Uploads the residue tables these functions read (residue_constants) to `device` in `dtype`
/// now; each (device, dtype) is uploaded once and kept.
void prepare_residue_tables(Device device, DType dtype);

/// Alg 24 lines 1-10: the 8 rigid-group frames of every residue in the global frame, [N, 8]
/// (groups: backbone, pre-omega, phi, psi, chi1..4). Each group's default frame in its parent
/// (residue_constants.restype_rigid_group_default_frame) is rotated about x by its torsion;
/// chi2..4 chain onto the previous chi frame, the others onto the backbone. aatype [N] (0..20),
/// backbone: the frames [N] in Angstrom, sin_cos [N, 7, 2] as (sin, cos).
ops::Frames torsion_angles_to_frames(const Tensor& aatype, const ops::Frames& backbone,
                                     const Tensor& sin_cos);

/// Alg 24 line 11: atom14 positions [N, 14, 3] (Angstrom): each slot's literature position
/// placed by its rigid group's global frame, zero where the residue type has no such atom.
/// groups: the [N, 8] frames of torsion_angles_to_frames.
Tensor frames_to_atom14_positions(const Tensor& aatype, const ops::Frames& groups);

/// atom14 [N, 14, 3] -> atom37 [N, 37, 3]: gathers residx_atom37_to_atom14 [N, 37] (integer)
/// and multiplies by atom37_atom_exists [N, 37] (all_atom.atom14_to_atom37).
Tensor atom14_to_atom37(const Tensor& atom14, const Tensor& residx_atom37_to_atom14,
                        const Tensor& atom37_atom_exists);

}  // namespace exafold::model
