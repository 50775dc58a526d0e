// What a GPU would hang on or leave undefined fails the launch with a report naming the
// kernel, its launch site, the block, the thread and the source line: deadlocks, divergent
// barriers, warp masks that exclude the caller or name exited or missing lanes, lanes waiting
// in different warp intrinsics, bad shuffle widths, __trap(). The failure is CUDA's: the launch
// error cudaErrorLaunchFailure, sticky until cudaDeviceReset.
#include <string>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

std::string at_line(int line) { return "test_runtime_reports.cpp:" + std::to_string(line); }

constexpr int kDeadlockBarrier = __LINE__ + 4;
constexpr int kDeadlockSyncwarp = __LINE__ + 5;
__global__ void deadlock() {
  if (threadIdx.x < 40) {
    __syncthreads();
  } else {
    __syncwarp();  // lanes 8-31 of warp 1 wait here for lanes 0-7, which wait at the barrier
    __syncthreads();
  }
}

TEST_F(Emulation, ReportsADeadlockWithWhereEachThreadWaits) {
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    const int launch_line = __LINE__ + 1;
    EXAFOLD_LAUNCH(2, 64, 0, nullptr, deadlock)();
    expect_launch_failure(
        {"deadlock (launched at " + at_line(launch_line) + ")",
         "deadlock:", "threads 0-39: __syncthreads at " + at_line(kDeadlockBarrier),
         "threads 40-63: __syncwarp (mask 0xffffffff) at " + at_line(kDeadlockSyncwarp)});
  }
}

constexpr int kEvenBarrier = __LINE__ + 4;
constexpr int kOddBarrier = __LINE__ + 5;
__global__ void divergent_barriers() {
  if (threadIdx.x / 32 % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}

TEST_F(Emulation, ReportsThreadsWaitingAtDifferentBarriers) {
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    EXAFOLD_LAUNCH(1, 96, 0, nullptr, divergent_barriers)();
    expect_launch_failure({"divergent_barriers", "wait at different barriers",
                           "threads 0-31: __syncthreads at " + at_line(kEvenBarrier),
                           "threads 32-63: __syncthreads at " + at_line(kOddBarrier),
                           "threads 64-95: __syncthreads at " + at_line(kEvenBarrier)});
  }
}

constexpr int kHalfMaskShuffle = __LINE__ + 2;
__global__ void mask_without_caller(int* out) {
  out[threadIdx.x] = __shfl_sync(0x0000ffffu, int(threadIdx.x), 0);
}

TEST_F(Emulation, ReportsAMaskThatExcludesTheCallingLane) {
  DeviceBuffer<int> out(64);
  emulation::set_schedule({Order::forward, 1});
  EXAFOLD_LAUNCH(1, 64, 0, nullptr, mask_without_caller)(out.get());
  expect_launch_failure({"block (0,0,0)",
                         "thread (16,0,0) [warp 0 lane 16] at " + at_line(kHalfMaskShuffle),
                         "__shfl_sync with mask 0x0000ffff excludes the calling lane 16"});
}

constexpr int kShuffleAfterExit = __LINE__ + 3;
__global__ void mask_names_exited_lane(int* out) {
  if (threadIdx.x % 32 >= 16) return;
  out[threadIdx.x] = __shfl_xor_sync(kFullWarp, int(threadIdx.x), 1);
}

TEST_F(Emulation, ReportsAMaskThatNamesAnExitedLane) {
  DeviceBuffer<int> out(32);
  for (const Schedule& s : kSchedules) {
    SCOPED_TRACE(schedule_name(s));
    emulation::set_schedule(s);
    EXAFOLD_LAUNCH(1, 32, 0, nullptr, mask_names_exited_lane)(out.get());
    // Whether the lanes exit before or after the shuffle waits for them, it names one.
    expect_launch_failure(
        {at_line(kShuffleAfterExit), "__shfl_xor_sync with mask 0xffffffff", ", which has exited"});
  }
}

constexpr int kBallotOfMissingLanes = __LINE__ + 2;
__global__ void mask_names_missing_lane(unsigned* out) {
  out[threadIdx.x] = __ballot_sync(kFullWarp, 1);
}

TEST_F(Emulation, ReportsAMaskThatNamesALaneTheBlockDoesNotHave) {
  DeviceBuffer<unsigned> out(40);
  EXAFOLD_LAUNCH(1, 40, 0, nullptr, mask_names_missing_lane)(out.get());
  expect_launch_failure({at_line(kBallotOfMissingLanes),
                         "names lane 8, which this warp does not have (it has 8 lanes"});
}

constexpr int kEvenLanesShuffle = __LINE__ + 3;
__global__ void different_warp_intrinsics(unsigned* out) {
  if (threadIdx.x % 2 == 0)
    out[threadIdx.x] = unsigned(__shfl_xor_sync(kFullWarp, int(threadIdx.x), 2));
  else
    out[threadIdx.x] = __ballot_sync(kFullWarp, 1);
}

TEST_F(Emulation, ReportsLanesWaitingForEachOtherInDifferentIntrinsics) {
  DeviceBuffer<unsigned> out(32);
  emulation::set_schedule({Order::forward, 1});
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, different_warp_intrinsics)(out.get());
  expect_launch_failure(
      {"thread (1,0,0)",
       "lanes of one warp wait for each other in different "
       "warp intrinsics: this lane in __ballot_sync",
       "lane 0 in __shfl_xor_sync (mask 0xffffffff, 4 bytes) at " + at_line(kEvenLanesShuffle)});
}

constexpr int kBadWidth = __LINE__ + 2;
__global__ void shuffle_width_not_a_power_of_two(int* out) {
  out[threadIdx.x] = __shfl_down_sync(kFullWarp, 1, 1, 12);
}

constexpr int kTrap = __LINE__ + 2;
__global__ void traps(int* out) {
  if (blockIdx.x == 3 && threadIdx.x == 5) __trap();
  out[threadIdx.x] = 0;
}

TEST_F(Emulation, ReportsBadShuffleWidthsAndTraps) {
  DeviceBuffer<int> out(32);
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, shuffle_width_not_a_power_of_two)(out.get());
  expect_launch_failure({at_line(kBadWidth), "width 12: not a power of two"});
  EXAFOLD_LAUNCH(8, 32, 0, nullptr, traps)(out.get());
  expect_launch_failure({"block (3,0,0)", "thread (5,0,0)", at_line(kTrap) + ": __trap()"});
}

__global__ void fill(int value, int* out) { out[threadIdx.x] = value; }

TEST_F(Emulation, ALaunchFailureIsStickyUntilTheDeviceIsReset) {
  DeviceBuffer<int> out(std::vector<int>(32, 0));
  ::testing::internal::CaptureStderr();
  EXAFOLD_LAUNCH(1, 64, 0, nullptr, deadlock)();
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(printed.find("exafold CUDA emulation: launch failed: deadlock"), std::string::npos)
      << printed;
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  // As on a GPU whose context a kernel broke, later calls fail and later kernels do not run.
  void* p = nullptr;
  EXPECT_EQ(cudaMalloc(&p, 16), cudaErrorLaunchFailure);
  EXPECT_EQ(cudaStreamSynchronize(cudaStreamPerThread), cudaErrorLaunchFailure);
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, fill)(7, out.get());
  EXPECT_EQ(cudaGetLastError(), cudaErrorLaunchFailure);
  // Device memory is host memory: read directly, as a copy would fail too.
  EXPECT_EQ(std::vector<int>(out.get(), out.get() + 32), std::vector<int>(32, 0));
  // The error's text carries the report, so an exception built from it says what went wrong.
  const std::string text = cudaGetErrorString(cudaErrorLaunchFailure);
  EXPECT_NE(text.find("unspecified launch failure (CPU emulation: deadlock"), std::string::npos)
      << text;
  cudaDeviceReset();
  EXAFOLD_LAUNCH(1, 32, 0, nullptr, fill)(7, out.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  EXPECT_EQ(out.to_host(), std::vector<int>(32, 7));
}

}  // namespace
}  // namespace exafold::emulation_test
