// The memory model of the cuda backend (the replay on meta:cuda) against the cuda caching
// allocator's measured peak, the device memory outside that allocator, and the out-of-memory
// retry with smaller chunks (model/memory_fit.h). On the CPU emulation of CUDA the device's
// memory can be capped (emulation/device_info.h), which the retry tests need; on a GPU they
// skip, saying so.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "exafold/features/atom_maps.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/memory_fit.h"
#include "exafold/model/memory_model.h"
#include "exafold/ops/backend_info.h"
#include "model_test_util.h"
#ifdef EXAFOLD_CUDA_EMULATION
#include "emulation/device_info.h"
#endif

namespace exafold::model {
namespace {

using namespace testing_util;

const Device kGpu = Device::cuda(0);

Tensor on_gpu(const Tensor& t) { return t.defined() ? migrate(t, kGpu) : t; }

/// One set of features for every iteration, on cuda:0 before the run starts (as a run's
/// features are live before it: memory_model.h), so the peak holds activations only.
std::vector<ModelFeatures> gpu_features(int64_t n, int64_t s, int64_t e, unsigned seed) {
  std::mt19937 rng(seed);
  const TrunkFeatures host = features(rng, n, s, e);
  const features::AtomMaps maps = features::atom_maps(host.aatype);
  ModelFeatures f;
  f.trunk = {on_gpu(host.aatype),
             on_gpu(host.residue_index),
             on_gpu(host.seq_mask),
             on_gpu(host.target_feat),
             on_gpu(host.msa_feat),
             on_gpu(host.msa_mask),
             on_gpu(host.extra_msa),
             on_gpu(host.extra_msa_mask),
             on_gpu(host.extra_has_deletion),
             on_gpu(host.extra_deletion_value)};
  f.residx_atom37_to_atom14 = on_gpu(maps.residx_atom37_to_atom14);
  f.atom37_atom_exists = on_gpu(maps.atom37_atom_exists);
  f.atom14_atom_exists = on_gpu(maps.atom14_atom_exists);
  return {f};
}

Allocator& gpu_allocator() { return get_allocator(kGpu, MemoryKind::device); }

struct MeasuredPeak {
  int64_t in_use, reserved;
};

/// The cuda caching allocator's peak above what was live before one run, from an empty cache.
MeasuredPeak measured_peak(const ModelConfig& config, const Params& params,
                           const std::vector<ModelFeatures>& features, int64_t chunk,
                           IterationOutputs* out = nullptr, int num_recycle = 1) {
  Allocator& a = gpu_allocator();
  a.empty_cache();
  a.reset_peak();
  const AllocatorStats before = a.stats();
  RunOptions options;
  options.device = kGpu;
  options.chunk_size = chunk;
  // The memory model replays eager predictions: a CUDA graph's private pool and static buffers
  // are not in it yet (docs/gpu.md, "Memory").
  options.cuda_graphs = false;
  IterationOutputs o = run_model(config, params, features, num_recycle, options);
  const AllocatorStats after = a.stats();
  if (out) *out = std::move(o);
  return {int64_t(after.peak_in_use - before.in_use),
          int64_t(after.peak_reserved - before.reserved)};
}

/// model_1_ptm's widths with one block per stack: at these small N its chunked modules hold the
/// peak (the reduced preset's peak is outside them) and its large blocks take segments of their
/// own, so chunking changes what the device must give.
ModelConfig one_block_model() {
  ModelConfig c = preset("model_1_ptm");
  c.evoformer_blocks = 1;
  c.extra_blocks = 1;
  return c;
}

struct Fixture {
  ModelConfig config = one_block_model();
  Params params = random_params<float>(config);
  explicit Fixture(Device device = kGpu) { prepare(params, device, DType::float32); }
};

/// What the heads make once per process on first use (their bin centres, 1 KiB on the device)
/// is live before any later prediction, as the parameters are: one small prediction first, so
/// that a measured run is such a later one whichever test the process ran before.
void warm_up(const Fixture& m) {
  RunOptions warm;
  warm.device = kGpu;
  warm.cuda_graphs = false;
  run_model(m.config, m.params, gpu_features(8, 2, 2, 6), 0, warm);
}

class CudaMemoryModel : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override {
    if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  }
};

TEST_P(CudaMemoryModel, ReplayOnMetaCudaAllocatesWhatTheCudaRunAllocates) {
  const Fixture m;
  const int64_t chunk = GetParam();
  constexpr int64_t n = 32, s = 8, e = 12;
  warm_up(m);
  const MeasuredPeak measured = measured_peak(m.config, m.params, gpu_features(n, s, e, 7), chunk);
  const int64_t predicted =
      predict_peak_bytes(m.config, {n, s, e, 2, 0}, chunk, DType::float32, DeviceType::cuda);
  const int64_t cpu_model =
      predict_peak_bytes(m.config, {n, s, e, 2, 0}, chunk, DType::float32, DeviceType::cpu);
  std::printf("  chunk %lld: cuda peak %lld B, meta:cuda %lld B, meta:cpu %lld B\n",
              (long long)chunk, (long long)measured.in_use, (long long)predicted,
              (long long)cpu_model);
  // The replay makes the run's allocations in the run's order through an allocator of the same
  // policy, both from an empty cache: the same peak to the byte. A missed workspace (the float32
  // product of a Linear with an epilogue, [rows, out] floats) is tens of KiB at these sizes. In
  // float32 the cpu backend's workspaces happen to be the cuda backend's (a product beside out
  // when the op does more than the product), so meta:cpu predicts the same here; bfloat16 would
  // tell them apart (the cuda products stay float32).
  EXPECT_EQ(predicted, measured.in_use);
  if (chunk > 0) {
    const int64_t unchunked =
        predict_peak_bytes(m.config, {n, s, e, 2, 0}, 0, DType::float32, DeviceType::cuda);
    EXPECT_LT(predicted, unchunked) << "chunking lowers no peak here: the test shows nothing";
  }
}

// Between two length buckets a cuda run pads its features to the bucket (Note [Length
// buckets]): the replay of the cuda backend pads as it does, so the padded copies and the
// bucket's activations are in its peak, to the byte (unpadded, it would count N = 20's).
TEST(CudaMemoryModelBuckets, ReplayPadsToTheBucketAsTheCudaRunDoes) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const Fixture m;
  constexpr int64_t n = 20, s = 8, e = 12;  // bucket 32
  warm_up(m);
  // Two iterations with features of their own (AlphaFold2 resamples the MSA), as the replay has.
  std::vector<ModelFeatures> features = gpu_features(n, s, e, 8);
  features.push_back(gpu_features(n, s, e, 9)[0]);
  const MeasuredPeak measured = measured_peak(m.config, m.params, features, 0);
  const int64_t predicted =
      predict_peak_bytes(m.config, {n, s, e, 2, 0}, 0, DType::float32, DeviceType::cuda);
  std::printf("  N = %lld (bucket 32): cuda peak %lld B, meta:cuda %lld B\n", (long long)n,
              (long long)measured.in_use, (long long)predicted);
  EXPECT_EQ(predicted, measured.in_use);
}

INSTANTIATE_TEST_SUITE_P(Chunks, CudaMemoryModel, ::testing::Values(int64_t(0), int64_t(4)));

TEST(CudaMemoryOutsideTheAllocator, IsTheCublasLtWorkspaceOfEachThread) {
  if (gpu_count() == 0) GTEST_SKIP() << "no CUDA device (or a build without CUDA)";
  const Fixture m;
  const std::vector<ModelFeatures> features = gpu_features(12, 4, 6, 8);
  int64_t outside = -1;
  // A fresh thread holds no cuBLASLt workspace yet; it takes one with its first GEMM and keeps
  // it until it exits.
  std::thread([&] {
    const size_t free0 = gpu_backend()->free_memory(0);
    const size_t reserved0 = gpu_allocator().stats().reserved;
    RunOptions options;
    options.device = kGpu;
    run_model(m.config, m.params, features, 0, options);
    const size_t free1 = gpu_backend()->free_memory(0);
    const size_t reserved1 = gpu_allocator().stats().reserved;
    outside = int64_t(free0 - free1) - (int64_t(reserved1) - int64_t(reserved0));
  }).join();
  EXPECT_EQ(outside, int64_t(ops::per_thread_device_bytes(kGpu)));
  EXPECT_EQ(ops::per_thread_device_bytes(kGpu), size_t(32) << 20);
  EXPECT_EQ(ops::per_thread_device_bytes(Device::meta(DeviceType::cuda)), size_t(32) << 20);
  EXPECT_EQ(ops::per_thread_device_bytes(Device::cpu()), 0u);
}

TEST(CudaMemoryModel, PairTrafficOfAnEvoformerBlockScalesAsNSquaredAndReadsEachUpdate) {
  // The replay on meta:cuda needs no GPU: it runs in every build.
  const ModelConfig config = preset("model_1_ptm");
  const int64_t c_z = config.c_z;
  auto at = [&](int64_t n) {
    return evoformer_block_pair_traffic(config, {n, 8, 8, 1, 0, 0}, DType::float32);
  };
  const ops::OperandTraffic a = at(101), b = at(103);
  // Every pair-shaped operand has N^2 c elements, so the counts are exactly quadratic.
  EXPECT_EQ(a.read * 103 * 103, b.read * 101 * 101);
  EXPECT_EQ(a.written * 103 * 103, b.written * 101 * 101);
  // Six modules add into the pair (outer product mean, the two triangle multiplications and
  // attentions, the transition): each reads the pair (its input) and adds an [N, N, c_z] update
  // into it (a read and a write), so at least 12 reads and 6 writes of N^2 c_z floats.
  const int64_t pair = 101 * 101 * c_z * 4;
  EXPECT_GE(a.read, 12 * pair);
  EXPECT_GE(a.written, 6 * pair);
  std::printf("  per Evoformer block (float32): %.1f N^2 c_z floats read, %.1f written\n",
              double(a.read) / double(pair), double(a.written) / double(pair));
}

void expect_identical(const Tensor& a, const Tensor& b, const char* what) {
  const Tensor x = migrate(a, Device::cpu()).contiguous(),
               y = migrate(b, Device::cpu()).contiguous();
  ASSERT_EQ(x.shape(), y.shape()) << what;
  EXPECT_EQ(std::memcmp(x.data_ptr(), y.data_ptr(), x.nbytes()), 0) << what;
}

void expect_identical(const IterationOutputs& a, const IterationOutputs& b) {
  expect_identical(a.trunk.msa, b.trunk.msa, "msa");
  expect_identical(a.trunk.pair, b.trunk.pair, "pair");
  expect_identical(a.structure.final_atom_positions, b.structure.final_atom_positions,
                   "final_atom_positions");
  expect_identical(a.heads.distogram_logits, b.heads.distogram_logits, "distogram");
  expect_identical(a.heads.plddt, b.heads.plddt, "plddt");
  expect_identical(a.heads.predicted_aligned_error, b.heads.predicted_aligned_error, "pae");
}

TEST(NextSmallerChunk, HalvesDownToOneFromTheLongestDimension) {
  const MemoryWorkload w{73, 16, 40, 2, 0, 0};
  std::vector<int64_t> chunks{0};
  while (chunks.back() != 1) chunks.push_back(next_smaller_chunk(chunks.back(), w));
  EXPECT_EQ(chunks, (std::vector<int64_t>{0, 36, 18, 9, 4, 2, 1}));
  EXPECT_EQ(next_smaller_chunk(1, w), 0);
  EXPECT_EQ(next_smaller_chunk(5, w), 2);
}

ModelFeatures host_features(int64_t n, int64_t s, int64_t e, unsigned seed) {
  std::mt19937 rng(seed);
  ModelFeatures f;
  f.trunk = features(rng, n, s, e);
  const features::AtomMaps maps = features::atom_maps(f.trunk.aatype);
  f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
  f.atom37_atom_exists = maps.atom37_atom_exists;
  f.atom14_atom_exists = maps.atom14_atom_exists;
  return f;
}

TEST(OutOfMemoryRetry, OnTheCpuAnItemOverItsLimitFailsWithTheChunksTriedAndTheNextRuns) {
  // The host allocator's limit on reserved memory stands in for a full device: the retry is
  // the same code on every device.
  const Fixture m(Device::cpu());
  Allocator& host = get_allocator(Device::cpu(), MemoryKind::host);
  host.empty_cache();
  const AllocatorStats st = host.stats();
  // Under a limit of what is reserved now, only the free space of live segments is left.
  const auto left = int64_t(st.reserved - st.in_use);
  constexpr int64_t n = 128, s = 4, e = 6;  // chunks after unchunked: 64, 32, 16, 8, 4, 2, 1
  ASSERT_GT(predict_peak_bytes(m.config, {n, s, e, 1, 0}, 1, DType::float32, DeviceType::cpu), left)
      << "the item would fit at chunk 1: the test shows nothing";
  host.set_limit(st.reserved);
  std::vector<int64_t> tried;
  try {
    run_model_within_memory(m.config, m.params, {host_features(n, s, e, 9)}, 0, {}, nullptr,
                            &tried);
    ADD_FAILURE() << "the prediction fitted in the free space of live segments";
  } catch (const OutOfMemory& err) {
    const std::string msg = err.what();
    std::printf("  %s\n", msg.c_str());
    EXPECT_NE(msg.find("N = 128, S = 4, E = 6, T = 0 does not fit on cpu even at chunk 1"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("chunk sizes tried: unchunked, 64, 32, 16, 8, 4, 2, 1"), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("the memory model's peak at chunk 1 is "), std::string::npos) << msg;
    EXPECT_NE(msg.find("out of memory on cpu (host): tried to allocate"), std::string::npos) << msg;
  }
  host.set_limit(0);
  EXPECT_EQ(tried, (std::vector<int64_t>{0, 64, 32, 16, 8, 4, 2, 1}));
  // The next item runs as if nothing had happened: at its first chunk, with outputs.
  const IterationOutputs o = run_model_within_memory(
      m.config, m.params, {host_features(16, s, e, 10)}, 0, {}, nullptr, &tried);
  EXPECT_EQ(tried, (std::vector<int64_t>{0}));
  EXPECT_EQ(o.heads.plddt.size(0), 16);
}

#ifdef EXAFOLD_CUDA_EMULATION
/// The emulated device's memory set to what is in use now plus `headroom` for one test.
class CappedDevice {
 public:
  explicit CappedDevice(size_t headroom) : original_(emulation::device_memory_bytes()) {
    gpu_allocator().empty_cache();
    const size_t used = original_ - gpu_backend()->free_memory(0);
    emulation::set_device_memory_bytes(used + headroom);
  }
  ~CappedDevice() { emulation::set_device_memory_bytes(original_); }
  CappedDevice(const CappedDevice&) = delete;
  CappedDevice& operator=(const CappedDevice&) = delete;

 private:
  size_t original_;
};
#endif

TEST(OutOfMemoryRetry, OnACappedGpuAnItemRetriesWithSmallerChunksAndOneThatCannotFitFailsAlone) {
#ifndef EXAFOLD_CUDA_EMULATION
  GTEST_SKIP() << "needs the CUDA emulation's device memory cap (EXAFOLD_CUDA=EMULATE)";
#else
  if (gpu_count() == 0) GTEST_SKIP() << "no emulated CUDA device";
  const Fixture m;
  // One iteration keeps the emulated runs short; recycling changes nothing the retry does.
  constexpr int64_t n = 40, s = 8, e = 16;  // chunks after unchunked: 20, 10, 5, 2, 1
  const std::vector<ModelFeatures> features = gpu_features(n, s, e, 10);
  // Uncapped: what chunk 5 reserves (the device memory the run takes), which becomes the cap.
  const MeasuredPeak chunked = measured_peak(m.config, m.params, features, 5, nullptr, 0);
  std::vector<int64_t> tried;
  IterationOutputs retried;
  RunOptions options;
  options.device = kGpu;
  options.cuda_graphs = false;  // as measured_peak: the cap is an eager run's reserved memory
  {
    const CappedDevice cap(size_t(chunked.reserved));
    retried = run_model_within_memory(m.config, m.params, features, 0, options, nullptr, &tried);
  }
  std::printf("  cap %lld B above the parameters and features; chunk sizes tried:",
              (long long)chunked.reserved);
  for (int64_t c : tried) std::printf(" %lld", (long long)c);
  std::printf("\n");
  ASSERT_GE(tried.size(), 2u) << "unchunked fitted under the cap: the test shows nothing";
  EXPECT_EQ(tried.front(), 0);
  EXPECT_GE(tried.back(), 5) << "chunk 5 fits the cap: no smaller chunk is needed";
  // The outputs are those of a run at the chunk that fitted, bit for bit.
  const int64_t fitted = tried.back();
  IterationOutputs reference;
  measured_peak(m.config, m.params, features, fitted, &reference, 0);
  expect_identical(retried, reference);

  // An item that cannot fit even at chunk 1 fails alone, with the numbers, and the next runs.
  const std::vector<ModelFeatures> large = gpu_features(64, s, e, 11);
  {
    const CappedDevice cap(size_t(1) << 20);
    try {
      run_model_within_memory(m.config, m.params, large, 0, options, nullptr, &tried);
      ADD_FAILURE() << "N = 64 fitted in 1 MiB";
    } catch (const OutOfMemory& err) {
      const std::string msg = err.what();
      std::printf("  %s\n", msg.c_str());
      EXPECT_NE(msg.find("N = 64, S = 8, E = 16, T = 0 does not fit on cuda:0 even at chunk 1"),
                std::string::npos)
          << msg;
      EXPECT_NE(msg.find("chunk sizes tried: unchunked, 32, 16, 8, 4, 2, 1"), std::string::npos)
          << msg;
      EXPECT_NE(msg.find("was free on cuda:0 at the start"), std::string::npos) << msg;
      EXPECT_NE(msg.find("tried to allocate"), std::string::npos) << msg;
    }
  }
  {
    const CappedDevice cap(size_t(chunked.reserved));
    options.chunk_size = fitted;
    const IterationOutputs next =
        run_model_within_memory(m.config, m.params, features, 0, options, nullptr, &tried);
    EXPECT_EQ(tried, std::vector<int64_t>{fitted});
    expect_identical(next, reference);
  }
#endif
}

}  // namespace
}  // namespace exafold::model
