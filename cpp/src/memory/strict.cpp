// Strict memory (exafold/memory/strict.h): mmap'ed pages, PROT_NONE unless a strict op holds
// them open.
#include "exafold/memory/strict.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/memory/format.h"

namespace exafold {
namespace {

size_t page_size() {
  static const size_t p = size_t(sysconf(_SC_PAGESIZE));
  return p;
}

size_t mapped_size(size_t bytes) {
  const size_t p = page_size();
  return std::max<size_t>(1, (bytes + p - 1) / p) * p;
}

/// The strict device's one lock and its mappings (base -> length).
struct StrictState {
  std::recursive_mutex op;  ///< held by the StrictAccess of the running op
  std::mutex mu;            ///< guards the maps
  std::unordered_map<void*, size_t> mapped;
  AllocatorStats st;
};

StrictState& state() {
  static auto* s = new StrictState;  // never destroyed, as the allocator registry
  return *s;
}

/// The open allocations of this thread's current StrictAccess (null outside one).
thread_local std::vector<void*>* t_open = nullptr;

void protect(void* p, size_t n, int prot) {
  check<InternalError>(mprotect(p, n, prot) == 0, "strict memory: mprotect failed");
}

size_t length_of(void* p) {
  StrictState& s = state();
  std::lock_guard lk(s.mu);
  auto it = s.mapped.find(p);
  check<InternalError>(it != s.mapped.end(), "strict memory: unknown allocation");
  return it->second;
}

class StrictAllocator final : public Allocator {
 public:
  Device device() const override { return Device::strict(); }
  MemoryKind kind() const override { return MemoryKind::device; }
  size_t alignment() const override { return page_size(); }

  void* allocate(size_t bytes) override {
    const size_t n = mapped_size(bytes);
    const int prot = t_open ? PROT_READ | PROT_WRITE : PROT_NONE;
    void* p = mmap(nullptr, n, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail<OutOfMemory>("strict memory: mapping ", format_bytes(n), " failed");
    StrictState& s = state();
    {
      std::lock_guard lk(s.mu);
      s.mapped.emplace(p, n);
      s.st.in_use += n;
      s.st.reserved += n;
      s.st.peak_in_use = std::max(s.st.peak_in_use, s.st.in_use);
      s.st.peak_reserved = std::max(s.st.peak_reserved, s.st.reserved);
      s.st.requested += bytes;
      ++s.st.allocations;
      ++s.st.segments;
      ++s.st.system_allocs;
    }
    if (t_open) t_open->push_back(p);
    return p;
  }

  void deallocate(void* p) override {
    StrictState& s = state();
    size_t n;
    {
      std::lock_guard lk(s.mu);
      auto it = s.mapped.find(p);
      EXAFOLD_ASSERT(it != s.mapped.end());
      n = it->second;
      s.mapped.erase(it);
      s.st.in_use -= n;
      s.st.reserved -= n;
      --s.st.segments;
      ++s.st.frees;
    }
    if (t_open) std::erase(*t_open, p);
    munmap(p, n);
  }

  AllocatorStats stats() const override {
    StrictState& s = state();
    std::lock_guard lk(s.mu);
    return s.st;
  }
  void reset_peak() override {
    StrictState& s = state();
    std::lock_guard lk(s.mu);
    s.st.peak_in_use = s.st.in_use;
    s.st.peak_reserved = s.st.reserved;
  }
  void empty_cache() override {}
  void set_limit(size_t) override {}
};

}  // namespace

std::unique_ptr<Allocator> make_strict_allocator() { return std::make_unique<StrictAllocator>(); }

StrictAccess::StrictAccess(std::span<void* const> allocations) {
  state().op.lock();
  EXAFOLD_ASSERT(t_open == nullptr);
  t_open = new std::vector<void*>;
  for (void* p : allocations) {
    if (std::find(t_open->begin(), t_open->end(), p) != t_open->end()) continue;
    protect(p, length_of(p), PROT_READ | PROT_WRITE);
    t_open->push_back(p);
  }
}

StrictAccess::~StrictAccess() {
  for (void* p : *t_open) protect(p, length_of(p), PROT_NONE);
  delete t_open;
  t_open = nullptr;
  state().op.unlock();
}

void strict_copy(void* dst, const void* src, size_t n) {
  if (n == 0) return;
  // One side is strict memory; opening a host pointer is refused by length_of, so open only
  // the side that is mapped here.
  std::vector<void*> open;
  {
    StrictState& s = state();
    std::lock_guard lk(s.mu);
    for (void* p : {dst, const_cast<void*>(src)})
      for (const auto& [base, len] : s.mapped)
        if (p >= base && static_cast<char*>(p) < static_cast<char*>(base) + len)
          open.push_back(base);
  }
  StrictAccess access(open);
  std::memcpy(dst, src, n);
}

}  // namespace exafold
