#include "exafold/model/params.h"

#include <map>

#include "exafold/core/error.h"

namespace exafold::model {
namespace {

constexpr size_t kMaxListed = 25;  // problems listed in full before "... and N more"

void check_dtype(DType dtype) {
  check(dtype == DType::float32 || dtype == DType::float64,
        "parameters load as float32 or float64, not ", dtype_name(dtype));
}

}  // namespace

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
  return out;
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
