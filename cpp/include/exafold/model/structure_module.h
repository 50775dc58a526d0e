// The structure module: AlphaFold2 supplement Alg 20 (IPA Alg 22, backbone update Alg 23,
// torsion angles, all-atom coordinates Alg 24).
#pragma once

#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// The per-residue features the structure module reads (AF2-REFERENCE section 4). Masks and
/// maps may be float32, float64 or int32 whatever the run's dtype is.
struct StructureModuleFeatures {
  Tensor seq_mask;                 ///< [N], 1 for real residues
  Tensor aatype;                   ///< [N] int32, 0..20 (20 = unknown)
  Tensor residx_atom37_to_atom14;  ///< [N, 37] int32
  Tensor atom37_atom_exists;       ///< [N, 37]
  Tensor atom14_atom_exists;       ///< [N, 14]
};

/// Everything folding.StructureModule returns with compute_loss=True, in full_precision of the
/// run's dtype (float32 in a bfloat16 run: frames, quaternions and atoms are never bfloat16).
/// L = layers (8).
struct StructureModuleOutputs {
  Tensor final_atom_positions;  ///< [N, 37, 3] Angstrom, times atom37_atom_exists
  Tensor final_atom_mask;       ///< [N, 37]: atom37_atom_exists as given
  Tensor representation;        ///< [N, c_sm]: the "structure_module" representation (pLDDT)
  Tensor traj;                  ///< [L, N, 7]: quaternion (w, x, y, z) and translation in Angstrom
  Tensor angles_sin_cos;        ///< [L, N, 7, 2]: normalised torsions per layer
  Tensor unnormalized_angles_sin_cos;  ///< [L, N, 7, 2]
  Tensor final_atom14_positions;       ///< [N, 14, 3] Angstrom
  Tensor final_atom14_mask;            ///< [N, 14]: atom14_atom_exists as given
};

/// Alg 20 on the trunk's output. single [N, c_s] (representations["single"]), pair [N, N, c_z]
/// (representations["pair"]), both in full_precision of the parameters' dtype and on their
/// device.
///
/// As in AlphaFold2: single and pair are layer-normed (single_layer_norm, pair_layer_norm); the
/// normed single is both the initial_act of the side-chain ResNet and the input of
/// initial_projection; frames start at identity; every one of the layers (weights shared,
/// fold_iteration) runs IPA + residual + LayerNorm, a 3-layer transition + residual +
/// LayerNorm, the backbone update (translations in nm) and the torsion ResNet. Atoms are built
/// from the last layer's frames (scaled to Angstrom) and angles. Padded residues (seq_mask 0)
/// are masked in attention only, as in the reference; their atoms are not meaningful.
StructureModuleOutputs run_structure_module(const ModelConfig& config, const Params& params,
                                            const Tensor& single, const Tensor& pair,
                                            const StructureModuleFeatures& features);

}  // namespace exafold::model
