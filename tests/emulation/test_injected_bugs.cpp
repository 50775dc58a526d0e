// The bugs the CPU emulation must catch, each injected into a copy of an exafold kernel
// (kernels/), run under every schedule against a float64 reference: a bug is caught when the
// launch fails with a report or the result misses the reference by more than the tolerance the
// correct copy meets. The correct copies, and the legal grid-stride variants that AMD's HIP-CPU
// ran wrongly, must pass under every schedule. Each test prints which schedules caught its bug.
#include <cuda_bf16.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "emulation_test_util.h"
#include "kernels/kernel_copies.cuh"

namespace exafold::emulation_test {
namespace {

// Both kernels accumulate in float32 over at most a few hundred terms of O(1) values, so the
// correct copies stay within a few hundred ulps (~1e-5) of the output's scale, as the GPU table
// (tests/cpp/test_gpu_*.cpp) requires of the originals; every bug below misses by far more.
constexpr double kTolerance = 1e-5;

std::vector<float> normal(size_t n, uint64_t seed, double mean = 0, double spread = 1) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> d(mean, spread);
  std::vector<float> v(n);
  for (float& x : v) x = float(d(rng));
  return v;
}

/// max |got - want| over max |want|; infinite when got is not finite.
double relative_error(const std::vector<float>& got, const std::vector<double>& want) {
  double err = 0, scale = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    err = std::max(err, std::abs(double(got[i]) - want[i]));
    scale = std::max(scale, std::abs(want[i]));
  }
  return err / std::max(scale, 1e-30);
}

std::vector<double> layer_norm_reference(const std::vector<float>& x, int64_t rows, int c) {
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = &x[size_t(r * c)];
    double mean = 0, var = 0;
    for (int j = 0; j < c; ++j) mean += row[j];
    mean /= c;
    for (int j = 0; j < c; ++j) var += (row[j] - mean) * (row[j] - mean);
    var /= c;
    for (int j = 0; j < c; ++j) y[size_t(r * c + j)] = (row[j] - mean) / std::sqrt(var + 1e-5);
  }
  return y;
}

std::vector<double> attention_reference(const std::vector<float>& q, const std::vector<float>& k,
                                        const std::vector<float>& v,
                                        const std::vector<float>& key_bias, AttentionShape s,
                                        double scale) {
  constexpr int kD = kCopyHeadDim;
  const int64_t hd = s.heads * kD;
  std::vector<double> out(size_t(s.batch * s.n_q * hd)), w(size_t(s.n_k));
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t i = 0; i < s.n_q; ++i)
      for (int64_t h = 0; h < s.heads; ++h) {
        for (int64_t j = 0; j < s.n_k; ++j) {
          double x = 0;
          for (int d = 0; d < kD; ++d)
            x += double(q[size_t((b * s.n_q + i) * hd + h * kD + d)]) *
                 k[size_t((b * s.n_k + j) * hd + h * kD + d)];
          w[size_t(j)] = x * scale + key_bias[size_t(b * s.n_k + j)];
        }
        const double max = *std::max_element(w.begin(), w.end());
        double sum = 0;
        for (double& x : w) sum += (x = std::exp(x - max));
        for (int d = 0; d < kD; ++d) {
          double y = 0;
          for (int64_t j = 0; j < s.n_k; ++j)
            y += w[size_t(j)] * v[size_t((b * s.n_k + j) * hd + h * kD + d)];
          out[size_t((b * s.n_q + i) * hd + h * kD + d)] = y / sum;
        }
      }
  return out;
}

/// Whether one run caught the bug, and how.
struct Outcome {
  bool caught;
  std::string how;
};

Outcome judge(cudaError_t launch, const std::vector<float>& got, const std::vector<double>& want,
              double tolerance = kTolerance) {
  if (launch != cudaSuccess) {
    const std::string report = emulation::last_launch_report();
    cudaDeviceReset();
    return {true, "launch failed: " + report};
  }
  const double err = relative_error(got, want);
  char how[64];
  std::snprintf(how, sizeof how, "error %.1e", err);
  return {!(err <= tolerance), how};
}

/// Runs `run` under every schedule; prints and returns which caught the bug.
std::vector<bool> under_every_schedule(const char* what, const std::function<Outcome()>& run) {
  std::vector<bool> caught;
  std::printf("  %s\n", what);
  for (const Schedule& s : kSchedules) {
    emulation::set_schedule(s);
    const Outcome o = run();
    std::printf("    %-15s %s (%s)\n", schedule_name(s).c_str(), o.caught ? "CAUGHT" : "passed",
                o.how.c_str());
    caught.push_back(o.caught);
  }
  return caught;
}

const std::vector<bool> kEverySchedule(std::size(kSchedules), true);
const std::vector<bool> kNoSchedule(std::size(kSchedules), false);

struct LayerNormCase {
  int64_t rows;
  int c;
  std::vector<float> x;
  std::vector<double> want;
  LayerNormCase(int64_t r, int cols, uint64_t seed)
      : rows(r),
        c(cols),
        x(normal(size_t(r * cols), seed, 5.0)),
        want(layer_norm_reference(x, r, cols)) {}
};

Outcome block_rows(LayerNormBug bug, const LayerNormCase& t, unsigned threads, unsigned blocks) {
  DeviceBuffer<float> x(t.x), y(t.x.size());
  const cudaError_t e = layer_norm_block_rows(bug, x.get(), t.rows, t.c, threads, blocks, y.get());
  return judge(e, y.to_host(), t.want);
}

Outcome warp_rows(LayerNormBug bug, const LayerNormCase& t, unsigned blocks) {
  DeviceBuffer<float> x(t.x), y(t.x.size());
  const cudaError_t e = layer_norm_warp_rows(bug, x.get(), t.rows, t.c, blocks, y.get());
  return judge(e, y.to_host(), t.want);
}

struct AttentionCase {
  AttentionShape s;
  std::vector<float> q, k, v, key_bias;
  std::vector<double> want;
  float scale = 1.f / std::sqrt(float(kCopyHeadDim));
  explicit AttentionCase(AttentionShape shape) : s(shape) {
    const auto n = [&](int64_t rows) { return size_t(s.batch * rows * s.heads * kCopyHeadDim); };
    // q spread wider than k: a peaked softmax whose running maximum moves often.
    q = normal(n(s.n_q), 1, 0, 1.5);
    k = normal(n(s.n_k), 2);
    v = normal(n(s.n_k), 3);
    key_bias = normal(size_t(s.batch * s.n_k), 4);
    want = attention_reference(q, k, v, key_bias, s, scale);
  }
};

Outcome attention(AttentionBug bug, const AttentionCase& t, int threads, unsigned blocks) {
  DeviceBuffer<float> q(t.q), k(t.k), v(t.v), key_bias(t.key_bias), out(t.want.size());
  const cudaError_t e = exafold::emulation_test::attention(
      bug, q.get(), k.get(), v.get(), key_bias.get(), out.get(), t.s, t.scale, threads, blocks);
  return judge(e, out.to_host(), t.want);
}

// Three key tiles (64 + 64 + 22), two query blocks of 32 rows per (batch entry, head).
const AttentionShape kAttention{3, 40, 150, 2};

// The tensor-core copy's operands: q, k and v rounded to bfloat16, as it loads them, so the
// reference starts from exactly its inputs. Its probabilities are rounded to bfloat16 before
// P V, which moves an output by at most 2^-8 sum_j w_j |v_j| <= 2^-8 max |v| (docs/gpu.md
// "Fused attention"): the correct copy is held to that, relative to the output's scale, plus
// kTolerance; every bug below misses by far more.
struct MmaAttentionCase {
  AttentionCase c;
  double tolerance;
  static std::vector<float> to_bfloat16(std::vector<float> x) {
    for (float& e : x) e = __bfloat162float(__float2bfloat16_rn(e));
    return x;
  }
  explicit MmaAttentionCase(AttentionShape shape) : c(shape) {
    c.q = to_bfloat16(c.q);
    c.k = to_bfloat16(c.k);
    c.v = to_bfloat16(c.v);
    c.want = attention_reference(c.q, c.k, c.v, c.key_bias, c.s, c.scale);
    double v_max = 0, scale = 0;
    for (float x : c.v) v_max = std::max(v_max, double(std::abs(x)));
    for (double y : c.want) scale = std::max(scale, std::abs(y));
    tolerance = 0x1p-8 * v_max / scale + kTolerance;
  }
};

Outcome attention_mma(MmaAttentionBug bug, const MmaAttentionCase& t) {
  const AttentionCase& c = t.c;
  DeviceBuffer<float> q(c.q), k(c.k), v(c.v), key_bias(c.key_bias), out(c.want.size());
  const cudaError_t e = exafold::emulation_test::attention_mma(
      bug, q.get(), k.get(), v.get(), key_bias.get(), out.get(), c.s, c.scale);
  return judge(e, out.to_host(), c.want, t.tolerance);
}

// Three key tiles (64 + 64 + 22); 40 queries: a block of two full warps and one of a partial
// warp and a warp without rows.
TEST_F(Emulation, TensorCoreCopyPassesEveryScheduleAndCatchesItsBugs) {
  const MmaAttentionCase at(kAttention);
  EXPECT_EQ(under_every_schedule("tensor-core attention",
                                 [&] { return attention_mma(MmaAttentionBug::none, at); }),
            kNoSchedule);
  EXPECT_EQ(
      under_every_schedule("tensor-core attention without the output's rescaling",
                           [&] { return attention_mma(MmaAttentionBug::no_output_rescale, at); }),
      kEverySchedule);
  EXPECT_EQ(under_every_schedule(
                "tensor-core attention without __syncwarp between the logits' store and the rows",
                [&] { return attention_mma(MmaAttentionBug::no_syncwarp_after_logits, at); }),
            kEverySchedule);
  // Right on a GPU whose fragments follow PTX mma.m16n8k16's layout (as sm_80 and later are
  // reported to), by luck; the emulation's own mapping makes it wrong everywhere.
  EXPECT_EQ(under_every_schedule(
                "tensor-core attention rescaling fragment elements by the hardware's rows",
                [&] { return attention_mma(MmaAttentionBug::rescale_by_hardware_mapping, at); }),
            kEverySchedule);
}

TEST_F(Emulation, CorrectCopiesPassEverySchedule) {
  const LayerNormCase ln(6, 300, 11), lw(10, 96, 12);
  const AttentionCase at(kAttention);
  EXPECT_EQ(under_every_schedule("layer_norm block rows",
                                 [&] { return block_rows(LayerNormBug::none, ln, 128, 3); }),
            kNoSchedule);
  EXPECT_EQ(under_every_schedule("layer_norm warp rows",
                                 [&] { return warp_rows(LayerNormBug::none, lw, 2); }),
            kNoSchedule);
  EXPECT_EQ(
      under_every_schedule("attention", [&] { return attention(AttentionBug::none, at, 32, 0); }),
      kNoSchedule);
}

TEST_F(Emulation, CatchesTheTileLoopWithoutItsFirstBarrier) {
  const AttentionCase at(kAttention);
  EXPECT_EQ(under_every_schedule(
                "attention without the barrier before a tile load",
                [&] { return attention(AttentionBug::no_barrier_before_tile_load, at, 32, 0); }),
            kEverySchedule);
}

TEST_F(Emulation, CatchesTheTileLoopWithoutItsSecondBarrier) {
  const AttentionCase at(kAttention);
  EXPECT_EQ(under_every_schedule(
                "attention without the barrier after a tile load",
                [&] { return attention(AttentionBug::no_barrier_after_tile_load, at, 32, 0); }),
            kEverySchedule);
}

TEST_F(Emulation, CatchesTheOnlineSoftmaxWithoutItsRescale) {
  const AttentionCase at(kAttention);
  EXPECT_EQ(
      under_every_schedule("attention without sum *= correction",
                           [&] { return attention(AttentionBug::no_sum_rescale, at, 32, 0); }),
      kEverySchedule);
}

TEST_F(Emulation, CatchesTheBlockReductionWithoutItsFirstBarrier) {
  const LayerNormCase ln(6, 300, 11);
  EXPECT_EQ(under_every_schedule(
                "layer_norm block_sum without its first barrier",
                [&] { return block_rows(LayerNormBug::no_first_reduction_barrier, ln, 128, 3); }),
            kEverySchedule);
}

// Without the trailing barrier a warp that finishes a reduction early writes the next one's
// partial sum while slower warps still read this one's. Only an order that lets one warp run
// ahead through a whole reduction shows it: the greedy ones. The sweeps (forward, reverse) run
// every thread to its next stop in turn, so all reads of a reduction happen before any warp's
// next write, as HIP-CPU's fixed order did.
TEST_F(Emulation, CatchesTheBlockReductionWithoutItsTrailingBarrierUnderTheGreedyOrders) {
  const LayerNormCase ln(6, 300, 11);
  const std::vector<bool> caught = under_every_schedule(
      "layer_norm block_sum without its trailing barrier",
      [&] { return block_rows(LayerNormBug::no_trailing_reduction_barrier, ln, 128, 3); });
  EXPECT_TRUE(caught[2]) << "greedy";
  EXPECT_TRUE(caught[3]) << "greedy-reverse";
}

TEST_F(Emulation, CatchesAHalvedWarpReduction) {
  const LayerNormCase lw(10, 96, 12), ln(6, 300, 11);
  EXPECT_EQ(
      under_every_schedule("layer_norm warp_sum over 16 lanes (warp rows)",
                           [&] { return warp_rows(LayerNormBug::halved_warp_reduction, lw, 2); }),
      kEverySchedule);
  EXPECT_EQ(under_every_schedule(
                "layer_norm warp_sum over 16 lanes (block rows)",
                [&] { return block_rows(LayerNormBug::halved_warp_reduction, ln, 128, 3); }),
            kEverySchedule);
}

// Legal CUDA that HIP-CPU ran wrongly: two blocks of four warps stride over 1 to 20 rows, so
// warps loop over different row counts and some exit while others still work; with HIP-CPU 16
// of these 20 launches failed (fibers of one launch resumed by the next, exited warps resumed).
TEST_F(Emulation, GridStrideLoopsWithUnevenWarpsPassEverySchedule) {
  for (int64_t rows = 1; rows <= 20; ++rows) {
    const LayerNormCase lw(rows, 64, uint64_t(100 + rows));
    EXPECT_EQ(under_every_schedule(
                  ("layer_norm warp rows, 2 blocks, rows " + std::to_string(rows)).c_str(),
                  [&] { return warp_rows(LayerNormBug::none, lw, 2); }),
              kNoSchedule);
  }
  const AttentionCase at(kAttention);
  EXPECT_EQ(under_every_schedule("attention, 2 blocks striding over 12 work items",
                                 [&] { return attention(AttentionBug::none, at, 32, 2); }),
            kNoSchedule);
}

// The reads past the end of k and v (the last tile's rows beyond n_k) are never used, so the
// result is right under every schedule; only AddressSanitizer, in the build that has it, sees
// them (heap-buffer-overflow at the load's line).
TEST_F(Emulation, AnUnguardedLoadIsCaughtByAddressSanitizer) {
#if EXAFOLD_EMULATION_ASAN
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const AttentionCase at(kAttention);
  EXPECT_DEATH(attention(AttentionBug::unguarded_key_load, at, 32, 0),
               "heap-buffer-overflow.*attention_copy.cu:[0-9]+");
#else
  GTEST_SKIP() << "needs AddressSanitizer (the ASan + UBSan build runs it): the stray reads "
                  "are unused and fall outside the buffers, where only ASan sees them";
#endif
}

}  // namespace
}  // namespace exafold::emulation_test
