// The template path of the model (Algorithms 16, 17 and the template torsion rows) on random
// parameters and features: shapes, what masked templates change, the embedding made once per
// prediction, bad inputs, and the strict backend. Parity with the reference is tested in
// tests/python/test_model_templates_parity.py.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/template_embedding.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

/// T random templates of kN residues: the last residue of each a gap, random atoms and masks.
TemplateFeatures random_templates(std::mt19937& rng, int64_t t) {
  TemplateFeatures f;
  f.template_aatype = ints({t, kN}, rng, 0, 20);
  for (int64_t k = 0; k < t; ++k) f.template_aatype.data<int32_t>()[k * kN + kN - 1] = 21;
  f.template_all_atom_positions = filled<float>({t, kN, 37, 3}, rng, 8.0);
  f.template_all_atom_masks = Tensor::empty({t, kN, 37}, DType::float32);
  std::bernoulli_distribution present(0.85);
  for (int64_t i = 0; i < f.template_all_atom_masks.numel(); ++i)
    f.template_all_atom_masks.data<float>()[i] = present(rng) ? 1.0f : 0.0f;
  f.template_mask = filled<float>({t}, rng, 0.0, 1.0);
  f.template_angle_feat = filled<float>({t, kN, 57}, rng, 1.0);
  f.template_angle_mask = Tensor::empty({t, kN}, DType::float32);
  for (int64_t i = 0; i < f.template_angle_mask.numel(); ++i)
    f.template_angle_mask.data<float>()[i] = present(rng) ? 1.0f : 0.0f;
  return f;
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor z = Tensor::empty(shape, dtype);
  std::memset(z.data_ptr(), 0, z.nbytes());
  return z;
}

/// x and y stacked along their first dimension.
Tensor concat(const Tensor& x, const Tensor& y) {
  Shape shape = x.shape();
  shape[0] += y.size(0);
  Tensor out = Tensor::empty(shape, x.dtype());
  std::memcpy(out.data_ptr(), x.data_ptr(), x.nbytes());
  std::memcpy(static_cast<char*>(out.data_ptr()) + x.nbytes(), y.data_ptr(), y.nbytes());
  return out;
}

/// AlphaFold2's padding template: all zero, template_mask 0 (random angle features, masked).
TemplateFeatures padding_template(std::mt19937& rng) {
  return {zeros({1, kN}, DType::int32),         zeros({1, kN, 37, 3}, DType::float32),
          zeros({1, kN, 37}, DType::float32),   zeros({1}, DType::float32),
          filled<float>({1, kN, 57}, rng, 1.0), zeros({1, kN}, DType::float32)};
}

TemplateFeatures with_padding_template(const TemplateFeatures& f, std::mt19937& rng) {
  const TemplateFeatures pad = padding_template(rng);
  return {concat(f.template_aatype, pad.template_aatype),
          concat(f.template_all_atom_positions, pad.template_all_atom_positions),
          concat(f.template_all_atom_masks, pad.template_all_atom_masks),
          concat(f.template_mask, pad.template_mask),
          concat(f.template_angle_feat, pad.template_angle_feat),
          concat(f.template_angle_mask, pad.template_angle_mask)};
}

/// max |a - b| over the real entries: residue rows/columns where seq_mask is 1 (the last
/// residue of the test features is padding) and, for the MSA, unmasked rows.
double real_max_abs(const Tensor& a, const Tensor& b, const TrunkFeatures& f) {
  EXPECT_EQ(a.shape(), b.shape());
  const float* seq = f.seq_mask.data<float>();
  double m = 0;
  const int64_t c = a.size(-1);
  for (int64_t i = 0; i < a.numel(); ++i) {
    const int64_t row = i / c;
    bool real = true;
    if (a.rank() == 3 && a.size(0) == kN && a.size(1) == kN)  // pair [N, N, c]
      real = seq[row / kN] > 0 && seq[row % kN] > 0;
    else if (a.rank() == 3)  // msa [S, N, c]
      real = f.msa_mask.data<float>()[row] > 0 && seq[row % kN] > 0;
    else  // single [N, c]
      real = seq[row] > 0;
    if (real) m = std::max(m, std::abs(a.data<double>()[i] - b.data<double>()[i]));
  }
  return m;
}

class Templates : public ::testing::Test {
 protected:
  ModelConfig config = preset("reduced_ptm");
  std::mt19937 rng{5};
  TrunkFeatures f = features(rng);
  Recycled prev{filled<float>({kN, config.c_m}, rng, 1.0),
                filled<float>({kN, kN, config.c_z}, rng, 1.0),
                filled<float>({kN, 37, 3}, rng, 8.0)};
  Params params = random_params<double>(config);
};

TEST_F(Templates, ShapesOfTheEmbeddingAndTheTrunk) {
  f.templates = random_templates(rng, 2);
  const TemplateEmbedding e = embed_templates(config, params, f.templates, f.seq_mask);
  EXPECT_EQ(e.pair.shape(), Shape({kN, kN, 2, config.templates.channels}));
  EXPECT_EQ(e.rows.shape(), Shape({2, kN, config.c_m}));
  EXPECT_EQ(e.row_mask.shape(), Shape({2, kN}));
  ASSERT_EQ(e.present.shape(), Shape({1}));
  EXPECT_EQ(e.present.data<double>()[0], 1.0);
  const TrunkOutputs out = run_trunk(config, params, f, prev);
  // The torsion rows join the Evoformer's MSA, but the representation keeps the S clusters.
  EXPECT_EQ(out.msa.shape(), Shape({kS, kN, config.c_m}));
  EXPECT_EQ(out.pair.shape(), Shape({kN, kN, config.c_z}));
  // Templates change the prediction.
  TrunkFeatures none = f;
  none.templates = {};
  EXPECT_GT(real_max_abs(out.pair, run_trunk(config, params, none, prev).pair, f), 1e-3);
}

TEST_F(Templates, APaddingTemplateChangesNothingReal) {
  f.templates = random_templates(rng, 2);
  TrunkFeatures padded = f;
  padded.templates = with_padding_template(f.templates, rng);
  const TrunkOutputs a = run_trunk(config, params, f, prev);
  const TrunkOutputs b = run_trunk(config, params, padded, prev);
  // A masked key's softmax weight is exactly 0 and a masked MSA row adds exact zeros; only
  // products over one more row may round differently.
  EXPECT_LE(real_max_abs(a.pair, b.pair, f), 1e-12);
  EXPECT_LE(real_max_abs(a.msa, b.msa, f), 1e-12);
  EXPECT_LE(real_max_abs(a.single, b.single, f), 1e-12);
}

TEST_F(Templates, AllTemplatesMaskedIsZeroTemplateInference) {
  TrunkFeatures masked = f;
  masked.templates = padding_template(rng);
  TrunkFeatures none = f;
  none.templates = {};
  const TemplateEmbedding e = embed_templates(config, params, masked.templates, f.seq_mask);
  EXPECT_EQ(e.present.data<double>()[0], 0.0);
  const TrunkOutputs a = run_trunk(config, params, none, prev);
  const TrunkOutputs b = run_trunk(config, params, masked, prev);
  EXPECT_LE(real_max_abs(a.pair, b.pair, f), 1e-12);
  EXPECT_LE(real_max_abs(a.msa, b.msa, f), 1e-12);
}

std::vector<ModelFeatures> model_features(std::mt19937& rng, const TemplateFeatures& templates,
                                          int iterations) {
  std::vector<ModelFeatures> out;
  for (int r = 0; r < iterations; ++r) {
    ModelFeatures m;
    m.trunk = features(rng);
    m.trunk.templates = templates;  // the same tensors in every iteration
    const features::AtomMaps maps = features::atom_maps(m.trunk.aatype);
    m.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
    m.atom37_atom_exists = maps.atom37_atom_exists;
    m.atom14_atom_exists = maps.atom14_atom_exists;
    out.push_back(m);
  }
  return out;
}

void expect_identical(const Tensor& a, const Tensor& b, const char* what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  const Tensor x = migrate(a, Device::cpu()).contiguous(),
               y = migrate(b, Device::cpu()).contiguous();
  ASSERT_EQ(x.shape(), y.shape()) << what;
  EXPECT_EQ(std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()), 0) << what;
}

void expect_identical(const IterationOutputs& a, const IterationOutputs& b) {
  expect_identical(a.trunk.msa, b.trunk.msa, "msa");
  expect_identical(a.trunk.pair, b.trunk.pair, "pair");
  expect_identical(a.trunk.single, b.trunk.single, "single");
  expect_identical(a.structure.final_atom_positions, b.structure.final_atom_positions,
                   "final_atom_positions");
  expect_identical(a.heads.masked_msa_logits, b.heads.masked_msa_logits, "masked_msa_logits");
  expect_identical(a.heads.plddt, b.heads.plddt, "plddt");
  expect_identical(a.heads.predicted_aligned_error, b.heads.predicted_aligned_error, "pae");
  expect_identical(a.heads.ptm, b.heads.ptm, "ptm");
}

TEST_F(Templates, OneEmbeddingPerPredictionIsBitIdenticalToOnePerIteration) {
  const std::vector<ModelFeatures> feats = model_features(rng, random_templates(rng, 2), 3);
  RunOptions options;
  options.chunk_size = 3;
  // run_model embeds the templates once; each run_iteration below embeds them anew.
  std::vector<IterationOutputs> once;
  run_model(config, params, feats, 2, options,
            [&](int, const IterationOutputs& o) { once.push_back(o); });
  Recycled r = Recycled::zeros(kN, config.c_m, config.c_z, DType::float64);
  for (int i = 0; i < 3; ++i) {
    const IterationOutputs each = run_iteration(config, params, feats[size_t(i)], r, options);
    expect_identical(once[size_t(i)], each);
    r = each.next;
  }
  EXPECT_EQ(once[0].heads.masked_msa_logits.size(0), kS);
}

TEST_F(Templates, StrictBackendIsBitIdenticalToCpu) {
  for (DType dtype : {DType::float64, DType::float32}) {
    const std::vector<ModelFeatures> feats = model_features(rng, random_templates(rng, 2), 2);
    RunOptions cpu, strict;
    cpu.dtype = strict.dtype = dtype;
    cpu.chunk_size = strict.chunk_size = 3;
    strict.device = Device::strict();
    const IterationOutputs a = run_model(config, params, feats, 1, cpu);
    const IterationOutputs b = run_model(config, params, feats, 1, strict);
    EXPECT_EQ(b.trunk.pair.device(), Device::strict());
    expect_identical(a, b);
    expect_identical(a.structure.traj, b.structure.traj, "traj");
    expect_identical(a.heads.distogram_logits, b.heads.distogram_logits, "distogram");
  }
}

TEST_F(Templates, BadTemplateFeaturesNameTheFeature) {
  auto message = [&](const TrunkFeatures& bad) -> std::string {
    try {
      run_trunk(config, params, bad, prev);
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "no error";
  };
  TrunkFeatures bad = f;
  bad.templates = random_templates(rng, 2);
  bad.templates.template_angle_feat = filled<float>({2, kN, 56}, rng, 1.0);
  EXPECT_NE(message(bad).find("template_angle_feat has shape [2, 7, 56], expected [2, 7, 57]"),
            std::string::npos)
      << message(bad);
  bad.templates = random_templates(rng, 2);
  bad.templates.template_aatype.data<int32_t>()[3] = 22;
  EXPECT_NE(message(bad).find("template_aatype"), std::string::npos) << message(bad);
  bad.templates = random_templates(rng, 2);
  bad.templates.template_mask = filled<float>({3}, rng, 1.0);
  EXPECT_NE(message(bad).find("template_mask has shape [3], expected [2]"), std::string::npos)
      << message(bad);

  std::vector<ModelFeatures> feats = model_features(rng, random_templates(rng, 2), 2);
  feats[1].trunk.templates = random_templates(rng, 2);
  EXPECT_THROW(run_model(config, params, feats, 1), InvalidArgument);
}

TEST_F(Templates, PresetsWithoutTemplatesIgnoreThem) {
  ModelConfig no_templates = config;
  no_templates.templates.enabled = false;
  const Params p = random_params<double>(no_templates);
  TrunkFeatures with = f;
  with.templates = random_templates(rng, 2);
  const TrunkOutputs a = run_trunk(no_templates, p, f, prev);
  const TrunkOutputs b = run_trunk(no_templates, p, with, prev);
  EXPECT_EQ(real_max_abs(a.pair, b.pair, f), 0.0);
  EXPECT_EQ(real_max_abs(a.msa, b.msa, f), 0.0);
}

}  // namespace
}  // namespace exafold::model
