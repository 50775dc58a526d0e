#include "exafold/metrics/lddt.h"

#include <cmath>
#include <limits>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"

namespace exafold::metrics {
namespace {

double distance(const double* a, const double* b) {
  const double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

}  // namespace

LddtResult lddt_ca(std::span<const double> model, std::span<const uint8_t> model_mask,
                   std::span<const double> reference, std::span<const uint8_t> reference_mask,
                   const LddtOptions& options) {
  const auto n = int64_t(reference_mask.size());
  check(reference.size() == size_t(3 * n), "lddt_ca: reference has ", reference.size(),
        " coordinates, expected 3 x ", n, " residues");
  check(model.size() == reference.size(), "lddt_ca: model has ", model.size() / 3,
        " residues, reference ", n);
  check(model_mask.size() == size_t(n), "lddt_ca: model_mask has ", model_mask.size(),
        " entries, expected ", n);
  check(options.inclusion_radius > 0, "lddt_ca: inclusion_radius must be positive, got ",
        options.inclusion_radius);
  check(!options.thresholds.empty(), "lddt_ca: no thresholds");
  for (double t : options.thresholds) check(t > 0, "lddt_ca: thresholds must be positive, got ", t);

  // Preserved counts are integers (pairs x thresholds), so every score is an exact ratio of
  // counts, independent of how rows are split across threads.
  std::vector<int64_t> preserved(size_t(n), 0);
  LddtResult r;
  r.pairs.assign(size_t(n), 0);
  const std::span<const double> thresholds = options.thresholds;
  thread_pool().parallel_for(n, 64, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (!reference_mask[size_t(i)]) continue;
      const double* ri = &reference[size_t(3 * i)];
      const double* mi = &model[size_t(3 * i)];
      int64_t pairs = 0, kept = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i || !reference_mask[size_t(j)]) continue;
        const double d_ref = distance(ri, &reference[size_t(3 * j)]);
        if (!(d_ref < options.inclusion_radius)) continue;
        ++pairs;
        if (!model_mask[size_t(i)] || !model_mask[size_t(j)]) continue;
        const double dev = std::abs(distance(mi, &model[size_t(3 * j)]) - d_ref);
        for (double t : thresholds) kept += dev < t;
      }
      r.pairs[size_t(i)] = pairs;
      preserved[size_t(i)] = kept;
    }
  });

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto t = double(thresholds.size());
  r.per_residue.assign(size_t(n), nan);
  int64_t all_kept = 0, scored = 0;
  double residue_sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = r.pairs[size_t(i)];
    if (p == 0) continue;
    r.per_residue[size_t(i)] = double(preserved[size_t(i)]) / (t * double(p));
    residue_sum += r.per_residue[size_t(i)];
    ++scored;
    r.total_pairs += p;
    all_kept += preserved[size_t(i)];
  }
  r.global = r.total_pairs ? double(all_kept) / (t * double(r.total_pairs)) : nan;
  r.mean_per_residue = scored ? residue_sum / double(scored) : nan;
  return r;
}

}  // namespace exafold::metrics
