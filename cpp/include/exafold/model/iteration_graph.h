// CUDA graphs of recycling iterations: each iteration of a prediction on a GPU replayed as one
// graph launch instead of thousands of kernel launches (docs/gpu.md, "CUDA graphs").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "exafold/model/alphafold.h"

namespace exafold::model {

/// Whether run_model replays iterations as CUDA graphs: options.cuda_graphs when set, else on
/// for cuda devices; never for other devices. Features with templates run eagerly (their
/// embedding is made once per prediction, outside the iterations).
/// @throws InvalidArgument when graphs are asked for on a device that is not cuda.
bool uses_cuda_graphs(const RunOptions& options);

/// Note [Iteration graphs]: every iteration launches the same kernels on the same shapes, so
/// one graph, captured once per (parameters, preset, dtype, chunk size, features' shapes and
/// dtypes: the length bucket and MSA depths), serves every iteration of every prediction with
/// that key. It reads static device buffers: the features, copied in before each launch once
/// the previous launch is done, and the recycled inputs, zero-filled before a prediction's
/// first iteration and overwritten by the graph's own last nodes with the iteration's outputs.
/// Its activations and outputs live in its private pool (ops/graph.h). The first iteration
/// with a new key runs eagerly (a warm-up that makes everything created on first use: cuBLASLt
/// handles, cached constants) and the capture comes on the next one. The cache keeps one graph
/// (the most recent key): a distillation run visits lengths longest first, so a bucket's
/// predictions come together, and each graph holds an iteration's activations.
/// Runs features[min(r, size - 1)] for r = 0..num_recycle as run_model does (same outputs, to
/// the bit); on_iteration sees the graph's output buffers, valid until the next iteration;
/// the returned outputs are copies.
IterationOutputs run_iterations_as_graphs(
    const ModelConfig& config, const Params& params, const std::vector<ModelFeatures>& features,
    int num_recycle, const RunOptions& options,
    const std::function<void(int, const IterationOutputs&)>& on_iteration);

/// The cache's counters, for tests and benchmarks.
struct IterationGraphStats {
  uint64_t captures = 0;  ///< graphs recorded
  uint64_t replays = 0;   ///< iterations run as a launch of a cached graph
  uint64_t eager = 0;     ///< warm-up iterations, run before a key's capture
  size_t cached = 0;      ///< graphs held now
  size_t pool_bytes = 0;  ///< device memory their private pools hold
};
IterationGraphStats iteration_graph_stats();

/// Destroys the cached graphs; their memory returns to the device's caching allocator.
void clear_iteration_graphs();

}  // namespace exafold::model
