// Reductions over one dimension: softmax, expectations over bins, masked means, and the checks
// that read a tensor's values where they live.
#pragma once

#include <cstdint>
#include <string_view>

#include "exafold/tensor/tensor.h"

namespace exafold::ops {

/// jax.nn.softmax over the last dimension: exp(x - max) / sum, a new contiguous tensor.
Tensor softmax(const Tensor& x);

/// sum_k probs[..., k] * values[k] (summed in k order): the expected value of binned
/// quantities (pLDDT, predicted aligned error). probs [..., B], values contiguous [B].
Tensor expectation(const Tensor& probs, const Tensor& values);

/// sum_r mask[a, r] x[a, r, :] / (sum_r mask[a, r] + eps), summed in r order: x [A, R, C] and
/// mask [A, R] any strided views; a new contiguous [A, C].
Tensor masked_mean(const Tensor& x, const Tensor& mask, double eps);

/// pTM (supplement 1.9.7): max_i w_i sum_j w'_ij sum_b probs[i,j,b] f_b, with
/// w'_ij = w_i w_j / (1e-8 + sum_j w_i w_j), f_b = 1 / (1 + centres_b^2 / d0^2) and
/// d0 = 1.24 (max(sum w, 19) - 15)^(1/3) - 1.8. probs [N, N, B], centres [B] (contiguous),
/// weights [N]: a 0-d tensor.
Tensor predicted_tm_score(const Tensor& probs, const Tensor& centres, const Tensor& weights);

/// Throws InvalidArgument naming `what`, the first offending index and its value unless every
/// element of the integer tensor t lies in [lo, hi]. Inside a RangesChecked scope it checks
/// nothing.
void check_range(const Tensor& t, int64_t lo, int64_t hi, std::string_view what);

/// Note [Range checks before a capture]: check_range hands its answer to the host, which means
/// waiting for the device, and a CUDA graph capture cannot wait (docs/gpu.md, "Host
/// synchronisations"). While a RangesChecked scope lives, check_range on this thread returns at
/// once: the scope's maker states that it checked the values of every tensor checked inside
/// before (run_model checks a prediction's features with model::check_feature_ranges, then
/// captures the iteration inside this scope).
class RangesChecked {
 public:
  RangesChecked();
  ~RangesChecked();
  RangesChecked(const RangesChecked&) = delete;
  RangesChecked& operator=(const RangesChecked&) = delete;
};

}  // namespace exafold::ops
