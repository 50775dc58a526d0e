// lDDT-Cα (Mariani et al. 2013): how well a model preserves the reference's local Cα distances.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace exafold::metrics {

/// The standard lDDT settings, as in AlphaFold2's lddt.py and Biotite's lddt().
struct LddtOptions {
  double inclusion_radius = 15.0;  // Å; a pair counts when the reference is closer
  std::vector<double> thresholds{0.5, 1.0, 2.0, 4.0};  // Å; preserved when |d_model - d_ref| < t
};

struct LddtResult {
  /// Per residue, the mean over thresholds of the fraction of its pairs preserved; NaN where the
  /// residue is absent from the reference or has no pair within the inclusion radius.
  std::vector<double> per_residue;
  /// Per residue, the number of pairs (i, j) it was scored over.
  std::vector<int64_t> pairs;
  /// Over all pairs together (Biotite's aggregation "all"); NaN when there is no pair.
  double global = 0;
  /// Mean of the defined per-residue scores; NaN when none is defined.
  double mean_per_residue = 0;
  /// Ordered pairs scored: each unordered pair appears once from each end.
  int64_t total_pairs = 0;
};

/// lDDT of `model` against `reference`, both [n, 3] row-major Cα coordinates (Å) on the same
/// residue indices. A residue is in the reference where reference_mask is nonzero; the pairs of
/// residue i are the other reference residues j whose reference distance is below the inclusion
/// radius. A pair whose model Cα is missing (model_mask 0 at i or j) counts as not preserved.
/// Distances and sums are in double; rows are split across the shared thread pool.
LddtResult lddt_ca(std::span<const double> model, std::span<const uint8_t> model_mask,
                   std::span<const double> reference, std::span<const uint8_t> reference_mask,
                   const LddtOptions& options = {});

}  // namespace exafold::metrics
