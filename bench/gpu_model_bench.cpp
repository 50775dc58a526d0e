// The whole prediction on cuda:0 (a GPU, or the CPU emulation of CUDA for rehearsal): seconds,
// peak device memory, launches, TFLOP/s and MFU per sequence length, random parameters in the
// preset's layout and random features (timing does not depend on the values). With CUDA graphs
// (the default) each iteration is one graph launch: launches counts them plus the kernels
// launched outside the graphs, and the graph's private pool (its activations) is reported
// beside the peak of the memory in use.
//
//   gpu_model_bench [--preset P] [--lengths 128,256] [--clusters C] [--extra E] [--recycles R]
//                   [--dtype bfloat16|float32] [--peak-size M] [--graphs on|off] [--csv FILE]
//                   [--record FILE]
//
// The default is bfloat16, the precision a distillation run uses on a GPU (model/params.h: the
// trunk in bfloat16, the structure module and heads in float32).
// MFU = the analytic FLOPs (sched::prediction_flops, the convention of cost_model.h) per second
// over the device's bf16 peak, measured here as the best of three cuBLASLt bfloat16 GEMMs of
// M x M x M (M = --peak-size). The chunk is the engine's: the warm-up run goes through
// run_model_within_memory, as Model.__call__ does (unchunked, halved on each out-of-memory
// failure), and the timed run takes the chunk that fitted. A length that does not fit even at
// chunk 1 reports OOM and the next one runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

#include "exafold/core/error.h"
#include "exafold/features/atom_maps.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/model/alphafold.h"
#include "exafold/model/config.h"
#include "exafold/model/iteration_graph.h"
#include "exafold/model/memory_fit.h"
#include "exafold/model/params.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "exafold/ops/graph.h"
#include "exafold/sched/cost_model.h"
#include "exafold/sched/model_cost.h"
#include "random_inputs.h"
#include "record.h"

namespace {

using namespace exafold;
using namespace exafold::model;
using bench::normal;
using bench::ones;
using bench::random_params;

Tensor ints(const Shape& shape, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> u(lo, hi);
  Tensor t = Tensor::empty(shape, DType::int32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = u(rng);
  return t;
}

ModelFeatures random_features(int64_t n, int64_t s, int64_t e, std::mt19937& rng) {
  ModelFeatures f;
  TrunkFeatures& t = f.trunk;
  t.aatype = ints({n}, rng, 0, 19);
  t.residue_index = Tensor::empty({n}, DType::int32);
  for (int64_t i = 0; i < n; ++i) t.residue_index.data<int32_t>()[i] = int32_t(i);
  t.seq_mask = ones({n});
  t.target_feat = normal({n, 22}, rng, 1);
  t.msa_feat = normal({s, n, 49}, rng, 1);
  t.msa_mask = ones({s, n});
  t.extra_msa = ints({e, n}, rng, 0, 22);
  t.extra_msa_mask = ones({e, n});
  t.extra_has_deletion = ones({e, n});
  t.extra_deletion_value = normal({e, n}, rng, 0.3f);
  const features::AtomMaps maps = features::atom_maps(t.aatype);
  f.residx_atom37_to_atom14 = maps.residx_atom37_to_atom14;
  f.atom37_atom_exists = maps.atom37_atom_exists;
  f.atom14_atom_exists = maps.atom14_atom_exists;
  return f;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// The best bf16 GEMM rate of three M x M x M products, in FLOP/s.
double bf16_peak(int64_t m) {
  ops::GpuKernels& k = *ops::gpu_kernels();
  const Tensor a =
      ops::cast(migrate(Tensor::empty({m, m}, DType::float32), Device::cuda(0)), DType::bfloat16);
  ops::fill(a, 0.5);
  const Tensor c = Tensor::empty({m, m}, DType::float32, Device::cuda(0));
  k.gemm(a.data_ptr(), a.data_ptr(), DType::bfloat16, m, m, m, nullptr, false, c.data_ptr(),
         DType::float32, false);
  k.synchronize();
  double best = 0;
  for (int r = 0; r < 3; ++r) {
    const double t0 = now();
    k.gemm(a.data_ptr(), a.data_ptr(), DType::bfloat16, m, m, m, nullptr, false, c.data_ptr(),
           DType::float32, false);
    k.synchronize();
    best = std::max(best, 2.0 * double(m) * double(m) * double(m) / (now() - t0));
  }
  return best;
}

std::vector<int64_t> parse_lengths(const std::string& v) {
  std::vector<int64_t> out;
  std::stringstream ss(v);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string preset_name = "model_1_ptm", dtype_name_arg = "bfloat16", csv, record;
  std::vector<int64_t> lengths = {128, 256, 512, 1024};
  int64_t clusters = 512, extra = 5120, peak_size = 8192;
  int recycles = 3;
  bool graphs = true;
  std::string command = argv[0];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    command += " " + a;
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value after %s\n", a.c_str());
      return 2;
    }
    const std::string v = argv[++i];
    command += " " + v;
    if (a == "--preset")
      preset_name = v;
    else if (a == "--lengths")
      lengths = parse_lengths(v);
    else if (a == "--clusters")
      clusters = std::stoll(v);
    else if (a == "--extra")
      extra = std::stoll(v);
    else if (a == "--recycles")
      recycles = std::stoi(v);
    else if (a == "--dtype")
      dtype_name_arg = v;
    else if (a == "--peak-size")
      peak_size = std::stoll(v);
    else if (a == "--csv")
      csv = v;
    else if (a == "--record")
      record = v;
    else if (a == "--graphs")
      graphs = v != "off";
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (ops::gpu_kernels() == nullptr || gpu_count() == 0) {
    std::fprintf(stderr, "gpu_model_bench: no CUDA device (or a build without CUDA)\n");
    return 1;
  }
  if (dtype_name_arg != "bfloat16" && dtype_name_arg != "float32") {
    std::fprintf(stderr, "--dtype is bfloat16 or float32, not %s\n", dtype_name_arg.c_str());
    return 2;
  }
  const DType dtype = dtype_from_name(dtype_name_arg);
  ModelConfig config = preset(preset_name);
  config.templates.enabled = false;
  const Params params = random_params(config);
  const Device device = Device::cuda(0);
  prepare(params, device, dtype);
  const double peak = bf16_peak(peak_size);
  sched::CostWorkload work;
  work.msa_clusters = clusters;
  work.extra_msa_rows = extra;
  work.templates = 0;
  work.passes = recycles + 1;
  const sched::CostDims dims = sched::cost_dims(config);
  Allocator& memory = get_allocator(device, MemoryKind::device);

  char line[256];
  // launches: graph launches plus the kernels launched outside graphs (all of them with
  // --graphs off); graph MiB: the private pool of the iteration's graph (docs/gpu.md).
  std::snprintf(line, sizeof line, "%6s %6s %9s %9s %9s %9s %10s %8s %6s\n", "S", "chunk",
                "seconds", "peak MiB", "graph MiB", "launches", "TFLOP", "TFLOP/s", "MFU");
  std::string table = line;
  std::string rows_csv =
      "S,chunk,seconds,peak_bytes,graph_pool_bytes,launches,graph_launches,kernel_launches,flops,"
      "tflops_per_s,mfu\n";
  for (const int64_t n : lengths) {
    std::mt19937 rng{uint32_t(n)};
    const std::vector<ModelFeatures> features = {random_features(n, clusters, extra, rng)};
    RunOptions options;
    options.device = device;
    options.dtype = dtype;
    options.cuda_graphs = graphs;
    const double flops = sched::prediction_flops(n, dims, work);
    try {
      // Warm: caches, cuBLASLt plans, the chunk that fits, and with graphs (when the first
      // chunk fitted) the capture of the iteration's graph.
      std::vector<int64_t> tried;
      run_model_within_memory(config, params, features, recycles, options, nullptr, &tried);
      options.chunk_size = tried.back();
      if (tried.size() > 1) run_model(config, params, features, recycles, options);
      ops::gpu_kernels()->synchronize();
      memory.reset_peak();
      const uint64_t kernels0 = ops::gpu_kernels()->launches(), graphs0 = ops::graph_launches();
      const double t0 = now();
      run_model(config, params, features, recycles, options);
      ops::gpu_kernels()->synchronize();
      const double seconds = now() - t0;
      const uint64_t kernels = ops::gpu_kernels()->launches() - kernels0;
      const uint64_t graph_launches = ops::graph_launches() - graphs0;
      const uint64_t launches = kernels + graph_launches;
      const double peak_bytes = double(memory.stats().peak_in_use);
      const double pool_bytes = double(iteration_graph_stats().pool_bytes);
      const double rate = flops / seconds;
      std::snprintf(line, sizeof line, "%6lld %6lld %9.3f %9.0f %9.0f %9llu %10.2f %8.2f %5.1f%%\n",
                    static_cast<long long>(n), static_cast<long long>(options.chunk_size), seconds,
                    peak_bytes / (1 << 20), pool_bytes / (1 << 20),
                    static_cast<unsigned long long>(launches), flops / 1e12, rate / 1e12,
                    100 * rate / peak);
      table += line;
      std::snprintf(line, sizeof line, "%lld,%lld,%.6f,%.0f,%.0f,%llu,%llu,%llu,%.6e,%.6e,%.6f\n",
                    static_cast<long long>(n), static_cast<long long>(options.chunk_size), seconds,
                    peak_bytes, pool_bytes, static_cast<unsigned long long>(launches),
                    static_cast<unsigned long long>(graph_launches),
                    static_cast<unsigned long long>(kernels), flops, rate / 1e12, rate / peak);
      rows_csv += line;
    } catch (const OutOfMemory& e) {
      std::snprintf(line, sizeof line, "%6lld %6s %9s\n", static_cast<long long>(n), "-", "OOM");
      table += line;
      rows_csv += std::to_string(n) + ",,OOM,,,,,,,,\n";
      std::fprintf(stderr, "S = %lld: %s\n", static_cast<long long>(n), e.what());
    }
    std::fputs(table.c_str() + table.rfind('\n', table.size() - 2) + 1, stdout);
    std::fflush(stdout);
    // After every length, so that a run stopped at its time limit keeps the lengths it did.
    if (!csv.empty()) std::ofstream(csv) << rows_csv;
  }
  std::printf("%s", table.c_str());
  if (!record.empty()) {
    char notes[512];
    std::snprintf(
        notes, sizeof notes,
        "%s at its full width, %lld clusters, %lld extra rows, %d recycles, no templates, "
        "%s, random parameters, CUDA graphs %s. bf16 peak measured by cuBLASLt (%lld^3 GEMM): "
        "%.1f TFLOP/s. TFLOP = sched::prediction_flops. Second of two runs per length.",
        preset_name.c_str(), static_cast<long long>(clusters), static_cast<long long>(extra),
        recycles, dtype_name_arg.c_str(), graphs ? "on" : "off", static_cast<long long>(peak_size),
        peak / 1e12);
    bench::append_results(record, "Whole prediction on CUDA (" + preset_name + ")", command, table,
                          notes);
  }
  return 0;
}
