// A prediction sized to the memory of its device: a GPU's budget, the chunk that fits it, and a
// run that takes smaller chunks when it runs out of memory (the memory model itself:
// memory_model.h).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "exafold/model/alphafold.h"
#include "exafold/model/memory_model.h"

namespace exafold::model {

/// The share of a GPU's free memory kept back for what the replay does not see: other
/// streams' and libraries' allocations made while the prediction runs, and a cache warmed by
/// earlier predictions (the replay starts from an empty one). The chunk is chosen by the
/// replay's reserved peak (whole segments: a block of 10 MiB or more in one of its own, rounded
/// up to 2 MiB), which already holds the allocator's rounding; what this margin misses, the
/// out-of-memory retry catches.
inline constexpr double kGpuSegmentReserve = 0.03;

/// What gpu_memory_budget keeps back of `free_bytes`: kGpuSegmentReserve of it, plus the
/// cuBLASLt workspace of each of `threads` host threads (taken outside the caching allocator:
/// ops::per_thread_device_bytes).
int64_t gpu_memory_reserve(int64_t free_bytes, int threads);

/// Bytes one prediction's activations may take on `device` (cuda:N): the device's free memory
/// as cudaMemGetInfo reports it, plus what its caching allocator holds cached (free blocks it
/// hands out before asking CUDA for more), minus gpu_memory_reserve(free + cached, threads).
/// Parameters and features placed before are already out of the free memory.
int64_t gpu_memory_budget(Device device, int threads = 1);

/// The memory model's workload of these features: N, S, E and T from their shapes, recycling
/// iterations num_recycle + 1.
MemoryWorkload workload_of(const ModelFeatures& features, int num_recycle);

/// The chunk a prediction on `device` starts with: choose_chunk against gpu_memory_budget on a
/// GPU, by the replay's reserved peak (the allocator takes whole segments from the device). Throws
/// OutOfMemory (from choose_chunk) naming the smallest peak when none fits.
int64_t choose_gpu_chunk(const ModelConfig& config, const MemoryWorkload& w, DType dtype,
                         Device device);

/// The chunk to try after a run at `chunk` ran out of memory: half of it (unchunked, 0, counts
/// as the longest of N, S and E), or 0 after 1: there is none smaller.
int64_t next_smaller_chunk(int64_t chunk, const MemoryWorkload& w);

/// run_model at options.chunk_size and, each time it runs out of memory (exafold::OutOfMemory),
/// again from the start at next_smaller_chunk, down to chunk 1, eagerly (without CUDA graphs,
/// whose pools the memory model does not count). Chunking decides which rows are
/// processed together, not what is computed, so the outputs are those of a run at the chunk
/// that fitted. When even chunk 1 runs out, throws OutOfMemory naming the workload, the memory
/// model's peak at chunk 1, the device's free memory (on a GPU), the chunk sizes tried and the
/// last failed allocation. `tried`, when given, receives the chunk sizes in the order tried
/// (the last one ran, unless it threw). `on_iteration` sees the iterations of every attempt.
IterationOutputs run_model_within_memory(
    const ModelConfig& config, const Params& params, const std::vector<ModelFeatures>& features,
    int num_recycle, const RunOptions& options = {},
    const std::function<void(int, const IterationOutputs&)>& on_iteration = nullptr,
    std::vector<int64_t>* tried = nullptr);

}  // namespace exafold::model
