// Confidence metrics from head logits: pLDDT (Alg 29 output), predicted aligned error and pTM
// (supplement 1.9.7), and the recycling tolerance of ColabFold's AlphaFold2.
#include "exafold/model/confidence.h"

#include <algorithm>
#include <cmath>

#include "exafold/core/thread_pool.h"
#include "exafold/model/residue_constants.h"
#include "host_values.h"

namespace exafold::model {
namespace {

/// jax.nn.softmax over the last dimension (length b) of `rows` rows, out of place.
template <class T>
void softmax_rows(const T* x, int64_t rows, int64_t b, T* y) {
  thread_pool().parallel_for(rows, 256, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* xr = x + r * b;
      T* yr = y + r * b;
      const T m = *std::max_element(xr, xr + b);
      T sum = 0;
      for (int64_t k = 0; k < b; ++k) sum += (yr[k] = std::exp(xr[k] - m));
      for (int64_t k = 0; k < b; ++k) yr[k] /= sum;
    }
  });
}

void check_pair_logits(const Tensor& logits, size_t num_breaks) {
  check(logits.rank() == 3 && logits.size(0) == logits.size(1), "aligned error logits have shape ",
        logits.shape().str(), ", expected [N, N, B]");
  check(int64_t(num_breaks) + 1 == logits.size(2), "aligned error: ", num_breaks, " breaks for ",
        logits.size(2), " bins");
  check(num_breaks >= 2, "aligned error needs at least two breaks");
}

}  // namespace

template <class T>
Tensor compute_plddt(const Tensor& logits) {
  check(logits.rank() == 2, "pLDDT logits have shape ", logits.shape().str(), ", expected [N, B]");
  detail::check_dtype<T>(logits, "pLDDT logits");
  const int64_t n = logits.size(0), b = logits.size(1);
  const Tensor lc = logits.contiguous();
  std::vector<T> probs(size_t(n * b));
  softmax_rows<T>(lc.data<T>(), n, b, probs.data());
  // [N]
  Tensor out = Tensor::empty(Shape{n}, dtype_v<T>);
  T* p = out.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    T e = 0;
    for (int64_t k = 0; k < b; ++k)
      e += probs[size_t(i * b + k)] * T((double(k) + 0.5) / double(b));
    p[i] = e * T(100);
  }
  return out;
}

template <class T>
T mean_plddt(const Tensor& plddt, const Tensor& mask) {
  check(plddt.rank() == 1, "pLDDT has shape ", plddt.shape().str(), ", expected [N]");
  detail::check_shape(mask, plddt.shape(), "pLDDT mask");
  const std::vector<T> v = detail::host_values<T>(plddt, "pLDDT");
  const std::vector<T> m = detail::host_values<T>(mask, "pLDDT mask");
  T num = 0, den = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    num += v[i] * m[i];
    den += m[i];
  }
  return num / den;
}

template <class T>
std::vector<T> aligned_error_bin_centres(const std::vector<T>& breaks) {
  check(breaks.size() >= 2, "aligned error needs at least two breaks");
  const T step = breaks[1] - breaks[0];
  std::vector<T> centres;
  for (T b : breaks) centres.push_back(b + step / T(2));
  centres.push_back(centres.back() + step);
  return centres;
}

template <class T>
PredictedAlignedError compute_predicted_aligned_error(const Tensor& logits,
                                                      const std::vector<T>& breaks) {
  check_pair_logits(logits, breaks.size());
  detail::check_dtype<T>(logits, "aligned error logits");
  const int64_t n = logits.size(0), b = logits.size(2);
  const std::vector<T> centres = aligned_error_bin_centres(breaks);
  PredictedAlignedError out;
  const Tensor lc = logits.contiguous();
  // [N, N, B] -> [N, N, B], [N, N]
  out.aligned_confidence_probs = Tensor::empty(logits.shape(), dtype_v<T>);
  out.predicted_aligned_error = Tensor::empty(Shape{n, n}, dtype_v<T>);
  const T* probs = out.aligned_confidence_probs.data<T>();
  softmax_rows<T>(lc.data<T>(), n * n, b, out.aligned_confidence_probs.data<T>());
  T* pae = out.predicted_aligned_error.data<T>();
  for (int64_t ij = 0; ij < n * n; ++ij) {
    T e = 0;
    for (int64_t k = 0; k < b; ++k) e += probs[ij * b + k] * centres[size_t(k)];
    pae[ij] = e;
  }
  out.max_predicted_aligned_error = double(centres.back());
  return out;
}

template <class T>
T predicted_tm_score(const Tensor& logits, const std::vector<T>& breaks,
                     const Tensor& residue_weights) {
  check_pair_logits(logits, breaks.size());
  detail::check_dtype<T>(logits, "aligned error logits");
  const int64_t n = logits.size(0), b = logits.size(2);
  detail::check_shape(residue_weights, Shape{n}, "pTM residue weights");
  const std::vector<T> w = detail::host_values<T>(residue_weights, "pTM residue weights");
  const std::vector<T> centres = aligned_error_bin_centres(breaks);

  // TM-score's d0 (Yang & Skolnick 2004) with the length clipped so that d0 stays positive.
  T total = 0;
  for (T v : w) total += v;
  const T clipped = std::max(total, T(19));
  const T d0 = T(1.24) * std::cbrt(clipped - T(15)) - T(1.8);
  std::vector<T> tm_per_bin(static_cast<size_t>(b));
  for (int64_t k = 0; k < b; ++k)
    tm_per_bin[k] = T(1) / (T(1) + centres[k] * centres[k] / (d0 * d0));

  const Tensor lc = logits.contiguous();
  std::vector<T> probs(size_t(n * n * b));
  softmax_rows<T>(lc.data<T>(), n * n, b, probs.data());
  T best = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    T norm = 0;
    for (int64_t j = 0; j < n; ++j) norm += w[j] * w[i];
    T per_alignment = 0;
    for (int64_t j = 0; j < n; ++j) {
      T term = 0;
      for (int64_t k = 0; k < b; ++k) term += probs[size_t((i * n + j) * b + k)] * tm_per_bin[k];
      per_alignment += term * (w[j] * w[i] / (T(1e-8) + norm));
    }
    best = std::max(best, per_alignment * w[i]);
  }
  return best;
}

template <class T>
T compute_tol(const Tensor& prev_positions, const Tensor& positions, const Tensor& mask) {
  check(positions.rank() == 3 && positions.size(1) == rc::kAtom37 && positions.size(2) == 3,
        "positions have shape ", positions.shape().str(), ", expected [N, 37, 3]");
  const int64_t n = positions.size(0);
  detail::check_shape(prev_positions, positions.shape(), "previous positions");
  detail::check_shape(mask, Shape{n}, "tol mask");
  const std::vector<T> a = detail::host_values<T>(prev_positions, "previous positions");
  const std::vector<T> b = detail::host_values<T>(positions, "positions");
  const std::vector<T> m = detail::host_values<T>(mask, "tol mask");
  auto ca_distance = [&](const std::vector<T>& x, int64_t i, int64_t j) {
    T d2 = 0;
    for (int e = 0; e < 3; ++e) {
      const T d = x[size_t((i * rc::kAtom37 + rc::kAtomCA) * 3 + e)] -
                  x[size_t((j * rc::kAtom37 + rc::kAtomCA) * 3 + e)];
      d2 += d * d;
    }
    return std::sqrt(d2);
  };
  T num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const T diff = ca_distance(a, i, j) - ca_distance(b, i, j);
      num += diff * diff * m[i] * m[j];
      den += m[i] * m[j];
    }
  }
  return std::sqrt(num / den + T(1e-8));
}

#define EXAFOLD_INSTANTIATE(T)                                                              \
  template Tensor compute_plddt<T>(const Tensor&);                                          \
  template T mean_plddt<T>(const Tensor&, const Tensor&);                                   \
  template std::vector<T> aligned_error_bin_centres<T>(const std::vector<T>&);              \
  template PredictedAlignedError compute_predicted_aligned_error<T>(const Tensor&,          \
                                                                    const std::vector<T>&); \
  template T predicted_tm_score<T>(const Tensor&, const std::vector<T>&, const Tensor&);    \
  template T compute_tol<T>(const Tensor&, const Tensor&, const Tensor&);
EXAFOLD_INSTANTIATE(float)
EXAFOLD_INSTANTIATE(double)
#undef EXAFOLD_INSTANTIATE

}  // namespace exafold::model
