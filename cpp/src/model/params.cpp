#include "exafold/model/params.h"

#include <map>
#include <mutex>

#include "exafold/core/error.h"
#include "exafold/io/npz.h"
#include "exafold/ops/elementwise.h"

namespace exafold::model {
namespace {

constexpr size_t kMaxListed = 25;  // problems listed in full before "... and N more"

struct Problems {
  std::vector<std::string> lines;
  void add(std::string s) { lines.push_back(std::move(s)); }
  [[noreturn]] void raise(const std::string& source, const ModelConfig& cfg) const {
    std::string msg = cat(source, " does not match preset '", cfg.name, "' (", lines.size(),
                          " problem", lines.size() == 1 ? "" : "s", "):");
    for (size_t i = 0; i < lines.size() && i < kMaxListed; ++i) msg += "\n  " + lines[i];
    if (lines.size() > kMaxListed) msg += cat("\n  ... and ", lines.size() - kMaxListed, " more");
    fail(msg);
  }
};

/// Compares what is there (name -> shape) with the spec; every mismatch is a problem.
Problems compare(const std::map<std::string, Shape>& have, const ModelConfig& cfg) {
  Problems p;
  std::map<std::string, Shape> want;
  for (auto& s : param_spec(cfg)) want.emplace(s.name, s.shape);
  for (auto& [name, shape] : want) {
    auto it = have.find(name);
    if (it == have.end())
      p.add("missing " + name + " " + shape.str());
    else if (!(it->second == shape))
      p.add("wrong shape " + name + ": " + it->second.str() + ", expected " + shape.str());
  }
  for (auto& [name, shape] : have)
    if (!want.count(name)) p.add("unexpected " + name + " " + shape.str());
  return p;
}

void check_dtype(DType dtype) {
  check(dtype == DType::float32 || dtype == DType::float64,
        "parameters load as float32 or float64, not ", dtype_name(dtype));
}

}  // namespace

struct Params::Derived {
  std::mutex mu;
  std::map<std::pair<std::string, DType>, std::unique_ptr<Params>> placed;  // by device name
  std::unordered_map<std::string, Tensor> cached;
};

Params Params::load(const std::string& path, const ModelConfig& config, DType dtype) {
  check_dtype(dtype);
  NpzFile npz(path);
  std::map<std::string, Shape> have;
  Problems p;
  for (const auto& e : npz.entries()) {
    have.emplace(e.name, e.shape);
    if (e.dtype != DType::float32 && e.dtype != DType::float64)
      p.add("dtype " + std::string(dtype_name(e.dtype)) + " of " + e.name);
  }
  Problems shape_problems = compare(have, config);
  p.lines.insert(p.lines.end(), shape_problems.lines.begin(), shape_problems.lines.end());
  if (!p.lines.empty()) p.raise(path, config);
  Params out;
  out.dtype_ = dtype;
  out.derived_ = std::make_shared<Derived>();
  for (const auto& e : npz.entries()) {
    check(e.dtype == dtype || (e.dtype == DType::float32 && dtype == DType::float64), path, ":",
          e.name, ": stored as ", dtype_name(e.dtype), ", cannot load as ", dtype_name(dtype));
    out.map_.emplace(e.name, npz.read(e, dtype));
  }
  return out;
}

Params Params::from_arrays(std::unordered_map<std::string, Tensor> arrays,
                           const ModelConfig& config, DType dtype) {
  check_dtype(dtype);
  std::map<std::string, Shape> have;
  Problems p;
  for (auto& [name, t] : arrays) {
    have.emplace(name, t.shape());
    if (t.dtype() != dtype) p.add("dtype " + std::string(dtype_name(t.dtype())) + " of " + name);
    if (!t.device().is_host() || !t.is_contiguous()) p.add("not a contiguous host array: " + name);
  }
  Problems shape_problems = compare(have, config);
  p.lines.insert(p.lines.end(), shape_problems.lines.begin(), shape_problems.lines.end());
  if (!p.lines.empty()) p.raise("parameter set", config);
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
    out.map_.emplace(s.name, Tensor::empty(s.shape, dtype, device));
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
    for (const auto& [name, t] : map_) p->map_.emplace(name, ops::cast(migrate(t, device), dtype));
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
