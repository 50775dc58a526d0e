// The network heads: pLDDT (AlphaFold2 supplement Alg 29), distogram, masked MSA, experimentally
// resolved and predicted aligned error (supplement 1.9.6-1.9.10), with pLDDT, PAE and pTM.
#pragma once

#include <vector>

#include "exafold/model/config.h"
#include "exafold/model/params.h"
#include "exafold/tensor/tensor.h"

namespace exafold::model {

/// AlphaFold2's fixed bin edges (config.model.heads): distogram 2.3125..21.6875 Angstrom,
/// aligned error 0..31 Angstrom, each with num_bins - 1 evenly spaced edges.
std::vector<double> distogram_bin_edges(int num_bins);
std::vector<double> aligned_error_breaks(int num_bins);

/// The representations the heads read, in full_precision of the parameters' dtype (float32 in
/// a bfloat16 run) on their device, and the mask
/// for the confidence metrics.
struct HeadsInputs {
  Tensor single;            ///< [N, c_s]: representations["single"] (experimentally resolved)
  Tensor pair;              ///< [N, N, c_z]: representations["pair"] (distogram, PAE)
  Tensor msa;               ///< [S', N, c_m]: the MSA activations, S' >= S rows
  int64_t msa_rows = 0;     ///< S: the cluster rows that get masked-MSA logits (template rows
                            ///< appended after them are left out, as representations["msa"])
  Tensor structure_module;  ///< [N, c_sm]: the structure module's final act (pLDDT)
  Tensor seq_mask;          ///< [N]: residue weights of mean pLDDT and pTM
};

/// What AlphaFold2 returns from its heads and confidence metrics (get_confidence_metrics).
struct HeadsOutputs {
  Tensor distogram_logits;                ///< [N, N, 64], symmetric (half + half^T)
  Tensor masked_msa_logits;               ///< [S, N, 23]
  Tensor experimentally_resolved_logits;  ///< [N, 37]
  Tensor plddt_logits;                    ///< [N, 50]
  Tensor plddt;                           ///< [N], 0..100
  Tensor mean_plddt;                      ///< 0-d: over seq_mask
  /// Predicted aligned error, for _ptm presets only (undefined tensors and 0 otherwise).
  Tensor pae_logits;                ///< [N, N, 64], not symmetrised
  Tensor aligned_confidence_probs;  ///< [N, N, 64]
  Tensor predicted_aligned_error;   ///< [N, N] Angstrom
  double max_predicted_aligned_error = 0;
  Tensor ptm;  ///< 0-d
};

/// Every head the preset has, then the confidence metrics, on the parameters' device in
/// full_precision of their dtype.
/// pLDDT (Alg 29): LayerNorm, relu(Linear act_0), relu(Linear act_1), Linear to 50 bins.
/// Distogram: half_logits + its transpose over the residue axes. Masked MSA: Linear to 23 on the
/// S cluster rows. Experimentally resolved: Linear to 37 on single. PAE: Linear to 64 on pair.
HeadsOutputs run_heads(const ModelConfig& config, const Params& params, const HeadsInputs& in);

}  // namespace exafold::model
