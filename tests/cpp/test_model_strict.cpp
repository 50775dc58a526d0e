// The whole model on the strict backend, whose memory the host can touch only inside its own
// ops: a run there proves that no model code reads or writes tensor memory behind the ops, and
// it must give the cpu backend's results bit for bit (the same kernels run).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/memory/allocator.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/memory_model.h"
#include "model_test_util.h"

namespace exafold::model {
namespace {

using namespace testing_util;

Tensor on_host(const Tensor& t) { return migrate(t, Device::cpu()).contiguous(); }

void expect_identical(const Tensor& cpu, const Tensor& strict, const char* what) {
  ASSERT_TRUE(cpu.defined() && strict.defined()) << what;
  EXPECT_EQ(strict.device(), Device::strict()) << what;
  const Tensor a = on_host(cpu), b = on_host(strict);
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(std::memcmp(a.data_ptr(), b.data_ptr(), a.nbytes()), 0) << what;
}

std::vector<ModelFeatures> model_features(std::mt19937& rng, int iterations) {
  std::vector<ModelFeatures> out;
  for (int r = 0; r < iterations; ++r) {
    ModelFeatures f;
    f.trunk = features(rng);
    const features::AtomMaps maps = features::atom_maps(f.trunk.aatype);
    f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
    f.atom37_atom_exists = maps.atom37_atom_exists;
    f.atom14_atom_exists = maps.atom14_atom_exists;
    out.push_back(f);
  }
  return out;
}

template <class T>
void run_on_both() {
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<T>(config);
  std::mt19937 rng(3);
  const std::vector<ModelFeatures> features = model_features(rng, 2);
  RunOptions cpu, strict;
  cpu.chunk_size = strict.chunk_size = 3;
  strict.device = Device::strict();
  const IterationOutputs a = run_model(config, params, features, 1, cpu);
  const IterationOutputs b = run_model(config, params, features, 1, strict);
  expect_identical(a.trunk.msa, b.trunk.msa, "msa");
  expect_identical(a.trunk.pair, b.trunk.pair, "pair");
  expect_identical(a.trunk.single, b.trunk.single, "single");
  expect_identical(a.structure.final_atom_positions, b.structure.final_atom_positions,
                   "final_atom_positions");
  expect_identical(a.structure.traj, b.structure.traj, "traj");
  expect_identical(a.structure.angles_sin_cos, b.structure.angles_sin_cos, "angles");
  expect_identical(a.heads.distogram_logits, b.heads.distogram_logits, "distogram");
  expect_identical(a.heads.plddt, b.heads.plddt, "plddt");
  expect_identical(a.heads.mean_plddt, b.heads.mean_plddt, "mean_plddt");
  expect_identical(a.heads.predicted_aligned_error, b.heads.predicted_aligned_error, "pae");
  expect_identical(a.heads.ptm, b.heads.ptm, "ptm");
}

TEST(StrictBackend, WholeModelIsBitIdenticalToCpuFloat64) { run_on_both<double>(); }
TEST(StrictBackend, WholeModelIsBitIdenticalToCpuFloat32) { run_on_both<float>(); }

TEST(StrictBackend, AHostAccessOutsideAnOpFaults) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const Tensor t = migrate(Tensor::empty({16}, DType::float32), Device::strict());
  EXPECT_DEATH(
      {
        volatile float x = *static_cast<const float*>(t.data_ptr());
        (void)x;
      },
      "");
}

TEST(MetaDevice, ReplayAllocatesWhatTheRunAllocates) {
  // A run on the cpu from an empty cache, against the replay of the same sizes on meta.
  const ModelConfig config = preset("reduced_ptm");
  const Params params = random_params<float>(config);
  prepare(params, Device::cpu(), DType::float32);
  std::mt19937 rng(4);
  const std::vector<ModelFeatures> features = model_features(rng, 1);
  Allocator& host = get_allocator(Device::cpu(), MemoryKind::host);
  host.empty_cache();
  host.reset_peak();
  const int64_t before = int64_t(host.stats().in_use);
  RunOptions options;
  run_model(config, params, features, 1, options);
  const int64_t measured = int64_t(host.stats().peak_in_use) - before;
  const int64_t predicted =
      predict_peak_bytes(config, {kN, kS, kE, 2, 0}, 0, DType::float32, DeviceType::cpu);
  // Identical allocation sequences, one from an empty cache: the same peak to the byte, but for
  // the run's few host temporaries outside the allocator's cache (none counted here).
  EXPECT_EQ(predicted, measured);
}

}  // namespace
}  // namespace exafold::model
