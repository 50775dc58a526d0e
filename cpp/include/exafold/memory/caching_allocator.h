// A caching allocator over a RawAllocator: size classes, best fit, splitting and merging.
#pragma once

#include <memory>

#include "exafold/memory/allocator.h"

namespace exafold {

/// See the policy list at the top of caching_allocator.cpp.
class CachingAllocator final : public Allocator {
 public:
  CachingAllocator(Device device, MemoryKind kind, std::unique_ptr<RawAllocator> raw);
  ~CachingAllocator() override;

  Device device() const override;
  MemoryKind kind() const override;
  void* allocate(size_t bytes) override;
  void deallocate(void* p) override;
  size_t alignment() const override;
  AllocatorStats stats() const override;
  void reset_peak() override;
  void empty_cache() override;
  void set_limit(size_t bytes) override;

  /// Rounded size an allocation of `bytes` occupies.
  static size_t round_size(size_t bytes);

  /// Note [Private pools]: a CUDA graph replays the addresses its capture recorded, so the
  /// memory its work used must stay the graph's while it lives (PyTorch's graph pools). A
  /// private pool has segments of its own: allocations routed to it (use_pool, on the calling
  /// thread) take only its blocks and make its segments, and its blocks, when freed, return to
  /// it whoever frees them, so no other allocation is ever handed the graph's memory. While any
  /// pool is routed to, no segment goes back to the system (a capture may not free device
  /// memory). release_pool hands the pool's segments to the shared pool: free blocks at once,
  /// blocks still in use when they are freed.
  /// A new, empty pool's id (> 0).
  int create_pool();
  /// Routes this thread's allocations to pool `id`, or back to the shared pool with 0.
  void use_pool(int id);
  void release_pool(int id);
  /// Bytes of segments pool `id` holds (0: the shared pool).
  size_t pool_reserved(int id) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Pageable host memory, 64-byte aligned (std::aligned_alloc).
std::unique_ptr<RawAllocator> make_host_raw_allocator();
/// Addresses without memory, for the meta device: every segment gets fresh, never mapped
/// addresses, so the caching allocator above it counts and places exactly as it would for real.
std::unique_ptr<RawAllocator> make_meta_raw_allocator();

}  // namespace exafold
