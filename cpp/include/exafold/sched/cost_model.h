// Analytic FLOP count of one AlphaFold2 prediction, and a per-device time model fitted to runs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace exafold::sched {

/// The AlphaFold2 dimensions that set the FLOP count (supplement section 1.5 and OpenFold's
/// config.py); the defaults are the monomer models (model_1 ... model_5, with or without _ptm).
/// Kept here as plain numbers because the scheduler must not depend on model/.
struct CostDims {
  int64_t evoformer_blocks = 48;
  int64_t extra_msa_blocks = 4;
  int64_t template_pair_blocks = 2;
  int64_t structure_layers = 8;
  int64_t c_m = 256;  // MSA representation
  int64_t c_z = 128;  // pair representation
  int64_t c_e = 64;   // extra-MSA representation
  int64_t c_t = 64;   // template pair representation
  int64_t c_s = 384;  // single representation
  int64_t msa_heads = 8, msa_head_dim = 32;
  int64_t extra_msa_heads = 8, extra_msa_head_dim = 8;
  int64_t pair_heads = 4, pair_head_dim = 32;
  int64_t template_pair_heads = 4, template_pair_head_dim = 16;
  int64_t template_pointwise_heads = 4, template_pointwise_head_dim = 16;
  int64_t transition_factor = 4;
  int64_t template_transition_factor = 2;
  int64_t outer_product_channels = 32;
  int64_t trimul_channels = 128;
  int64_t template_trimul_channels = 64;
  int64_t ipa_heads = 12, ipa_head_dim = 16, ipa_qk_points = 4, ipa_v_points = 8;
  int64_t angle_channels = 128;
  int64_t target_feat = 22, msa_feat = 49, extra_msa_feat = 25;
  int64_t relpos_bins = 65;  // 2 * max_relative_feature + 1
  int64_t recycle_dist_bins = 15;
  int64_t template_pair_feat = 88, template_angle_feat = 57;
  int64_t distogram_bins = 64, pae_bins = 64, plddt_bins = 50, plddt_hidden = 128;
  int64_t msa_classes = 23, atom_types = 37;
  bool ptm_head = true;  // the _ptm models add the PAE head
};

/// What one prediction processes besides its length. Defaults are OpenFold's published setting.
struct CostWorkload {
  int64_t msa_clusters = 512;
  int64_t extra_msa_rows = 5120;
  int64_t templates = 4;
  int64_t passes = 4;  // 1 + recycles
  /// The template pair features, the template pair stack and the template torsion rows depend
  /// on the templates alone, so exafold computes them once per prediction (true counts that);
  /// OpenFold's published count (false) repeats them in every pass. The point-wise attention,
  /// whose query is the pair, runs in every pass either way.
  bool templates_embedded_once = false;
};

/// FLOPs as c3*S^3 + c2*S^2 + c1*S + c0 in the sequence length S.
struct FlopPolynomial {
  double c3 = 0, c2 = 0, c1 = 0, c0 = 0;
  double at(double residues) const;
  FlopPolynomial& operator+=(const FlopPolynomial& o);
};

struct ModuleFlops {
  std::string module;  // e.g. "evoformer.triangle_attention", summed over blocks and passes
  FlopPolynomial flops;
};

/// Note [FLOP convention]: 2 FLOPs per multiply-add of every matmul/einsum, plus 1 FLOP per
/// element for each additive bias or mask applied to attention logits (pair bias and mask in row
/// and triangle attention, mask only in column attention). Layer norms, softmax, activations,
/// gating products and feature construction are not counted. With this convention the S^3 term
/// reproduces the published OpenFold 2 estimate 347,904 S^3 exactly; see docs/cost_model.md.
std::vector<ModuleFlops> flop_breakdown(const CostDims& dims, const CostWorkload& work);

/// The sum of flop_breakdown().
FlopPolynomial flop_polynomial(const CostDims& dims, const CostWorkload& work);

/// FLOPs of one prediction of `residues` residues.
double prediction_flops(int64_t residues, const CostDims& dims = {}, const CostWorkload& work = {});

/// One measured prediction, the input of DeviceTimeModel::fit.
struct TimedRun {
  int64_t residues = 0;
  double flops = 0;
  double seconds = 0;
};

/// seconds = flop_seconds * FLOPs + pair_seconds * S^2 + overhead_seconds.
/// The S^2 term stands for memory traffic of the pair representation, which on large devices
/// dominates for short sequences; the constant is per-prediction overhead (launches, host work).
struct DeviceTimeModel {
  std::string device;
  double flop_seconds = 0;
  double pair_seconds = 0;
  double overhead_seconds = 0;

  double seconds(int64_t residues, double flops) const;

  /// Ordinary least squares over the runs; needs at least three distinct lengths.
  /// @throws InvalidArgument when the runs cannot determine the three coefficients.
  static DeviceTimeModel fit(std::string device, std::span<const TimedRun> runs);

  std::string to_json() const;
  /// @throws InvalidArgument on malformed text or missing fields.
  static DeviceTimeModel from_json(std::string_view text);
};

}  // namespace exafold::sched
