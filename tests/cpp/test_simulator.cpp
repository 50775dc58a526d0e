#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "exafold/core/error.h"
#include "exafold/sched/simulator.h"

namespace exafold::sched {
namespace {

std::vector<double> random_times(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> d(0.0, 1.0);
  std::vector<double> t(n);
  for (auto& x : t) x = d(rng);
  return t;
}

size_t argmin(const std::vector<double>& v) {
  return size_t(std::min_element(v.begin(), v.end()) - v.begin());  // first minimum on ties
}

// Brute-force references: linear scans instead of a heap, loops instead of prefix sums.
std::vector<double> brute_lpt(std::vector<double> t, size_t workers) {
  std::sort(t.begin(), t.end(), std::greater<>());
  std::vector<double> load(workers, 0.0);
  for (double x : t) load[argmin(load)] += x;
  return load;
}

struct BruteDispenser {
  std::vector<double> finish, busy;
  int64_t requests = 0;
};

BruteDispenser brute_dispenser(std::vector<double> t, const SimulationOptions& o) {
  std::sort(t.begin(), t.end(), std::greater<>());
  BruteDispenser r{std::vector<double>(size_t(o.workers), 0.0),
                   std::vector<double>(size_t(o.workers), 0.0)};
  size_t next = 0;
  while (next < t.size()) {
    const size_t w = argmin(r.finish);
    double left = 0;
    for (size_t i = next; i < t.size(); ++i) left += t[i];
    const double target = left / (o.chunk_divisor * double(o.workers));
    size_t chunk = 0;
    for (double taken = 0; next + chunk < t.size() && (chunk == 0 || taken < target); ++chunk)
      taken += t[next + chunk];
    chunk = std::min(t.size() - next, std::max(size_t(o.min_chunk), chunk));
    double work = 0;
    for (size_t i = next; i < next + chunk; ++i) work += t[i];
    next += chunk;
    r.busy[w] += work;
    r.finish[w] += o.dispatch_latency_s + work;
    ++r.requests;
  }
  return r;
}

TEST(Simulator, RoundRobinAssignsInInputOrder) {
  const std::vector<double> t = {5, 1, 1, 1, 2};
  const auto r = simulate(t, {.workers = 2, .policy = Policy::round_robin});
  EXPECT_EQ(r.busy_s, (std::vector<double>{8, 2}));
  EXPECT_DOUBLE_EQ(r.makespan_s, 8);
  EXPECT_DOUBLE_EQ(r.efficiency, 10.0 / 16.0);
  EXPECT_DOUBLE_EQ(r.tail_idle_s, 6);
  EXPECT_EQ(r.requests, 0);
}

TEST(Simulator, LptMatchesBruteForce) {
  for (uint64_t seed : {1, 2, 3}) {
    const auto t = random_times(500, seed);
    const auto r = simulate(t, {.workers = 7, .policy = Policy::lpt});
    const auto ref = brute_lpt(t, 7);
    for (size_t w = 0; w < 7; ++w) EXPECT_NEAR(r.busy_s[w], ref[w], 1e-9 * ref[w]);
    EXPECT_DOUBLE_EQ(r.makespan_s, *std::max_element(ref.begin(), ref.end()));
  }
  // The classic LPT example: 3,3,2,2,2 on two workers gives 7 (the optimum is 6).
  const auto r =
      simulate(std::vector<double>{3, 3, 2, 2, 2}, {.workers = 2, .policy = Policy::lpt});
  EXPECT_DOUBLE_EQ(r.makespan_s, 7);
}

TEST(Simulator, DispenserMatchesBruteForce) {
  for (double latency : {0.0, 0.05}) {
    for (int64_t min_chunk : {1, 4}) {
      const auto t = random_times(2000, 11);
      const SimulationOptions o{.workers = 13,
                                .policy = Policy::dispenser,
                                .min_chunk = min_chunk,
                                .chunk_divisor = 2.0,
                                .dispatch_latency_s = latency};
      const auto r = simulate(t, o);
      const auto ref = brute_dispenser(t, o);
      EXPECT_EQ(r.requests, ref.requests);
      const double makespan = *std::max_element(ref.finish.begin(), ref.finish.end());
      // Prefix-sum differences against direct sums: rounding of a ~2,000-term sum (~1e-13 rel).
      EXPECT_NEAR(r.makespan_s, makespan, 1e-9 * makespan);
      for (size_t w = 0; w < 13; ++w) EXPECT_NEAR(r.busy_s[w], ref.busy[w], 1e-9 * makespan);
      double idle = 0;
      for (double f : ref.finish) idle += makespan - f;
      EXPECT_NEAR(r.tail_idle_s, idle, 1e-9 * makespan * 13);
    }
  }
}

TEST(Simulator, EqualItemsBalancePerfectlyAndLatencyCosts) {
  const std::vector<double> t(60, 1.0);
  for (auto p : {Policy::round_robin, Policy::lpt, Policy::dispenser}) {
    const auto r = simulate(t, {.workers = 6, .policy = p});
    EXPECT_DOUBLE_EQ(r.efficiency, 1.0) << policy_name(p);
    EXPECT_DOUBLE_EQ(r.tail_idle_s, 0.0) << policy_name(p);
  }
  // One worker, divisor 1: a single request takes everything, paying the latency once.
  const auto r = simulate(
      t,
      {.workers = 1, .policy = Policy::dispenser, .chunk_divisor = 1.0, .dispatch_latency_s = 0.5});
  EXPECT_EQ(r.requests, 1);
  EXPECT_DOUBLE_EQ(r.makespan_s, 60.5);
  EXPECT_DOUBLE_EQ(r.efficiency, 60.0 / 60.5);
}

TEST(Simulator, DispenserBeatsStaticOnSkewedWork) {
  const auto lengths = synthetic_lengths("uniprot", 50'000, 2500, 5);
  const auto t = item_seconds(lengths, {"nominal", 1e-14, 0, 0});
  const auto rr = simulate(t, {.workers = 500, .policy = Policy::round_robin});
  const auto d = simulate(t, {.workers = 500, .policy = Policy::dispenser});
  EXPECT_GT(d.efficiency, rr.efficiency);
  // A lower bound no schedule beats: the largest item, and the average load.
  const double bound = std::max(*std::max_element(t.begin(), t.end()), d.total_work_s / 500);
  EXPECT_GE(d.makespan_s, bound * (1 - 1e-12));
}

TEST(Simulator, DispenserChunksHoldTheirShareOfTheRemainingWork) {
  auto t = random_times(500, 3);
  std::sort(t.begin(), t.end(), std::greater<>());
  for (int64_t min_chunk : {1, 7}) {
    const auto b = dispenser_chunks(t, 8, 2.0, min_chunk);
    ASSERT_EQ(b.front(), 0);
    ASSERT_EQ(b.back(), int64_t(t.size()));
    for (size_t k = 0; k + 1 < b.size(); ++k) {
      const double left = std::accumulate(t.begin() + b[k], t.end(), 0.0);
      const double held = std::accumulate(t.begin() + b[k], t.begin() + b[k + 1], 0.0);
      const int64_t n = b[k + 1] - b[k];
      // At least the share (unless the items run out), and the smallest chunk that holds it.
      EXPECT_TRUE(held >= left / 16 * (1 - 1e-12) || b[k + 1] == int64_t(t.size()));
      if (n > min_chunk) EXPECT_LT(held - t[size_t(b[k + 1] - 1)], left / 16);
      EXPECT_TRUE(n >= min_chunk || b[k + 1] == int64_t(t.size()));
    }
  }
  EXPECT_EQ(dispenser_chunks(std::vector<double>{}, 4).size(), 1u);
  EXPECT_THROW(dispenser_chunks(t, 0), InvalidArgument);
}

TEST(Simulator, ItemFlopsAreTheCostModelsAtEachLength) {
  const std::vector<int32_t> lengths = {16, 100, 777};
  const CostWorkload w{.msa_clusters = 64, .extra_msa_rows = 128, .templates = 0, .passes = 2};
  const auto f = item_flops(lengths, {}, w);
  for (size_t i = 0; i < lengths.size(); ++i)
    EXPECT_DOUBLE_EQ(f[i], prediction_flops(lengths[i], {}, w));
  const auto s = item_seconds(lengths, {"d", 2e-12, 1e-6, 0.5}, {}, w);
  for (size_t i = 0; i < lengths.size(); ++i)
    EXPECT_DOUBLE_EQ(s[i], 2e-12 * f[i] + 1e-6 * lengths[i] * lengths[i] + 0.5);
}

TEST(Simulator, RejectsBadInput) {
  const std::vector<double> t = {1.0};
  EXPECT_THROW(simulate(t, {.workers = 0}), InvalidArgument);
  EXPECT_THROW(simulate(std::vector<double>{}, {}), InvalidArgument);
  EXPECT_THROW(simulate(std::vector<double>{-1.0}, {}), InvalidArgument);
  EXPECT_THROW(simulate(t, {.min_chunk = 0}), InvalidArgument);
  EXPECT_THROW(parse_policy("fifo"), InvalidArgument);
  EXPECT_EQ(parse_policy("lpt"), Policy::lpt);
}

TEST(SyntheticLengths, UniprotMatchesItsParameters) {
  auto l = synthetic_lengths("uniprot", 1'000'000, 2500, 42);
  EXPECT_EQ(l, synthetic_lengths("uniprot", 1'000'000, 2500, 42));
  EXPECT_GE(*std::min_element(l.begin(), l.end()), 16);
  EXPECT_LE(*std::max_element(l.begin(), l.end()), 2500);
  const double mean = std::accumulate(l.begin(), l.end(), 0.0) / double(l.size());
  // Standard error of the mean is 349 * sqrt(exp(0.65^2) - 1) / 1000 = 0.25 residues; rounding
  // to integers and clipping (P(L > 2500) = 4e-4) move it by < 1 residue: 1% is ample and still
  // fails for a wrong log-mean or log-sd.
  EXPECT_NEAR(mean, 349.0, 3.5);
  std::nth_element(l.begin(), l.begin() + l.size() / 2, l.end());
  EXPECT_NEAR(double(l[l.size() / 2]), std::exp(std::log(349.0) - 0.65 * 0.65 / 2), 3.0);
  EXPECT_THROW(synthetic_lengths("pdb", 10, 2500, 1), InvalidArgument);
  EXPECT_THROW(synthetic_lengths("uniform", 10, 8, 1), InvalidArgument);
}

}  // namespace
}  // namespace exafold::sched
