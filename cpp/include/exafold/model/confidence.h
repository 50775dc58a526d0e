// Confidence metrics from head logits: pLDDT (Alg 29 output), predicted aligned error and pTM
// (supplement 1.9.7), and the recycling tolerance of ColabFold's AlphaFold2. Every result stays
// on the logits' device (0-d tensors for the scalars).
#pragma once

#include <vector>

#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// Per-residue pLDDT in 0..100: softmax(logits [N, B]) against bin centres (i + 0.5) / B, * 100.
Tensor compute_plddt(const Tensor& logits);

/// sum(plddt * mask) / sum(mask), mask [N] (seq_mask): a 0-d tensor.
Tensor mean_plddt(const Tensor& plddt, const Tensor& mask);

/// Centres of the aligned-error bins: breaks + step/2, and one catch-all centre a step beyond
/// (B - 1 breaks give B centres; for AlphaFold2's 0..31 breaks: 0.25, 0.75, ..., 31.25, 31.75).
std::vector<double> aligned_error_bin_centres(const std::vector<double>& breaks);

struct PredictedAlignedError {
  Tensor aligned_confidence_probs;         ///< [N, N, B] softmax of the logits
  Tensor predicted_aligned_error;          ///< [N, N] expected error (Angstrom)
  double max_predicted_aligned_error = 0;  ///< the last bin centre
};

/// logits [N, N, B] with breaks (B - 1 bin edges, Angstrom).
PredictedAlignedError compute_predicted_aligned_error(const Tensor& logits,
                                                      const std::vector<double>& breaks);

/// pTM: max_i w_i sum_j w_ij E[1 / (1 + (e_ij / d0)^2)] with w_ij = w_i w_j / (1e-8 +
/// sum_j w_i w_j) and d0 = 1.24 (max(sum w, 19) - 15)^(1/3) - 1.8, from the aligned error
/// probabilities [N, N, B]. residue_weights [N] (AlphaFold2 passes seq_mask). A 0-d tensor.
Tensor predicted_tm_score(const Tensor& probs, const std::vector<double>& breaks,
                          const Tensor& residue_weights);

/// ColabFold's recycling tolerance: the RMS change of the masked C-alpha distance matrix between
/// two recycles, sqrt(mean((d_prev - d)^2) + 1e-8). Positions [N, 37, 3], mask [N]. A 0-d tensor.
Tensor compute_tol(const Tensor& prev_positions, const Tensor& positions, const Tensor& mask);

}  // namespace exafold::model
