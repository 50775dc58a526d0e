#include "exafold/model/run_settings.h"

#include "exafold/core/error.h"

namespace exafold::model {

RunSettings run_settings(const ModelConfig& config, std::optional<int> num_recycle,
                         std::optional<int> max_msa_clusters, std::optional<int> max_extra_msa,
                         bool templates) {
  const int clusters = templates ? config.sampled_msa_clusters() : config.max_msa_clusters;
  RunSettings s{num_recycle.value_or(config.num_recycle), max_msa_clusters.value_or(clusters),
                max_extra_msa.value_or(config.max_extra_msa)};
  check(s.num_recycle >= 0, "recycles must be >= 0, got ", s.num_recycle);
  check(s.max_msa_clusters >= 1, "max_msa_clusters must be >= 1 (the query is a cluster), got ",
        s.max_msa_clusters);
  check(s.max_extra_msa >= 1, "max_extra_msa must be >= 1, got ", s.max_extra_msa);
  return s;
}

}  // namespace exafold::model
