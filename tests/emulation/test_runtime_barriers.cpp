// __syncthreads as the hardware counts it: arrivals against the threads that have not exited,
// exited threads never resumed, the counting variants, and one launch's threads never running
// in another. Each case holds under every schedule.
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

// Threads from `live` on return at once; the others meet at two barriers and count themselves
// after each. A runtime that still counted (or resumed) the exited threads would hang, or count
// them.
__global__ void count_after_barriers(int live, int* first, int* second) {
  if (int(threadIdx.x) >= live) return;
  __syncthreads();
  atomicAdd(first, 1);
  __syncthreads();
  atomicAdd(second, 1);
}

// Warps other than the first exit at once; the first loops over barriers, then each of its
// threads adds one (HIP-CPU resumed the exited warps at each barrier and counted them again).
__global__ void first_warp_loops(int rounds, int* total) {
  if (threadIdx.x >= 32) return;
  for (int r = 0; r < rounds; ++r) __syncthreads();
  atomicAdd(total, 1);
}

TEST_F(Emulation, ExitedThreadsAreNotCountedAtBarriers) {
  DeviceBuffer<int> counts(std::vector<int>(3, 0));
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    ASSERT_EQ(cudaMemset(counts.get(), 0, 3 * sizeof(int)), cudaSuccess);
    EXAFOLD_LAUNCH(3, 96, 0, nullptr, count_after_barriers)(37, counts.get(), counts.get() + 1);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    EXAFOLD_LAUNCH(2, 128, 0, nullptr, first_warp_loops)(10, counts.get() + 2);
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(counts.to_host(), (std::vector<int>{3 * 37, 3 * 37, 2 * 32}));
  }
}

__global__ void barrier_variants(int* out) {
  const int t = int(threadIdx.x);
  out[0 * 100 + t] = __syncthreads_count(t % 3 == 0);
  out[1 * 100 + t] = __syncthreads_and(t < 100);
  out[2 * 100 + t] = __syncthreads_and(t != 57);
  out[3 * 100 + t] = __syncthreads_or(t == 99);
  out[4 * 100 + t] = __syncthreads_or(0);
}

TEST_F(Emulation, BarrierVariantsCombinePredicatesOverTheBlock) {
  DeviceBuffer<int> out(500);
  EXAFOLD_LAUNCH(1, 100, 0, nullptr, barrier_variants)(out.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  const std::vector<int> v = out.to_host();
  for (int t = 0; t < 100; ++t) {
    EXPECT_EQ(v[size_t(0 * 100 + t)], 34);  // 0, 3, ..., 99
    EXPECT_EQ(v[size_t(1 * 100 + t)], 1);
    EXPECT_EQ(v[size_t(2 * 100 + t)], 0);
    EXPECT_EQ(v[size_t(3 * 100 + t)], 1);
    EXPECT_EQ(v[size_t(4 * 100 + t)], 0);
  }
}

// Each block's __shared__ array is its own, although blocks run at once on several OS threads
// and one after another on each.
__global__ void block_owns_shared(int* mismatches) {
  __shared__ unsigned owner[64];
  owner[threadIdx.x] = blockIdx.x;
  __syncthreads();
  for (int i = 0; i < 64; ++i)
    if (owner[i] != blockIdx.x) atomicAdd(mismatches, 1);
  __syncthreads();
}

TEST_F(Emulation, StaticSharedMemoryBelongsToTheRunningBlock) {
  DeviceBuffer<int> mismatches(std::vector<int>{0});
  EXAFOLD_LAUNCH(200, 64, 0, nullptr, block_owns_shared)(mismatches.get());
  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(mismatches.to_host()[0], 0);
}

// Warps of one block take different numbers of turns through a loop of warp syncs, in launches
// of different sizes one after another: every launch must finish all of its threads before it
// returns, and none of them may run in the next launch.
__global__ void uneven_warps(int launch, int* done) {
  const int warp = int(threadIdx.x) / 32;
  for (int r = 0; r <= warp; ++r) __syncwarp();
  atomicAdd(&done[launch], 1);
}

TEST_F(Emulation, EachLaunchRunsOnlyItsOwnThreadsToTheirEnd) {
  constexpr int kLaunches = 20;
  DeviceBuffer<int> done(std::vector<int>(kLaunches, 0));
  for (int l = 0; l < kLaunches; ++l) {
    EXAFOLD_LAUNCH(1 + l % 3, 32 * (1 + l % 4), 0, nullptr, uneven_warps)(l, done.get());
    ASSERT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_EQ(done.to_host()[size_t(l)], (1 + l % 3) * 32 * (1 + l % 4)) << "launch " << l;
  }
}

}  // namespace
}  // namespace exafold::emulation_test
