// Confidence metrics from head logits: pLDDT (Alg 29 output), predicted aligned error and pTM
// (supplement 1.9.7), and the recycling tolerance of ColabFold's AlphaFold2.
#include "exafold/model/confidence.h"

#include <map>
#include <mutex>
#include <tuple>

#include "exafold/model/residue_constants.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/geometry.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {
namespace {

void check_pair_logits(const Tensor& logits, size_t num_breaks) {
  check(logits.rank() == 3 && logits.size(0) == logits.size(1), "aligned error logits have shape ",
        logits.shape().str(), ", expected [N, N, B]");
  check(int64_t(num_breaks) + 1 == logits.size(2), "aligned error: ", num_breaks, " breaks for ",
        logits.size(2), " bins");
  check(num_breaks >= 2, "aligned error needs at least two breaks");
}

/// values [n] in like's dtype on like's device. On a GPU each set is copied there once and kept:
/// a copy from a host temporary in every call would be recorded by a CUDA graph's capture as a
/// copy from memory freed before the graph replays (docs/gpu.md, "CUDA graphs").
Tensor constant(const std::vector<double>& values, const Tensor& like) {
  const Device d = like.device();
  if (!d.is_cuda()) return ops::from_host(values, {int64_t(values.size())}, like.dtype(), d);
  using Key = std::tuple<std::vector<double>, int, int>;
  static std::mutex mu;
  static auto* kept = new std::map<Key, Tensor>;  // never destroyed: device memory at exit
  const Key key{values, int(like.dtype()), d.index};
  std::lock_guard lk(mu);
  auto it = kept->find(key);
  if (it == kept->end())
    it =
        kept->emplace(key, ops::from_host(values, {int64_t(values.size())}, like.dtype(), d)).first;
  return it->second;
}

/// sum(x * mask) / (sum(mask) + eps) of [N] vectors, as a 0-d tensor.
Tensor masked_total_mean(const Tensor& x, const Tensor& mask) {
  const int64_t n = x.size(0);
  return ops::masked_mean(x.reshape({1, n, 1}), mask.reshape({1, n}), 0.0).reshape(Shape{});
}

}  // namespace

Tensor compute_plddt(const Tensor& logits) {
  check(logits.rank() == 2, "pLDDT logits have shape ", logits.shape().str(), ", expected [N, B]");
  const int64_t b = logits.size(1);
  std::vector<double> centres(static_cast<size_t>(b));
  for (int64_t k = 0; k < b; ++k) centres[size_t(k)] = (double(k) + 0.5) / double(b);
  // [N]
  return ops::scalar(ops::Binary::mul,
                     ops::expectation(ops::softmax(logits), constant(centres, logits)), 100.0);
}

Tensor mean_plddt(const Tensor& plddt, const Tensor& mask) {
  check(plddt.rank() == 1, "pLDDT has shape ", plddt.shape().str(), ", expected [N]");
  detail::check_shape(mask, "pLDDT mask", plddt.shape());
  return masked_total_mean(
      ops::contiguous(plddt),
      ops::contiguous(detail::float_input(mask, "pLDDT mask", mask.shape(), plddt.dtype())));
}

std::vector<double> aligned_error_bin_centres(const std::vector<double>& breaks) {
  check(breaks.size() >= 2, "aligned error needs at least two breaks");
  const double step = breaks[1] - breaks[0];
  std::vector<double> centres;
  for (double b : breaks) centres.push_back(b + step / 2);
  centres.push_back(centres.back() + step);
  return centres;
}

PredictedAlignedError compute_predicted_aligned_error(const Tensor& logits,
                                                      const std::vector<double>& breaks) {
  check_pair_logits(logits, breaks.size());
  const std::vector<double> centres = aligned_error_bin_centres(breaks);
  PredictedAlignedError out;
  // [N, N, B] -> [N, N, B], [N, N]
  out.aligned_confidence_probs = ops::softmax(logits);
  out.predicted_aligned_error =
      ops::expectation(out.aligned_confidence_probs, constant(centres, logits));
  out.max_predicted_aligned_error = centres.back();
  return out;
}

Tensor predicted_tm_score(const Tensor& probs, const std::vector<double>& breaks,
                          const Tensor& residue_weights) {
  check_pair_logits(probs, breaks.size());
  const int64_t n = probs.size(0);
  const Tensor w = detail::float_input(residue_weights, "pTM residue weights", {n}, probs.dtype());
  return ops::predicted_tm_score(probs, constant(aligned_error_bin_centres(breaks), probs), w);
}

Tensor compute_tol(const Tensor& prev_positions, const Tensor& positions, const Tensor& mask) {
  check(positions.rank() == 3 && positions.size(1) == rc::kAtom37 && positions.size(2) == 3,
        "positions have shape ", positions.shape().str(), ", expected [N, 37, 3]");
  const int64_t n = positions.size(0);
  detail::check_shape(prev_positions, "previous positions", positions.shape());
  const DType dt = positions.dtype();
  const Tensor m = detail::float_input(mask, "tol mask", {n}, dt);
  auto ca_distances = [&](const Tensor& x) {
    return ops::pairwise_distance(
        detail::float_input(x, "positions", x.shape(), dt).select(1, rc::kAtomCA));
  };
  // [N, N]: (d_prev - d)^2, weighted by mask_i mask_j
  const Tensor diff =
      ops::binary(ops::Binary::sub, ca_distances(prev_positions), ca_distances(positions));
  const Tensor sq = ops::binary(ops::Binary::mul, diff, diff);
  const Tensor pair_mask = ops::binary(ops::Binary::mul, m.unsqueeze(1).broadcast_to({n, n}),
                                       m.unsqueeze(0).broadcast_to({n, n}));
  const Tensor mean = masked_total_mean(sq.reshape({n * n}), pair_mask.reshape({n * n}));
  return ops::unary(ops::Unary::sqrt, ops::scalar(ops::Binary::add, mean, 1e-8));
}

}  // namespace exafold::model
