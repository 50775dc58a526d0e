// AlphaFold2 parameters in the official layout: the expected names and shapes per preset, and
// the validated parameter set the modules read. Reading parameter files is io/weights.h's work.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exafold/model/config.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

struct ParamSpec {
  std::string name;  ///< "{haiku module path}//{parameter}", as in the official files
  Shape shape;
};

/// Every parameter the preset defines, in a stable order. Stacked blocks (Evoformer, extra MSA,
/// template pair stack) carry the block count as their leading dimension.
std::vector<ParamSpec> param_spec(const ModelConfig& config);

/// Every way `have` (name -> shape) differs from param_spec(config), one line each
/// ("missing NAME [shape]", "wrong shape NAME: [got], expected [want]", "unexpected NAME
/// [shape]"), in name order; empty when it is exactly the preset's layout.
std::vector<std::string> layout_problems(const std::map<std::string, Shape>& have,
                                         const ModelConfig& config);

/// "SOURCE does not match preset 'NAME' (N problems):" and the problems, one per line (the
/// first 25, then a count), for errors about a parameter set's layout.
std::string layout_mismatch(const std::string& source, const ModelConfig& config,
                            const std::vector<std::string>& problems);

/// The placement rule: the dtype parameter `name` is held in when a run computes in `compute`
/// (Params::on and Params::uninitialized apply it to every array).
/// - float64 and float32 runs hold every parameter in that dtype.
/// - A bfloat16 run (the cuda backend) follows AlphaFold2's mixed precision: the trunk (every
///   module under `alphafold/alphafold_iteration/evoformer`: the embeddings, the template
///   embedding, the extra-MSA and Evoformer stacks, the single projection) computes on bfloat16
///   activations, and its weight matrices (`weights`, `query_w`, `key_w`, `value_w`,
///   `gating_w`, `output_w`, `feat_2d_weights`: what GEMMs and embedding gathers read) become
///   bfloat16 copies. Its per-channel parameters (LayerNorm `scale` and `offset`, `bias`,
///   `gating_b`, `output_b`) stay float32: kernels add and multiply them into float32
///   accumulators, and a bfloat16 copy would round each of them once more. Everything outside
///   the trunk (the structure module and the heads) computes in float32 (full_precision), so
///   its parameters, matrices included, stay float32.
/// A name whose leaf is neither a known matrix nor a known per-channel parameter is an
/// InternalError: a new parameter must be classified here.
DType param_dtype(std::string_view name, DType compute);

/// The dtype of the modules that never compute in bfloat16 (the structure module, the heads,
/// and every coordinate: recycled and template positions): float32 in a bfloat16 run, else
/// `compute` itself.
DType full_precision(DType compute);

class Params {
 public:
  /// From arrays in memory (read by io/weights.h, or broadcast by MPI rank 0): every name and
  /// shape is checked against param_spec(config), every array must be a contiguous host array
  /// of `dtype` (float32, or float64 for the exact-parity path). Fails listing every missing,
  /// misshapen and unexpected array.
  static Params from_arrays(std::unordered_map<std::string, Tensor> arrays,
                            const ModelConfig& config, DType dtype);

  /// Every array of the preset, uninitialised, placed for compute dtype `dtype`
  /// (param_dtype) on `device`: for the meta device, which replays a prediction's allocations
  /// without computing (model/memory_model.h).
  static Params uninitialized(const ModelConfig& config, DType dtype, Device device);

  const Tensor& get(std::string_view name) const;
  /// Block i of a stacked parameter.
  Tensor block(std::string_view name, int i) const { return get(name).select(0, i); }
  /// The compute dtype these parameters are placed for; each array's own dtype follows
  /// param_dtype (in a bfloat16 placement, per-channel and non-trunk arrays are float32).
  DType dtype() const { return dtype_; }
  /// Where the arrays live (cpu for loaded or given ones).
  Device device() const { return device_; }
  /// These parameters on `device` placed for compute dtype `dtype` (float64, float32, or
  /// bfloat16 by param_dtype's rule): this set when it already is, else a copy made on first
  /// use, through that device's caching allocator, and kept with this set for every later call
  /// (one placement per model).
  const Params& on(Device device, DType dtype) const;
  /// A tensor derived from these parameters once and kept with them (the projections that share
  /// an input, concatenated into one weight; constant tables on the parameters' device). A
  /// derived tensor keeps the dtype of the parameters it is made from, so fused weights and
  /// biases follow param_dtype's rule.
  const Tensor& cached(const std::string& key, const std::function<Tensor()>& make) const;
  size_t size() const { return map_.size(); }
  int64_t num_parameters() const;
  const std::unordered_map<std::string, Tensor>& arrays() const { return map_; }

 private:
  struct Derived;
  std::unordered_map<std::string, Tensor> map_;
  DType dtype_ = DType::float32;
  Device device_ = Device::cpu();
  /// Placements and cached tensors, shared by the copies of this set.
  std::shared_ptr<Derived> derived_;
};

/// A module's view of the parameters: names relative to its haiku path, and for stacked
/// blocks the block index applied on access. Modules take one of these, never the full path.
class ParamScope {
 public:
  ParamScope(const Params& params, std::string prefix, int block = -1)
      : params_(&params), prefix_(std::move(prefix)), block_(block) {}
  /// The scope of a sub-module: scope / "attention".
  ParamScope operator/(std::string_view sub) const {
    return ParamScope(*params_, prefix_ + "/" + std::string(sub), block_);
  }
  /// This scope's parameters as stacked block i (for the Evoformer, extra and template stacks).
  ParamScope block(int i) const { return ParamScope(*params_, prefix_, i); }
  /// Parameter `name` of this module ("scale", "weights", ...), sliced to the block if any.
  Tensor operator[](std::string_view name) const {
    const Tensor& t = params_->get(prefix_ + "//" + std::string(name));
    return block_ < 0 ? t : t.select(0, block_);
  }
  const std::string& prefix() const { return prefix_; }
  int block_index() const { return block_; }
  const Params& params() const { return *params_; }
  /// params().cached() under a key unique to this scope and block.
  const Tensor& cached(std::string_view what, const std::function<Tensor()>& make) const {
    return params_->cached(prefix_ + "#" + std::to_string(block_) + "#" + std::string(what), make);
  }

 private:
  const Params* params_;
  std::string prefix_;
  int block_;
};

}  // namespace exafold::model
