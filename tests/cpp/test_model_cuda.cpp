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
#include "exafold/model/iteration_graph.h"
#include "exafold/model/length_buckets.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "exafold/ops/graph.h"
#include "exafold/ops/reduce.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

constexpr double kK32 = 3.0;
constexpr double kFloor32 = 4 * double(FLT_EPSILON);

/// On the host in float64; a view (a cropped output) is made contiguous on its device first.
Tensor as_f64(const Tensor& t) {
  return ops::cast(migrate(ops::contiguous(t), Device::cpu()), DType::float64);
}

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
  // rows would average over the padded keys too); the cuda run takes its default CUDA graphs.
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
  options.cuda_graphs = false;  // the kernels each iteration launches, one by one
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

/// The outputs a prediction returns, by name, on the host in float64.
std::vector<std::pair<const char*, Tensor>> named_outputs(const IterationOutputs& o) {
  std::vector<std::pair<const char*, Tensor>> v = {
      {"msa", o.trunk.msa},
      {"pair", o.trunk.pair},
      {"single", o.trunk.single},
      {"final_atom_positions", o.structure.final_atom_positions},
      {"final_atom_mask", o.structure.final_atom_mask},
      {"final_atom14_positions", o.structure.final_atom14_positions},
      {"traj", o.structure.traj},
      {"angles_sin_cos", o.structure.angles_sin_cos},
      {"structure_module", o.structure.representation},
      {"distogram_logits", o.heads.distogram_logits},
      {"masked_msa_logits", o.heads.masked_msa_logits},
      {"experimentally_resolved_logits", o.heads.experimentally_resolved_logits},
      {"plddt", o.heads.plddt},
      {"mean_plddt", o.heads.mean_plddt},
      {"predicted_aligned_error", o.heads.predicted_aligned_error},
      {"ptm", o.heads.ptm},
      {"prev_pos", o.next.prev_pos}};
  for (auto& [name, t] : v) t = as_f64(t);
  return v;
}

void expect_bit_identical(const IterationOutputs& graphs, const IterationOutputs& eager) {
  const auto g = named_outputs(graphs), e = named_outputs(eager);
  for (size_t i = 0; i < g.size(); ++i) {
    ASSERT_EQ(g[i].second.shape(), e[i].second.shape()) << g[i].first;
    int64_t differ = 0;
    for (int64_t j = 0; j < g[i].second.numel(); ++j)
      differ += g[i].second.data<double>()[j] != e[i].second.data<double>()[j];
    EXPECT_EQ(differ, 0) << g[i].first << ": " << differ << " of " << g[i].second.numel()
                         << " values differ between the graph and the eager run";
  }
}

/// Features as AlphaFold2 makes them for n residues (every entry unmasked), two iterations.
std::vector<ModelFeatures> unmasked_features(int64_t n, int64_t s, int64_t e, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ModelFeatures> f = model_features(rng, n, s, e);
  for (ModelFeatures& m : f) {
    m.trunk.seq_mask = mask({n}, 0, 0);
    m.trunk.msa_mask = mask({s, n}, 0, 0);
    m.trunk.extra_msa_mask = mask({e, n}, 0, 0);
  }
  f[1].trunk.msa_feat = filled<float>({s, n, 49}, rng, 1.0);  // resampled
  return f;
}

struct Counts {
  uint64_t kernels, graphs, captured;
  IterationGraphStats cache;
};
Counts counts() {
  return {ops::gpu_kernels()->launches(), ops::graph_launches(), ops::captured_kernels(),
          iteration_graph_stats()};
}

// Note [Iteration graphs]: a prediction through graphs equals the eager one to the bit (the same
// kernels on the same data), each iteration is one graph launch once the graph exists, a second
// prediction in the bucket replays the cached graph, and another bucket captures its own.
TEST(CudaModel, IterationGraphsReplayTheEagerPredictionBitForBit) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<float>(config);
  RunOptions graphs, eager;
  graphs.device = eager.device = Device::cuda(0);
  eager.cuda_graphs = false;
  ASSERT_TRUE(uses_cuda_graphs(graphs));
  ASSERT_TRUE(pads_to_bucket(graphs) && pads_to_bucket(eager));
  prepare(params, graphs.device, DType::float32);
  clear_iteration_graphs();
  constexpr int kRecycles = 2;  // three iterations

  // 12 residues, bucket 16: the first prediction warms up eagerly, then captures and replays.
  const std::vector<ModelFeatures> f12 = unmasked_features(12, 4, 6, 21);
  const IterationOutputs eager12 = run_model(config, params, f12, kRecycles, eager);
  const Counts c1 = counts();
  const IterationOutputs graph12 = run_model(config, params, f12, kRecycles, graphs);
  const Counts c2 = counts();
  expect_bit_identical(graph12, eager12);
  EXPECT_EQ(c2.cache.eager - c1.cache.eager, 1u);
  EXPECT_EQ(c2.cache.captures - c1.cache.captures, 1u);
  EXPECT_EQ(c2.cache.replays - c1.cache.replays, uint64_t(kRecycles));
  EXPECT_EQ(c2.graphs - c1.graphs, uint64_t(kRecycles));
  EXPECT_EQ(c2.cache.cached, 1u);
  EXPECT_GT(c2.cache.pool_bytes, 0u);

  // 14 residues, the same bucket and MSA depths: the cached graph serves every iteration.
  const std::vector<ModelFeatures> f14 = unmasked_features(14, 4, 6, 22);
  const Counts c3 = counts();
  const IterationOutputs graph14 = run_model(config, params, f14, kRecycles, graphs);
  const Counts c4 = counts();
  const IterationOutputs eager14 = run_model(config, params, f14, kRecycles, eager);
  const Counts c5 = counts();
  expect_bit_identical(graph14, eager14);
  EXPECT_EQ(graph14.trunk.pair.size(0), 14);
  EXPECT_EQ(c4.cache.captures, c3.cache.captures) << "a prediction in the bucket recaptured";
  EXPECT_EQ(c4.cache.eager, c3.cache.eager);
  EXPECT_EQ(c4.cache.replays - c3.cache.replays, uint64_t(kRecycles + 1));
  EXPECT_EQ(c4.graphs - c3.graphs, uint64_t(kRecycles + 1)) << "one graph launch per iteration";
  const uint64_t with_graphs = (c4.graphs - c3.graphs) + (c4.kernels - c3.kernels);
  const uint64_t without = c5.kernels - c4.kernels;
  std::printf(
      "  graph launches: reduced_ptm, %d iterations: %llu launches per prediction through CUDA "
      "graphs (%llu graph launches + %llu kernels outside them: recycled-input fills, output "
      "copies), %llu kernels eagerly; %llu kernels per graph; graph pool %zu bytes\n",
      kRecycles + 1, static_cast<unsigned long long>(with_graphs),
      static_cast<unsigned long long>(c4.graphs - c3.graphs),
      static_cast<unsigned long long>(c4.kernels - c3.kernels),
      static_cast<unsigned long long>(without),
      static_cast<unsigned long long>(c2.captured - c1.captured), c4.cache.pool_bytes);
  EXPECT_LT(with_graphs, without / 10);

  // 20 residues: bucket 32, a new key, a new capture.
  const std::vector<ModelFeatures> f20 = unmasked_features(20, 4, 6, 23);
  const Counts c6 = counts();
  const IterationOutputs graph20 = run_model(config, params, f20, kRecycles, graphs);
  const Counts c7 = counts();
  expect_bit_identical(graph20, run_model(config, params, f20, kRecycles, eager));
  EXPECT_EQ(c7.cache.captures - c6.cache.captures, 1u);
  EXPECT_EQ(c7.cache.cached, 1u) << "the cache keeps one graph";
  clear_iteration_graphs();
  EXPECT_EQ(iteration_graph_stats().cached, 0u);
}

// A capture that would wait for the device fails, naming why, instead of recording a graph that
// skips the wait; range checks outside a RangesChecked scope are such waits.
TEST(CudaModel, ACaptureThatWaitsForTheDeviceFails) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const Device dev = Device::cuda(0);
  const Tensor index = migrate(ops::zeros({4}, DType::int32, Device::cpu()), dev);
  const Tensor x = ops::zeros({4}, DType::float32, dev);
  try {
    ops::capture(dev, [&] { ops::check_range(index, 0, 3, "index"); });
    FAIL() << "the capture of a range check succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cudaErrorStreamCaptureUnsupported"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(ops::gpu_kernels()->capturing());
  // Inside the scope the check is the caller's, and the capture records the rest.
  ops::Graph g = ops::capture(dev, [&] {
    const ops::RangesChecked checked;
    ops::check_range(index, 0, 3, "index");
    ops::fill(x, 2.0);
  });
  EXPECT_TRUE(g.defined());
  EXPECT_EQ(migrate(x, Device::cpu()).data<float>()[3], 0.f) << "the capture ran its work";
  g.launch();
  ops::gpu_kernels()->synchronize();
  EXPECT_EQ(migrate(x, Device::cpu()).data<float>()[3], 2.f);
}

}  // namespace
}  // namespace exafold::model
