// The settings one prediction runs with, and their one source of defaults: the model preset, as
// AlphaFold2's model config is for run_alphafold.py and colabfold_batch. Model.predict,
// exafold predict and exafold distill all take their defaults from here.
#pragma once

#include <optional>

#include "exafold/model/config.h"

namespace exafold::model {

struct RunSettings {
  int num_recycle = 3;         ///< recycling iterations after the first pass
  int max_msa_clusters = 512;  ///< MSA cluster centres per iteration, the query included
  int max_extra_msa = 5120;    ///< extra-MSA rows per iteration
};

/// The preset's settings (AlphaFold2's data.common.num_recycle, data.eval.max_msa_clusters and
/// data.common.max_extra_msa: 3, 512 and 5120 for models 1, 3 and 4, 1024 extra rows for models
/// 2 and 5), each given value replacing the preset's. `templates`: whether the run gives the
/// template presets templates.
///
/// Note [Template MSA clusters]: with templates AlphaFold2 samples max_msa_clusters minus
/// max_templates = 508 cluster rows for the template presets
/// (data.common.reduce_msa_clusters_by_max_templates, ModelConfig::sampled_msa_clusters), since
/// the template torsion rows take 4 rows of the MSA representation; without templates they keep
/// 512, as every other preset does.
/// @throws InvalidArgument naming a setting out of range (recycles < 0, fewer than 1 cluster
/// or extra row).
RunSettings run_settings(const ModelConfig& config, std::optional<int> num_recycle = {},
                         std::optional<int> max_msa_clusters = {},
                         std::optional<int> max_extra_msa = {}, bool templates = false);

}  // namespace exafold::model
