#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <unordered_map>

#include "exafold/model/params.h"
#include "exafold/model/trunk.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

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

// The cpu backend has no bfloat16 arithmetic: a bfloat16 run there fails at its first op,
// naming the op, the dtypes and the device, and never computes in another precision instead.
TEST_F(Trunk, BfloatOnTheCpuFailsNamingOpDtypesAndDevice) {
  const Params params = random_params<float>(config);
  RunOptions options;
  options.dtype = DType::bfloat16;
  try {
    run_trunk(config, params, f, prev, options);
    FAIL() << "a bfloat16 trunk ran on the cpu backend";
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("is not implemented for (bfloat16"), std::string::npos) << m;
    EXPECT_NE(m.find("on cpu (backend cpu)"), std::string::npos) << m;
  }
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
