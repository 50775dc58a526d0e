// The allocator interface, its statistics, and the registry of allocators per (device, kind).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "exafold/memory/device.h"

namespace exafold {

/// Obtains and returns whole segments from the system (aligned_alloc, cudaMalloc, ...). Throws
/// OutOfMemory when the system refuses. Implementations need not be thread safe: the caching
/// allocator above them serialises calls.
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p, size_t bytes) = 0;
  /// Bytes the system could still give right now, or SIZE_MAX when unknown.
  virtual size_t available() const { return SIZE_MAX; }
};

struct AllocatorStats {
  size_t in_use = 0;       ///< bytes handed out and not yet freed (rounded sizes)
  size_t peak_in_use = 0;  ///< maximum of in_use since the last reset_peak()
  size_t reserved = 0;     ///< bytes held from the system, in use or cached
  size_t peak_reserved = 0;
  size_t requested = 0;      ///< bytes asked for by live allocations (before rounding)
  uint64_t allocations = 0;  ///< calls to allocate() that succeeded
  uint64_t frees = 0;
  uint64_t cache_hits = 0;     ///< allocations served from cached memory
  uint64_t segments = 0;       ///< live segments obtained from the system
  uint64_t system_allocs = 0;  ///< segments ever obtained from the system
  uint64_t ooms = 0;           ///< allocations that failed
  size_t limit = 0;            ///< cap on reserved bytes; 0 means none
};

/// Hands out memory of one kind on one device. Thread safe.
class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual Device device() const = 0;
  virtual MemoryKind kind() const = 0;
  /// Returns at least `bytes` bytes aligned to alignment(); throws OutOfMemory with the numbers.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p) = 0;
  virtual size_t alignment() const = 0;
  virtual AllocatorStats stats() const = 0;
  virtual void reset_peak() = 0;
  /// Returns cached, unused memory to the system.
  virtual void empty_cache() = 0;
  /// Caps the bytes reserved from the system (0 = no cap); cached memory is released first.
  virtual void set_limit(size_t bytes) = 0;
};

/// The allocator for (device, kind), created on first use. Throws InvalidArgument when the
/// combination does not exist on this machine (for example pinned memory without a GPU).
Allocator& get_allocator(Device device, MemoryKind kind);
/// True when get_allocator(device, kind) would succeed.
bool has_allocator(Device device, MemoryKind kind);
/// Frees cached memory of every allocator created so far.
void empty_all_caches();

/// Makes the test_host device (index 0) available; idempotent. Used by tests only.
void enable_test_device();
bool test_device_enabled();

}  // namespace exafold
