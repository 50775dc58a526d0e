// Random parameters in a preset's layout and random processed features, for model tests that
// need no reference (parity with the reference is tested in Python, tests/python/).
#pragma once

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <unordered_map>

#include "exafold/model/alphafold.h"
#include "exafold/model/params.h"
#include "exafold/model/trunk.h"

namespace exafold::model::testing_util {

inline constexpr int64_t kS = 5, kN = 7, kE = 6;

template <class T>
Tensor filled(const Shape& shape, std::mt19937& rng, double scale, double offset = 0) {
  std::normal_distribution<double> g;
  Tensor t = Tensor::empty(shape, dtype_v<T>);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = T(offset + scale * g(rng));
  return t;
}

template <class T>
Params random_params(const ModelConfig& config) {
  std::mt19937 rng(1);
  std::unordered_map<std::string, Tensor> arrays;
  for (const ParamSpec& s : param_spec(config)) {
    const std::string leaf = s.name.substr(s.name.find("//") + 2);
    if (leaf == "scale")
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.05, 1.0));
    else if (leaf == "offset" || leaf == "bias" || leaf == "output_b" || leaf == "gating_b")
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.05));
    else
      arrays.emplace(s.name, filled<T>(s.shape, rng, 0.2));
  }
  return Params::from_arrays(std::move(arrays), config, dtype_v<T>);
}

inline Tensor ints(const Shape& shape, std::mt19937& rng, int lo, int hi) {
  std::uniform_int_distribution<int> u(lo, hi);
  Tensor t = Tensor::empty(shape, DType::int32);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<int32_t>()[i] = u(rng);
  return t;
}

inline Tensor mask(const Shape& shape, int64_t padded_rows, int64_t padded_cols) {
  Tensor t = Tensor::empty(shape, DType::float32);
  const int64_t rows = shape.size() == 2 ? shape[0] : 1, cols = shape[shape.size() - 1];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      t.data<float>()[r * cols + c] = (r < rows - padded_rows && c < cols - padded_cols) ? 1 : 0;
  return t;
}

/// n residues, s MSA rows, e extra rows; the last residue, and the last rows, padding.
inline TrunkFeatures features(std::mt19937& rng, int64_t n = kN, int64_t s = kS, int64_t e = kE) {
  TrunkFeatures f;
  f.aatype = ints({n}, rng, 0, 20);
  f.residue_index = ints({n}, rng, 0, 3);
  for (int64_t i = 1; i < n; ++i)  // increasing, with gaps
    f.residue_index.data<int32_t>()[i] += f.residue_index.data<int32_t>()[i - 1] + 1;
  f.seq_mask = mask({n}, 0, 1);
  f.target_feat = filled<float>({n, 22}, rng, 1.0);
  f.msa_feat = filled<float>({s, n, 49}, rng, 1.0);
  f.msa_mask = mask({s, n}, 1, 1);
  f.extra_msa = ints({e, n}, rng, 0, 22);
  f.extra_msa_mask = mask({e, n}, 2, 1);
  f.extra_has_deletion = mask({e, n}, 3, 0);
  f.extra_deletion_value = filled<float>({e, n}, rng, 0.3);
  return f;
}

inline double max_abs(const Tensor& a, const Tensor& b) {
  double m = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.dtype() == DType::float64 ? a.data<double>()[i] : a.data<float>()[i];
    const double y = b.dtype() == DType::float64 ? b.data<double>()[i] : b.data<float>()[i];
    m = std::max(m, std::abs(x - y));
  }
  return m;
}

}  // namespace exafold::model::testing_util
