// The memory model replays a prediction on the meta device: every op allocates its outputs and
// the backend its workspaces, through a caching allocator like the real one, and nothing is
// computed. So the prediction follows the model's structure by construction: a module that
// changes its temporaries changes the model with it (tests/python/test_memory_model.py holds it
// to the allocator's measured peak).
#include "exafold/model/memory_model.h"

#include <algorithm>
#include <mutex>

#include "exafold/core/error.h"
#include "exafold/memory/allocator.h"
#include "exafold/memory/format.h"
#include "exafold/model/alphafold.h"
#include "exafold/ops/backend_info.h"

namespace exafold::model {

namespace {

/// The features of one iteration, shapes only, as the feature pipeline hands them over.
ModelFeatures meta_features(const MemoryWorkload& w, Device device) {
  const int64_t n = w.residues, s = w.clusters, e = w.extra_rows;
  auto f32 = [&](const Shape& shape) { return Tensor::empty(shape, DType::float32, device); };
  auto i32 = [&](const Shape& shape) { return Tensor::empty(shape, DType::int32, device); };
  ModelFeatures f;
  f.trunk = {i32({n}),    i32({n}),    f32({n}),    f32({n, 22}), f32({s, n, 49}),
             f32({s, n}), i32({e, n}), f32({e, n}), f32({e, n}),  f32({e, n})};
  f.residx_atom37_to_atom14 = i32({n, 37});
  f.atom37_atom_exists = f32({n, 37});
  f.atom14_atom_exists = f32({n, 14});
  if (w.templates > 0) {
    const int64_t t = w.templates;
    f.trunk.templates = {i32({t, n}), f32({t, n, 37, 3}), f32({t, n, 37}),
                         f32({t}),    f32({t, n, 57}),    f32({t, n})};
  }
  return f;
}

}  // namespace

namespace {

/// The meta allocators and the dry backends' task counts are shared: one replay at a time.
std::mutex& replay_mutex() {
  static std::mutex mu;
  return mu;
}

struct Replay {
  int64_t features = 0, peak_in_use = 0, peak_reserved = 0;
};

/// The replay of one prediction with `blocks` Evoformer blocks (1 unless counting one block's
/// op stream), padded to its length bucket on cuda unless `unpadded` (counting the op stream at
/// N itself).
Replay replay(const ModelConfig& cfg, const MemoryWorkload& w, int64_t chunk_size, DType dtype,
              DeviceType backend, int blocks = 1, bool unpadded = false) {
  // A single-sequence input has no extra-MSA rows; everything else is at least one.
  check(
      w.residues > 0 && w.clusters > 0 && w.extra_rows >= 0 && w.iterations > 0 && w.templates >= 0,
      "predict_peak_bytes needs positive sizes (extra rows and templates may be 0), got N = ",
      w.residues, ", S = ", w.clusters, ", E = ", w.extra_rows, ", T = ", w.templates,
      ", iterations = ", w.iterations);
  const Device meta = Device::meta(backend);
  // One block per stack: the blocks of a stack allocate alike, so the peak is reached in the
  // first one.
  ModelConfig one = cfg;
  one.evoformer_blocks = std::min(cfg.evoformer_blocks, blocks);
  one.extra_blocks = std::min(cfg.extra_blocks, 1);
  one.templates.pair_blocks = std::min(cfg.templates.pair_blocks, 1);

  std::lock_guard lk(replay_mutex());
  ops::set_replay_tasks(meta, w.threads);
  Allocator& alloc = get_allocator(meta, MemoryKind::device);
  // From an empty cache, as a measured run starts: what earlier replays left cached would
  // serve requests with larger blocks.
  alloc.empty_cache();
  // Parameters (with their fused projections) and features are live before the prediction.
  const Params params = Params::uninitialized(one, dtype, meta);
  prepare(params, meta, dtype);
  const int64_t before_features = int64_t(alloc.stats().in_use);
  // Every iteration's features (AlphaFold2 resamples the MSA per iteration), placed before the
  // prediction as run_model places them (Note [Features placed once]); the templates are the
  // prediction's, one set.
  std::vector<ModelFeatures> features{meta_features(w, meta)};
  for (int i = 1; i < w.iterations; ++i) {
    ModelFeatures f =
        meta_features(MemoryWorkload{w.residues, w.clusters, w.extra_rows, 1, 0, 0}, meta);
    f.trunk.templates = features[0].trunk.templates;
    features.push_back(std::move(f));
  }
  alloc.reset_peak();
  const AllocatorStats before = alloc.stats();
  RunOptions options;
  options.chunk_size = chunk_size;
  options.device = meta;
  options.dtype = dtype;
  // Padded to the length bucket where a cuda run pads (its default), so that the padded copies
  // and the bucket's activations are counted.
  options.length_buckets = backend == DeviceType::cuda && !unpadded;
  run_model(one, params, features, w.iterations - 1, options);
  const AllocatorStats after = alloc.stats();
  return {int64_t(before.in_use) - before_features, int64_t(after.peak_in_use - before.in_use),
          int64_t(after.peak_reserved - before.reserved)};
}

/// Bytes of the parameters of every block placed on `backend`'s meta twin for a run in dtype.
int64_t parameter_bytes(const ModelConfig& cfg, DType dtype, DeviceType backend) {
  std::lock_guard lk(replay_mutex());
  const Device meta = Device::meta(backend);
  Allocator& alloc = get_allocator(meta, MemoryKind::device);
  const auto before = int64_t(alloc.stats().in_use);
  const Params params = Params::uninitialized(cfg, dtype, meta);
  prepare(params, meta, dtype);
  return int64_t(alloc.stats().in_use) - before;
}

}  // namespace

int64_t predict_peak_bytes(const ModelConfig& cfg, const MemoryWorkload& w, int64_t chunk_size,
                           DType dtype, DeviceType backend) {
  return replay(cfg, w, chunk_size, dtype, backend).peak_in_use;
}

DeviceMemory predict_device_memory(const ModelConfig& cfg, const MemoryWorkload& w,
                                   int64_t chunk_size, DType dtype, DeviceType backend) {
  const Replay r = replay(cfg, w, chunk_size, dtype, backend);
  DeviceMemory m;
  m.parameters = parameter_bytes(cfg, dtype, backend);
  m.features = r.features;
  m.activations = r.peak_in_use;
  m.activations_reserved = r.peak_reserved;
  m.outside = int64_t(ops::per_thread_device_bytes(Device::meta(backend)));
  return m;
}

ops::OperandTraffic evoformer_block_pair_traffic(const ModelConfig& cfg, const MemoryWorkload& w,
                                                 DType dtype) {
  check(cfg.evoformer_blocks >= 2, "counting one Evoformer block needs a preset with two");
  auto counted = [&](int blocks) {
    ops::count_pair_traffic(w.residues);
    try {
      replay(cfg, w, 0, dtype, DeviceType::cuda, blocks, true);
    } catch (...) {
      ops::count_pair_traffic(0);
      throw;
    }
    const ops::OperandTraffic t = ops::take_pair_traffic();
    ops::count_pair_traffic(0);
    return t;
  };
  const ops::OperandTraffic two = counted(2), one = counted(1);
  return {two.read - one.read, two.written - one.written};
}

int64_t longest_fitting_sequence(const ModelConfig& cfg, const MemoryWorkload& w,
                                 int64_t capacity_bytes, DType dtype, DeviceType backend,
                                 Peak peak) {
  auto fits = [&](int64_t n) {
    MemoryWorkload at = w;
    at.residues = n;
    const DeviceMemory m = predict_device_memory(cfg, at, 1, dtype, backend);
    return (peak == Peak::in_use ? m.total() : m.total_reserved()) <= capacity_bytes;
  };
  if (!fits(1)) return 0;
  // Double until it no longer fits, then bisect between the last fit and the first miss.
  int64_t lo = 1, hi = 2;
  while (fits(hi)) lo = hi, hi *= 2;
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return lo;
}

int64_t choose_chunk(const ModelConfig& cfg, const MemoryWorkload& w, int64_t budget_bytes,
                     DType dtype, DeviceType backend, Peak peak) {
  auto need = [&](int64_t chunk) {
    const Replay r = replay(cfg, w, chunk, dtype, backend);
    return peak == Peak::in_use ? r.peak_in_use : r.peak_reserved;
  };
  if (need(0) <= budget_bytes) return 0;
  // The peak does not grow as the chunk shrinks, so a binary search finds the largest that fits.
  const int64_t longest = std::max({w.residues, w.clusters, w.extra_rows});
  const int64_t smallest = need(1);
  check<OutOfMemory>(smallest <= budget_bytes, "no chunk size fits ", format_bytes(budget_bytes),
                     ": N = ", w.residues, ", S = ", w.clusters, ", E = ", w.extra_rows,
                     " needs at least ", format_bytes(smallest), " (chunk 1)");
  int64_t lo = 1, hi = longest;
  while (lo < hi) {
    const int64_t mid = (lo + hi + 1) / 2;
    if (need(mid) <= budget_bytes)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

}  // namespace exafold::model
