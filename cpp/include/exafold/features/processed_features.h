// Processed features: raw features -> what AlphaFold2's model consumes per recycling iteration
// (np_example_to_features with templates off).
#pragma once

#include <cstdint>

#include "exafold/features/feature_dict.h"
#include "exafold/features/msa_sample.h"
#include "exafold/features/prepared_msa.h"
#include "exafold/features/processing_config.h"

namespace exafold::features {

/// One iteration's features for the given choices. With S cluster rows, E extra rows (padded
/// to max_clusters / max_extra when config.fixed_size) and L residues:
///   aatype [L] i32, residue_index [L] i32, seq_length [] i32, seq_mask [L] f32,
///   target_feat [L,22] f32 (has_break, one_hot(aatype, 21)),
///   msa_feat [S,L,49] f32 (one_hot(msa, 23), has_deletion, deletion_value,
///     cluster_profile (23), cluster_deletion_value),
///   msa_mask [S,L] f32, msa_row_mask [S] f32, bert_mask [S,L] f32, true_msa [S,L] i32,
///   extra_msa [E,L] i32, extra_msa_mask [E,L] f32, extra_msa_row_mask [E] f32,
///   extra_has_deletion [E,L] f32, extra_deletion_value [E,L] f32.
/// deletion values are atan(d / 3) * 2 / pi, computed in float32 steps as AlphaFold2 does.
FeatureDict make_iteration_features(const PreparedMsa& msa, const MsaSample& sample,
                                    const ProcessConfig& config);

/// All num_recycle + 1 iterations, iteration r from draw_msa_sample(Philox(seed), r, ...),
/// every feature stacked on a leading axis as AlphaFold2's pipeline returns them. `seed` keys
/// the structure's generator: structure_seed(sequence id, run seed).
FeatureDict make_processed_features(const PreparedMsa& msa, const ProcessConfig& config,
                                    uint64_t seed);
FeatureDict make_processed_features(const RawFeatures& raw, const ProcessConfig& config,
                                    uint64_t seed);

/// Bytes make_processed_features returns for `residues` residues with `clusters` cluster rows
/// and `extra` extra rows per iteration and `iterations` iterations: what the prefetch pipeline
/// reserves before it builds an item's features (with the maxima, an upper bound).
int64_t processed_feature_bytes(int64_t residues, int64_t clusters, int64_t extra,
                                int64_t iterations);

}  // namespace exafold::features
