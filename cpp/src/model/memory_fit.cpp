// Note [Out-of-memory retry]: the memory model predicts a prediction's peak to the byte from an
// empty cache, but a real device also holds what other threads, processes and a warm cache
// hold, so a chunk chosen from it can still run out. An item that does is run again with the
// chunk halved rather than failed: chunk 1 bounds every chunked module's temporaries by one row,
// and only what no chunk bounds (the pair and MSA representations themselves) is left. A
// failure at chunk 1 is the item's alone: every allocation of the attempt is released as the
// exception unwinds, and the device is as before it.
#include "exafold/model/memory_fit.h"

#include <algorithm>
#include <string>

#include "exafold/core/error.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/format.h"
#include "exafold/memory/gpu_backend.h"
#include "exafold/ops/backend_info.h"

namespace exafold::model {

namespace {

std::string chunk_list(const std::vector<int64_t>& chunks) {
  std::string s;
  for (int64_t c : chunks)
    s += cat(s.empty() ? "" : ", ", c == 0 ? std::string("unchunked") : cat(c));
  return s;
}

size_t free_on(Device device) {
  GpuBackend* gpu = gpu_backend();
  return gpu ? gpu->free_memory(device.index) : 0;
}

}  // namespace

int64_t gpu_memory_reserve(int64_t free_bytes, int threads) {
  check(free_bytes >= 0 && threads > 0, "gpu_memory_reserve needs free >= 0 and threads > 0, got ",
        free_bytes, " and ", threads);
  const auto workspaces = int64_t(ops::per_thread_device_bytes(Device::cuda(0))) * int64_t(threads);
  return int64_t(kGpuSegmentReserve * double(free_bytes)) + workspaces;
}

int64_t gpu_memory_budget(Device device, int threads) {
  check(device.is_cuda(), "gpu_memory_budget is for a cuda device, not ", device.str());
  check(gpu_count() > device.index, "no ", device.str(), " in this process");
  const AllocatorStats st = get_allocator(device, MemoryKind::device).stats();
  const auto available = int64_t(free_on(device) + (st.reserved - st.in_use));
  return std::max<int64_t>(0, available - gpu_memory_reserve(available, threads));
}

MemoryWorkload workload_of(const ModelFeatures& f, int num_recycle) {
  MemoryWorkload w;
  w.residues = f.trunk.aatype.size(0);
  w.clusters = f.trunk.msa_feat.size(0);
  w.extra_rows = f.trunk.extra_msa.defined() ? f.trunk.extra_msa.size(0) : 0;
  w.iterations = num_recycle + 1;
  w.templates = f.trunk.templates.count();
  return w;
}

int64_t choose_gpu_chunk(const ModelConfig& config, const MemoryWorkload& w, DType dtype,
                         Device device) {
  return choose_chunk(config, w, gpu_memory_budget(device), dtype, DeviceType::cuda,
                      Peak::reserved);
}

int64_t next_smaller_chunk(int64_t chunk, const MemoryWorkload& w) {
  const int64_t current = chunk > 0 ? chunk : std::max({w.residues, w.clusters, w.extra_rows});
  return current > 1 ? current / 2 : 0;
}

IterationOutputs run_model_within_memory(
    const ModelConfig& config, const Params& params, const std::vector<ModelFeatures>& features,
    int num_recycle, const RunOptions& options,
    const std::function<void(int, const IterationOutputs&)>& on_iteration,
    std::vector<int64_t>* tried) {
  check(!features.empty(), "run_model needs the features of at least one iteration");
  const MemoryWorkload w = workload_of(features[0], num_recycle);
  const size_t free_at_start = options.device.is_cuda() ? free_on(options.device) : 0;
  std::vector<int64_t> chunks;
  RunOptions attempt = options;
  attempt.chunk_size = std::max<int64_t>(0, options.chunk_size);
  for (;;) {
    chunks.push_back(attempt.chunk_size);
    if (tried) *tried = chunks;
    try {
      return run_model(config, params, features, num_recycle, attempt, on_iteration);
    } catch (const OutOfMemory& e) {
      const int64_t next = next_smaller_chunk(attempt.chunk_size, w);
      if (next > 0) {
        // The next attempt starts from an empty cache, as the memory model's replay does.
        get_allocator(options.device,
                      options.device.is_host() ? MemoryKind::host : MemoryKind::device)
            .empty_cache();
        attempt.chunk_size = next;
        // The memory model counts eager runs: a graph's pool would add one more iteration's
        // activations to every retry.
        attempt.cuda_graphs = false;
        continue;
      }
      // Even chunk 1 ran out: say what it needs and what there was.
      const DType dtype = options.dtype.value_or(params.dtype());
      const DeviceType model = options.device.is_cuda() ? DeviceType::cuda : DeviceType::cpu;
      std::string need;
      try {
        need = format_bytes(size_t(predict_peak_bytes(config, w, 1, dtype, model)));
      } catch (const Error& replay) {
        need = cat("unknown (the replay failed: ", replay.what(), ")");
      }
      std::string free;
      if (options.device.is_cuda())
        free = cat("; ", format_bytes(free_at_start), " was free on ", options.device.str(),
                   " at the start");
      throw OutOfMemory(cat("N = ", w.residues, ", S = ", w.clusters, ", E = ", w.extra_rows,
                            ", T = ", w.templates, " does not fit on ", options.device.str(),
                            " even at chunk 1: the memory model's peak at chunk 1 is ", need,
                            " above the parameters and features", free, "; chunk sizes tried: ",
                            chunk_list(chunks), "; the last failure: ", e.what()));
    }
  }
}

}  // namespace exafold::model
