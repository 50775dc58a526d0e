// MsaSample: the random choices of one recycling iteration, drawn or given.
#pragma once

#include <cstdint>
#include <vector>

#include "exafold/features/prepared_msa.h"
#include "exafold/features/processing_config.h"
#include "exafold/features/rng.h"

namespace exafold::features {

/// Everything random in one iteration's features. Given these, the features are a
/// deterministic function of the MSA (make_iteration_features), so a test can feed the
/// reference's own choices.
struct MsaSample {
  /// All rows, the query (0) first, the rest shuffled (sample_msa). The first
  /// S = min(max_clusters, R) are the cluster centres, the others the extra rows.
  std::vector<int32_t> order;
  /// [S*L] masked-MSA replacement per cluster position (make_masked_msa): -1 keeps the residue,
  /// 0..22 replaces it (22 = mask token).
  std::vector<int8_t> bert;
  /// The extra rows kept, in output order (crop_extra_msa): positions into order[S..R), at most
  /// max_extra of them.
  std::vector<int32_t> extra;
};

/// Iteration `iteration`'s choices from the structure's generator (Note [Feature randomness]):
/// a uniform shuffle of rows 1..R-1; each cluster position masked with probability
/// replace_fraction and then replaced by a draw from
///   uniform_prob * U(20 amino acids) + profile_prob * profile[column]
///   + same_prob * the residue + (1 - the three) * mask token;
/// and a uniformly random ordered subset of the extra rows.
MsaSample draw_msa_sample(const Philox& rng, int iteration, const PreparedMsa& msa,
                          const ProcessConfig& config);

/// @throws InvalidArgument unless `sample` is a valid choice for this MSA and config.
void validate_msa_sample(const MsaSample& sample, const PreparedMsa& msa,
                         const ProcessConfig& config);

}  // namespace exafold::features
