#include "exafold/features/processing_config.h"

#include "exafold/core/error.h"

namespace exafold::features {

void ProcessConfig::validate() const {
  check(max_clusters >= 1, "max_clusters must be at least 1 (the query), got ", max_clusters);
  check(max_extra >= 0, "max_extra must not be negative, got ", max_extra);
  check(num_recycle >= 0, "num_recycle must not be negative, got ", num_recycle);
  check(replace_fraction >= 0 && replace_fraction <= 1, "replace_fraction must lie in [0, 1], got ",
        replace_fraction);
  check(uniform_prob >= 0 && profile_prob >= 0 && same_prob >= 0 &&
            uniform_prob + profile_prob + same_prob <= 1,
        "masked-MSA probabilities must be non-negative and sum to at most 1, got uniform ",
        uniform_prob, ", profile ", profile_prob, ", same ", same_prob);
}

}  // namespace exafold::features
