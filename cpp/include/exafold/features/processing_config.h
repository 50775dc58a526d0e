// ProcessConfig: the settings of AlphaFold2's inference-time feature processing (its config's
// data.common and data.eval sections, templates off).
#pragma once

#include <cstdint>

namespace exafold::features {

struct ProcessConfig {
  /// Cluster centres sampled per iteration, the query always first (eval.max_msa_clusters;
  /// 508 where AlphaFold2 reserves rows for 4 templates).
  int64_t max_clusters = 512;
  /// Extra-MSA rows kept per iteration (common.max_extra_msa: 1024, or 5120 for models 1, 3, 4).
  int64_t max_extra = 1024;
  /// Recycling iterations after the first; each iteration gets its own sample
  /// (common.resample_msa_in_recycling), so there are num_recycle + 1 feature sets.
  int num_recycle = 3;
  /// Fraction of cluster-MSA positions masked (eval.masked_msa_replace_fraction), and how a
  /// masked position is replaced (common.masked_msa): a uniformly random amino acid, a draw from
  /// the MSA profile, the residue itself, else (the remaining 0.7) the mask token 22.
  double replace_fraction = 0.15;
  double uniform_prob = 0.1;
  double profile_prob = 0.1;
  double same_prob = 0.1;
  /// Pad the cluster rows to max_clusters and the extra rows to max_extra with zeros (masks 0),
  /// as AlphaFold2's make_fixed_size does. Off, the shapes are the rows that exist; the model's
  /// masks make the two equivalent.
  bool fixed_size = false;

  /// Throws InvalidArgument for settings AlphaFold2 could not run.
  void validate() const;
};

}  // namespace exafold::features
