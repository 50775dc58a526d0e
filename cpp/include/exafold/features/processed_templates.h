// Processed template features: AlphaFold2's raw template features -> what the model consumes
// (the template transforms of its feature pipeline, plus the template torsion-angle features
// its network computes).
#pragma once

#include <cstdint>

#include "exafold/core/dtype.h"
#include "exafold/features/feature_dict.h"

namespace exafold::features {

struct TemplateProcessOptions {
  /// Templates kept, the first ones (AlphaFold2's max_templates; crop_templates).
  int64_t max_templates = 4;
  /// Pad to max_templates with all-zero templates (template_mask 0), as AlphaFold2's
  /// fixed-size pipeline does.
  bool pad_to_max_templates = false;
  /// float32 (what the model takes) or float64 (for parity with a float64 reference). The
  /// torsion angles are computed in float64 either way and rounded once.
  DType dtype = DType::float32;

  /// @throws InvalidArgument for max_templates < 0 or another dtype.
  void validate() const;
};

/// From the raw features (template_aatype [T,N,22] one-hot, template_all_atom_positions
/// [T,N,37,3], template_all_atom_masks [T,N,37], template_sum_probs [T,1]; float32 or float64).
/// With T' templates kept:
///   template_aatype [T',N] i32: argmax of the one-hot in AlphaFold2's residue order, gap = 21
///     (fix_templates_aatype);
///   template_all_atom_positions [T',N,37,3], template_all_atom_masks [T',N,37],
///   template_sum_probs [T',1]: as given;
///   template_mask [T']: 1, 0 for padding (make_template_mask);
///   template_pseudo_beta [T',N,3], template_pseudo_beta_mask [T',N]: CB, CA for glycine
///     (make_pseudo_beta, pseudo_beta_fn);
///   template_angle_feat [T',N,57]: one_hot(template_aatype, 22) ‖ sin, cos of the 7 torsion
///     angles (pre-omega, phi, psi, chi1-4) ‖ the same with pi-periodic chis flipped ‖ the 7
///     angle masks: the features of the MSA row each template adds (Algorithm 2, line 7);
///   template_angle_mask [T',N]: that row's mask, the psi mask.
/// Note [Template torsion angles]: AlphaFold2 computes the torsions inside its network
/// (all_atom.atom37_to_torsion_angles called from EmbeddingsAndEvoformer, with
/// placeholder_for_undefined = False, so masked angles keep their computed values). They depend
/// on the raw features only, so exafold computes them here, once per item on the host in
/// float64, and the model takes them as inputs: the network stays free of gathers over residue
/// constants, and every backend gets the same values. Reproduced exactly: frames by
/// Gram-Schmidt with sqrt(|v|^2 + 1e-8), (sin, cos) = (z, y) / sqrt(z^2 + y^2 + 1e-8) of the
/// fourth atom in the frame of the first three, psi negated, pre-omega and phi from the previous
/// array element (zeros before the first), aatype clipped to 20 for the atom choice.
/// @throws InvalidArgument when a feature is missing or the shapes disagree.
FeatureDict process_template_features(const FeatureDict& raw,
                                      const TemplateProcessOptions& options = {});

}  // namespace exafold::features
