// The cost model's dimensions for a model preset, so FLOP counts follow the model actually run.
#pragma once

#include "exafold/model/config.h"
#include "exafold/sched/cost_model.h"

namespace exafold::sched {

/// CostDims of `config` (its block counts, channels, heads and heads' presence).
CostDims cost_dims(const model::ModelConfig& config);

}  // namespace exafold::sched
