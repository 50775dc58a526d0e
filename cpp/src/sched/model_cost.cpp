#include "exafold/sched/model_cost.h"

namespace exafold::sched {

CostDims cost_dims(const model::ModelConfig& c) {
  CostDims d;
  d.evoformer_blocks = c.evoformer_blocks;
  d.extra_msa_blocks = c.extra_blocks;
  d.template_pair_blocks = c.templates.pair_blocks;
  d.structure_layers = c.structure.layers;
  d.c_m = c.c_m;
  d.c_z = c.c_z;
  d.c_e = c.c_e;
  d.c_t = c.templates.channels;
  d.c_s = c.c_s;
  d.msa_heads = c.trunk.msa_row_heads;
  d.msa_head_dim = c.c_m / c.trunk.msa_row_heads;
  d.extra_msa_heads = c.trunk.msa_row_heads;
  d.extra_msa_head_dim = c.c_e / c.trunk.msa_row_heads;
  d.pair_heads = c.trunk.triangle_heads;
  d.pair_head_dim = c.c_z / c.trunk.triangle_heads;
  d.template_pair_heads = c.templates.triangle_heads;
  d.template_pair_head_dim = c.templates.triangle_key_dim / c.templates.triangle_heads;
  d.template_pointwise_heads = c.templates.attention_heads;
  d.template_pointwise_head_dim = c.templates.attention_key_dim / c.templates.attention_heads;
  d.transition_factor = c.trunk.transition_factor;
  d.template_transition_factor = c.templates.transition_factor;
  d.outer_product_channels = c.trunk.opm_channels;
  d.trimul_channels = c.trunk.trimul_channels;
  d.template_trimul_channels = c.templates.trimul_channels;
  d.ipa_heads = c.structure.ipa_heads;
  d.ipa_head_dim = c.structure.scalar_qk;
  d.ipa_qk_points = c.structure.point_qk;
  d.ipa_v_points = c.structure.point_v;
  d.angle_channels = c.structure.sidechain_channels;
  d.relpos_bins = 2 * c.max_relative_feature + 1;
  d.recycle_dist_bins = c.recycle_bins;
  d.distogram_bins = c.distogram_bins;
  d.pae_bins = c.pae_bins;
  d.plddt_bins = c.plddt_bins;
  d.plddt_hidden = c.plddt_channels;
  d.ptm_head = c.ptm;
  return d;
}

CostWorkload cost_workload(const model::ModelConfig& c, int64_t msa_clusters,
                           int64_t extra_msa_rows, int64_t templates, int64_t passes) {
  CostWorkload w;
  w.msa_clusters = msa_clusters;
  w.extra_msa_rows = extra_msa_rows;
  w.templates = c.templates.enabled ? templates : 0;
  w.passes = passes;
  w.templates_embedded_once = true;
  return w;
}

}  // namespace exafold::sched
