// Random inputs of the C++ benchmarks: float32 tensors and a parameter set in the official
// layout (scales around 1, everything else around 0), reproducible from one seed.
#pragma once

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>

#include "exafold/model/config.h"
#include "exafold/model/params.h"

namespace exafold::bench {

inline Tensor normal(const Shape& shape, std::mt19937& rng, float scale, float offset = 0) {
  std::normal_distribution<float> g;
  Tensor t = Tensor::empty(shape, DType::float32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = offset + scale * g(rng);
  return t;
}

inline Tensor ones(const Shape& shape) {
  Tensor t = Tensor::empty(shape, DType::float32);
  std::fill_n(t.data<float>(), t.numel(), 1.0f);
  return t;
}

inline model::Params random_params(const model::ModelConfig& config) {
  std::mt19937 rng(1);
  std::unordered_map<std::string, Tensor> arrays;
  for (const model::ParamSpec& s : model::param_spec(config)) {
    const bool scale = s.name.ends_with("//scale");
    arrays.emplace(s.name, normal(s.shape, rng, 0.05f, scale ? 1.0f : 0.0f));
  }
  return model::Params::from_arrays(std::move(arrays), config, DType::float32);
}

}  // namespace exafold::bench
