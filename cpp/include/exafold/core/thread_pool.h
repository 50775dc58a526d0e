// The process-wide worker pool used by CPU ops and the feature pipeline.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>

namespace exafold {

/// Note [Threads and BLAS]: exafold owns all CPU parallelism. OpenBLAS runs single-threaded and
/// ops split work across this pool by output rows or batch entries, so the two never
/// oversubscribe the cores. No reduction is split across threads, so a run repeats bitwise at a
/// given thread count; across thread counts OpenBLAS may pick other kernels for the smaller
/// pieces, which changes results at the level of rounding only.
class ThreadPool {
 public:
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const;

  /// Calls fn(begin, end) on disjoint ranges covering [0, n), each at least `grain` long, and
  /// returns when all are done. Called from inside a worker it runs inline (no nested fan-out).
  /// The first exception thrown by fn is rethrown here.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  /// Runs fn on a worker; the future carries its result or exception.
  std::future<void> submit(std::function<void()> fn);

  /// True on a thread owned by this pool.
  bool in_worker() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The shared pool, created on first use with num_threads_from_env() threads.
ThreadPool& thread_pool();
/// EXAFOLD_NUM_THREADS if set (must be a positive integer), else the cores this process may use.
int num_threads_from_env();
/// Replaces the shared pool; only valid while no work is in flight.
void set_num_threads(int n);
/// Where the shared pool's size comes from: "EXAFOLD_NUM_THREADS", "cores" (the cores this
/// process may use) or "set_num_threads".
const char* num_threads_source();

}  // namespace exafold
