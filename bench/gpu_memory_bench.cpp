// The longest sequence that fits a GPU, from the memory model of the cuda backend (the replay
// on meta:cuda, model/memory_model.h): no GPU is needed, and nothing is computed. For each
// capacity, a bisection over N of the device memory of one prediction at chunk 1 (the smallest
// peak): the parameters of every block, every iteration's features, the activations' peak (at
// the length's bucket, as a cuda run pads) and
// the cuBLASLt workspace of the thread driving the device, judged by the activations' peak in
// use (what the memory needs at least) and by their reserved peak (whole segments of the
// caching allocator, from an empty cache, none released: what it takes without pressure).
// Then the bytes of pair-shaped
// operands ([N, N, c], the [H, N, N] pair bias, the [N, N] mask) that one Evoformer block's ops
// read and write, unchunked: the op stream of a replay with two Evoformer blocks less the one
// with one, counted at a prime N that no other size equals and scaled by N^2 (each such
// operand has N^2 c elements; the N = 103 count checks the scaling).
//
//   gpu_memory_bench [--preset model_1_ptm] [--clusters 512] [--extra 5120] [--recycles 3]
//                    [--dtype bfloat16] [--capacity-mib 81559,143771] [--lengths 1024,10000]
//                    [--traffic 256,512,1024] [--peaks in-use|reserved|both] [--record FILE]
//
// Capacities are cudaMemGetInfo's total on the device (H100 80GB SXM: 81,559 MiB; H200:
// 143,771 MiB) less nothing: the CUDA context's own memory (a few hundred MiB, which that total
// does not exclude) is in the budget's reserve at run time (model/memory_fit.h), not here.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/memory/format.h"
#include "exafold/model/config.h"
#include "exafold/model/memory_model.h"
#include "exafold/ops/backend_info.h"
#include "record.h"

namespace {

using namespace exafold;
using namespace exafold::model;

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoll(item));
  return out;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double gib(int64_t b) { return double(b) / double(int64_t(1) << 30); }

std::string breakdown(const DeviceMemory& m) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "parameters %.2f GiB, features %.2f GiB, activations %.2f GiB (reserved %.2f), "
                "cuBLASLt %.3f GiB: total %.2f GiB",
                gib(m.parameters), gib(m.features), gib(m.activations), gib(m.activations_reserved),
                gib(m.outside), gib(m.total()));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string preset_name = "model_1_ptm", dtype_arg = "bfloat16", record;
  std::vector<int64_t> capacities_mib = {81559, 143771}, lengths = {1024, 4096, 10000},
                       traffic = {256, 512, 1024};
  int64_t clusters = 512, extra = 5120;
  int recycles = 3;
  std::vector<Peak> peaks = {Peak::in_use, Peak::reserved};
  std::string command = "bench/gpu_memory_bench";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value after %s\n", a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    command += " " + a + " " + v;
    if (a == "--preset")
      preset_name = v;
    else if (a == "--clusters")
      clusters = std::stoll(v);
    else if (a == "--extra")
      extra = std::stoll(v);
    else if (a == "--recycles")
      recycles = std::stoi(v);
    else if (a == "--dtype")
      dtype_arg = v;
    else if (a == "--capacity-mib")
      capacities_mib = parse_list(v);
    else if (a == "--lengths")
      lengths = parse_list(v);
    else if (a == "--traffic")
      traffic = parse_list(v);
    else if (a == "--record")
      record = v;
    else if (a == "--peaks" && (v == "in-use" || v == "reserved" || v == "both"))
      peaks = v == "both" ? std::vector{Peak::in_use, Peak::reserved}
                          : std::vector{v == "in-use" ? Peak::in_use : Peak::reserved};
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  try {
    const DType dtype = dtype_from_name(dtype_arg);
    ModelConfig config = preset(preset_name);
    config.templates.enabled = false;
    MemoryWorkload w;
    w.clusters = clusters;
    w.extra_rows = extra;
    w.iterations = recycles + 1;
    std::ostringstream table;
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s, no templates, %lld clusters, %lld extra rows, %d recycles, %s, cuda "
                  "memory model (meta:cuda), chunk 1\n",
                  preset_name.c_str(), (long long)clusters, (long long)extra, recycles,
                  dtype_arg.c_str());
    table << line;
    for (int64_t n : lengths) {
      MemoryWorkload at = w;
      at.residues = n;
      const double t0 = now();
      const DeviceMemory m = predict_device_memory(config, at, 1, dtype, DeviceType::cuda);
      std::snprintf(line, sizeof line, "N = %6lld: %s (replay %.1f s)\n", (long long)n,
                    breakdown(m).c_str(), now() - t0);
      table << line;
      std::fputs(line, stdout);
      std::fflush(stdout);
    }
    for (int64_t mib : capacities_mib) {
      const int64_t capacity = mib << 20;
      for (const Peak peak : peaks) {
        const double t0 = now();
        const int64_t longest =
            longest_fitting_sequence(config, w, capacity, dtype, DeviceType::cuda, peak);
        MemoryWorkload at = w;
        at.residues = std::max<int64_t>(longest, 1);
        const DeviceMemory m = predict_device_memory(config, at, 1, dtype, DeviceType::cuda);
        std::snprintf(line, sizeof line,
                      "capacity %lld MiB (%.1f GiB), by the %s peak: longest N = %lld (%s; "
                      "bisection %.0f s)\n",
                      (long long)mib, gib(capacity), peak == Peak::in_use ? "in-use" : "reserved",
                      (long long)longest, breakdown(m).c_str(), now() - t0);
        table << line;
        std::fputs(line, stdout);
        std::fflush(stdout);
      }
    }
    if (!traffic.empty()) {
      // 101 is prime and equals no width, head count or size of the model but N.
      constexpr int64_t kPrime = 101;
      MemoryWorkload at = w;
      at.residues = kPrime;
      at.iterations = 1;
      const ops::OperandTraffic t = evoformer_block_pair_traffic(config, at, dtype);
      at.residues = 103;
      const ops::OperandTraffic u = evoformer_block_pair_traffic(config, at, dtype);
      check(t.read * 103 * 103 == u.read * kPrime * kPrime &&
                t.written * 103 * 103 == u.written * kPrime * kPrime,
            "the pair traffic of a block does not scale as N^2: ", t.read, "/", t.written,
            " at N = 101, ", u.read, "/", u.written, " at N = 103");
      const double read_per = double(t.read) / double(kPrime * kPrime);
      const double written_per = double(t.written) / double(kPrime * kPrime);
      std::snprintf(line, sizeof line,
                    "pair-shaped operand bytes per Evoformer block, unchunked (%s): %.0f N^2 "
                    "read, %.0f N^2 written\n",
                    dtype_arg.c_str(), read_per, written_per);
      table << line;
      std::fputs(line, stdout);
      for (int64_t n : traffic) {
        const double n2 = double(n) * double(n);
        std::snprintf(line, sizeof line,
                      "  N = %5lld: read %8.1f MiB, written %8.1f MiB, %8.1f MiB in all\n",
                      (long long)n, read_per * n2 / 1048576.0, written_per * n2 / 1048576.0,
                      (read_per + written_per) * n2 / 1048576.0);
        table << line;
        std::fputs(line, stdout);
      }
    }
    if (!record.empty())
      bench::append_results(record, "Longest sequence on a GPU (cuda memory model)", command,
                            table.str(), "");
  } catch (const Error& e) {
    std::fprintf(stderr, "gpu_memory_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
