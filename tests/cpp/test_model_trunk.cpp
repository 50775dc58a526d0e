#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <unordered_map>

#include "exafold/model/params.h"
#include "exafold/model/trunk.h"

namespace exafold::model {
namespace {

// Parity with the reference is tested in Python (tests/python/test_model_trunk_parity.py);
// these tests need no reference: random parameters in the reduced preset's layout.
constexpr int64_t kS = 5, kN = 7, kE = 6;

template <class T>
Tensor filled(const Shape& shape, std::mt19937& rng, double scale, double offset = 0) {
  std::normal_distribution<double> g;
  Tensor t = Tensor::empty(shape, dtype_v<T>);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = T(offset + scale * g(rng));
  return t;
}

template <class T>
Params random_params(const ModelConfig& config) {
  std::mt19937 rng(1);
  std::unordered_map<std::string, Tensor> arrays;
  for (const ParamSpec& s : param_spec(config)) {
    const std::string leaf = s.name.substr(s.name.find("//") + 2);
    if (leaf == "scale")
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.05, 1.0));
    else if (leaf == "offset" || leaf == "bias" || leaf == "output_b" || leaf == "gating_b")
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.05));
    else
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.2));
  }
  return Params::from_arrays(std::move(arrays), config, dtype_v<T>);
}

Tensor ints(const Shape& shape, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> u(lo, hi);
  Tensor t = Tensor::empty(shape, DType::int32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = u(rng);
  return t;
}

Tensor mask(const Shape& shape, int64_t padded_rows, int64_t padded_cols) {
  Tensor t = Tensor::empty(shape, DType::float32);
  const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape[shape.size() - 1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t.data<float>()[r * cols + c] = (r < rows - padded_rows && c < cols - padded_cols) ? 1 : 0;
  return t;
}

TrunkFeatures features(std::mt19937& rng) {
  TrunkFeatures f;
  f.aatype = ints({kN}, rng, 0, 20);
  f.residue_index = ints({kN}, rng, 0, 3);
  for (int64_t i = 1; i < kN; ++i)  // increasing, with gaps
    f.residue_index.data<int32_t>()[i] += f.residue_index.data<int32_t>()[i - 1] + 1;
  f.seq_mask = mask({kN}, 0, 1);
  f.target_feat = filled<float>({kN, 22}, rng, 1.0);
  f.msa_feat = filled<float>({kS, kN, 49}, rng, 1.0);
  f.msa_mask = mask({kS, kN}, 1, 1);
  f.extra_msa = ints({kE, kN}, rng, 0, 22);
  f.extra_msa_mask = mask({kE, kN}, 2, 1);
  f.extra_has_deletion = mask({kE, kN}, 3, 0);
  f.extra_deletion_value = filled<float>({kE, kN}, rng, 0.3);
  return f;
}

double max_abs(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.dtype() == DType::float64 ? a.data<double>()[i] : a.data<float>()[i];
    const double y = b.dtype() == DType::float64 ? b.data<double>()[i] : b.data<float>()[i];
    m = std::max(m, std::abs(x - y));
  }
  return m;
}

class Trunk : public ::testing::Test {
 protected:
  ModelConfig config = preset("reduced");
  std::mt19937 rng{2};
  TrunkFeatures f = features(rng);
  Recycled prev{filled<float>({kN, config.c_m}, rng, 1.0),
                filled<float>({kN, kN, config.c_z}, rng, 1.0),
                filled<float>({kN, 37, 3}, rng, 8.0)};
};

TEST_F(Trunk, ShapesAndChunkIndependence) {
  const Params params = random_params<double>(config);
  const TrunkOutputs whole = run_trunk(config, params, f, prev);
  EXPECT_EQ(whole.msa.shape(), Shape({kS, kN, config.c_m}));
  EXPECT_EQ(whole.pair.shape(), Shape({kN, kN, config.c_z}));
  EXPECT_EQ(whole.single.shape(), Shape({kN, config.c_s}));
  EXPECT_EQ(whole.msa_first_row.shape(), Shape({kN, config.c_m}));
  for (int64_t chunk : {1, 3}) {
    RunOptions options;
    options.chunk_size = chunk;
    const TrunkOutputs chunked = run_trunk(config, params, f, prev, options);
    // The same sums in the same order; only BLAS kernel choices for shorter blocks differ.
    EXPECT_LE(max_abs(chunked.msa, whole.msa), 1e-11) << chunk;
    EXPECT_LE(max_abs(chunked.pair, whole.pair), 1e-11) << chunk;
    EXPECT_LE(max_abs(chunked.single, whole.single), 1e-11) << chunk;
  }
}

TEST_F(Trunk, ZeroRecycledInputsForTheFirstIteration) {
  const Params params = random_params<double>(config);
  const Recycled explicit_zeros{filled<float>({kN, config.c_m}, rng, 0.0),
                                filled<float>({kN, kN, config.c_z}, rng, 0.0),
                                filled<float>({kN, 37, 3}, rng, 0.0)};
  const TrunkOutputs a = run_trunk(config, params, f, explicit_zeros);
  const TrunkOutputs b =
      run_trunk(config, params, f, Recycled::zeros(kN, config.c_m, config.c_z, DType::float64));
  EXPECT_EQ(max_abs(a.pair, b.pair), 0.0);
  EXPECT_EQ(max_abs(a.msa, b.msa), 0.0);
}

TEST_F(Trunk, FloatTracksDouble) {
  const TrunkOutputs d = run_trunk(config, random_params<double>(config), f, prev);
  const TrunkOutputs s = run_trunk(config, random_params<float>(config), f, prev);
  EXPECT_EQ(s.pair.dtype(), DType::float32);
  // A smoke bound: O(1..10) activations through three random blocks.
  EXPECT_LE(max_abs(s.single, d.single), 1e-3);
}

TEST_F(Trunk, BadFeaturesNameTheFeature) {
  const Params params = random_params<float>(config);
  TrunkFeatures bad = f;
  bad.target_feat = filled<float>({kN, 21}, rng, 1.0);
  try {
    run_trunk(config, params, bad, prev);
    FAIL() << "no error";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("target_feat has shape [7, 21], expected [7, 22]"),
              std::string::npos)
        << e.what();
  }
  bad = f;
  bad.aatype.data<int32_t>()[0] = 21;
  EXPECT_THROW(run_trunk(config, params, bad, prev), InvalidArgument);
  ModelConfig deeper = config;
  deeper.evoformer_blocks = 3;
  EXPECT_THROW(run_trunk(deeper, params, f, prev), InvalidArgument);
}

}  // namespace
}  // namespace exafold::model
