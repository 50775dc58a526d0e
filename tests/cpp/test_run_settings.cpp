// The presets are the one source of a prediction's default settings (model/run_settings.h).
#include <gtest/gtest.h>

#include "exafold/core/error.h"
#include "exafold/model/run_settings.h"

namespace exafold::model {
namespace {

TEST(RunSettings, DefaultsAreAlphaFoldsModelConfigs) {
  // AlphaFold2's config.py: num_recycle 3, max_msa_clusters 512, max_extra_msa 5120 for
  // models 1, 3 and 4 and 1024 for models 2 and 5, with or without _ptm.
  for (const char* name : {"model_1", "model_3_ptm", "model_4"}) {
    const RunSettings s = run_settings(preset(name));
    EXPECT_EQ(s.num_recycle, 3) << name;
    EXPECT_EQ(s.max_msa_clusters, 512) << name;
    EXPECT_EQ(s.max_extra_msa, 5120) << name;
  }
  for (const char* name : {"model_2_ptm", "model_5"})
    EXPECT_EQ(run_settings(preset(name)).max_extra_msa, 1024);
  const RunSettings r = run_settings(preset("reduced_ptm"));
  EXPECT_EQ(r.num_recycle, 2);
  EXPECT_EQ(r.max_msa_clusters, 16);
  EXPECT_EQ(r.max_extra_msa, 32);
}

TEST(RunSettings, GivenValuesReplaceTheDefaultsAndAreChecked) {
  const RunSettings s = run_settings(preset("model_1_ptm"), 0, std::nullopt, 64);
  EXPECT_EQ(s.num_recycle, 0);
  EXPECT_EQ(s.max_msa_clusters, 512);
  EXPECT_EQ(s.max_extra_msa, 64);
  EXPECT_THROW(run_settings(preset("model_1"), -1), InvalidArgument);
  EXPECT_THROW(run_settings(preset("model_1"), std::nullopt, 0), InvalidArgument);
  EXPECT_THROW(run_settings(preset("model_1"), std::nullopt, std::nullopt, 0), InvalidArgument);
}

TEST(RunSettings, TemplatePresetsSample508ClustersWithTemplates) {
  // AlphaFold2's model_1 and model_2 configs set reduce_msa_clusters_by_max_templates: 512 less
  // the 4 template rows; the other presets, and every preset without templates, keep 512.
  for (const char* name : {"model_1", "model_1_ptm", "model_2", "model_2_ptm"}) {
    EXPECT_EQ(run_settings(preset(name), {}, {}, {}, true).max_msa_clusters, 508) << name;
    EXPECT_EQ(run_settings(preset(name)).max_msa_clusters, 512) << name;
  }
  for (const char* name : {"model_3", "model_4_ptm", "model_5"})
    EXPECT_EQ(run_settings(preset(name), {}, {}, {}, true).max_msa_clusters, 512) << name;
  EXPECT_EQ(run_settings(preset("model_1_ptm"), {}, 100, {}, true).max_msa_clusters, 100);
}

}  // namespace
}  // namespace exafold::model
