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
