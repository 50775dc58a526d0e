// One thread block of an emulated launch: one fiber per CUDA thread, all on the OS thread that
// runs the block, switched only at synchronisation points (__syncthreads and its variants, the
// warp intrinsics, a thread's end), in the order the schedule picks.
//
// The rules are the hardware's, as CUDA documents them for sm_70 and later:
// - __syncthreads releases when every thread that has not exited waits at it; exited threads
//   are never resumed and never counted again.
// - A warp intrinsic waits only for the lanes of its mask, which must all reach an intrinsic of
//   the same kind with the same mask (from any source line, as independent thread scheduling
//   allows).
// - Warps are 32 lanes: lane = linear thread index % 32.
// What a GPU would hang on or leave undefined fails the launch with a report naming the kernel,
// the block, the thread and the source line: a deadlock, threads of a block waiting at different
// __syncthreads, a warp mask that excludes the calling lane or names a lane that has exited or
// does not exist, lanes that wait for each other in different warp intrinsics, __trap().
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "emulation/fiber.h"
#include "emulation/schedule.h"
#include "vector_types.h"

// The built-in variables. The scheduler sets threadIdx before it resumes a fiber, the others
// when its OS thread starts a block, so each always holds the running thread's values.
inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;
inline thread_local dim3 blockDim;
inline thread_local dim3 gridDim;
inline constexpr int warpSize = 32;

namespace exafold::emulation {

constexpr unsigned kWarpSize = 32;

/// A source location, taken at the call site of the intrinsic it is a default argument of.
struct Site {
  const char* file = "";
  int line = 0;
  static constexpr Site here(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return {file, line};
  }
  bool operator==(const Site& o) const {
    return line == o.line && (file == o.file || std::string_view(file) == std::string_view(o.file));
  }
};

inline std::string hex(unsigned mask) {
  char s[16];
  std::snprintf(s, sizeof s, "0x%08x", mask);
  return s;
}

inline std::string where(Site s) {
  const std::string_view f(s.file);
  const size_t slash = f.rfind('/');
  return std::string(slash == f.npos ? f : f.substr(slash + 1)) + ":" + std::to_string(s.line);
}

/// One launch as its blocks see it: the kernel and its arguments (type-erased) and the
/// configuration.
struct KernelRun {
  void (*run_thread)(const void* kernel_and_args) = nullptr;
  const void* kernel_and_args = nullptr;
  const char* name = "";
  Site site;
  dim3 grid, block;
  size_t shared_bytes = 0;
  uint64_t sequence = 0;  // launches before this one in the process: seeds the random order
  Schedule schedule;
};

enum class BarrierKind : uint8_t { sync, count, all, any };

enum class WarpKind : uint8_t {
  shfl_idx,
  shfl_up,
  shfl_down,
  shfl_xor,
  ballot,
  all,
  any,
  syncwarp,
  match_any,
  match_all,
  reduce_add_u,
  reduce_add_i,
  reduce_min_u,
  reduce_min_i,
  reduce_max_u,
  reduce_max_i,
  reduce_and,
  reduce_or,
  reduce_xor,
};

inline const char* barrier_name(BarrierKind k) {
  switch (k) {
    case BarrierKind::sync:
      return "__syncthreads";
    case BarrierKind::count:
      return "__syncthreads_count";
    case BarrierKind::all:
      return "__syncthreads_and";
    case BarrierKind::any:
      return "__syncthreads_or";
  }
  return "?";
}

inline const char* warp_name(WarpKind k) {
  constexpr const char* names[] = {
      "__shfl_sync",       "__shfl_up_sync",    "__shfl_down_sync",  "__shfl_xor_sync",
      "__ballot_sync",     "__all_sync",        "__any_sync",        "__syncwarp",
      "__match_any_sync",  "__match_all_sync",  "__reduce_add_sync", "__reduce_add_sync",
      "__reduce_min_sync", "__reduce_min_sync", "__reduce_max_sync", "__reduce_max_sync",
      "__reduce_and_sync", "__reduce_or_sync",  "__reduce_xor_sync"};
  return names[size_t(k)];
}

/// A warp intrinsic as one lane calls it. For shuffles b is the source lane, delta or lane mask
/// and c the clamp and segment mask, exactly the operands of PTX shfl.sync.
struct WarpOp {
  WarpKind kind = WarpKind::syncwarp;
  uint8_t bytes = 0;  // of value
  unsigned mask = 0;
  uint64_t value = 0;
  unsigned b = 0, c = 0;
};

// What a lane reads from a lane outside the mask: undefined on the hardware, all ones here (a
// NaN as float or double, -1 as an integer) so that a use shows.
constexpr uint64_t kPoison = ~uint64_t(0);

struct Thread {
  enum class State : uint8_t { ready, barrier, warp, exited };
  Fiber fiber;
  uint3 idx{};
  unsigned linear = 0;
  State state = State::ready;
  Site site;  // where it waits
  BarrierKind barrier_kind = BarrierKind::sync;
  int predicate = 0;
  WarpOp op;
  uint64_t result = 0;
  int result_predicate = 0;
};

class Block;
/// The block running on this OS thread, and the CUDA thread whose fiber runs now.
inline thread_local Block* t_block = nullptr;
inline thread_local Thread* t_thread = nullptr;

class Block {
 public:
  Block() = default;
  Block(const Block&) = delete;
  Block& operator=(const Block&) = delete;

  /// Runs block `index` of the launch to its end; false, with report(), when it fails.
  bool run(const KernelRun& k, uint3 index);
  const std::string& report() const { return report_; }

  // For the intrinsics, on the current thread's fiber.
  int barrier(BarrierKind kind, int predicate, Site site);
  uint64_t warp(const WarpOp& op, Site site, int* predicate_out = nullptr);
  [[noreturn]] void trap(Site site, const std::string& what) { fail(what, *t_thread, site); }
  void* dynamic_shared() const { return shared_; }

 private:
  // Thrown by fail() to unwind the failing thread's fiber, so that nothing on its stack leaks.
  struct Failure {};
  static void entry(void* thread);
  void suspend(Thread& t);
  void exited(Thread& t);
  void release_barrier_if_complete();
  void release_warp(unsigned base, const WarpOp& op);
  [[noreturn]] void fail(const std::string& what, const Thread& who, Site site);
  void fail_deadlock();
  std::string header() const;
  std::string thread_name(const Thread& t) const;
  std::string waiting_threads() const;

  void set_ready(unsigned i) { ready_[i / 64] |= uint64_t(1) << (i % 64); }
  void clear_ready(unsigned i) { ready_[i / 64] &= ~(uint64_t(1) << (i % 64)); }
  int first_ready_from(int from) const;
  int last_ready_upto(int upto) const;
  int pick(int previous);

  std::vector<Thread> threads_;
  std::deque<Stack> stacks_;
  std::vector<uint64_t> ready_;
  MainContext main_;
  const KernelRun* k_ = nullptr;
  uint3 index_{};
  unsigned count_ = 0;
  unsigned live_ = 0;
  unsigned at_barrier_ = 0;
  bool failed_ = false;
  std::string report_;
  void* shared_ = nullptr;
  SplitMix rng_{0};
};

inline bool Block::run(const KernelRun& k, uint3 index) {
  k_ = &k;
  index_ = index;
  count_ = k.block.x * k.block.y * k.block.z;
  if (threads_.size() < count_) threads_.resize(count_);
  while (stacks_.size() < count_) stacks_.emplace_back();
  ready_.assign((count_ + 63) / 64, 0);
  live_ = count_;
  at_barrier_ = 0;
  failed_ = false;
  report_.clear();
  const uint64_t linear_block =
      index.x + uint64_t(k.grid.x) * (index.y + uint64_t(k.grid.y) * index.z);
  rng_ = SplitMix{k.schedule.seed ^ (k.sequence * 0x9e3779b97f4a7c15ull)};
  rng_.state = rng_.next() ^ linear_block;
  if (k.shared_bytes > 0) {
    // Exactly the requested size, so ASan sees an access past its end; all ones is a NaN in
    // every floating-point width, so a read of a slot nobody wrote shows.
    shared_ = ::operator new(k.shared_bytes, std::align_val_t(16));
    std::memset(shared_, 0xff, k.shared_bytes);
  }
  t_block = this;
  ::blockIdx = index;
  ::blockDim = k.block;
  ::gridDim = k.grid;
  for (unsigned i = 0; i < count_; ++i) {
    Thread& t = threads_[i];
    t.linear = i;
    t.idx = {i % k.block.x, (i / k.block.x) % k.block.y, i / (k.block.x * k.block.y)};
    t.state = Thread::State::ready;
    set_ready(i);
    t.fiber.start(stacks_[i], &Block::entry, &t);
  }
  int previous = k.schedule.order == Order::reverse ? int(count_) : -1;
  while (live_ > 0 && !failed_) {
    const int next = pick(previous);
    if (next < 0) {
      fail_deadlock();
      break;
    }
    t_thread = &threads_[size_t(next)];
    ::threadIdx = t_thread->idx;
    t_thread->fiber.resume(main_);
    previous = next;
  }
  if (failed_)
    for (unsigned i = 0; i < count_; ++i) stacks_[i].mark_abandoned();
  t_thread = nullptr;
  t_block = nullptr;
  if (shared_) {
    ::operator delete(shared_, std::align_val_t(16));
    shared_ = nullptr;
  }
  return !failed_;
}

inline void Block::entry(void* thread) {
  Thread& t = *static_cast<Thread*>(thread);
  Block& b = *t_block;
  Fiber::entered(b.main_);
  try {
    b.k_->run_thread(b.k_->kernel_and_args);
    b.exited(t);
  } catch (const Failure&) {
    // This thread failed the block; the report is written and no thread runs again.
  }
  t.fiber.exit_to(b.main_);
}

inline void Block::suspend(Thread& t) {
  t.fiber.suspend_to(main_);
  if (failed_) die("a fiber of a failed block was resumed");
}

inline int Block::barrier(BarrierKind kind, int predicate, Site site) {
  Thread& t = *t_thread;
  t.state = Thread::State::barrier;
  t.site = site;
  t.barrier_kind = kind;
  t.predicate = predicate != 0;
  clear_ready(t.linear);
  ++at_barrier_;
  release_barrier_if_complete();
  suspend(t);
  return int(t.result);
}

inline void Block::release_barrier_if_complete() {
  if (at_barrier_ == 0 || at_barrier_ < live_) return;
  // Every thread that has not exited waits at a barrier: it must be one and the same.
  const Thread* first = nullptr;
  int count = 0;
  for (unsigned i = 0; i < count_; ++i) {
    const Thread& u = threads_[i];
    if (u.state != Thread::State::barrier) continue;
    if (!first) {
      first = &u;
    } else if (!(u.site == first->site) || u.barrier_kind != first->barrier_kind) {
      fail(std::string("threads of the block wait at different barriers (a __syncthreads in "
                       "divergent code):\n") +
               waiting_threads(),
           *first, first->site);
    }
    count += u.predicate;
  }
  const unsigned waiting = at_barrier_;
  for (unsigned i = 0; i < count_; ++i) {
    Thread& u = threads_[i];
    if (u.state != Thread::State::barrier) continue;
    switch (u.barrier_kind) {
      case BarrierKind::sync:
        u.result = 0;
        break;
      case BarrierKind::count:
        u.result = uint64_t(count);
        break;
      case BarrierKind::all:
        u.result = unsigned(count) == waiting;
        break;
      case BarrierKind::any:
        u.result = count > 0;
        break;
    }
    u.state = Thread::State::ready;
    set_ready(i);
  }
  at_barrier_ = 0;
}

inline uint64_t Block::warp(const WarpOp& op, Site site, int* predicate_out) {
  Thread& t = *t_thread;
  const unsigned lane = t.linear % kWarpSize, base = t.linear - lane;
  const unsigned lanes = std::min(kWarpSize, count_ - base);
  const auto named = [&] { return std::string(warp_name(op.kind)) + " with mask " + hex(op.mask); };
  if (!(op.mask >> lane & 1u))
    fail(named() + " excludes the calling lane " + std::to_string(lane), t, site);
  for (unsigned m = op.mask; m != 0; m &= m - 1) {
    const unsigned j = unsigned(std::countr_zero(m));
    if (j >= lanes)
      fail(named() + " names lane " + std::to_string(j) +
               ", which this warp does not have (it has " + std::to_string(lanes) +
               " lanes: the block has " + std::to_string(count_) + " threads)",
           t, site);
    if (threads_[base + j].state == Thread::State::exited)
      fail(named() + " names lane " + std::to_string(j) + ", which has exited", t, site);
  }
  t.state = Thread::State::warp;
  t.site = site;
  t.op = op;
  clear_ready(t.linear);
  bool complete = true;
  for (unsigned m = op.mask; m != 0; m &= m - 1) {
    const Thread& u = threads_[base + unsigned(std::countr_zero(m))];
    if (&u == &t) continue;
    if (u.state != Thread::State::warp) {
      complete = false;
    } else if (u.op.kind != op.kind || u.op.mask != op.mask || u.op.bytes != op.bytes) {
      complete = false;
      // Each waits for the other in a different intrinsic: neither can ever complete.
      if (u.op.mask >> lane & 1u)
        fail(std::string("lanes of one warp wait for each other in different warp intrinsics: "
                         "this lane in ") +
                 warp_name(op.kind) + " (mask " + hex(op.mask) + ", " + std::to_string(op.bytes) +
                 " bytes), lane " + std::to_string(u.linear % kWarpSize) + " in " +
                 warp_name(u.op.kind) + " (mask " + hex(u.op.mask) + ", " +
                 std::to_string(u.op.bytes) + " bytes) at " + where(u.site),
             t, site);
    }
  }
  if (complete) release_warp(base, op);
  suspend(t);
  if (predicate_out) *predicate_out = t.result_predicate;
  return t.result;
}

// The source lane of PTX shfl.sync for `lane`: b is the lane, delta or xor mask, c packs the
// segment mask (bits 8-12) and the clamp (bits 0-4). Out-of-segment sources read the lane itself.
inline unsigned shuffle_source(WarpKind kind, unsigned lane, unsigned b, unsigned c) {
  const int segmask = int((c >> 8) & 0x1f), clamp = int(c & 0x1f), bval = int(b & 0x1f);
  const int l = int(lane);
  const int max_lane = (l & segmask) | (clamp & ~segmask), min_lane = l & segmask;
  int j = l;
  bool in_range = false;
  switch (kind) {
    case WarpKind::shfl_up:
      j = l - bval;
      in_range = j >= max_lane;
      break;
    case WarpKind::shfl_down:
      j = l + bval;
      in_range = j <= max_lane;
      break;
    case WarpKind::shfl_xor:
      j = l ^ bval;
      in_range = j <= max_lane;
      break;
    default:  // shfl_idx
      j = min_lane | (bval & ~segmask);
      in_range = j <= max_lane;
      break;
  }
  return unsigned(in_range ? j : l);
}

inline void Block::release_warp(unsigned base, const WarpOp& op) {
  uint64_t v[kWarpSize] = {};
  for (unsigned m = op.mask; m != 0; m &= m - 1) {
    const unsigned j = unsigned(std::countr_zero(m));
    v[j] = threads_[base + j].op.value;
  }
  const auto lanes_where = [&](auto&& pred) {
    unsigned r = 0;
    for (unsigned m = op.mask; m != 0; m &= m - 1) {
      const unsigned j = unsigned(std::countr_zero(m));
      if (pred(j)) r |= 1u << j;
    }
    return r;
  };
  const auto reduce = [&](auto init, auto combine) {
    auto acc = init;
    for (unsigned m = op.mask; m != 0; m &= m - 1) acc = combine(acc, v[std::countr_zero(m)]);
    return uint64_t(uint32_t(acc));
  };
  for (unsigned m = op.mask; m != 0; m &= m - 1) {
    const unsigned lane = unsigned(std::countr_zero(m));
    Thread& u = threads_[base + lane];
    u.result_predicate = 0;
    switch (op.kind) {
      case WarpKind::shfl_idx:
      case WarpKind::shfl_up:
      case WarpKind::shfl_down:
      case WarpKind::shfl_xor: {
        const unsigned src = shuffle_source(op.kind, lane, u.op.b, u.op.c);
        u.result = (op.mask >> src & 1u) ? v[src] : kPoison;
        break;
      }
      case WarpKind::ballot:
        u.result = lanes_where([&](unsigned j) { return v[j] != 0; });
        break;
      case WarpKind::all:
        u.result = lanes_where([&](unsigned j) { return v[j] != 0; }) == op.mask;
        break;
      case WarpKind::any:
        u.result = lanes_where([&](unsigned j) { return v[j] != 0; }) != 0;
        break;
      case WarpKind::syncwarp:
        u.result = 0;
        break;
      case WarpKind::match_any:
        u.result = lanes_where([&](unsigned j) { return v[j] == v[lane]; });
        break;
      case WarpKind::match_all: {
        const bool equal = lanes_where([&](unsigned j) { return v[j] == v[lane]; }) == op.mask;
        u.result = equal ? op.mask : 0;
        u.result_predicate = equal;
        break;
      }
      case WarpKind::reduce_add_u:
      case WarpKind::reduce_add_i:
        u.result = reduce(uint32_t(0), [](uint32_t a, uint64_t x) { return a + uint32_t(x); });
        break;
      case WarpKind::reduce_min_u:
        u.result =
            reduce(~uint32_t(0), [](uint32_t a, uint64_t x) { return std::min(a, uint32_t(x)); });
        break;
      case WarpKind::reduce_min_i:
        u.result = reduce(INT32_MAX,
                          [](int32_t a, uint64_t x) { return std::min(a, int32_t(uint32_t(x))); });
        break;
      case WarpKind::reduce_max_u:
        u.result =
            reduce(uint32_t(0), [](uint32_t a, uint64_t x) { return std::max(a, uint32_t(x)); });
        break;
      case WarpKind::reduce_max_i:
        u.result = reduce(INT32_MIN,
                          [](int32_t a, uint64_t x) { return std::max(a, int32_t(uint32_t(x))); });
        break;
      case WarpKind::reduce_and:
        u.result = reduce(~uint32_t(0), [](uint32_t a, uint64_t x) { return a & uint32_t(x); });
        break;
      case WarpKind::reduce_or:
        u.result = reduce(uint32_t(0), [](uint32_t a, uint64_t x) { return a | uint32_t(x); });
        break;
      case WarpKind::reduce_xor:
        u.result = reduce(uint32_t(0), [](uint32_t a, uint64_t x) { return a ^ uint32_t(x); });
        break;
    }
    u.state = Thread::State::ready;
    set_ready(base + lane);
  }
}

inline void Block::exited(Thread& t) {
  t.state = Thread::State::exited;
  clear_ready(t.linear);
  --live_;
  const unsigned lane = t.linear % kWarpSize, base = t.linear - lane;
  const unsigned lanes = std::min(kWarpSize, count_ - base);
  for (unsigned j = 0; j < lanes; ++j) {
    const Thread& u = threads_[base + j];
    if (u.state == Thread::State::warp && (u.op.mask >> lane & 1u))
      fail(std::string(warp_name(u.op.kind)) + " with mask " + hex(u.op.mask) + " waits for lane " +
               std::to_string(lane) + ", which has exited",
           u, u.site);
  }
  release_barrier_if_complete();
}

inline std::string Block::header() const {
  const dim3 g = k_->grid, b = k_->block;
  return std::string(k_->name) + " (launched at " + where(k_->site) + ") block (" +
         std::to_string(index_.x) + "," + std::to_string(index_.y) + "," +
         std::to_string(index_.z) + ") of grid (" + std::to_string(g.x) + "," +
         std::to_string(g.y) + "," + std::to_string(g.z) + "), blockDim (" + std::to_string(b.x) +
         "," + std::to_string(b.y) + "," + std::to_string(b.z) + "), schedule " +
         order_name(k_->schedule.order);
}

inline std::string Block::thread_name(const Thread& t) const {
  return "thread (" + std::to_string(t.idx.x) + "," + std::to_string(t.idx.y) + "," +
         std::to_string(t.idx.z) + ") [warp " + std::to_string(t.linear / kWarpSize) + " lane " +
         std::to_string(t.linear % kWarpSize) + "]";
}

// Threads grouped into runs of consecutive linear indices that wait in the same place.
inline std::string Block::waiting_threads() const {
  const auto describe = [](const Thread& t) -> std::string {
    switch (t.state) {
      case Thread::State::ready:
        return "runnable";
      case Thread::State::exited:
        return "exited";
      case Thread::State::barrier:
        return std::string(barrier_name(t.barrier_kind)) + " at " + where(t.site);
      case Thread::State::warp:
        return std::string(warp_name(t.op.kind)) + " (mask " + hex(t.op.mask) + ") at " +
               where(t.site);
    }
    return "?";
  };
  std::string out;
  for (unsigned i = 0; i < count_;) {
    const std::string what = describe(threads_[i]);
    unsigned j = i + 1;
    while (j < count_ && describe(threads_[j]) == what) ++j;
    out += "    threads " + std::to_string(i) + "-" + std::to_string(j - 1) + ": " + what + "\n";
    i = j;
  }
  return out;
}

inline void Block::fail(const std::string& what, const Thread& who, Site site) {
  failed_ = true;
  report_ = header() + ", " + thread_name(who) + " at " + where(site) + ": " + what;
  throw Failure{};
}

inline void Block::fail_deadlock() {
  failed_ = true;
  report_ =
      header() + ": deadlock: no thread can proceed (linear thread indices):\n" + waiting_threads();
}

inline int Block::first_ready_from(int from) const {
  if (from < 0) from = 0;
  for (unsigned w = unsigned(from) / 64; w < ready_.size(); ++w) {
    uint64_t bits = ready_[w];
    if (w == unsigned(from) / 64) bits &= ~uint64_t(0) << (unsigned(from) % 64);
    if (bits) return int(w * 64 + unsigned(std::countr_zero(bits)));
  }
  return -1;
}

inline int Block::last_ready_upto(int upto) const {
  if (upto >= int(count_)) upto = int(count_) - 1;
  if (upto < 0) return -1;
  for (int w = upto / 64; w >= 0; --w) {
    uint64_t bits = ready_[size_t(w)];
    if (w == upto / 64 && upto % 64 != 63) bits &= (uint64_t(1) << (upto % 64 + 1)) - 1;
    if (bits) return w * 64 + 63 - std::countl_zero(bits);
  }
  return -1;
}

inline int Block::pick(int previous) {
  switch (k_->schedule.order) {
    case Order::forward: {
      const int r = first_ready_from(previous + 1);
      return r >= 0 ? r : first_ready_from(0);
    }
    case Order::reverse: {
      const int r = last_ready_upto(previous - 1);
      return r >= 0 ? r : last_ready_upto(int(count_) - 1);
    }
    case Order::greedy:
      return first_ready_from(0);
    case Order::greedy_reverse:
      return last_ready_upto(int(count_) - 1);
    case Order::random: {
      unsigned n = 0;
      for (uint64_t w : ready_) n += unsigned(std::popcount(w));
      if (n == 0) return -1;
      unsigned k = unsigned(rng_.next() % n);
      for (size_t w = 0; w < ready_.size(); ++w) {
        uint64_t bits = ready_[w];
        const unsigned c = unsigned(std::popcount(bits));
        if (k >= c) {
          k -= c;
          continue;
        }
        while (k-- > 0) bits &= bits - 1;
        return int(w * 64 + unsigned(std::countr_zero(bits)));
      }
      return -1;
    }
  }
  return -1;
}

}  // namespace exafold::emulation
