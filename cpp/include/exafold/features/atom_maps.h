// Per-residue atom maps the structure module reads (AlphaFold2's make_atom14_masks).
#pragma once

#include "exafold/tensor/tensor.h"

namespace exafold::features {

struct AtomMaps {
  Tensor residx_atom37_to_atom14;  ///< [N, 37] int32
  Tensor atom37_atom_exists;       ///< [N, 37] float32
  Tensor atom14_atom_exists;       ///< [N, 14] float32
};

/// The maps for residue types `aatype` ([N], int32 or int64, 0..20; 20 = unknown, no atoms).
AtomMaps atom_maps(const Tensor& aatype);

}  // namespace exafold::features
