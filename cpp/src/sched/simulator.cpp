#include "exafold/sched/simulator.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include "exafold/core/error.h"
#include "exafold/core/thread_pool.h"

namespace exafold::sched {
namespace {

// A binary min-heap of (time, worker) with replace-top, the one operation both the LPT
// assignment and the dispenser need per step. Ties go to the lower worker index so runs are
// deterministic.
class WorkerHeap {
 public:
  explicit WorkerHeap(int64_t workers) : h_(size_t(workers)) {
    for (int64_t w = 0; w < workers; ++w) h_[size_t(w)] = {0.0, w};
  }
  double top_time() const { return h_[0].time; }
  int64_t top_worker() const { return h_[0].worker; }
  void replace_top(double time) {
    h_[0].time = time;
    const size_t n = h_.size();
    size_t i = 0;
    while (true) {
      size_t l = 2 * i + 1, best = i;
      if (l < n && less(h_[l], h_[best])) best = l;
      if (l + 1 < n && less(h_[l + 1], h_[best])) best = l + 1;
      if (best == i) return;
      std::swap(h_[i], h_[best]);
      i = best;
    }
  }

 private:
  struct Entry {
    double time;
    int64_t worker;
  };
  static bool less(const Entry& a, const Entry& b) {
    return a.time < b.time || (a.time == b.time && a.worker < b.worker);
  }
  std::vector<Entry> h_;
};

std::vector<double> sorted_descending(std::span<const double> t) {
  std::vector<double> s(t.begin(), t.end());
  std::sort(s.begin(), s.end(), std::greater<>());
  return s;
}

// Static policies: a worker finishes when its assigned work is done.
void round_robin(std::span<const double> t, SimulationResult& r) {
  const size_t w = r.busy_s.size();
  for (size_t i = 0; i < t.size(); ++i) r.busy_s[i % w] += t[i];
}

void lpt(std::span<const double> t, SimulationResult& r) {
  WorkerHeap heap(int64_t(r.busy_s.size()));
  for (double x : sorted_descending(t)) {
    const int64_t w = heap.top_worker();
    r.busy_s[size_t(w)] += x;
    heap.replace_top(r.busy_s[size_t(w)]);
  }
}

// Returns each worker's finish time (busy time plus its dispenser waits).
std::vector<double> dispenser(std::span<const double> t, const SimulationOptions& o,
                              SimulationResult& r) {
  const auto sorted = sorted_descending(t);
  const std::vector<int64_t> bounds =
      dispenser_chunks(sorted, o.workers, o.chunk_divisor, o.min_chunk);
  std::vector<double> finish(size_t(o.workers), 0.0);
  WorkerHeap heap(o.workers);
  for (size_t k = 0; k + 1 < bounds.size(); ++k) {
    const int64_t w = heap.top_worker();
    double work = 0;
    for (int64_t i = bounds[k]; i < bounds[k + 1]; ++i) work += sorted[size_t(i)];
    ++r.requests;
    r.busy_s[size_t(w)] += work;
    finish[size_t(w)] = heap.top_time() + o.dispatch_latency_s + work;
    heap.replace_top(finish[size_t(w)]);
  }
  return finish;
}

}  // namespace

std::vector<int64_t> dispenser_chunks(std::span<const double> sorted_costs, int64_t workers,
                                      double chunk_divisor, int64_t min_chunk) {
  check(workers >= 1 && chunk_divisor > 0 && min_chunk >= 1,
        "invalid dispenser settings: workers=", workers, " chunk_divisor=", chunk_divisor,
        " min_chunk=", min_chunk);
  // Prefix sums make a chunk's work O(1) regardless of its size.
  const auto n = int64_t(sorted_costs.size());
  std::vector<double> prefix(size_t(n) + 1, 0.0);
  for (size_t i = 0; i < size_t(n); ++i) prefix[i + 1] = prefix[i] + sorted_costs[i];
  const double divisor = chunk_divisor * double(workers);
  std::vector<int64_t> bounds{0};
  for (int64_t next = 0; next < n;) {
    // Counting items instead of work would hand the first requester the most expensive items
    // of the largest-first order.
    const double target =
        prefix[size_t(next)] + (prefix[size_t(n)] - prefix[size_t(next)]) / divisor;
    const auto end = std::lower_bound(prefix.begin() + next + 1, prefix.end(), target);
    next = std::min(n, std::max(next + min_chunk, int64_t(end - prefix.begin())));
    bounds.push_back(next);
  }
  return bounds;
}

Policy parse_policy(std::string_view name) {
  if (name == "round_robin") return Policy::round_robin;
  if (name == "lpt") return Policy::lpt;
  if (name == "dispenser") return Policy::dispenser;
  fail("unknown scheduling policy \"", name, "\": expected round_robin, lpt or dispenser");
}

const char* policy_name(Policy policy) {
  switch (policy) {
    case Policy::round_robin:
      return "round_robin";
    case Policy::lpt:
      return "lpt";
    case Policy::dispenser:
      return "dispenser";
  }
  fail<InternalError>("unhandled policy ", int(policy));
}

SimulationResult simulate(std::span<const double> item_seconds, const SimulationOptions& o) {
  check(o.workers >= 1, "simulation needs at least one worker, got ", o.workers);
  check(!item_seconds.empty(), "simulation needs at least one item");
  check(o.min_chunk >= 1 && o.chunk_divisor > 0 && o.dispatch_latency_s >= 0,
        "invalid dispenser settings: min_chunk=", o.min_chunk, " chunk_divisor=", o.chunk_divisor,
        " dispatch_latency_s=", o.dispatch_latency_s);
  SimulationResult r;
  for (size_t i = 0; i < item_seconds.size(); ++i) {
    check(item_seconds[i] >= 0 && std::isfinite(item_seconds[i]), "item ", i,
          " has an invalid time ", item_seconds[i]);
    r.total_work_s += item_seconds[i];
  }
  r.busy_s.assign(size_t(o.workers), 0.0);
  std::vector<double> finish;
  switch (o.policy) {
    case Policy::round_robin:
      round_robin(item_seconds, r), finish = r.busy_s;
      break;
    case Policy::lpt:
      lpt(item_seconds, r), finish = r.busy_s;
      break;
    case Policy::dispenser:
      finish = dispenser(item_seconds, o, r);
      break;
  }
  r.makespan_s = *std::max_element(finish.begin(), finish.end());
  for (double f : finish) {
    r.tail_idle_s += r.makespan_s - f;
    r.max_tail_idle_s = std::max(r.max_tail_idle_s, r.makespan_s - f);
  }
  r.efficiency = r.makespan_s > 0 ? r.total_work_s / (double(o.workers) * r.makespan_s) : 1.0;
  return r;
}

std::vector<int32_t> synthetic_lengths(std::string_view name, int64_t count, int32_t max_length,
                                       uint64_t seed) {
  constexpr int32_t kMinLength = 16;
  check(count >= 1, "length count must be positive, got ", count);
  check(max_length >= kMinLength, "max_length must be at least ", kMinLength, ", got ", max_length);
  std::mt19937_64 rng(seed);
  std::vector<int32_t> out(static_cast<size_t>(count));
  if (name == "uniprot") {
    constexpr double kMean = 349.0, kLogSd = 0.65;
    std::lognormal_distribution<double> dist(std::log(kMean) - kLogSd * kLogSd / 2, kLogSd);
    for (auto& x : out)
      x = int32_t(std::clamp(std::lround(dist(rng)), long(kMinLength), long(max_length)));
  } else if (name == "uniform") {
    std::uniform_int_distribution<int32_t> dist(kMinLength, max_length);
    for (auto& x : out) x = dist(rng);
  } else {
    fail("unknown length distribution \"", name, "\": expected uniprot or uniform");
  }
  return out;
}

std::vector<double> item_flops(std::span<const int32_t> lengths, const CostDims& dims,
                               const CostWorkload& work) {
  const FlopPolynomial poly = flop_polynomial(dims, work);
  std::vector<double> out(lengths.size());
  thread_pool().parallel_for(int64_t(lengths.size()), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int32_t s = lengths[size_t(i)];
      check(s >= 1, "sequence length must be positive, got ", s, " at index ", i);
      out[size_t(i)] = poly.at(double(s));
    }
  });
  return out;
}

std::vector<double> item_seconds(std::span<const int32_t> lengths, const DeviceTimeModel& time,
                                 const CostDims& dims, const CostWorkload& work) {
  std::vector<double> out = item_flops(lengths, dims, work);
  for (size_t i = 0; i < out.size(); ++i) out[i] = time.seconds(lengths[i], out[i]);
  return out;
}

}  // namespace exafold::sched
