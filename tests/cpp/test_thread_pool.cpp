#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"

namespace exafold {
namespace {

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  ThreadPool pool(4);
  for (int64_t n : {1, 7, 100, 10007}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, 3, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, ExceptionsReachTheCaller) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallel_for(100, 1,
                                 [](int64_t b, int64_t) {
                                   if (b >= 50) fail("boom");
                                 }),
               InvalidArgument);
  auto f = pool.submit([] { fail<IoError>("io"); });
  EXPECT_THROW(f.get(), IoError);
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  pool.parallel_for(8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, 1, [&](int64_t bb, int64_t ee) { total += ee - bb; });
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(ThreadPool, ThreadCountFromEnvironment) {
  setenv("EXAFOLD_NUM_THREADS", "3", 1);
  EXPECT_EQ(num_threads_from_env(), 3);
  setenv("EXAFOLD_NUM_THREADS", "zero", 1);
  EXPECT_THROW(num_threads_from_env(), InvalidArgument);
  setenv("EXAFOLD_NUM_THREADS", "0", 1);
  EXPECT_THROW(num_threads_from_env(), InvalidArgument);
  unsetenv("EXAFOLD_NUM_THREADS");
  EXPECT_GE(num_threads_from_env(), 1);
  EXPECT_THROW(ThreadPool(0), InvalidArgument);
}

}  // namespace
}  // namespace exafold
