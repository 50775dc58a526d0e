#include "exafold/memory/caching_allocator.h"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "exafold/core/error.h"
#include "exafold/memory/format.h"

// Policy (after PyTorch's CUDA caching allocator):
// - Sizes round up to multiples of 512 bytes.
// - Requests up to 1 MiB are "small" and come from 2 MiB segments; larger ones are "large" and
//   come from 20 MiB segments below 10 MiB, else from a segment of their own (2 MiB multiple).
//   Keeping the two apart stops short-lived small tensors from fragmenting large blocks.
// - A request takes the best-fitting free block of its pool (smallest size, then lowest
//   address); the rest is split off when at least 512 bytes (small) or over 1 MiB (large).
// - Freed blocks merge with free neighbours of the same segment.
// - Fallback ladder when no cached block fits: a new segment; else release every wholly free
//   segment and try again; else a segment of exactly the rounded size (so a tight limit can
//   still be met); else OutOfMemory with the numbers.
// - Private pools (Note [Private pools] in the header): blocks carry their pool; a pool's free
//   blocks serve only allocations routed to it.
// - Locking: every public method takes the mutex once; none calls another public method.

namespace exafold {
namespace {

constexpr size_t kRound = 512;              // bytes: allocation granularity
constexpr size_t kSmallSize = 1 << 20;      // 1 MiB: largest "small" request
constexpr size_t kSmallSegment = 2 << 20;   // 2 MiB: segment size of the small pool
constexpr size_t kMidSize = 10 << 20;       // 10 MiB: large requests below share segments
constexpr size_t kLargeSegment = 20 << 20;  // 20 MiB: shared segment size of the large pool
constexpr size_t kSegmentRound = 2 << 20;   // 2 MiB: granularity of a request's own segment

struct Block {
  char* ptr;
  size_t size;
  size_t requested = 0;
  bool allocated = false;
  bool small;
  Block* prev = nullptr;  // neighbours inside the same segment
  Block* next = nullptr;
  int pool = 0;  // 0: the shared pool; every block of a segment has its segment's pool
};

// The private pool each allocator routes this thread's allocations to (absent: the shared one).
thread_local std::unordered_map<const void*, int> t_routes;

struct BySize {
  bool operator()(const Block* a, const Block* b) const {
    return a->size != b->size ? a->size < b->size : a->ptr < b->ptr;
  }
};

class HostRawAllocator final : public RawAllocator {
 public:
  void* allocate(size_t bytes) override {
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) fail<OutOfMemory>("host allocation of ", format_bytes(bytes), " failed");
    return p;
  }
  void deallocate(void* p, size_t) override { std::free(p); }
};

class MetaRawAllocator final : public RawAllocator {
 public:
  void* allocate(size_t bytes) override {
    // Far above any real mapping; 2^46 bytes of room before wrapping into the next area.
    void* p = reinterpret_cast<void*>(next_);
    next_ += (bytes + kPage - 1) / kPage * kPage;
    return p;
  }
  void deallocate(void*, size_t) override {}

 private:
  static constexpr uintptr_t kPage = 4096;
  uintptr_t next_ = uintptr_t(1) << 46;
};

}  // namespace

std::unique_ptr<RawAllocator> make_host_raw_allocator() {
  return std::make_unique<HostRawAllocator>();
}

std::unique_ptr<RawAllocator> make_meta_raw_allocator() {
  return std::make_unique<MetaRawAllocator>();
}

struct CachingAllocator::Impl {
  Device device;
  MemoryKind kind;
  std::unique_ptr<RawAllocator> raw;
  mutable std::mutex mu;
  std::map<int, std::array<std::set<Block*, BySize>, 2>> free_lists;  // by pool: small, large
  std::map<int, size_t> pool_bytes;                                   // segments' bytes by pool
  std::unordered_map<void*, Block*> live;
  AllocatorStats st;
  int next_pool = 1;
  int routed_threads = 0;  // threads whose allocations go to a private pool now

  std::set<Block*, BySize>& pool(int id, bool small) { return free_lists[id][small ? 0 : 1]; }

  Block* find_free(size_t size, bool small, int id) {
    Block key{nullptr, size, 0, false, small};
    auto& p = pool(id, small);
    auto it = p.lower_bound(&key);
    if (it == p.end()) return nullptr;
    Block* b = *it;
    p.erase(it);
    return b;
  }

  Block* new_segment(size_t seg_size, bool small, int id) {
    if (st.limit && st.reserved + seg_size > st.limit) return nullptr;
    void* p;
    try {
      p = raw->allocate(seg_size);
    } catch (const OutOfMemory&) {
      return nullptr;
    }
    st.reserved += seg_size;
    st.peak_reserved = std::max(st.peak_reserved, st.reserved);
    ++st.segments;
    ++st.system_allocs;
    pool_bytes[id] += seg_size;
    auto* b = new Block{static_cast<char*>(p), seg_size, 0, false, small};
    b->pool = id;
    return b;
  }

  /// Returns the shared pool's wholly free segments to the system, unless a thread allocates
  /// into a private pool (a capture may not free device memory).
  size_t release_free_segments() {
    if (routed_threads > 0) return 0;
    size_t released = 0;
    for (bool small : {true, false}) {
      auto* p = &pool(0, small);
      for (auto it = p->begin(); it != p->end();) {
        Block* b = *it;
        if (!b->prev && !b->next) {
          raw->deallocate(b->ptr, b->size);
          st.reserved -= b->size;
          pool_bytes[0] -= b->size;
          --st.segments;
          released += b->size;
          it = p->erase(it);
          delete b;
        } else {
          ++it;
        }
      }
    }
    return released;
  }

  static size_t segment_size(size_t size, bool small) {
    if (small) return kSmallSegment;
    if (size < kMidSize) return kLargeSegment;
    return (size + kSegmentRound - 1) / kSegmentRound * kSegmentRound;
  }

  static bool should_split(const Block* b, size_t size) {
    size_t rest = b->size - size;
    return b->small ? rest >= kRound : rest > kSmallSize;
  }

  [[noreturn]] void oom(size_t bytes) {
    ++st.ooms;
    size_t cached = st.reserved - st.in_use;
    std::string msg =
        cat("out of memory on ", device.str(), " (", memory_kind_name(kind),
            "): tried to allocate ", format_bytes(bytes), "; ", format_bytes(st.in_use),
            " in use, ", format_bytes(st.reserved), " reserved (", format_bytes(cached),
            " cached), limit ", st.limit ? format_bytes(st.limit) : std::string("none"));
    if (size_t avail = raw->available(); avail != SIZE_MAX)
      msg += cat(", ", format_bytes(avail), " free on the device");
    msg += ". Use smaller chunks, or raise the limit with set_memory_limit().";
    throw OutOfMemory(msg);
  }
};

CachingAllocator::CachingAllocator(Device device, MemoryKind kind,
                                   std::unique_ptr<RawAllocator> raw)
    : impl_(std::make_unique<Impl>()) {
  impl_->device = device;
  impl_->kind = kind;
  impl_->raw = std::move(raw);
}

CachingAllocator::~CachingAllocator() {
  // Memory still in use is owned by live storages that outlive their allocator only at process
  // exit; returning cached segments is all that is safe here.
  std::lock_guard lk(impl_->mu);
  impl_->release_free_segments();
}

Device CachingAllocator::device() const { return impl_->device; }
MemoryKind CachingAllocator::kind() const { return impl_->kind; }
size_t CachingAllocator::alignment() const { return 64; }

size_t CachingAllocator::round_size(size_t bytes) {
  return bytes < kRound ? kRound : (bytes + kRound - 1) / kRound * kRound;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t size = round_size(bytes);
  const bool small = size <= kSmallSize;
  const auto route = t_routes.find(impl_.get());
  const int id = route == t_routes.end() ? 0 : route->second;
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  Block* b = I.find_free(size, small, id);
  if (b) {
    ++I.st.cache_hits;
  } else {
    const size_t seg = Impl::segment_size(size, small);
    b = I.new_segment(seg, small, id);                                           // a fresh segment
    if (!b && I.release_free_segments() > 0) b = I.new_segment(seg, small, id);  // after a purge
    if (!b && seg != size) b = I.new_segment(size, small, id);  // just what is needed
    if (!b) I.oom(bytes);
  }
  if (Impl::should_split(b, size)) {
    auto* rest = new Block{b->ptr + size, b->size - size, 0, false, small, b, b->next};
    rest->pool = b->pool;
    if (b->next) b->next->prev = rest;
    b->next = rest;
    b->size = size;
    I.pool(b->pool, small).insert(rest);
  }
  b->allocated = true;
  b->requested = bytes;
  I.live.emplace(b->ptr, b);
  I.st.in_use += b->size;
  I.st.requested += bytes;
  I.st.peak_in_use = std::max(I.st.peak_in_use, I.st.in_use);
  ++I.st.allocations;
  return b->ptr;
}

void CachingAllocator::deallocate(void* p) {
  if (!p) return;
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  auto it = I.live.find(p);
  EXAFOLD_ASSERT(it != I.live.end());
  Block* b = it->second;
  I.live.erase(it);
  I.st.in_use -= b->size;
  I.st.requested -= b->requested;
  ++I.st.frees;
  b->allocated = false;
  b->requested = 0;
  auto& pool = I.pool(b->pool, b->small);
  if (b->prev && !b->prev->allocated) {  // merge into the free block before
    Block* a = b->prev;
    pool.erase(a);
    a->size += b->size;
    a->next = b->next;
    if (b->next) b->next->prev = a;
    delete b;
    b = a;
  }
  if (b->next && !b->next->allocated) {  // absorb the free block after
    Block* c = b->next;
    pool.erase(c);
    b->size += c->size;
    b->next = c->next;
    if (c->next) c->next->prev = b;
    delete c;
  }
  pool.insert(b);
  if (I.st.limit && I.st.reserved > I.st.limit) I.release_free_segments();
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard lk(impl_->mu);
  return impl_->st;
}

void CachingAllocator::reset_peak() {
  std::lock_guard lk(impl_->mu);
  impl_->st.peak_in_use = impl_->st.in_use;
  impl_->st.peak_reserved = impl_->st.reserved;
}

void CachingAllocator::empty_cache() {
  std::lock_guard lk(impl_->mu);
  impl_->release_free_segments();
}

int CachingAllocator::create_pool() {
  std::lock_guard lk(impl_->mu);
  const int id = impl_->next_pool++;
  impl_->pool_bytes[id] = 0;
  return id;
}

void CachingAllocator::use_pool(int id) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  check(id == 0 || I.pool_bytes.count(id) > 0, "no private pool ", id, " on ", I.device.str());
  const auto it = t_routes.find(impl_.get());
  const int before = it == t_routes.end() ? 0 : it->second;
  if (before == 0 && id != 0) ++I.routed_threads;
  if (before != 0 && id == 0) --I.routed_threads;
  if (id == 0)
    t_routes.erase(impl_.get());
  else
    t_routes[impl_.get()] = id;
}

void CachingAllocator::release_pool(int id) {
  std::lock_guard lk(impl_->mu);
  auto& I = *impl_;
  check(id > 0 && I.pool_bytes.count(id) > 0, "no private pool ", id, " on ", I.device.str());
  const auto route = t_routes.find(impl_.get());
  check(route == t_routes.end() || route->second != id, "private pool ", id,
        " is still in use on this thread");
  for (bool small : {true, false}) {
    for (Block* b : I.pool(id, small)) {
      b->pool = 0;
      I.pool(0, small).insert(b);
    }
  }
  for (auto& [p, b] : I.live)
    if (b->pool == id) b->pool = 0;
  I.free_lists.erase(id);
  I.pool_bytes[0] += I.pool_bytes[id];
  I.pool_bytes.erase(id);
}

size_t CachingAllocator::pool_reserved(int id) const {
  std::lock_guard lk(impl_->mu);
  const auto it = impl_->pool_bytes.find(id);
  return it == impl_->pool_bytes.end() ? 0 : it->second;
}

void CachingAllocator::set_limit(size_t bytes) {
  std::lock_guard lk(impl_->mu);
  impl_->st.limit = bytes;
  if (bytes && impl_->st.reserved > bytes) impl_->release_free_segments();
}

}  // namespace exafold
