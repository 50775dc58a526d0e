#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

#include "exafold/io/npz.h"
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

/// Writes an npz holding the spec of `cfg` with small deterministic values.
std::string write_params(
    const ModelConfig& cfg, const std::string& name,
    const std::function<void(std::vector<std::pair<std::string, Tensor>>&)>& edit = nullptr) {
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (auto& s : param_spec(cfg)) {
    Tensor t = Tensor::empty(s.shape, DType::float32);
    float* d = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = float(i % 7) * 0.25f;
    arrays.emplace_back(s.name, t);
  }
  if (edit) edit(arrays);
  auto path = (std::filesystem::temp_directory_path() / name).string();
  save_npz(path, arrays);
  return path;
}

TEST(Params, LoadsTheReducedPresetInBothPrecisions) {
  ModelConfig cfg = preset("reduced_ptm");
  std::string path = write_params(cfg, "exafold_params_ok.npz");
  Params p32 = Params::load(path, cfg, DType::float32);
  Params p64 = Params::load(path, cfg, DType::float64);
  EXPECT_EQ(p32.size(), param_spec(cfg).size());
  EXPECT_EQ(p32.num_parameters(), p64.num_parameters());
  const std::string w = "alphafold/alphafold_iteration/evoformer/preprocess_msa//weights";
  EXPECT_EQ(p64.get(w).dtype(), DType::float64);
  EXPECT_EQ(p64.get(w).data<double>()[5], 5 * 0.25);
  Tensor b = p32.block(
      "alphafold/alphafold_iteration/evoformer/evoformer_iteration/msa_transition/"
      "transition1//weights",
      1);
  EXPECT_EQ(b.rank(), 2);
  std::filesystem::remove(path);
}

TEST(Params, FailsListingEveryProblem) {
  ModelConfig cfg = preset("reduced_ptm");
  std::string path = write_params(cfg, "exafold_params_bad.npz", [](auto& arrays) {
    arrays.erase(arrays.begin());                       // drop the distogram bias
    arrays[0].second = arrays[0].second.reshape({-1});  // flatten a weight
    arrays.emplace_back("alphafold/alphafold_iteration/extra//x",
                        Tensor::empty({2}, DType::float32));
  });
  try {
    Params::load(path, cfg, DType::float32);
    FAIL() << "expected the load to fail";
  } catch (const InvalidArgument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("(3 problems)"), std::string::npos) << m;
    EXPECT_NE(m.find("missing alphafold/alphafold_iteration/distogram_head/half_logits//bias"),
              std::string::npos)
        << m;
    EXPECT_NE(
        m.find("wrong shape alphafold/alphafold_iteration/distogram_head/half_logits//weights"),
        std::string::npos)
        << m;
    EXPECT_NE(m.find("unexpected alphafold/alphafold_iteration/extra//x"), std::string::npos) << m;
  }
  // A non-ptm preset refuses the PAE head of a _ptm file.
  std::string ptm = write_params(cfg, "exafold_params_ptm.npz");
  EXPECT_THROW(Params::load(ptm, preset("reduced"), DType::float32), InvalidArgument);
  std::filesystem::remove(path);
  std::filesystem::remove(ptm);
}

TEST(Npz, RoundTripAndErrors) {
  Tensor a = Tensor::empty({3, 4}, DType::int32);
  std::iota(a.data<int32_t>(), a.data<int32_t>() + 12, -3);
  Tensor s = Tensor::empty({}, DType::float64);
  *s.data<double>() = 2.5;
  auto path = (std::filesystem::temp_directory_path() / "exafold_rt.npz").string();
  save_npz(path, {{"a", a}, {"scalar", s}, {"view", a.transpose(0, 1)}});
  NpzFile f(path);
  ASSERT_EQ(f.entries().size(), 3u);
  Tensor b = f.read(*f.find("a"));
  EXPECT_EQ(b.shape(), (Shape{3, 4}));
  EXPECT_EQ(b.data<int32_t>()[11], 8);
  EXPECT_EQ(f.read(*f.find("scalar")).data<double>()[0], 2.5);
  Tensor v = f.read(*f.find("view"));
  EXPECT_EQ(v.shape(), (Shape{4, 3}));
  EXPECT_EQ(v.data<int32_t>()[1], a.data<int32_t>()[4]);
  EXPECT_THROW(f.read(*f.find("a"), DType::float64), InvalidArgument);
  EXPECT_THROW(NpzFile("/nonexistent/x.npz"), IoError);
  {
    std::ofstream junk(path, std::ios::trunc);
    junk << "this is not a zip archive at all, just some text";
  }
  EXPECT_THROW(NpzFile{path}, InvalidArgument);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace exafold::model
