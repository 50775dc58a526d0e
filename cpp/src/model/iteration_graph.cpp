// CUDA graphs of recycling iterations: Note [Iteration graphs] in the header.
#include "exafold/model/iteration_graph.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>

#include "exafold/core/error.h"
#include "exafold/memory/allocator.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/gpu_kernels.h"
#include "exafold/ops/graph.h"
#include "exafold/ops/reduce.h"

namespace exafold::model {
namespace {

std::vector<Tensor*> output_tensors(IterationOutputs& o) {
  StructureModuleOutputs& s = o.structure;
  HeadsOutputs& h = o.heads;
  return {&o.trunk.msa,
          &o.trunk.pair,
          &o.trunk.single,
          &o.trunk.msa_first_row,
          &s.final_atom_positions,
          &s.final_atom_mask,
          &s.representation,
          &s.traj,
          &s.angles_sin_cos,
          &s.unnormalized_angles_sin_cos,
          &s.final_atom14_positions,
          &s.final_atom14_mask,
          &h.distogram_logits,
          &h.masked_msa_logits,
          &h.experimentally_resolved_logits,
          &h.plddt_logits,
          &h.plddt,
          &h.mean_plddt,
          &h.pae_logits,
          &h.aligned_confidence_probs,
          &h.predicted_aligned_error,
          &h.ptm,
          &o.next.prev_msa_first_row,
          &o.next.prev_pair,
          &o.next.prev_pos};
}

/// The graph of one key, its static buffers and the parameters it reads.
struct Entry {
  std::string key;
  Params params;         // placed; kept so their memory (which the graph reads) stays theirs
  ModelFeatures inputs;  // on the device, copied into before each launch
  Recycled prev;         // on the device: zeros, then what the graph's last nodes copy in
  ops::Graph graph;
  IterationOutputs outputs;  // in the graph's pool, rewritten by every launch
  bool warmed = false;
};

struct Cache {
  std::mutex mu;  // held for a whole prediction: one set of static buffers
  std::unique_ptr<Entry> entry;
  IterationGraphStats stats;
};

Cache& cache() {
  static auto* c = new Cache;  // never destroyed: device memory outlives static destructors
  return *c;
}

std::string graph_key(const ModelConfig& config, const Params& placed, const ModelFeatures& f,
                      const RunOptions& options, DType dtype) {
  check(!placed.arrays().empty(), "parameters without arrays");
  std::string key =
      cat(config.name, "/", config.evoformer_blocks, "+", config.extra_blocks, " params@",
          placed.arrays().begin()->second.data_ptr(), " ", dtype_name(dtype), " chunk ",
          options.chunk_size, " ", options.device.str());
  ModelFeatures copy = f;
  for (const Tensor* t : iteration_tensors(copy))
    key += cat(" ", t->shape().str(), dtype_name(t->dtype()));
  return key;
}

std::unique_ptr<Entry> make_entry(std::string key, const ModelConfig& config, const Params& placed,
                                  const ModelFeatures& like, DType dtype, Device device) {
  auto e = std::make_unique<Entry>();
  e->key = std::move(key);
  e->params = placed;
  ModelFeatures src = like;
  std::vector<Tensor*> from = iteration_tensors(src), to = iteration_tensors(e->inputs);
  for (size_t i = 0; i < from.size(); ++i)
    *to[i] = Tensor::empty(from[i]->shape(), from[i]->dtype(), device, MemoryKind::device);
  const int64_t n = like.trunk.aatype.size(0);
  e->prev = Recycled::zeros(n, config.c_m, config.c_z, dtype, device);
  return e;
}

void copy_features(Entry& e, const ModelFeatures& f) {
  ModelFeatures src = f;
  std::vector<Tensor*> from = iteration_tensors(src), to = iteration_tensors(e.inputs);
  for (size_t i = 0; i < from.size(); ++i) copy_into(*to[i], from[i]->contiguous());
}

/// The next iteration's recycled inputs, from this one's outputs.
void recycle(const Recycled& prev, const Recycled& next) {
  ops::copy(prev.prev_msa_first_row, next.prev_msa_first_row);
  ops::copy(prev.prev_pair, next.prev_pair);
  ops::copy(prev.prev_pos, next.prev_pos);
}

IterationOutputs copy_outputs(const IterationOutputs& o) {
  IterationOutputs c = o;
  for (Tensor* t : output_tensors(c)) {
    if (!t->defined()) continue;
    Tensor fresh = Tensor::empty(t->shape(), t->dtype(), t->device());
    ops::copy(fresh, *t);
    *t = fresh;
  }
  return c;
}

}  // namespace

bool uses_cuda_graphs(const RunOptions& options) {
  if (!options.device.is_cuda()) {
    check(!options.cuda_graphs.value_or(false), "CUDA graphs need a cuda device, not ",
          options.device.str());
    return false;
  }
  return options.cuda_graphs.value_or(true);
}

IterationOutputs run_iterations_as_graphs(
    const ModelConfig& config, const Params& params, const std::vector<ModelFeatures>& features,
    int num_recycle, const RunOptions& options,
    const std::function<void(int, const IterationOutputs&)>& on_iteration) {
  check(!features.empty(), "run_iterations_as_graphs needs the features of an iteration");
  check(uses_cuda_graphs(options), "CUDA graphs are off for ", options.device.str());
  for (const ModelFeatures& f : features)
    check(f.trunk.templates.count() == 0, "features with templates run without CUDA graphs");
  ops::GpuKernels* kernels = ops::gpu_kernels();
  check(kernels != nullptr, "this build has no CUDA backend, so no CUDA graphs");
  const DType dtype = options.dtype.value_or(params.dtype());
  const Params& placed = prepare(params, options.device, dtype);
  // Note [Range checks before a capture]: every iteration's features, once, before any launch.
  for (const ModelFeatures& f : features) check_feature_ranges(f);

  Cache& c = cache();
  std::lock_guard lk(c.mu);
  std::string key = graph_key(config, placed, features[0], options, dtype);
  for (const ModelFeatures& f : features)
    check(graph_key(config, placed, f, options, dtype) == key,
          "every iteration's features must have the first's shapes and dtypes");
  if (!c.entry || c.entry->key != key) {
    c.entry.reset();  // its memory first: one graph's activations at a time
    c.entry = make_entry(std::move(key), config, placed, features[0], dtype, options.device);
  }
  Entry& e = *c.entry;
  ops::fill(e.prev.prev_msa_first_row, 0.0);
  ops::fill(e.prev.prev_pair, 0.0);
  ops::fill(e.prev.prev_pos, 0.0);
  IterationOutputs eager;
  bool from_graph = false;
  for (int r = 0; r <= num_recycle; ++r) {
    const ModelFeatures& f = features[std::min<size_t>(size_t(r), features.size() - 1)];
    kernels->synchronize();  // the last launch has read the inputs that the copy overwrites
    copy_features(e, f);
    if (!e.graph.defined() && !e.warmed) {
      eager = run_iteration(config, placed, e.inputs, e.prev, options);
      recycle(e.prev, eager.next);
      e.warmed = true;
      ++c.stats.eager;
      from_graph = false;
      if (on_iteration) on_iteration(r, eager);
      continue;
    }
    if (!e.graph.defined()) {
      // The warm-up's cached blocks go back to the device, so the graph's pool can have them.
      get_allocator(options.device, MemoryKind::device).empty_cache();
      e.graph = ops::capture(options.device, [&] {
        const ops::RangesChecked checked;  // checked above
        e.outputs = run_iteration(config, placed, e.inputs, e.prev, options);
        recycle(e.prev, e.outputs.next);
      });
      ++c.stats.captures;
    }
    e.graph.launch();
    ++c.stats.replays;
    from_graph = true;
    if (on_iteration) on_iteration(r, e.outputs);
  }
  // Copies: the graph's outputs are rewritten by its next launch, and some outputs of either
  // kind are the static inputs themselves (the atom masks).
  return copy_outputs(from_graph ? e.outputs : eager);
}

IterationGraphStats iteration_graph_stats() {
  Cache& c = cache();
  std::lock_guard lk(c.mu);
  IterationGraphStats s = c.stats;
  s.cached = c.entry && c.entry->graph.defined() ? 1 : 0;
  s.pool_bytes = s.cached ? c.entry->graph.pool_bytes() : 0;
  return s;
}

void clear_iteration_graphs() {
  Cache& c = cache();
  std::lock_guard lk(c.mu);
  c.entry.reset();
}

}  // namespace exafold::model
