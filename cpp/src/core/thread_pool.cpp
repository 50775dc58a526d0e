#include "exafold/core/thread_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "exafold/core/error.h"

namespace exafold {

namespace {
thread_local const ThreadPool* t_owner = nullptr;
}

struct ThreadPool::Impl {
  std::vector<std::thread> workers;
  std::deque<std::function<void()>> queue;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
};

ThreadPool::ThreadPool(int num_threads) : impl_(std::make_unique<Impl>()) {
  check(num_threads >= 1, "thread count must be at least 1, got ", num_threads);
  // The calling thread takes a share of every parallel_for, so n threads means n-1 workers.
  for (int i = 0; i + 1 < num_threads; ++i) {
    impl_->workers.emplace_back([this] {
      t_owner = this;
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock lk(impl_->mu);
          impl_->cv.wait(lk, [&] { return impl_->stop || !impl_->queue.empty(); });
          if (impl_->queue.empty()) return;
          job = std::move(impl_->queue.front());
          impl_->queue.pop_front();
        }
        job();
      }
    });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lk(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  for (auto& w : impl_->workers) w.join();
}

int ThreadPool::num_threads() const { return int(impl_->workers.size()) + 1; }

bool ThreadPool::in_worker() const { return t_owner == this; }

std::future<void> ThreadPool::submit(std::function<void()> fn) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(fn));
  auto fut = task->get_future();
  if (impl_->workers.empty()) {
    (*task)();
    return fut;
  }
  {
    std::lock_guard lk(impl_->mu);
    impl_->queue.emplace_back([task] { (*task)(); });
  }
  impl_->cv.notify_one();
  return fut;
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t max_parts = std::max<int64_t>(1, n / grain);
  const int64_t parts = std::min<int64_t>(num_threads(), max_parts);
  if (parts == 1 || in_worker()) {
    fn(0, n);
    return;
  }
  // Dynamic claiming of equal ranges: idle threads take the next range, so a slow worker does
  // not hold the others back.
  const int64_t chunk = (n + parts * 4 - 1) / (parts * 4);
  const int64_t nchunks = (n + chunk - 1) / chunk;
  struct Shared {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::mutex mu;
    std::condition_variable cv;
    std::exception_ptr error;
  };
  auto sh = std::make_shared<Shared>();
  auto run = [sh, &fn, n, chunk, nchunks] {
    for (int64_t c; (c = sh->next.fetch_add(1)) < nchunks;) {
      try {
        fn(c * chunk, std::min(n, (c + 1) * chunk));
      } catch (...) {
        std::lock_guard lk(sh->mu);
        if (!sh->error) sh->error = std::current_exception();
      }
      if (sh->done.fetch_add(1) + 1 == nchunks) {
        std::lock_guard lk(sh->mu);
        sh->cv.notify_all();
      }
    }
  };
  {
    std::lock_guard lk(impl_->mu);
    for (int64_t i = 0; i + 1 < parts; ++i) impl_->queue.emplace_back(run);
  }
  impl_->cv.notify_all();
  run();
  std::unique_lock lk(sh->mu);
  sh->cv.wait(lk, [&] { return sh->done.load() == nchunks; });
  if (sh->error) std::rethrow_exception(sh->error);
}

int num_threads_from_env() {
  if (const char* s = std::getenv("EXAFOLD_NUM_THREADS"); s && *s) {
    char* end = nullptr;
    long v = std::strtol(s, &end, 10);
    check(end && *end == '\0' && v >= 1 && v <= 4096,
          "EXAFOLD_NUM_THREADS must be a positive integer, got '", s, "'");
    return int(v);
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

namespace {
std::mutex g_pool_mu;
std::unique_ptr<ThreadPool> g_pool;
bool g_pool_set = false;
}  // namespace

ThreadPool& thread_pool() {
  std::lock_guard lk(g_pool_mu);
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(num_threads_from_env());
  return *g_pool;
}

void set_num_threads(int n) {
  std::lock_guard lk(g_pool_mu);
  g_pool = std::make_unique<ThreadPool>(n);
  g_pool_set = true;
}

const char* num_threads_source() {
  std::lock_guard lk(g_pool_mu);
  if (g_pool_set) return "set_num_threads";
  const char* s = std::getenv("EXAFOLD_NUM_THREADS");
  return s && *s ? "EXAFOLD_NUM_THREADS" : "cores";
}

}  // namespace exafold
