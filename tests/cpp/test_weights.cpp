// The npz reader and the weights loader: round trips, and every kind of bad file refused with a
// message naming the file, the member or parameter, and what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include "exafold/io/npz.h"
#include "exafold/io/weights.h"

namespace exafold::io {
namespace {

using model::param_spec;
using model::preset;

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("exafold_test_" + name)).string();
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void dump(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

/// The message of the InvalidArgument `f` throws (a failed expectation when it throws none).
template <class E = InvalidArgument, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an exception";
  return "";
}

#define EXPECT_HAS(message, part) \
  EXPECT_NE((message).find(part), std::string::npos) << "in: " << (message)

/// An npz holding the spec of `cfg` with small deterministic values.
std::string write_params(const model::ModelConfig& cfg, const std::string& name) {
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (auto& s : param_spec(cfg)) {
    Tensor t = Tensor::empty(s.shape, DType::float32);
    float* d = t.data<float>();
    for (int64_t i = 0; i < t.numel(); ++i) d[i] = float(i % 7) * 0.25f;
    arrays.emplace_back(s.name, t);
  }
  const std::string path = temp_path(name);
  save_npz(path, arrays);
  return path;
}

const std::string kPreprocess = "alphafold/alphafold_iteration/evoformer/preprocess_msa//weights";

TEST(Npz, RoundTripFromAFileAndFromMemory) {
  Tensor a = Tensor::empty({3, 4}, DType::int32);
  std::iota(a.data<int32_t>(), a.data<int32_t>() + 12, -3);
  Tensor s = Tensor::empty({}, DType::float64);
  *s.data<double>() = 2.5;
  const std::string path = temp_path("rt.npz");
  save_npz(path, {{"a", a}, {"scalar", s}, {"view", a.transpose(0, 1)}});
  const std::string bytes = slurp(path);
  for (const NpzFile& f : {NpzFile(path), NpzFile::from_memory(bytes, "rt.npz")}) {
    ASSERT_EQ(f.entries().size(), 3u);
    Tensor b = f.read(*f.find("a"));
    EXPECT_EQ(b.shape(), (Shape{3, 4}));
    EXPECT_EQ(b.data<int32_t>()[11], 8);
    EXPECT_EQ(f.read(*f.find("scalar")).data<double>()[0], 2.5);
    Tensor v = f.read(*f.find("view"));
    EXPECT_EQ(v.shape(), (Shape{4, 3}));
    EXPECT_EQ(v.data<int32_t>()[1], a.data<int32_t>()[4]);
    EXPECT_THROW(f.read(*f.find("a"), DType::float64), InvalidArgument);
  }
  std::filesystem::remove(path);
}

TEST(Weights, LoadsTheReducedPresetInBothPrecisions) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  const std::string path = write_params(cfg, "params_ok.npz");
  model::Params p32 = load_weights(path, cfg, DType::float32);
  model::Params p64 = load_weights(path, cfg, DType::float64);
  EXPECT_EQ(p32.size(), param_spec(cfg).size());
  EXPECT_EQ(p32.num_parameters(), p64.num_parameters());
  EXPECT_EQ(p64.get(kPreprocess).dtype(), DType::float64);
  EXPECT_EQ(p64.get(kPreprocess).data<double>()[5], 5 * 0.25);
  EXPECT_EQ(p32.get(kPreprocess).data<float>()[6], 6 * 0.25f);
  std::filesystem::remove(path);
}

TEST(Weights, ADamagedByteInsideOneArrayIsCaughtByItsCrc) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  const std::string path = write_params(cfg, "params_damaged.npz");
  const NpyEntry e = *NpzFile(path).find(kPreprocess);
  std::string bytes = slurp(path);
  // Eight bytes in the middle of one array's data; the zip directory stays intact.
  for (int i = 0; i < 8; ++i) bytes[size_t(e.data_offset) + 100 + size_t(i)] ^= 0x5a;
  dump(path, bytes);
  const std::string m = error_of([&] { load_weights(path, cfg, DType::float32); });
  EXPECT_HAS(m, path);
  EXPECT_HAS(m, "member '" + kPreprocess + ".npy'");
  EXPECT_HAS(m, "damaged: its bytes have CRC-32");
  // Widening to float64 reads through another path; it is checked the same way.
  EXPECT_HAS(error_of([&] { load_weights(path, cfg, DType::float64); }), "CRC-32");
  // Only the CRC catches it: with sizes checked alone the damaged array reads.
  const NpzFile f(path);
  EXPECT_NO_THROW(f.read(*f.find(kPreprocess), DType::float32, NpzCheck::sizes));
  std::filesystem::remove(path);
}

TEST(Weights, DamageInAnArrayHeaderIsCaught) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  const std::string path = write_params(cfg, "params_header.npz");
  const NpyEntry e = *NpzFile(path).find(kPreprocess);
  std::string bytes = slurp(path);
  const size_t header = size_t(e.data_offset - e.header_bytes);
  const std::string h = bytes.substr(header, size_t(e.header_bytes));
  bytes.replace(header + h.find("<f4"), 3, "<i4");  // same size, another dtype
  dump(path, bytes);
  const std::string m = error_of([&] { load_weights(path, cfg, DType::float32); });
  EXPECT_HAS(m, path);
  EXPECT_HAS(m, kPreprocess);
  std::filesystem::remove(path);
}

TEST(Weights, ATruncatedFileIsRefusedWhereverItIsCut) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  const std::string path = write_params(cfg, "params_truncated.npz");
  const std::string bytes = slurp(path);
  for (double keep : {0.999, 0.9, 0.5, 0.1, 0.001}) {
    dump(path, bytes.substr(0, size_t(double(bytes.size()) * keep)));
    const std::string m = error_of([&] { load_weights(path, cfg, DType::float32); });
    EXPECT_HAS(m, path);
    EXPECT_HAS(m, "truncated");
  }
  std::filesystem::remove(path);
}

TEST(Weights, OtherKindsOfFileAreNamedForWhatTheyAre) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  const std::string path = temp_path("not_params.npz");
  const std::pair<std::string, std::string> cases[] = {
      {"this is not a zip archive at all, just some text\n", "it is a text file"},
      {"<!DOCTYPE html>\n<html><body>Sign in to download</body></html>\n", "HTML page"},
      {"version https://git-lfs.github.com/spec/v1\noid sha256:0123\nsize 373000000\n",
       "Git LFS pointer"},
      {std::string("\x93NUMPY\x01\x00", 8) + std::string(120, ' '), "a single .npy array"},
      {std::string("\x1f\x8b\x08\x00", 4) + std::string(60, '\0'), "gzip"},
      {"", "empty file"},
  };
  for (const auto& [content, why] : cases) {
    dump(path, content);
    const std::string m = error_of([&] { load_weights(path, cfg, DType::float32); });
    EXPECT_HAS(m, path);
    EXPECT_HAS(m, why);
  }
  std::filesystem::remove(path);
  EXPECT_HAS(error_of<IoError>([&] { load_weights(path, cfg, DType::float32); }),
             "cannot open " + path);
  const std::string dir = temp_path("params_dir.npz");
  std::filesystem::create_directories(dir);
  EXPECT_HAS(error_of<IoError>([&] { load_weights(dir, cfg, DType::float32); }), "is a directory");
  std::filesystem::remove(dir);
}

TEST(Weights, LayoutErrorsNameTheFilePresetAndParameterAndSuggestThePreset) {
  const model::ModelConfig ptm = preset("reduced_ptm");
  const std::string path = write_params(ptm, "params_ptm.npz");
  // A _ptm file loaded as the preset without the PAE head.
  std::string m = error_of([&] { load_weights(path, preset("reduced"), DType::float32); });
  EXPECT_HAS(m, path + " does not match preset 'reduced' (2 problems)");
  EXPECT_HAS(m, "unexpected alphafold/alphafold_iteration/predicted_aligned_error_head");
  EXPECT_HAS(m, "The file has the layout of preset 'reduced_ptm'");
  std::filesystem::remove(path);
}

TEST(Weights, AMissingOrMisshapenParameterIsNamed) {
  const model::ModelConfig cfg = preset("reduced_ptm");
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (auto& s : param_spec(cfg)) {
    Tensor t = Tensor::empty(s.shape, DType::float32);
    std::memset(t.data_ptr(), 0, t.nbytes());
    if (s.name == kPreprocess) t = t.reshape({-1});
    if (s.name.find("distogram_head/half_logits//bias") == std::string::npos)
      arrays.emplace_back(s.name, t);
  }
  const std::string path = temp_path("params_bad_layout.npz");
  save_npz(path, arrays);
  const std::string m = error_of([&] { load_weights(path, cfg, DType::float32); });
  EXPECT_HAS(m, path + " does not match preset 'reduced_ptm' (2 problems)");
  EXPECT_HAS(m, "missing alphafold/alphafold_iteration/distogram_head/half_logits//bias");
  EXPECT_HAS(m, "wrong shape " + kPreprocess);
  EXPECT_EQ(m.find("The file has the layout"), std::string::npos) << m;
  std::filesystem::remove(path);
}

TEST(Weights, AnNpzOfSomethingElseIsNotAParameterFile) {
  Tensor a = Tensor::empty({4}, DType::float32);
  std::memset(a.data_ptr(), 0, a.nbytes());
  const std::string path = temp_path("features.npz");
  save_npz(path, {{"aatype", a}, {"msa_feat", a}});
  const std::string m = error_of([&] { load_weights(path, preset("model_1"), DType::float32); });
  EXPECT_HAS(m, path + " is not an AlphaFold2 parameter file");
  EXPECT_HAS(m, "aatype, msa_feat");
  std::filesystem::remove(path);
}

TEST(Weights, MatchingPresetsFindsEveryPresetOfALayout) {
  std::map<std::string, Shape> have;
  for (auto& s : param_spec(preset("model_1_ptm"))) have.emplace(s.name, s.shape);
  EXPECT_EQ(matching_presets(have), (std::vector<std::string>{"model_1_ptm", "model_2_ptm"}));
  have.begin()->second = Shape{1};
  EXPECT_TRUE(matching_presets(have).empty());
}

}  // namespace
}  // namespace exafold::io
