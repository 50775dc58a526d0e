#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

#include "exafold/model/params.h"

namespace exafold::model {
namespace {

std::string shared_tsv() {
  // The official model_1_ptm layout: ../shared/reference beside the checkout.
  for (auto dir : {"../shared/reference", "../../shared/reference", "../../../shared/reference"}) {
    auto p = std::filesystem::path(EXAFOLD_SOURCE_DIR) / dir / "af2_param_shapes_model_1_ptm.tsv";
    if (std::filesystem::exists(p)) return p.string();
  }
  return std::string(EXAFOLD_SOURCE_DIR) + "/tests/data/af2_param_shapes_model_1_ptm.tsv";
}

std::map<std::string, std::string> read_tsv(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << path;
  std::map<std::string, std::string> m;
  for (std::string line; std::getline(in, line);) {
    auto tab = line.find('\t');
    std::string shape = line.substr(tab + 1);  // "(48, 256, 8, 32)" or "(64,)"
    std::string norm = "[";
    for (char ch : shape)
      if (std::isdigit(uint8_t(ch)) || ch == ',') norm += ch;
    while (!norm.empty() && norm.back() == ',') norm.pop_back();
    std::string pretty;
    for (char ch : norm) pretty += ch == ',' ? std::string(", ") : std::string(1, ch);
    m.emplace(line.substr(0, tab), pretty + "]");
  }
  return m;
}

TEST(ParamSpec, Model1PtmMatchesTheOfficialLayout) {
  auto official = read_tsv(shared_tsv());
  ASSERT_EQ(official.size(), 338u);
  std::map<std::string, std::string> ours;
  int64_t total = 0;
  for (auto& s : param_spec(preset("model_1_ptm"))) {
    ours.emplace(s.name, s.shape.str());
    total += s.shape.product();
  }
  EXPECT_EQ(ours, official);
  EXPECT_EQ(total, 93237338);  // AF2-REFERENCE section 2, counted on the real file
}

TEST(ParamSpec, PresetsDifferWhereAlphaFold2Does) {
  EXPECT_EQ(param_spec(preset("model_3_ptm")).size(), 267u);
  int64_t total = 0;
  for (auto& s : param_spec(preset("model_3_ptm"))) total += s.shape.product();
  EXPECT_EQ(total, 92907930);
  EXPECT_EQ(param_spec(preset("model_1")).size(), 336u);  // no PAE head
  EXPECT_EQ(param_spec(preset("model_5")).size(), 265u);
  EXPECT_EQ(preset("model_2").max_extra_msa, 1024);
  EXPECT_EQ(preset("model_4_ptm").max_extra_msa, 5120);
  EXPECT_THROW(preset("model_6"), InvalidArgument);
  ModelConfig bad = preset("model_1");
  bad.c_m = 250;
  EXPECT_THROW(bad.validate(), InvalidArgument);
}

Tensor zeros(const Shape& shape, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  std::memset(t.data_ptr(), 0, t.nbytes());
  return t;
}

/// The spec of `cfg` as zero arrays.
std::unordered_map<std::string, Tensor> spec_arrays(const ModelConfig& cfg, DType dtype) {
  std::unordered_map<std::string, Tensor> arrays;
  for (auto& s : param_spec(cfg)) arrays.emplace(s.name, zeros(s.shape, dtype));
  return arrays;
}

TEST(Params, FromArraysChecksEveryNameShapeAndDtype) {
  ModelConfig cfg = preset("reduced_ptm");
  Params ok = Params::from_arrays(spec_arrays(cfg, DType::float32), cfg, DType::float32);
  EXPECT_EQ(ok.size(), param_spec(cfg).size());
  const std::string w = "alphafold/alphafold_iteration/evoformer/preprocess_msa//weights";
  EXPECT_EQ(ok.get(w).dtype(), DType::float32);
  Tensor b = ok.block(
      "alphafold/alphafold_iteration/evoformer/evoformer_iteration/msa_transition/"
      "transition1//weights",
      1);
  EXPECT_EQ(b.rank(), 2);

  auto arrays = spec_arrays(cfg, DType::float32);
  const std::string bias = "alphafold/alphafold_iteration/distogram_head/half_logits//bias";
  const std::string weights = "alphafold/alphafold_iteration/distogram_head/half_logits//weights";
  arrays.erase(bias);
  arrays[weights] = arrays[weights].reshape({-1});
  arrays.emplace("alphafold/alphafold_iteration/extra//x", Tensor::empty({2}, DType::float32));
  arrays[w] = zeros(arrays[w].shape(), DType::float64);
  try {
    Params::from_arrays(std::move(arrays), cfg, DType::float32);
    FAIL() << "expected the arrays to be refused";
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("parameter set does not match preset 'reduced_ptm' (4 problems)"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("missing " + bias), std::string::npos) << m;
    EXPECT_NE(m.find("wrong shape " + weights), std::string::npos) << m;
    EXPECT_NE(m.find("unexpected alphafold/alphafold_iteration/extra//x"), std::string::npos) << m;
    EXPECT_NE(m.find("dtype float64 of " + w), std::string::npos) << m;
  }
  // A non-ptm preset refuses the PAE head of a _ptm set.
  EXPECT_THROW(
      Params::from_arrays(spec_arrays(cfg, DType::float32), preset("reduced"), DType::float32),
      InvalidArgument);
}

TEST(Params, LayoutProblemsAreEmptyExactlyForTheSpec) {
  std::map<std::string, Shape> have;
  for (auto& s : param_spec(preset("model_1_ptm"))) have.emplace(s.name, s.shape);
  EXPECT_TRUE(layout_problems(have, preset("model_1_ptm")).empty());
  // model_1 lacks the PAE head: exactly its two parameters are unexpected.
  const auto extra = layout_problems(have, preset("model_1"));
  ASSERT_EQ(extra.size(), 2u);
  for (const auto& p : extra) EXPECT_EQ(p.rfind("unexpected ", 0), 0u) << p;
}

// The placement rule of model/params.h, on the cpu (placing is a cast, which every backend
// has): in a bfloat16 placement exactly the trunk's weight matrices are bfloat16, holding the
// nearest bfloat16 of each value; every per-channel parameter and everything the structure
// module and heads read keeps its float32 value bit for bit.
TEST(Params, BfloatPlacementRoundsExactlyTheTrunksWeightMatrices) {
  const ModelConfig cfg = preset("reduced_ptm");
  std::unordered_map<std::string, Tensor> arrays;
  float v = 0.1f;
  for (auto& s : param_spec(cfg)) {
    Tensor t = Tensor::empty(s.shape, DType::float32);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = (v *= 1.0001f);  // not bf16
    arrays.emplace(s.name, t);
  }
  const Params host = Params::from_arrays(std::move(arrays), cfg, DType::float32);
  const Params& placed = host.on(Device::cpu(), DType::bfloat16);
  EXPECT_EQ(placed.dtype(), DType::bfloat16);
  int matrices = 0, kept = 0;
  for (const auto& [name, t] : placed.arrays()) {
    const std::string leaf = name.substr(name.find("//") + 2);
    const bool trunk = name.starts_with("alphafold/alphafold_iteration/evoformer/");
    const bool matrix = leaf == "weights" || leaf.ends_with("_w") || leaf == "feat_2d_weights";
    const Tensor& src = host.get(name);
    ASSERT_EQ(t.dtype(), trunk && matrix ? DType::bfloat16 : DType::float32) << name;
    EXPECT_EQ(t.dtype(), param_dtype(name, DType::bfloat16)) << name;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const float x = src.data<float>()[i];
      if (t.dtype() == DType::bfloat16)
        ASSERT_EQ(t.data<bfloat16>()[i].bits, bfloat16(x).bits) << name;
      else
        ASSERT_EQ(t.data<float>()[i], x) << name;
    }
    (t.dtype() == DType::bfloat16 ? matrices : kept) += 1;
  }
  EXPECT_GT(matrices, 0);
  EXPECT_GT(kept, 0);
  // float32 and float64 placements are uniform.
  for (DType d : {DType::float32, DType::float64})
    for (const auto& [name, t] : host.on(Device::cpu(), d).arrays())
      ASSERT_EQ(t.dtype(), d) << name;
  EXPECT_EQ(full_precision(DType::bfloat16), DType::float32);
  EXPECT_EQ(full_precision(DType::float64), DType::float64);
}

TEST(Params, PlacementRuleClassifiesEveryParameterOfEveryPreset) {
  for (const std::string& name : preset_names())
    for (const ParamSpec& s : param_spec(preset(name)))
      EXPECT_NO_THROW(param_dtype(s.name, DType::bfloat16)) << s.name;
  EXPECT_THROW(param_dtype("alphafold/alphafold_iteration/evoformer/x//new_leaf", DType::float32),
               InternalError);
  // The uninitialised set of the meta device follows the same rule.
  const ModelConfig cfg = preset("reduced_ptm");
  const Params meta = Params::uninitialized(cfg, DType::bfloat16, Device::cpu());
  for (const auto& [name, t] : meta.arrays())
    EXPECT_EQ(t.dtype(), param_dtype(name, DType::bfloat16)) << name;
}

}  // namespace
}  // namespace exafold::model
