// Model dimensions and presets: AlphaFold2's model_1..5 and _ptm, plus reduced test presets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace exafold::model {

/// Sizes shared by the Evoformer and the extra-MSA stack (AlphaFold2 reuses one sub-config for
/// both; attention head widths follow from each stack's channel count).
struct TrunkDims {
  int msa_row_heads = 8;      ///< MSA row attention with pair bias
  int msa_column_heads = 8;   ///< MSA column attention, and the global column attention
  int transition_factor = 4;  ///< MSA and pair transitions
  int opm_channels = 32;      ///< outer product mean
  int trimul_channels = 128;  ///< triangle multiplication intermediate
  int triangle_heads = 4;     ///< triangle attention starting and ending node
};

struct TemplateDims {
  bool enabled = false;  ///< model_1/model_2 carry the template embedding parameters
  int channels = 64;     ///< c_t
  int pair_blocks = 2;
  int attention_heads = 4;     ///< template point-wise attention
  int attention_key_dim = 64;  ///< total over heads (16 per head)
  int triangle_heads = 4;
  int triangle_key_dim = 64;  ///< total over heads
  int trimul_channels = 64;
  int transition_factor = 2;
};

struct StructureDims {
  int channels = 384;  ///< c_s of the structure module (num_channel)
  int layers = 8;      ///< shared-weight iterations
  int ipa_heads = 12;
  int scalar_qk = 16;
  int scalar_v = 16;
  int point_qk = 4;
  int point_v = 8;
  int transition_layers = 3;
  int sidechain_channels = 128;
  int sidechain_blocks = 2;
  double position_scale = 10.0;  ///< nm inside the loop, Angstrom outside
};

struct ModelConfig {
  std::string name;
  int c_m = 256;  ///< MSA channels
  int c_z = 128;  ///< pair channels
  int c_s = 384;  ///< single channels
  int c_e = 64;   ///< extra-MSA channels
  int evoformer_blocks = 48;
  int extra_blocks = 4;
  int max_relative_feature = 32;
  int recycle_bins = 15;  ///< recycled distance bins, 3.25 .. 20.75 Angstrom
  TrunkDims trunk;
  TemplateDims templates;
  StructureDims structure;
  int plddt_channels = 128;
  int plddt_bins = 50;
  int distogram_bins = 64;
  bool ptm = false;  ///< predicted aligned error head and pTM
  int pae_bins = 64;
  int num_recycle = 3;
  int max_extra_msa = 5120;  ///< 1024 for model_2 and model_5
  int max_msa_clusters = 512;
  /// Templates the model takes at most (AlphaFold2's data.eval.max_templates).
  int max_templates = 4;

  /// Cluster centres the feature pipeline samples per iteration: max_msa_clusters, less
  /// max_templates for the template presets, whose MSA makes room for the template rows
  /// (AlphaFold2's data.common.reduce_msa_clusters_by_max_templates, set for model_1 and
  /// model_2: 508), whether or not an item has templates.
  int sampled_msa_clusters() const {
    return templates.enabled ? max_msa_clusters - max_templates : max_msa_clusters;
  }

  /// Throws InvalidArgument listing every inconsistency (head widths that do not divide, ...).
  void validate() const;
};

/// "model_1" ... "model_5", "model_1_ptm" ... "model_5_ptm"; "reduced" and "reduced_ptm" are the
/// small test presets (the parity fixtures' sizes). Throws on unknown names, listing the known.
ModelConfig preset(std::string_view name);
/// `config` with named sizes replaced (evoformer_blocks, extra_blocks, c_m, c_z, c_s, c_e,
/// opm_channels, trimul_channels, structure_channels, sidechain_channels, plddt_channels,
/// num_recycle, max_msa_clusters, max_extra_msa), validated; unknown names are an error.
ModelConfig with_overrides(ModelConfig config,
                           const std::vector<std::pair<std::string, int>>& sizes);
std::vector<std::string> preset_names();

}  // namespace exafold::model
