// Parallel efficiency of the scheduling policies at ElMerFold's scale (43,200 workers, 41 million
// sequences), simulated with the cost model; prints a table and appends it to bench/RESULTS.md.
//
//   simulate_scale_bench [--workers N] [--count M] [--distribution uniprot|uniform] [--max-length
//   L]
//                  [--latency SECONDS] [--time-model FILE.json] [--seed S] [--results PATH]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "exafold/core/error.h"
#include "exafold/sched/simulator.h"
#include "record.h"

using namespace exafold;
using namespace exafold::sched;

namespace {

struct Args {
  int64_t workers = 43'200;
  int64_t count = 41'000'000;
  std::string distribution = "uniprot";
  int32_t max_length = 2500;
  double latency_s = 0.01;
  std::string time_model;
  uint64_t seed = 0;
  std::string results = "bench/RESULTS.md";
  std::string command;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 0; i < argc; ++i) a.command += (i ? " " : "") + std::string(argv[i]);
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    check(i + 1 < argc, "option ", k, " needs a value");
    const std::string v = argv[++i];
    if (k == "--workers")
      a.workers = std::stoll(v);
    else if (k == "--count")
      a.count = std::stoll(v);
    else if (k == "--distribution")
      a.distribution = v;
    else if (k == "--max-length")
      a.max_length = std::stoi(v);
    else if (k == "--latency")
      a.latency_s = std::stod(v);
    else if (k == "--time-model")
      a.time_model = v;
    else if (k == "--seed")
      a.seed = std::stoull(v);
    else if (k == "--results")
      a.results = v;
    else
      fail("unknown option ", k);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) try {
  const Args a = parse(argc, argv);
  // Without a measured model: a nominal device sustaining 50 TFLOP/s with 1 s of per-structure
  // overhead (feature loading, output); efficiency depends on it only through the latency ratio.
  DeviceTimeModel time{"nominal-50TFLOPs", 1.0 / 50e12, 0.0, 1.0};
  if (!a.time_model.empty()) {
    std::ifstream in(a.time_model);
    check<IoError>(bool(in), "cannot open time model ", a.time_model);
    std::stringstream ss;
    ss << in.rdbuf();
    time = DeviceTimeModel::from_json(ss.str());
  }
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  const auto lengths = synthetic_lengths(a.distribution, a.count, a.max_length, a.seed);
  const auto seconds = item_seconds(lengths, time);
  const double prep_s = std::chrono::duration<double>(clock::now() - t0).count();

  std::ostringstream table;
  char line[256];
  std::snprintf(line, sizeof line, "| %-11s | %12s | %10s | %14s | %10s | %8s | %7s |\n", "policy",
                "makespan (h)", "efficiency", "tail idle (h)", "requests", "vs rr", "sim (s)");
  table << line << "|---|---:|---:|---:|---:|---:|---:|\n";
  double rr_eff = 0;
  for (Policy p : {Policy::round_robin, Policy::lpt, Policy::dispenser}) {
    const auto s0 = clock::now();
    const auto r =
        simulate(seconds, {.workers = a.workers, .policy = p, .dispatch_latency_s = a.latency_s});
    const double sim_s = std::chrono::duration<double>(clock::now() - s0).count();
    if (p == Policy::round_robin) rr_eff = r.efficiency;
    std::snprintf(line, sizeof line,
                  "| %-11s | %12.3f | %9.2f%% | %14.4f | %10lld | %7.3fx | %7.2f |\n",
                  policy_name(p), r.makespan_s / 3600, 100 * r.efficiency,
                  r.tail_idle_s / double(a.workers) / 3600, (long long)r.requests,
                  r.efficiency / rr_eff, sim_s);
    table << line;
  }
  std::cout << table.str();

  std::ostringstream notes;
  notes << "Time model " << time.to_json() << "; dispatch latency " << a.latency_s
        << " s per request; max length " << a.max_length << "; lengths and item times took "
        << prep_s << " s. Tail idle is the mean per worker; \"vs rr\" is the efficiency over "
        << "round_robin's in this run.";
  bench::append_results(a.results,
                        "simulate_scale: " + std::to_string(a.workers) + " workers, " +
                            std::to_string(a.count) + " " + a.distribution + " sequences",
                        a.command, table.str(), notes.str());
  return 0;
} catch (const std::exception& e) {
  std::cerr << "simulate_scale_bench: " << e.what() << "\n";
  return 1;
}
