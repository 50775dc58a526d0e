// AlphaFold2 supplement Algorithm 2 lines 7-11: what the templates contribute to a prediction
// before the point-wise attention (Algorithm 17, template_pointwise_attention.h): each
// template's pair features through embedding2d, the template pair stack (Algorithm 16) and
// output_layer_norm, and the template torsion rows that join the MSA.
#pragma once

#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/model/template_features.h"
#include "exafold/model/trunk.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Note [Template embedding once per prediction]: everything here depends on the template
/// features and the sequence mask alone, never on the recycled state (the reference passes the
/// pair activations to SingleTemplateEmbedding only for their dtype), so run_model computes it
/// once and every recycling iteration reuses it, giving bit for bit the outputs of recomputing
/// it per iteration (tests/cpp/test_model_templates.cpp). Only the point-wise attention, whose
/// query is the pair, runs in every iteration.
struct TemplateEmbedding {
  /// [N, N, T, c_t]: output_layer_norm(template_pair_stack(embedding2d(pair features))) per
  /// template, the templates innermost so that each pair entry's keys are contiguous
  Tensor pair;
  Tensor mask;      ///< [T]: template_mask
  Tensor present;   ///< [1]: 1 when sum(template_mask) > 0, else 0
  Tensor rows;      ///< [T, N, c_m]: template_projection(relu(template_single_embedding(angles)))
  Tensor row_mask;  ///< [T, N]: template_angle_mask, the rows' MSA mask

  int64_t count() const { return mask.defined() ? mask.size(0) : 0; }
};

/// The templates' embedding for a preset with templates (config.templates.enabled), on
/// options.device in the run's dtype. seq_mask [N] is the query's. The pair features of each
/// template (88 channels, AF2-REFERENCE section 6): the pseudo-beta distogram (39 bins, 3.25 to
/// 50.75 Angstrom), the pseudo-beta mask in 2D, one_hot(aatype[j], 22), one_hot(aatype[i], 22),
/// the unit vector (zeros: use_template_unit_vector is False in every monomer preset) and the
/// backbone (N, CA, C) mask in 2D, all multiplied by that backbone mask; embedding2d of them is
/// a sum of weight rows (ops::embed_into), never the [N, N, 88] tensor. Pseudo-beta positions
/// and masks are CB, CA for glycine (ops::pseudo_beta), as the feature pipeline's
/// make_pseudo_beta. Bad feature shapes or values throw InvalidArgument naming the feature.
TemplateEmbedding embed_templates(const ModelConfig& config, const Params& params,
                                  const TemplateFeatures& features, const Tensor& seq_mask,
                                  const RunOptions& options = {});

}  // namespace exafold::model
