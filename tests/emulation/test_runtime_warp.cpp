// The warp intrinsics on 32 lanes, against the semantics the CUDA Programming Guide states for
// each (written out independently below), for every width, offset and source lane; partial
// masks and partial warps; votes, matches and reductions; __syncwarp ordering memory.
#include <cuda_bf16.h>

#include <cstdint>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

constexpr int kWidths[] = {1, 2, 4, 8, 16, 32};
constexpr int kSources = 41;  // source lanes 0..40: beyond 31 they wrap within the segment
constexpr int kDeltas = 33;   // 0..32
constexpr int kXorMasks = 32;
constexpr int kCasesPerWidth = kSources + 2 * kDeltas + kXorMasks;

int value_of(int lane) { return lane * 10 + 1; }

// The Programming Guide's rules: __shfl_sync reads lane srcLane % width of the caller's
// segment; __shfl_up_sync reads lane - delta unless that leaves the segment, and
// __shfl_down_sync lane + delta; __shfl_xor_sync reads lane ^ laneMask unless that lies in a
// later segment. Where the source is invalid the caller's own value is returned.
std::vector<int> expected_shuffles() {
  std::vector<int> want;
  for (int width : kWidths)
    for (int lane_case = 0; lane_case < kCasesPerWidth; ++lane_case)
      for (int lane = 0; lane < 32; ++lane) {
        const int segment = lane / width * width;
        int src = lane;
        if (lane_case < kSources) {
          src = segment + lane_case % width;
        } else if (lane_case < kSources + kDeltas) {
          const int delta = lane_case - kSources;
          if (lane - segment >= delta) src = lane - delta;
        } else if (lane_case < kSources + 2 * kDeltas) {
          const int delta = lane_case - kSources - kDeltas;
          if (lane - segment + delta < width) src = lane + delta;
        } else {
          const int x = lane ^ (lane_case - kSources - 2 * kDeltas);
          if (x < segment + width) src = x;
        }
        want.push_back(value_of(src));
      }
  return want;
}

__global__ void all_shuffles(int* out) {
  const int lane = int(threadIdx.x), v = lane * 10 + 1;
  int i = 0;
  for (int width : kWidths) {
    for (int s = 0; s < kSources; ++s) out[32 * i++ + lane] = __shfl_sync(kFullWarp, v, s, width);
    for (int d = 0; d < kDeltas; ++d)
      out[32 * i++ + lane] = __shfl_up_sync(kFullWarp, v, unsigned(d), width);
    for (int d = 0; d < kDeltas; ++d)
      out[32 * i++ + lane] = __shfl_down_sync(kFullWarp, v, unsigned(d), width);
    for (int m = 0; m < kXorMasks; ++m)
      out[32 * i++ + lane] = __shfl_xor_sync(kFullWarp, v, m, width);
  }
}

TEST_F(Emulation, ShufflesFollowTheProgrammingGuideForEveryWidthAndOffset) {
  const std::vector<int> want = expected_shuffles();
  DeviceBuffer<int> out(want.size());
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    EXAFOLD_LAUNCH(1, 32, 0, nullptr, all_shuffles)(out.get());
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(out.to_host(), want);
  }
}

// 8-byte and 2-byte values move whole; lanes of a second warp shuffle among themselves.
__global__ void wide_and_narrow(double* d, long long* ll, float* bf) {
  const int t = int(threadIdx.x), lane = t % 32;
  d[t] = __shfl_xor_sync(kFullWarp, double(t) + 0.25, 1);
  ll[t] = __shfl_down_sync(kFullWarp, (long long)(t) << 40, 3);
  bf[t] = __bfloat162float(__shfl_sync(kFullWarp, __float2bfloat16_rn(float(t)), 31 - lane));
}

TEST_F(Emulation, ShufflesMoveEightAndTwoByteValuesWithinEachWarp) {
  DeviceBuffer<double> d(64);
  DeviceBuffer<long long> ll(64);
  DeviceBuffer<float> bf(64);
  EXAFOLD_LAUNCH(1, 64, 0, nullptr, wide_and_narrow)(d.get(), ll.get(), bf.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const auto vd = d.to_host();
  const auto vll = ll.to_host();
  const auto vbf = bf.to_host();
  for (int t = 0; t < 64; ++t) {
    const int lane = t % 32, base = t - lane;
    EXPECT_EQ(vd[size_t(t)], double(t ^ 1) + 0.25);
    EXPECT_EQ(vll[size_t(t)], (long long)(lane + 3 < 32 ? t + 3 : t) << 40);
    EXPECT_EQ(vbf[size_t(t)], float(base + 31 - lane));
  }
}

// Only lanes 0-15 take part: lanes 8-15 read lanes 16-23, outside the mask, which the hardware
// leaves undefined and the emulation fills with all ones (-1).
__global__ void half_warp(int* out) {
  const int lane = int(threadIdx.x);
  if (lane < 16) out[lane] = __shfl_down_sync(0x0000ffffu, lane, 8);
}

TEST_F(Emulation, ReadsFromLanesOutsideTheMaskAreAllOnes) {
  DeviceBuffer<int> out(16);
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, half_warp)(out.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const auto v = out.to_host();
  for (int lane = 0; lane < 16; ++lane) EXPECT_EQ(v[size_t(lane)], lane < 8 ? lane + 8 : -1);
}

// A block of 48 threads: its second warp has 16 lanes, which is all its mask may name.
__global__ void partial_warp(unsigned* ballot, int* exchanged) {
  const unsigned t = threadIdx.x;
  const unsigned mask = t < 32 ? kFullWarp : 0x0000ffffu;
  ballot[t] = __ballot_sync(mask, 1);
  exchanged[t] = __shfl_xor_sync(mask, int(t), 8);
}

TEST_F(Emulation, APartialLastWarpHasOnlyItsLanes) {
  DeviceBuffer<unsigned> ballot(48);
  DeviceBuffer<int> exchanged(48);
  EXAFOLD_LAUNCH(1, 48, 0, nullptr, partial_warp)(ballot.get(), exchanged.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const auto b = ballot.to_host();
  const auto x = exchanged.to_host();
  for (int t = 0; t < 48; ++t) {
    EXPECT_EQ(b[size_t(t)], t < 32 ? kFullWarp : 0x0000ffffu);
    EXPECT_EQ(x[size_t(t)], t ^ 8);
  }
}

__global__ void votes_and_reductions(unsigned* out) {
  const int lane = int(threadIdx.x);
  unsigned* o = out + 16 * lane;
  o[0] = __ballot_sync(kFullWarp, lane % 3 == 0);
  o[1] = unsigned(__all_sync(kFullWarp, lane < 32));
  o[2] = unsigned(__all_sync(kFullWarp, lane != 7));
  o[3] = unsigned(__any_sync(kFullWarp, lane == 31));
  o[4] = unsigned(__any_sync(kFullWarp, 0));
  o[5] = __match_any_sync(kFullWarp, lane % 4);
  int equal = -1;
  o[6] = __match_all_sync(kFullWarp, 5.0f, &equal);
  o[7] = unsigned(equal);
  o[8] = __match_all_sync(kFullWarp, lane / 16, &equal);
  o[9] = unsigned(equal);
  o[10] = __reduce_add_sync(kFullWarp, unsigned(lane));
  o[11] = unsigned(__reduce_min_sync(kFullWarp, 10 - lane));
  o[12] = unsigned(__reduce_max_sync(kFullWarp, 10 - lane));
  o[13] = __reduce_and_sync(kFullWarp, 0xf0u | unsigned(lane));
  o[14] = __reduce_or_sync(kFullWarp, 1u << lane);
  o[15] = __reduce_xor_sync(kFullWarp, unsigned(lane));
}

TEST_F(Emulation, VotesMatchesAndReductionsCoverTheMask) {
  DeviceBuffer<unsigned> out(32 * 16);
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, votes_and_reductions)(out.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const auto v = out.to_host();
  for (unsigned lane = 0; lane < 32; ++lane) {
    const unsigned* o = &v[16 * lane];
    EXPECT_EQ(o[0], 0x49249249u);  // lanes 0, 3, ..., 30
    EXPECT_EQ(o[1], 1u);
    EXPECT_EQ(o[2], 0u);
    EXPECT_EQ(o[3], 1u);
    EXPECT_EQ(o[4], 0u);
    EXPECT_EQ(o[5], 0x11111111u << (lane % 4));
    EXPECT_EQ(o[6], kFullWarp);
    EXPECT_EQ(o[7], 1u);
    EXPECT_EQ(o[8], 0u);
    EXPECT_EQ(o[9], 0u);
    EXPECT_EQ(o[10], 496u);          // 0 + ... + 31
    EXPECT_EQ(int(o[11]), 10 - 31);  // signed minimum
    EXPECT_EQ(int(o[12]), 10);
    EXPECT_EQ(o[13], 0xf0u);
    EXPECT_EQ(o[14], kFullWarp);
    EXPECT_EQ(o[15], 0u);  // each bit set by an even number of lanes
  }
}

// Lanes exchange data through shared memory: with __syncwarp between the writes and the reads
// every schedule gives the same answer; without it, reads run ahead of the writes, as nothing
// else makes the lanes of a warp wait for each other.
template <bool kSync>
__global__ void neighbour_through_shared(int base, int* out) {
  __shared__ int s[32];
  const int lane = int(threadIdx.x);
  s[lane] = lane + base;
  if (kSync) __syncwarp();
  out[lane] = s[(lane + 1) % 32];
  if (kSync) __syncwarp();
}

TEST_F(Emulation, SyncwarpOrdersSharedMemoryBetweenLanes) {
  DeviceBuffer<int> out(32);
  int base = 0;
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    for (const bool sync : {true, false}) {
      // A new base each launch, so what an earlier block left in the shared array never
      // passes for this launch's values.
      base += 100;
      std::vector<int> want(32);
      for (int lane = 0; lane < 32; ++lane) want[size_t(lane)] = (lane + 1) % 32 + base;
      if (sync)
        EXAFOLD_LAUNCH(1, 32, 0, nullptr, neighbour_through_shared<true>)(base, out.get());
      else
        EXAFOLD_LAUNCH(1, 32, 0, nullptr, neighbour_through_shared<false>)(base, out.get());
      ASSERT_EQ(cudaGetLastError(), cudaSuccess);
      // Without the sync, each thread runs from its write to its read without a pause, so the
      // first to run reads a neighbour's slot before the neighbour has written it.
      if (sync)
        EXPECT_EQ(out.to_host(), want);
      else
        EXPECT_NE(out.to_host(), want);
    }
  }
}

}  // namespace
}  // namespace exafold::emulation_test
