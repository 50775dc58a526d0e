// AlphaFold2 supplement Algorithm 2 lines 5-18: the trunk of one recycling iteration, from
// processed features and recycled inputs to the MSA, pair and single representations.
#pragma once

#include <cstdint>
#include <optional>

#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/model/recycling_embedder.h"
#include "exafold/model/template_features.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

struct TemplateEmbedding;  // template_embedding.h

/// The processed features of one recycling iteration (AF2-REFERENCE section 4), without the
/// leading ensemble axis, on any device (they move to the run's). Float features may be float32
/// or float64 whatever the run's precision; integer features int32 or int64.
struct TrunkFeatures {
  Tensor aatype;                ///< [N] int, 0..20
  Tensor residue_index;         ///< [N] int
  Tensor seq_mask;              ///< [N]
  Tensor target_feat;           ///< [N, 22]
  Tensor msa_feat;              ///< [S, N, 49]
  Tensor msa_mask;              ///< [S, N]
  Tensor extra_msa;             ///< [E, N] int, 0..22
  Tensor extra_msa_mask;        ///< [E, N]
  Tensor extra_has_deletion;    ///< [E, N]
  Tensor extra_deletion_value;  ///< [E, N]
  /// Optional: none (T = 0) is zero-template inference. Presets without templates (model_3 to
  /// model_5) ignore them, as AlphaFold2's do.
  TemplateFeatures templates;
};

/// The trunk's representations, in the run's dtype (bfloat16 in a bfloat16 run), on its device.
/// `msa_first_row` (= msa[0]) and `pair` are what the next iteration recycles, with the structure
/// module's atom positions.
struct TrunkOutputs {
  Tensor msa;     ///< [S, N, c_m]: the cluster rows (template rows cropped, as the reference)
  Tensor pair;    ///< [N, N, c_z]
  Tensor single;  ///< [N, c_s], single_activations(msa[0])
  Tensor msa_first_row;  ///< [N, c_m]
};

/// How one prediction runs. Results do not depend on chunk_size beyond rounding.
struct RunOptions {
  /// Rows of the batch dimension that attention, triangle and transition modules process at a
  /// time; <= 0 processes everything at once. Memory: model/memory_model.h.
  int64_t chunk_size = 0;
  /// The device every op runs on. Parameters are placed there once per model (Params::on),
  /// features move there, and every output stays there.
  Device device = Device::cpu();
  /// The compute dtype (float64 for parity, float32, or bfloat16 on the cuda backend); unset:
  /// the parameters' own. bfloat16 is the trunk's activation storage; the structure module, the
  /// heads and every coordinate stay float32 (full_precision), and parameters are placed by
  /// param_dtype's rule (model/params.h). A backend that lacks an op in that dtype (the cpu
  /// backend has no bfloat16 arithmetic) fails naming the op, its dtypes and the device.
  std::optional<DType> dtype;
};

/// One recycling iteration of the trunk, in the reference's order: input embedder, recycling
/// embedder, relative positions, the template point-wise attention (Algorithm 17), extra-MSA
/// stack, Evoformer stack (with the T template torsion rows after the S cluster rows, their
/// mask the psi mask) and the single projection, on options.device in the run's dtype.
/// `templates` is the embedding of the prediction's templates made earlier by embed_templates
/// (Note [Template embedding once per prediction]), used in place of features.templates; when
/// null it is made here from features.templates, if any. Bad feature shapes or values throw
/// InvalidArgument naming the feature. Zero-template inference (no templates, or a preset without
/// them): the template pair embedding would add exactly zero and the torsion rows of AlphaFold2's
/// all-zero padding template would join the MSA fully masked, changing no real output, so neither
/// is computed. Masked entries are another matter: a fully masked query attends uniformly to every
/// key, so in padded residue columns and masked MSA rows the reference's padding template row shows
/// through; real entries agree.
TrunkOutputs run_trunk(const ModelConfig& config, const Params& params,
                       const TrunkFeatures& features, const Recycled& prev,
                       const RunOptions& options = {},
                       const TemplateEmbedding* templates = nullptr);

}  // namespace exafold::model
