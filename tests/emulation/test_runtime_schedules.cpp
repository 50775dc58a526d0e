// The scheduling orders: each runs a block's threads in its own documented sequence, the random
// one reproducibly from its seed, and the environment variable chooses among them.
#include <cstdlib>
#include <vector>

#include "emulation_test_util.h"

namespace exafold::emulation_test {
namespace {

// Two warps; each thread takes a ticket, meets its warp at __syncwarp, takes another. The
// tickets record the order in which threads passed each point.
__global__ void tickets(unsigned* counter, unsigned* out) {
  const unsigned t = threadIdx.x;
  out[2 * t] = atomicAdd(counter, 1u);
  __syncwarp();
  out[2 * t + 1] = atomicAdd(counter, 1u);
}

std::vector<unsigned> run_tickets(Schedule s) {
  emulation::set_schedule(s);
  DeviceBuffer<unsigned> counter(std::vector<unsigned>{0}), out(128);
  EXAFOLD_LAUNCH(1, 64, 0, nullptr, tickets)(counter.get(), out.get());
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
  return out.to_host();
}

// The sequences the orders promise (emulation/schedule.h), written out per thread t.
std::vector<unsigned> expected_tickets(Order order) {
  std::vector<unsigned> v(128);
  for (unsigned t = 0; t < 64; ++t) {
    unsigned before = 0, after = 0;
    const bool warp0 = t < 32;
    switch (order) {
      case Order::forward:  // sweeps 0..63 to the sync, then 0..63 to the end
        before = t, after = 64 + t;
        break;
      case Order::reverse:  // sweeps 63..0, twice
        before = 63 - t, after = 127 - t;
        break;
      case Order::greedy:  // warp 0 to its end, then warp 1
        before = warp0 ? t : 32 + t, after = warp0 ? 32 + t : 64 + t;
        break;
      case Order::greedy_reverse:  // warp 1 to its end (lanes high to low), then warp 0
        before = warp0 ? 95 - t : 63 - t, after = warp0 ? 127 - t : 95 - t;
        break;
      case Order::random:
        break;
    }
    v[2 * t] = before;
    v[2 * t + 1] = after;
  }
  return v;
}

TEST_F(Emulation, EachOrderRunsThreadsInItsOwnSequence) {
  std::vector<std::vector<unsigned>> seen;
  for (const Order o : {Order::forward, Order::reverse, Order::greedy, Order::greedy_reverse}) {
    SCOPED_TRACE(emulation::order_name(o));
    seen.push_back(run_tickets({o, 1}));
    EXPECT_EQ(seen.back(), expected_tickets(o));
  }
  // The random order is none of those, and it is a valid order: every thread takes its first
  // ticket before any lane of its warp takes a second.
  const std::vector<unsigned> random = run_tickets({Order::random, 7});
  for (const auto& other : seen) EXPECT_NE(random, other);
  for (unsigned warp = 0; warp < 2; ++warp)
    for (unsigned a = 32 * warp; a < 32 * warp + 32; ++a)
      for (unsigned b = 32 * warp; b < 32 * warp + 32; ++b)
        EXPECT_LT(random[2 * a], random[2 * b + 1]);
}

TEST_F(Emulation, TheRandomOrderFollowsItsSeed) {
  // A block's random order depends on the seed, the launch's sequence number and the block.
  const auto at_launch = [](uint64_t sequence, uint64_t seed) {
    emulation::launches() = sequence;
    return run_tickets({Order::random, seed});
  };
  EXPECT_EQ(at_launch(1000, 7), at_launch(1000, 7));
  EXPECT_NE(at_launch(1000, 7), at_launch(1000, 8));
  EXPECT_NE(at_launch(1000, 7), at_launch(1001, 7));
}

// Warp 1 sets a flag after its shuffle; warp 0 reads it after its own. A shuffle waits only for
// its mask's lanes, so which warp runs first decides what warp 0 reads: the race shows.
__global__ void flag_across_warps(int* flag, int* seen) {
  const int warp = int(threadIdx.x) / 32;
  const int v = __shfl_xor_sync(kFullWarp, int(threadIdx.x), 1);
  if (warp == 1 && v == 33) *flag = 1;  // lane 0 of warp 1 (it received lane 1's index)
  if (warp == 0) seen[threadIdx.x] = *flag;
}

TEST_F(Emulation, AShuffleDoesNotWaitForOtherWarps) {
  const auto seen_under = [](Order o) {
    emulation::set_schedule({o, 1});
    DeviceBuffer<int> flag(std::vector<int>{0}), seen(32);
    EXAFOLD_LAUNCH(1, 64, 0, nullptr, flag_across_warps)(flag.get(), seen.get());
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    return seen.to_host();
  };
  EXPECT_EQ(seen_under(Order::greedy), std::vector<int>(32, 0));
  EXPECT_EQ(seen_under(Order::greedy_reverse), std::vector<int>(32, 1));
}

TEST(EmulationSchedule, ParsesTheNamesTheEnvironmentTakes) {
  Schedule s;
  ASSERT_TRUE(emulation::parse_schedule("forward", s));
  EXPECT_EQ(s.order, Order::forward);
  ASSERT_TRUE(emulation::parse_schedule("greedy-reverse", s));
  EXPECT_EQ(s.order, Order::greedy_reverse);
  ASSERT_TRUE(emulation::parse_schedule("random:12345", s));
  EXPECT_EQ(s.order, Order::random);
  EXPECT_EQ(s.seed, 12345u);
  for (const char* bad : {"", "Forward", "greedy_reverse", "random:", "random:x", "random:1x"})
    EXPECT_FALSE(emulation::parse_schedule(bad, s)) << bad;
}

// In a child process (the threadsafe death-test style starts a fresh one), the variable decides
// the schedule, and a misspelt one stops the program rather than testing under a default.
TEST(EmulationSchedule, TheEnvironmentChoosesTheSchedule) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("EXAFOLD_EMULATION_SCHEDULE", "greedy-reverse", 1);
        std::exit(emulation::schedule().order == Order::greedy_reverse ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_DEATH(
      {
        setenv("EXAFOLD_EMULATION_SCHEDULE", "sideways", 1);
        emulation::schedule();
      },
      "EXAFOLD_EMULATION_SCHEDULE='sideways' is not one of");
}

}  // namespace
}  // namespace exafold::emulation_test
