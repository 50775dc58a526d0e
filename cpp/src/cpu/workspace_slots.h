// Internal to the cpu backend: per-task workspaces allocated up front (so a dry run counts them)
// and handed to whichever pool thread runs a task. At most `slots` tasks run at once, each in a
// slot of its own.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "exafold/core/thread_pool.h"
#include "exafold/tensor/tensor.h"

namespace exafold::cpu {

class WorkspaceSlots {
 public:
  /// `slots` slots of `per_slot` elements of like's dtype, on like's device.
  WorkspaceSlots(const Tensor& like, int64_t slots, int64_t per_slot)
      : per_slot_(per_slot),
        slots_(std::max<int64_t>(slots, 1)),
        buffer_(Tensor::empty({slots_ * per_slot}, like.dtype(), like.device())) {
    for (int64_t s = slots_ - 1; s >= 0; --s) free_.push_back(s);
  }

  /// fn(task, workspace) for every task in [0, n), T the workspace's element type.
  template <class T, class Fn>
  void parallel_for(int64_t n, Fn&& fn) {
    T* base = static_cast<T*>(buffer_.data_ptr());
    thread_pool().parallel_for(n, 1, [&](int64_t t0, int64_t t1) {
      const int64_t slot = acquire();
      for (int64_t t = t0; t < t1; ++t) fn(t, base + slot * per_slot_);
      release(slot);
    });
  }

 private:
  int64_t acquire() {
    std::lock_guard lk(mu_);
    EXAFOLD_ASSERT(!free_.empty());
    const int64_t s = free_.back();
    free_.pop_back();
    return s;
  }
  void release(int64_t s) {
    std::lock_guard lk(mu_);
    free_.push_back(s);
  }

  int64_t per_slot_;
  int64_t slots_;
  Tensor buffer_;
  std::mutex mu_;
  std::vector<int64_t> free_;
};

}  // namespace exafold::cpu
