// The nearest-cluster search of AlphaFold2's MSA clustering (nearest_neighbor_clusters).
#pragma once

#include <cstdint>

namespace exafold::features {

/// Rows are compared up to 32 bytes at a time: both inputs are padded to a stride that is a
/// multiple of kClusterRowAlign, with bytes that never compare equal (kRowPadding in the extra
/// rows, kNeverAgrees in the centres).
inline constexpr int64_t kClusterRowAlign = 32;
/// Centre entries that never agree: gaps, mask tokens and padding. Extra rows hold 0..21.
inline constexpr uint8_t kNeverAgrees = 0xFF;
inline constexpr uint8_t kRowPadding = 0xFE;

/// Instruction sets of the search; kBest picks the widest the CPU has.
enum class SimdLevel { kBaseline, kAvx2, kBest };
bool cpu_has(SimdLevel level);

/// For each of the n extra rows (rows + k * stride), the centre with the most equal positions,
/// the lowest index on ties: out[k]. With gaps and mask tokens of the S centres replaced by
/// kNeverAgrees, "equal" is AlphaFold2's agreement (one-hot over the 21 classes 0..20, gap and
/// mask weight 0). Integer counts, so the result depends neither on the instruction set nor on
/// the thread count.
void nearest_clusters(const uint8_t* rows, int64_t n, const uint8_t* centres, int64_t S,
                      int64_t stride, int32_t* out, SimdLevel level = SimdLevel::kBest);

}  // namespace exafold::features
