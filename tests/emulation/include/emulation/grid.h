// The OS threads that run an emulated launch's blocks: EXAFOLD_EMULATION_THREADS of them
// (default: one per core), the launching thread among them. Blocks are handed out in index
// order, one at a time, and run to their end on the thread that takes them; a launch returns
// when every block is done or one has failed (the rest are then not started). One launch runs at
// a time, from whichever host thread launches.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emulation/block.h"

namespace exafold::emulation {

class Pool {
 public:
  static Pool& get() {
    static auto* pool = new Pool();  // never destroyed: workers wait in it until the process ends
    return *pool;
  }

  /// Runs every block of k; returns the report of the first block that failed, or "".
  std::string run(const KernelRun& k) {
    std::lock_guard launch(launch_mu_);
    total_ = uint64_t(k.grid.x) * k.grid.y * k.grid.z;
    next_ = 0;
    failed_ = false;
    report_.clear();
    {
      std::lock_guard lk(mu_);
      job_ = &k;
      busy_ = unsigned(workers_.size());
      ++generation_;
    }
    wake_.notify_all();
    work(k);
    std::unique_lock lk(mu_);
    done_.wait(lk, [&] { return busy_ == 0; });
    return report_;
  }

 private:
  Pool() {
    unsigned n = std::thread::hardware_concurrency();
    if (const char* env = std::getenv("EXAFOLD_EMULATION_THREADS"); env && *env) {
      char* end = nullptr;
      const long v = std::strtol(env, &end, 10);
      if (end == env || *end != '\0' || v < 1 || v > 1024) {
        std::fprintf(stderr,
                     "exafold CUDA emulation: EXAFOLD_EMULATION_THREADS='%s' is not 1-1024\n", env);
        std::abort();
      }
      n = unsigned(v);
    }
    for (unsigned i = 1; i < std::max(n, 1u); ++i) workers_.emplace_back([this] { worker(); });
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      const KernelRun* job;
      {
        std::unique_lock lk(mu_);
        wake_.wait(lk, [&] { return generation_ != seen; });
        seen = generation_;
        job = job_;
      }
      work(*job);
      std::lock_guard lk(mu_);
      if (--busy_ == 0) done_.notify_all();
    }
  }

  void work(const KernelRun& k) {
    thread_local Block block;
    const uint64_t gx = k.grid.x, gxy = gx * k.grid.y;
    while (!failed_.load(std::memory_order_relaxed)) {
      const uint64_t b = next_.fetch_add(1);
      if (b >= total_) break;
      const uint3 index{unsigned(b % gx), unsigned(b / gx % k.grid.y), unsigned(b / gxy)};
      if (!block.run(k, index)) {
        std::lock_guard lk(report_mu_);
        if (!failed_.exchange(true)) report_ = block.report();
      }
    }
  }

  std::mutex launch_mu_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const KernelRun* job_ = nullptr;
  uint64_t generation_ = 0;
  unsigned busy_ = 0;
  std::atomic<uint64_t> next_{0};
  uint64_t total_ = 0;
  std::atomic<bool> failed_{false};
  std::mutex report_mu_;
  std::string report_;
  std::vector<std::thread> workers_;
};

}  // namespace exafold::emulation
