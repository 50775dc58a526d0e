// Shared by the template fuzz targets: an in-memory template source, and the checks every
// featurisation result must pass.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "exafold/core/error.h"
#include "exafold/features/processed_templates.h"
#include "exafold/features/templates.h"

namespace exafold::features::fuzz {

class OneEntry : public TemplateSource {
 public:
  explicit OneEntry(TemplateEntry e) : entry_(std::make_shared<TemplateEntry>(std::move(e))) {}
  std::shared_ptr<const TemplateEntry> find(const std::string& id) const override {
    return id == entry_->id ? entry_ : nullptr;
  }
  std::string location(const std::string& id) const override { return "fuzz:" + id; }

 private:
  std::shared_ptr<const TemplateEntry> entry_;
};

// Featurises `hits` (kalign is never run: the binary does not exist) and checks the result.
inline void featurize_and_check(std::string_view query, std::span<const TemplateHit> hits,
                                TemplateHitFormat format, const TemplateSource& source) {
  TemplateFeaturizerOptions options;
  options.kalign_binary = "/nonexistent/kalign";
  options.max_hits = 4;
  TemplateFeatures f = featurize_templates(query, hits, format, source, options);
  const int64_t t = f.num_templates(), n = int64_t(query.size());
  EXAFOLD_ASSERT(f.arrays.at("template_aatype").shape() == (Shape{t, n, 22}));
  EXAFOLD_ASSERT(f.arrays.at("template_all_atom_positions").shape() == (Shape{t, n, 37, 3}));
  EXAFOLD_ASSERT(int64_t(f.sequences.size()) == t &&
                 int64_t(f.hits.size()) <= int64_t(hits.size()));
  for (const std::string& s : f.sequences) EXAFOLD_ASSERT(s.empty() || int64_t(s.size()) == n);
  FeatureDict p = process_template_features(f.arrays);
  EXAFOLD_ASSERT(p.at("template_angle_feat").shape() == (Shape{std::min<int64_t>(t, 4), n, 57}));
}

}  // namespace exafold::features::fuzz
