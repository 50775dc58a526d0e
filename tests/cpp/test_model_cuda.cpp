// The whole model on the cuda backend (a GPU, or the CPU emulation of CUDA in CI: docs/gpu.md)
// in float32, against the cpu backend in float64, within the cpu's own float32 tolerance: for
// every output, K = 3 times the gap between the cpu's float32 and float64 runs plus a floor of 4
// float32 ulps of the output's scale, the rule the float32 parity tests hold the cpu to against
// the reference (tests/python/test_model_trunk_parity.py). Two float32 runs that round
// independently differ from the float64 truth by errors of one size, so a correct CUDA run
// lands within a small multiple of the cpu's gap; a wrong kernel (a lost mask, a wrong index,
// a missing term) is off by the size of the quantity itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/model/alphafold.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

constexpr double kK32 = 3.0;
constexpr double kFloor32 = 4 * double(FLT_EPSILON);

Tensor as_f64(const Tensor& t) { return ops::cast(migrate(t, Device::cpu()), DType::float64); }

double max_abs_diff(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    m = std::max(m, std::abs(a.data<double>()[i] - b.data<double>()[i]));
  return m;
}

double max_abs(const Tensor& a) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::abs(a.data<double>()[i]));
  return m;
}

void expect_within_float32_tolerance(const Tensor& cuda32, const Tensor& cpu32, const Tensor& cpu64,
                                     const char* what) {
  ASSERT_TRUE(cuda32.defined() && cpu32.defined() && cpu64.defined()) << what;
  EXPECT_TRUE(cuda32.device().is_cuda()) << what << " left the device";
  const Tensor g = as_f64(cuda32), f = as_f64(cpu32), truth = as_f64(cpu64);
  ASSERT_EQ(g.shape(), truth.shape()) << what;
  const double gap = max_abs_diff(f, truth), err = max_abs_diff(g, truth);
  const double tol = kK32 * gap + kFloor32 * max_abs(truth);
  std::printf("  %-22s cuda err %.2e, cpu float32 gap %.2e, tol %.2e (%.2f of tol)\n", what, err,
              gap, tol, tol > 0 ? err / tol : 0.0);
  EXPECT_LE(err, tol) << what << ": cuda float32 is off the float64 truth by " << err
                      << ", the cpu's float32 by " << gap;
}

std::vector<ModelFeatures> model_features(std::mt19937& rng, int64_t n, int64_t s, int64_t e) {
  ModelFeatures f;
  f.trunk = features(rng, n, s, e);
  const features::AtomMaps maps = features::atom_maps(f.trunk.aatype);
  f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
  f.atom37_atom_exists = maps.atom37_atom_exists;
  f.atom14_atom_exists = maps.atom14_atom_exists;
  return {f, f};  // two recycling iterations
}

TEST(CudaModel, ReducedPresetFloat32MatchesCpuFloat64WithinCpuFloat32Tolerance) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<double>(config);
  std::mt19937 rng(5);
  // 20 residues: the attention kernels' query and key tiles are partly filled, the last
  // residue and the last rows are padding.
  const std::vector<ModelFeatures> features = model_features(rng, 20, 8, 12);
  RunOptions cpu64, cpu32, cuda32;
  cpu64.dtype = DType::float64;
  cpu32.dtype = cuda32.dtype = DType::float32;
  cuda32.device = Device::cuda(0);
  cpu64.chunk_size = cpu32.chunk_size = cuda32.chunk_size = 8;
  // The same length on both (with padding, the masked last residue's fully masked attention
  // rows would average over the padded keys too).
  cuda32.length_buckets = false;
  const IterationOutputs t = run_model(config, params, features, 1, cpu64);
  const IterationOutputs f = run_model(config, params, features, 1, cpu32);
  const IterationOutputs g = run_model(config, params, features, 1, cuda32);
  expect_within_float32_tolerance(g.trunk.msa, f.trunk.msa, t.trunk.msa, "msa");
  expect_within_float32_tolerance(g.trunk.pair, f.trunk.pair, t.trunk.pair, "pair");
  expect_within_float32_tolerance(g.trunk.single, f.trunk.single, t.trunk.single, "single");
  expect_within_float32_tolerance(g.structure.final_atom_positions,
                                  f.structure.final_atom_positions,
                                  t.structure.final_atom_positions, "final_atom_positions");
  expect_within_float32_tolerance(g.structure.traj, f.structure.traj, t.structure.traj, "traj");
  expect_within_float32_tolerance(g.structure.angles_sin_cos, f.structure.angles_sin_cos,
                                  t.structure.angles_sin_cos, "angles_sin_cos");
  expect_within_float32_tolerance(g.heads.distogram_logits, f.heads.distogram_logits,
                                  t.heads.distogram_logits, "distogram_logits");
  expect_within_float32_tolerance(g.heads.plddt, f.heads.plddt, t.heads.plddt, "plddt");
  expect_within_float32_tolerance(g.heads.predicted_aligned_error, f.heads.predicted_aligned_error,
                                  t.heads.predicted_aligned_error, "predicted_aligned_error");
  expect_within_float32_tolerance(g.heads.ptm, f.heads.ptm, t.heads.ptm, "ptm");
}

/// Kernels launched by each iteration of a float32 prediction on cuda:0.
std::vector<uint64_t> launches_per_iteration(const ModelConfig& config, int iterations) {
  const Params params = random_params<float>(config);
  std::mt19937 rng(6);
  const std::vector<ModelFeatures> features = model_features(rng, 12, 4, 6);
  RunOptions options;
  options.device = Device::cuda(0);
  options.length_buckets = false;
  // Placing the parameters (a copy, and the fused projections' concatenation) happens once per
  // model, before its first prediction.
  prepare(params, options.device, DType::float32);
  std::vector<uint64_t> counts;
  uint64_t last = ops::gpu_kernels()->launches();
  run_model(config, params, features, iterations - 1, options, [&](int, const IterationOutputs&) {
    const uint64_t now = ops::gpu_kernels()->launches();
    counts.push_back(now - last);
    last = now;
  });
  return counts;
}

// The launch counts of docs/gpu.md. Each block's launches are the difference between presets
// that differ by one block; the full width changes no count (one kernel per op whatever the
// channels), so model_1_ptm's prediction follows from its block counts. Every iteration after
// the first must launch the same kernels, whatever the data: that is what lets one CUDA graph
// replay them (the first also fills the zero recycled inputs).
TEST(CudaModel, KernelLaunchesPerBlockAndPerPrediction) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  ModelConfig base = preset("reduced_ptm");
  base.templates.enabled = false;
  ModelConfig more_evoformer = base, more_extra = base;
  more_evoformer.evoformer_blocks += 1;
  more_extra.extra_blocks += 1;
  const std::vector<uint64_t> b = launches_per_iteration(base, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[1], b[2]) << "the second and third iterations launch different kernels";
  EXPECT_GE(b[0], b[1]);
  const auto evo = int64_t(launches_per_iteration(more_evoformer, 1)[0]) - int64_t(b[0]);
  const auto extra = int64_t(launches_per_iteration(more_extra, 1)[0]) - int64_t(b[0]);
  EXPECT_GT(evo, 0);
  EXPECT_GT(extra, 0);
  const ModelConfig full = preset("model_1_ptm");
  const int64_t blocks = (full.evoformer_blocks - base.evoformer_blocks) * evo +
                         (full.extra_blocks - base.extra_blocks) * extra;
  const int64_t first = int64_t(b[0]) + blocks, steady = int64_t(b[1]) + blocks;
  std::printf(
      "  kernel launches: Evoformer block %lld, extra-MSA block %lld, reduced_ptm iteration %llu "
      "(first %llu); model_1_ptm (%d + %d blocks, no templates): %lld per iteration, %lld per "
      "prediction with 3 recycles\n",
      static_cast<long long>(evo), static_cast<long long>(extra),
      static_cast<unsigned long long>(b[1]), static_cast<unsigned long long>(b[0]),
      full.evoformer_blocks, full.extra_blocks, static_cast<long long>(steady),
      static_cast<long long>(first + 3 * steady));
}

}  // namespace
}  // namespace exafold::model
