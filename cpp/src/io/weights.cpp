#include "exafold/io/weights.h"

#include "exafold/core/error.h"

namespace exafold::io {

std::vector<std::string> matching_presets(const std::map<std::string, Shape>& arrays) {
  std::vector<std::string> out;
  for (const std::string& name : model::preset_names())
    if (model::layout_problems(arrays, model::preset(name)).empty()) out.push_back(name);
  return out;
}

WeightsFile::WeightsFile(std::string path) : npz_(std::move(path)) {}

std::map<std::string, Shape> WeightsFile::shapes() const {
  std::map<std::string, Shape> out;
  for (const NpyEntry& e : npz_.entries()) out.emplace(e.name, e.shape);
  return out;
}

void WeightsFile::check_layout(const model::ModelConfig& config) const {
  const std::map<std::string, Shape> have = shapes();
  std::vector<std::string> problems = model::layout_problems(have, config);
  const size_t layout_count = problems.size();
  if (problems.size() == have.size() + model::param_spec(config).size()) {
    // Not one parameter of the preset is there: this is some other npz, not an AlphaFold2
    // parameter file, and listing 338 missing names would bury that.
    std::string names;
    for (auto it = have.begin(); it != have.end() && names.size() < 120; ++it)
      names += (names.empty() ? "" : ", ") + it->first;
    fail(path(), " is not an AlphaFold2 parameter file: it holds none of preset '", config.name,
         "''s parameters (its ", have.size(), " array", have.size() == 1 ? "" : "s", ": ", names,
         have.size() > 3 ? ", ..." : "", ")");
  }
  for (const NpyEntry& e : npz_.entries())
    if (e.dtype != DType::float32 && e.dtype != DType::float64)
      problems.push_back("dtype " + std::string(dtype_name(e.dtype)) + " of " + e.name +
                         " (parameters are float32 or float64)");
  if (problems.empty()) return;
  std::string msg = model::layout_mismatch(path(), config, problems);
  if (layout_count > 0) {
    const std::vector<std::string> match = matching_presets(have);
    if (!match.empty()) {
      std::string names;
      for (const std::string& m : match) names += (names.empty() ? "'" : ", '") + m + "'";
      msg += cat("\nThe file has the layout of preset", match.size() == 1 ? " " : "s ", names,
                 ": load it as ", match.size() == 1 ? "that" : "one of those", " preset.");
    }
  }
  fail(msg);
}

std::unordered_map<std::string, Tensor> WeightsFile::read_all(DType dtype, NpzCheck check) const {
  std::unordered_map<std::string, Tensor> out;
  out.reserve(npz_.entries().size());
  for (const NpyEntry& e : npz_.entries()) out.emplace(e.name, npz_.read(e, dtype, check));
  return out;
}

model::Params load_weights(const std::string& path, const model::ModelConfig& config, DType dtype) {
  check(dtype == DType::float32 || dtype == DType::float64,
        "parameters load as float32 or float64, not ", dtype_name(dtype));
  WeightsFile f(path);
  f.check_layout(config);
  return model::Params::from_arrays(f.read_all(dtype), config, dtype);
}

}  // namespace exafold::io
