// AlphaFold2 supplement Algorithm 2: inference with recycling (trunk, structure module, heads).
#pragma once

#include <functional>
#include <vector>

#include "exafold/model/config.h"
#include "exafold/model/heads.h"
#include "exafold/model/params.h"
#include "exafold/model/recycling_embedder.h"
#include "exafold/model/structure_module.h"
#include "exafold/model/template_embedding.h"
#include "exafold/model/trunk.h"

namespace exafold::model {

/// The processed features of one recycling iteration: the trunk's inputs and the atom maps the
/// structure module needs.
struct ModelFeatures {
  TrunkFeatures trunk;
  Tensor residx_atom37_to_atom14;  ///< [N, 37] int
  Tensor atom37_atom_exists;       ///< [N, 37]
  Tensor atom14_atom_exists;       ///< [N, 14]
};

/// Every per-iteration tensor of the features, in one fixed order (templates excluded: they
/// are the prediction's, not an iteration's).
std::vector<Tensor*> iteration_tensors(ModelFeatures& features);

/// Note [Features placed once]: every iteration's features on `device` (migrate()), as
/// run_model takes them before its first iteration, so that the memory model's rule holds
/// (a prediction's peak is above its parameters and features) and padding and range checks
/// run where the features are. Tensors that iterations share (the templates, a set reused)
/// stay shared; features staged ahead (stage(), tensor/tensor.h) are not copied again.
std::vector<ModelFeatures> place_features(const std::vector<ModelFeatures>& features,
                                          Device device);

/// Everything one iteration produces, and what it hands to the next.
struct IterationOutputs {
  TrunkOutputs trunk;
  StructureModuleOutputs structure;
  HeadsOutputs heads;
  Recycled next;  ///< msa_first_row, pair and atom positions, for the next iteration
};

/// Places the parameters for a run (Params::on) and derives what the model keeps with them (the
/// projections that share an input, fused; the residue tables of the structure module on that
/// device): a prediction's memory then holds activations only.
/// The runs below do this on their own; call it up front so the first prediction does not pay
/// for it. Returns the placed parameters.
const Params& prepare(const Params& params, Device device, DType dtype);

/// Checks the values of the index features as the modules do (aatype, extra_msa and
/// residx_atom37_to_atom14 within their tables) without waiting for a device when the
/// features are on the host: run_model checks a prediction's features with it once, before it
/// captures an iteration (Note [Range checks before a capture] in ops/reduce.h).
/// @throws InvalidArgument naming the feature and the offending value.
void check_feature_ranges(const ModelFeatures& features);

/// One iteration given its recycled inputs (the first iteration's are Recycled::zeros).
/// `templates`: the embedding of features.trunk.templates made earlier (embed_templates), or
/// null to make it here.
IterationOutputs run_iteration(const ModelConfig& config, const Params& params,
                               const ModelFeatures& features, const Recycled& prev,
                               const RunOptions& options = {},
                               const TemplateEmbedding* templates = nullptr);

/// num_recycle + 1 iterations, iteration r reading features[min(r, size-1)] (AlphaFold2
/// resamples the MSA per iteration; one set may serve all). Templates belong to the
/// prediction, not to an iteration (AlphaFold2 does not resample them): every iteration's must
/// be the tensors of the first (or none), and their embedding is made once (Note [Template
/// embedding once per prediction]). `on_iteration`, when given, sees each iteration's outputs
/// as they finish. Returns the last iteration's outputs. When options pad to length buckets
/// (model/length_buckets.h), the iterations run on the features padded to the bucket and every
/// output, the ones on_iteration sees included, is cropped back to the N residues.
IterationOutputs run_model(
    const ModelConfig& config, const Params& params, const std::vector<ModelFeatures>& features,
    int num_recycle, const RunOptions& options = {},
    const std::function<void(int, const IterationOutputs&)>& on_iteration = nullptr);

}  // namespace exafold::model
