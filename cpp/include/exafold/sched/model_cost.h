// The cost model's dimensions for a model preset, so FLOP counts follow the model actually run.
#pragma once

#include "exafold/model/config.h"
#include "exafold/sched/cost_model.h"

namespace exafold::sched {

/// CostDims of `config` (its block counts, channels, heads and heads' presence).
CostDims cost_dims(const model::ModelConfig& config);

/// The workload of one prediction as exafold runs `config`: templates only where the preset
/// embeds them (AlphaFold2's model_3 to model_5 ignore them), their embedding once per
/// prediction.
CostWorkload cost_workload(const model::ModelConfig& config, int64_t msa_clusters,
                           int64_t extra_msa_rows, int64_t templates, int64_t passes);

}  // namespace exafold::sched
