#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/memory/caching_allocator.h"

namespace exafold {
namespace {

constexpr size_t MiB = 1 << 20;

/// A host allocator that counts what it hands out, so tests see the system side too.
class CountingRaw final : public RawAllocator {
 public:
  explicit CountingRaw(size_t* live) : live_(live) {}
  void* allocate(size_t bytes) override {
    *live_ += bytes;
    return inner_->allocate(bytes);
  }
  void deallocate(void* p, size_t bytes) override {
    *live_ -= bytes;
    inner_->deallocate(p, bytes);
  }

 private:
  size_t* live_;
  std::unique_ptr<RawAllocator> inner_ = make_host_raw_allocator();
};

CachingAllocator make(size_t* live) {
  return CachingAllocator(Device::cpu(), MemoryKind::host, std::make_unique<CountingRaw>(live));
}

TEST(CachingAllocator, ReusesFreedBlocksAndCountsHits) {
  size_t live = 0;
  auto a = make(&live);
  void* p = a.allocate(1000);
  EXPECT_EQ(a.stats().in_use, 1024u);  // rounded to 512-byte multiples
  EXPECT_EQ(a.stats().requested, 1000u);
  EXPECT_EQ(a.stats().reserved, 2 * MiB);  // one small segment
  EXPECT_EQ(live, 2 * MiB);
  a.deallocate(p);
  EXPECT_EQ(a.stats().in_use, 0u);
  void* q = a.allocate(1000);
  EXPECT_EQ(q, p);
  AllocatorStats s = a.stats();
  EXPECT_EQ(s.allocations, 2u);
  EXPECT_EQ(s.frees, 1u);
  EXPECT_EQ(s.system_allocs, 1u);
  EXPECT_GE(s.cache_hits, 1u);
  a.deallocate(q);
}

TEST(CachingAllocator, SplitsAndMergesWithinASegment) {
  size_t live = 0;
  auto a = make(&live);
  void* x = a.allocate(4096);
  void* y = a.allocate(4096);
  void* z = a.allocate(4096);
  EXPECT_EQ(static_cast<char*>(y) - static_cast<char*>(x), 4096);
  EXPECT_EQ(static_cast<char*>(z) - static_cast<char*>(y), 4096);
  EXPECT_EQ(a.stats().segments, 1u);
  a.deallocate(y);
  a.deallocate(x);  // merges with y
  void* xy = a.allocate(8192);
  EXPECT_EQ(xy, x);  // the merged block is found again
  a.deallocate(xy);
  a.deallocate(z);  // whole segment free again
  a.empty_cache();
  EXPECT_EQ(a.stats().reserved, 0u);
  EXPECT_EQ(live, 0u);
}

TEST(CachingAllocator, LargeRequestsUseTheirOwnPool) {
  size_t live = 0;
  auto a = make(&live);
  void* small = a.allocate(1000);
  void* large = a.allocate(3 * MiB);
  EXPECT_EQ(a.stats().segments, 2u);
  EXPECT_EQ(a.stats().reserved, 2 * MiB + 20 * MiB);
  void* huge = a.allocate(50 * MiB + 1);  // own segment, rounded to 2 MiB
  EXPECT_EQ(a.stats().reserved, 2 * MiB + 20 * MiB + 52 * MiB);
  a.deallocate(small);
  a.deallocate(large);
  a.deallocate(huge);
  EXPECT_EQ(a.stats().in_use, 0u);
  EXPECT_EQ(a.stats().peak_in_use, 1024u + 3 * MiB + 50 * MiB + 512);
}

TEST(CachingAllocator, LimitGivesOutOfMemoryWithTheNumbers) {
  size_t live = 0;
  auto a = make(&live);
  a.set_limit(8 * MiB);
  void* p = a.allocate(5 * MiB);  // 20 MiB segment would exceed: exact-size fallback
  EXPECT_LE(a.stats().reserved, 8 * MiB);
  try {
    a.allocate(4 * MiB);
    FAIL() << "expected OutOfMemory";
  } catch (const OutOfMemory& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("tried to allocate 4.00 MiB (4194304 bytes)"), std::string::npos) << m;
    EXPECT_NE(m.find("5.00 MiB (5242880 bytes) in use"), std::string::npos) << m;
    EXPECT_NE(m.find("limit 8.00 MiB"), std::string::npos) << m;
  }
  EXPECT_EQ(a.stats().ooms, 1u);
  a.deallocate(p);
  void* q = a.allocate(7 * MiB);  // the cached 5 MiB segment is released to make room
  EXPECT_LE(a.stats().reserved, 8 * MiB);
  a.deallocate(q);
}

// Note [Private pools]: what a pool had stays its own until it is released, whoever frees it,
// and while a pool is routed to nothing goes back to the system.
TEST(CachingAllocator, PrivatePoolsKeepTheirMemoryUntilReleased) {
  size_t live = 0;
  auto a = make(&live);
  void* shared = a.allocate(1000);
  a.deallocate(shared);  // a free shared block that fits what the pool asks for next
  const int pool = a.create_pool();
  a.use_pool(pool);
  void* in_pool = a.allocate(1000);
  EXPECT_NE(in_pool, shared) << "a pool took a shared block";
  void* kept = a.allocate(3 * MiB);  // an output that outlives the routing
  void* temp = a.allocate(1000);
  a.deallocate(temp);
  void* again = a.allocate(1000);
  EXPECT_EQ(again, temp) << "a pool reuses its own freed blocks";
  a.empty_cache();  // refused while a pool is routed to
  EXPECT_EQ(a.stats().segments, 3u);
  a.use_pool(0);
  EXPECT_EQ(a.pool_reserved(pool), 2 * MiB + 20 * MiB);
  a.deallocate(in_pool);  // freed from the shared routing: back to the pool
  void* reused = a.allocate(1000);
  EXPECT_EQ(reused, shared) << "the shared pool was handed the pool's block";
  // Another thread's allocations take the shared pool whatever this one is routed to.
  a.use_pool(pool);
  void* other = nullptr;
  std::thread([&] { other = a.allocate(1000); }).join();
  a.use_pool(0);
  EXPECT_NE(other, in_pool);
  EXPECT_THROW(a.use_pool(pool + 1), InvalidArgument);
  a.release_pool(pool);
  EXPECT_EQ(a.pool_reserved(pool), 0u);
  void* after = a.allocate(1000);
  EXPECT_EQ(after, in_pool) << "the released pool's free blocks are shared";
  a.deallocate(kept);  // a released pool's live block frees into the shared pool
  EXPECT_EQ(a.allocate(3 * MiB), kept);
  EXPECT_THROW(a.release_pool(pool), InvalidArgument);
  for (void* p : {again, reused, other, after, kept}) a.deallocate(p);
}

TEST(CachingAllocator, ConcurrentAllocateAndFree) {
  size_t live = 0;
  auto a = make(&live);
  constexpr int kThreads = 8, kIters = 3000;
  std::vector<std::thread> threads;
  std::atomic<int> corrupt{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng{unsigned(t)};
      std::vector<std::pair<unsigned char*, size_t>> mine;
      for (int i = 0; i < kIters; ++i) {
        if (mine.size() < 16 && rng() % 3 != 0) {
          size_t n = 1 + rng() % (rng() % 8 == 0 ? 3 * MiB : 20000);
          auto* p = static_cast<unsigned char*>(a.allocate(n));
          std::memset(p, t + 1, n);
          mine.emplace_back(p, n);
        } else if (!mine.empty()) {
          auto [p, n] = mine.back();
          mine.pop_back();
          for (size_t k = 0; k < n; k += 97)
            if (p[k] != t + 1) corrupt++;
          a.deallocate(p);
        }
      }
      for (auto [p, n] : mine) a.deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(corrupt.load(), 0);
  AllocatorStats s = a.stats();
  EXPECT_EQ(s.in_use, 0u);
  EXPECT_EQ(s.allocations, s.frees);
  a.empty_cache();
  EXPECT_EQ(live, 0u);
}

}  // namespace
}  // namespace exafold
