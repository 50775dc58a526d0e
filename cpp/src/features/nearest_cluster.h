// The nearest-cluster search of AlphaFold2's MSA clustering (nearest_neighbor_clusters).
#pragma once

#include <cstdint>

namespace exafold::features {

/// Sentinel for cluster positions that never agree (gap, mask token): extra rows hold 0..21.
inline constexpr uint8_t kNeverAgrees = 0xFF;

/// For each of the n extra rows (rows[k], L residues each), the cluster centre with the most
/// equal positions, the lowest index on ties: out[k]. `clusters` holds S rows of L residues with
/// every gap and mask token replaced by kNeverAgrees, which makes "equal" AlphaFold2's
/// agreement (one-hot over the 21 classes 0..20, gap and mask weight 0). Integer counts, so the
/// result does not depend on the instruction set or the thread count.
void nearest_clusters(const uint8_t* const* rows, int64_t n, const uint8_t* clusters, int64_t S,
                      int64_t L, int32_t* out);

}  // namespace exafold::features
