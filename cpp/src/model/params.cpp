#include "exafold/model/params.h"

#include <map>
#include <mutex>

#include "exafold/core/error.h"
#include "exafold/ops/elementwise.h"

namespace exafold::model {
namespace {

constexpr size_t kMaxListed = 25;  // problems listed in full before "... and N more"

void check_dtype(DType dtype) {
  check(dtype == DType::float32 || dtype == DType::float64,
        "parameters load as float32 or float64, not ", dtype_name(dtype));
}

constexpr std::string_view kTrunk = "alphafold/alphafold_iteration/evoformer/";

bool is_matrix(std::string_view leaf) {
  for (std::string_view m :
       {"weights", "query_w", "key_w", "value_w", "gating_w", "output_w", "feat_2d_weights"})
    if (leaf == m) return true;
  return false;
}

bool is_per_channel(std::string_view leaf) {
  for (std::string_view v :
       {"scale", "offset", "bias", "gating_b", "output_b", "trainable_point_weights"})
    if (leaf == v) return true;
  return false;
}

}  // namespace

DType full_precision(DType compute) {
  return compute == DType::bfloat16 ? DType::float32 : compute;
}

DType param_dtype(std::string_view name, DType compute) {
  const size_t split = name.find("//");
  check<InternalError>(split != std::string_view::npos, "parameter name ", name,
                       " has no '//' between module and parameter");
  const std::string_view leaf = name.substr(split + 2);
  const bool matrix = is_matrix(leaf);
  check<InternalError>(matrix || is_per_channel(leaf), "parameter ", name,
                       " is neither a weight matrix nor a per-channel parameter: classify it in "
                       "model/params.cpp");
  if (compute != DType::bfloat16) return compute;
  return matrix && name.starts_with(kTrunk) ? DType::bfloat16 : DType::float32;
}

std::vector<std::string> layout_problems(const std::map<std::string, Shape>& have,
                                         const ModelConfig& config) {
  std::vector<std::string> problems;
  std::map<std::string, Shape> want;
  for (auto& s : param_spec(config)) want.emplace(s.name, s.shape);
  for (auto& [name, shape] : want) {
    auto it = have.find(name);
    if (it == have.end())
      problems.push_back("missing " + name + " " + shape.str());
    else if (!(it->second == shape))
      problems.push_back("wrong shape " + name + ": " + it->second.str() + ", expected " +
                         shape.str());
  }
  for (auto& [name, shape] : have)
    if (!want.count(name)) problems.push_back("unexpected " + name + " " + shape.str());
  return problems;
}

std::string layout_mismatch(const std::string& source, const ModelConfig& config,
                            const std::vector<std::string>& problems) {
  std::string msg = cat(source, " does not match preset '", config.name, "' (", problems.size(),
                        " problem", problems.size() == 1 ? "" : "s", "):");
  for (size_t i = 0; i < problems.size() && i < kMaxListed; ++i) msg += "\n  " + problems[i];
  if (problems.size() > kMaxListed)
    msg += cat("\n  ... and ", problems.size() - kMaxListed, " more");
  return msg;
}

struct Params::Derived {
  std::mutex mu;
  std::map<std::pair<std::string, DType>, std::unique_ptr<Params>> placed;  // by device name
  std::unordered_map<std::string, Tensor> cached;
};

Params Params::from_arrays(std::unordered_map<std::string, Tensor> arrays,
                           const ModelConfig& config, DType dtype) {
  check_dtype(dtype);
  std::map<std::string, Shape> have;
  std::vector<std::string> problems;
  for (auto& [name, t] : arrays) {
    have.emplace(name, t.shape());
    if (t.dtype() != dtype)
      problems.push_back("dtype " + std::string(dtype_name(t.dtype())) + " of " + name);
    if (!t.device().is_host() || !t.is_contiguous())
      problems.push_back("not a contiguous host array: " + name);
  }
  std::vector<std::string> layout = layout_problems(have, config);
  problems.insert(problems.end(), layout.begin(), layout.end());
  if (!problems.empty()) fail(layout_mismatch("parameter set", config, problems));
  Params out;
  out.dtype_ = dtype;
  out.map_ = std::move(arrays);
  out.derived_ = std::make_shared<Derived>();
  return out;
}

Params Params::uninitialized(const ModelConfig& config, DType dtype, Device device) {
  Params out;
  out.dtype_ = dtype;
  out.device_ = device;
  out.derived_ = std::make_shared<Derived>();
  for (const ParamSpec& s : param_spec(config))
    out.map_.emplace(s.name, Tensor::empty(s.shape, param_dtype(s.name, dtype), device));
  return out;
}

const Params& Params::on(Device device, DType dtype) const {
  if (device == device_ && dtype == dtype_) return *this;
  EXAFOLD_ASSERT(derived_ != nullptr);
  std::lock_guard lk(derived_->mu);
  auto& slot = derived_->placed[{device.str(), dtype}];
  if (!slot) {
    auto p = std::make_unique<Params>();
    p->dtype_ = dtype;
    p->device_ = device;
    p->derived_ = std::make_shared<Derived>();
    for (const auto& [name, t] : map_)
      p->map_.emplace(name, ops::cast(migrate(t, device), param_dtype(name, dtype)));
    slot = std::move(p);
  }
  return *slot;
}

const Tensor& Params::cached(const std::string& key, const std::function<Tensor()>& make) const {
  EXAFOLD_ASSERT(derived_ != nullptr);
  {
    std::lock_guard lk(derived_->mu);
    auto it = derived_->cached.find(key);
    if (it != derived_->cached.end()) return it->second;
  }
  // Made outside the lock (make() runs ops, which may read other cached tensors).
  Tensor t = make();
  std::lock_guard lk(derived_->mu);
  return derived_->cached.emplace(key, std::move(t)).first->second;
}

const Tensor& Params::get(std::string_view name) const {
  auto it = map_.find(std::string(name));
  check<InternalError>(it != map_.end(), "parameter ", name, " is not in the validated set");
  return it->second;
}

int64_t Params::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : map_) n += t.numel();
  return n;
}

}  // namespace exafold::model
