// The template features the model takes (AF2-REFERENCE section 4; template_angle_feat and its
// mask are what AlphaFold2's network computes from the atoms with
// all_atom.atom37_to_torsion_angles, which exafold's feature pipeline computes on the host).
#pragma once

#include <cstdint>

#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// T templates aligned to the query's N residues, on any device (they move to the run's).
/// Float features may be float32 or float64 whatever the run's precision; integer features
/// int32 or int64. Undefined tensors, or T = 0, mean no templates.
struct TemplateFeatures {
  Tensor template_aatype;              ///< [T, N] int, 0..21 (21: a gap, no template residue)
  Tensor template_all_atom_positions;  ///< [T, N, 37, 3], Angstrom
  Tensor template_all_atom_masks;      ///< [T, N, 37]
  Tensor template_mask;                ///< [T]: 1 for a template, 0 for padding
  /// [T, N, 57]: one_hot(template_aatype, 22) ‖ the sin and cos of the 7 torsion angles
  /// (pre-omega, phi, psi, chi1-4) ‖ the same with the pi-periodic chis flipped ‖ the 7 angle
  /// masks, as EmbeddingsAndEvoformer builds them (placeholder_for_undefined = False)
  Tensor template_angle_feat;
  Tensor template_angle_mask;  ///< [T, N]: the psi angle's mask, the mask of each template's row

  /// T, or 0 when there are none.
  int64_t count() const {
    return template_aatype.defined() && template_aatype.rank() >= 1 ? template_aatype.size(0) : 0;
  }
};

}  // namespace exafold::model
