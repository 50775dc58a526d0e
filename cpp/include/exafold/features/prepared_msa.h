// PreparedMsa: raw features after AlphaFold2's non-ensembled transforms, ready for sampling.
#pragma once

#include <cstdint>
#include <vector>

#include "exafold/features/raw_features.h"

namespace exafold::features {

/// What the per-iteration transforms read, computed once per structure.
struct PreparedMsa {
  int64_t num_res = 0;
  int64_t num_rows = 0;
  /// [R*L] residues in AlphaFold2's order (0..19, X = 20, gap = 21): correct_msa_restypes.
  std::vector<uint8_t> msa;
  /// [R*L] deletion counts.
  std::vector<int32_t> deletions;
  /// [L] aatype index (argmax of the one-hot), residue index, between-segment flag.
  std::vector<int32_t> aatype;
  std::vector<int32_t> residue_index;
  std::vector<int32_t> between_segment_residues;
  /// [L*22] fraction of rows with each residue class per column (make_hhblits_profile), float32
  /// as AlphaFold2 computes it; the masked-MSA draw samples from it.
  std::vector<float> profile;
};

/// @throws InvalidArgument when a raw feature is missing or has the wrong shape or values.
PreparedMsa prepare_msa(const RawFeatures& raw);

}  // namespace exafold::features
