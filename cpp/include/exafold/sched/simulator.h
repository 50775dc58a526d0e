// Replays the work distribution of a distillation run for any worker count: how long it takes,
// how well the workers are used, and how long they idle at the tail.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "exafold/sched/cost_model.h"

namespace exafold::sched {

enum class Policy {
  round_robin,  // static: item i goes to worker i mod W in input order (the naive baseline)
  lpt,          // static: longest processing time first, each item to the least-loaded worker
  dispenser,    // dynamic: workers ask a central dispenser for largest-first shrinking chunks
};

/// "round_robin", "lpt" or "dispenser". @throws InvalidArgument naming the accepted values.
Policy parse_policy(std::string_view name);
const char* policy_name(Policy policy);

struct SimulationOptions {
  int64_t workers = 1;
  Policy policy = Policy::dispenser;
  /// Dispenser only. Guided self-scheduling by work: each request takes the next items in
  /// largest-first order until they hold 1/(chunk_divisor * workers) of the remaining work, and at
  /// least min_chunk items, so chunks start large (few requests) and shrink at the tail (balanced
  /// finish). Classic GSS counts items (remaining/(k*workers)); with largest-first order that
  /// gives the first requester the most expensive items and wrecks the balance.
  int64_t min_chunk = 1;
  double chunk_divisor = 2.0;
  /// Seconds a worker waits per dispenser request (network round trip plus service time).
  double dispatch_latency_s = 0.0;
};

struct SimulationResult {
  double makespan_s = 0;       // when the last worker finishes
  double total_work_s = 0;     // sum of the item times
  double efficiency = 0;       // total_work_s / (workers * makespan_s)
  double tail_idle_s = 0;      // sum over workers of (makespan - own finish)
  double max_tail_idle_s = 0;  // the longest single tail wait
  int64_t requests = 0;        // dispenser requests that returned work (0 for static policies)
  std::vector<double> busy_s;  // per worker: seconds spent on items
};

/// Note [Dispenser chunks]: the dispenser policy, shared by the simulator and the MPI runner
/// (python/exafold/runner/mpi.py), which hands these chunks out in order. Over item costs sorted
/// largest first, chunk k holds the next items until they hold 1/(chunk_divisor * workers) of
/// the work still undispensed, and at least min_chunk items. A chunk's size depends only on how
/// much work is left, not on who asks, so the boundaries are fixed up front.
/// Returns the boundaries [0, b1, ..., n]. @throws InvalidArgument on invalid settings.
std::vector<int64_t> dispenser_chunks(std::span<const double> sorted_costs, int64_t workers,
                                      double chunk_divisor = 2.0, int64_t min_chunk = 1);

/// Simulates the policy over items with the given processing times. O(n log n) for the sort of
/// lpt and dispenser, plus O(n log W) for lpt and O(requests log W) for the dispenser.
/// @throws InvalidArgument on no workers, no items, or a negative or non-finite time.
SimulationResult simulate(std::span<const double> item_seconds, const SimulationOptions& options);

/// Note [Synthetic length distributions]:
/// - "uniprot": log-normal with mean 349 residues (UniProt 2023.3: 248,497,366 proteins,
///   average length 348.88 aa, from Unipept's database statistics) and log-sd 0.65 (an assumed
///   width: log-normal protein lengths per Zhang, J Mol Evol 2000; 95% of draws within
///   79-1,012 aa), so log-mean = ln(349) - 0.65^2/2; clipped to [16, max_length].
/// - "uniform": uniform integers in [16, max_length].
/// Deterministic for a given (name, count, max_length, seed).
/// @throws InvalidArgument on an unknown name, count < 1 or max_length < 16.
std::vector<int32_t> synthetic_lengths(std::string_view name, int64_t count, int32_t max_length,
                                       uint64_t seed);

/// Analytic FLOPs per item (flop_polynomial at each length), on the shared thread pool.
/// @throws InvalidArgument on a length below 1.
std::vector<double> item_flops(std::span<const int32_t> lengths, const CostDims& dims = {},
                               const CostWorkload& work = {});

/// Seconds per item from the cost model and a device time model, on the shared thread pool.
std::vector<double> item_seconds(std::span<const int32_t> lengths, const DeviceTimeModel& time,
                                 const CostDims& dims = {}, const CostWorkload& work = {});

}  // namespace exafold::sched
