// The expected parameter layout, written the way haiku names AlphaFold2's modules.
#include <string>
#include <vector>

#include "exafold/model/params.h"

namespace exafold::model {
namespace {

class SpecBuilder {
 public:
  explicit SpecBuilder(std::vector<ParamSpec>* out) : out_(out) {}

  /// A builder whose names start with prefix + "/" and whose shapes gain `lead` in front.
  SpecBuilder scope(const std::string& name, std::vector<int64_t> lead = {}) const {
    SpecBuilder b = *this;
    b.prefix_ = prefix_.empty() ? name : prefix_ + "/" + name;
    b.lead_.insert(b.lead_.end(), lead.begin(), lead.end());
    return b;
  }

  void param(const std::string& module, const std::string& name, std::vector<int64_t> shape) {
    std::vector<int64_t> s = lead_;
    s.insert(s.end(), shape.begin(), shape.end());
    std::string path = module.empty() ? prefix_ : prefix_ + "/" + module;
    out_->push_back({path + "//" + name, Shape(std::span<const int64_t>(s))});
  }

  void linear(const std::string& m, int64_t in, int64_t out) {
    param(m, "bias", {out});
    param(m, "weights", {in, out});
  }
  void layer_norm(const std::string& m, int64_t c) {
    param(m, "offset", {c});
    param(m, "scale", {c});
  }
  /// Multi-head attention with gating: per-head query/key width dk and value width dv.
  void attention(const std::string& m, int64_t c_q, int64_t c_kv, int64_t heads, int64_t dk,
                 int64_t dv, int64_t c_out, bool gating) {
    if (gating) {
      param(m, "gating_b", {heads, dv});
      param(m, "gating_w", {c_q, heads, dv});
    }
    param(m, "key_w", {c_kv, heads, dk});
    param(m, "output_b", {c_out});
    param(m, "output_w", {heads, dv, c_out});
    param(m, "query_w", {c_q, heads, dk});
    param(m, "value_w", {c_kv, heads, dv});
  }

 private:
  std::vector<ParamSpec>* out_;
  std::string prefix_;
  std::vector<int64_t> lead_;
};

void transition(SpecBuilder b, int64_t c, int64_t factor) {
  b.layer_norm("input_layer_norm", c);
  b.linear("transition1", c, c * factor);
  b.linear("transition2", c * factor, c);
}

void triangle_multiplication(SpecBuilder b, int64_t c, int64_t ci) {
  b.layer_norm("center_layer_norm", ci);
  b.linear("gating_linear", c, c);
  b.layer_norm("layer_norm_input", c);
  b.linear("left_gate", c, ci);
  b.linear("left_projection", c, ci);
  b.linear("output_projection", ci, c);
  b.linear("right_gate", c, ci);
  b.linear("right_projection", c, ci);
}

void triangle_attention(SpecBuilder b, int64_t c, int64_t heads, int64_t d) {
  b.param("", "feat_2d_weights", {c, heads});
  b.attention("attention", c, c, heads, d, d, c, true);
  b.layer_norm("query_norm", c);
}

/// One Evoformer or extra-MSA block (Algorithms 6 and 18): c is the MSA width of that stack.
void trunk_block(SpecBuilder b, const ModelConfig& cfg, int64_t c, bool extra) {
  const TrunkDims& t = cfg.trunk;
  if (extra) {
    SpecBuilder g = b.scope("msa_column_global_attention");
    const int64_t h = t.msa_column_heads, d = c / h;
    g.param("attention", "gating_b", {h, d});
    g.param("attention", "gating_w", {c, h, d});
    g.param("attention", "key_w", {c, d});
    g.param("attention", "output_b", {c});
    g.param("attention", "output_w", {h, d, c});
    g.param("attention", "query_w", {c, h, d});
    g.param("attention", "value_w", {c, d});
    g.layer_norm("query_norm", c);
  } else {
    SpecBuilder col = b.scope("msa_column_attention");
    const int64_t h = t.msa_column_heads, d = c / h;
    col.attention("attention", c, c, h, d, d, c, true);
    col.layer_norm("query_norm", c);
  }
  {
    SpecBuilder row = b.scope("msa_row_attention_with_pair_bias");
    const int64_t h = t.msa_row_heads, d = c / h;
    row.param("", "feat_2d_weights", {cfg.c_z, h});
    row.attention("attention", c, c, h, d, d, c, true);
    row.layer_norm("feat_2d_norm", cfg.c_z);
    row.layer_norm("query_norm", c);
  }
  transition(b.scope("msa_transition"), c, t.transition_factor);
  {
    SpecBuilder o = b.scope("outer_product_mean");
    o.param("", "output_b", {cfg.c_z});
    o.param("", "output_w", {t.opm_channels, t.opm_channels, cfg.c_z});
    o.layer_norm("layer_norm_input", c);
    o.linear("left_projection", c, t.opm_channels);
    o.linear("right_projection", c, t.opm_channels);
  }
  transition(b.scope("pair_transition"), cfg.c_z, t.transition_factor);
  const int64_t th = t.triangle_heads;
  triangle_attention(b.scope("triangle_attention_ending_node"), cfg.c_z, th, cfg.c_z / th);
  triangle_attention(b.scope("triangle_attention_starting_node"), cfg.c_z, th, cfg.c_z / th);
  triangle_multiplication(b.scope("triangle_multiplication_incoming"), cfg.c_z, t.trimul_channels);
  triangle_multiplication(b.scope("triangle_multiplication_outgoing"), cfg.c_z, t.trimul_channels);
}

void template_embedding(SpecBuilder e, const ModelConfig& cfg) {
  const TemplateDims& t = cfg.templates;
  SpecBuilder te = e.scope("template_embedding");
  const int64_t ah = t.attention_heads, ad = t.attention_key_dim / ah;
  te.attention("attention", cfg.c_z, t.channels, ah, ad, ad, cfg.c_z, false);
  SpecBuilder st = te.scope("single_template_embedding");
  st.linear("embedding2d", 88, t.channels);
  st.layer_norm("output_layer_norm", t.channels);
  SpecBuilder ps = st.scope("template_pair_stack/__layer_stack_no_state", {t.pair_blocks});
  transition(ps.scope("pair_transition"), t.channels, t.transition_factor);
  const int64_t th = t.triangle_heads, td = t.triangle_key_dim / th;
  triangle_attention(ps.scope("triangle_attention_ending_node"), t.channels, th, td);
  triangle_attention(ps.scope("triangle_attention_starting_node"), t.channels, th, td);
  triangle_multiplication(ps.scope("triangle_multiplication_incoming"), t.channels,
                          t.trimul_channels);
  triangle_multiplication(ps.scope("triangle_multiplication_outgoing"), t.channels,
                          t.trimul_channels);
  e.linear("template_projection", cfg.c_m, cfg.c_m);
  e.linear("template_single_embedding", 57, cfg.c_m);
}

void structure_module(SpecBuilder sm, const ModelConfig& cfg) {
  const StructureDims& s = cfg.structure;
  const int64_t c = s.channels, h = s.ipa_heads;
  SpecBuilder it = sm.scope("fold_iteration");
  it.linear("affine_update", c, 6);
  it.layer_norm("attention_layer_norm", c);
  SpecBuilder ipa = it.scope("invariant_point_attention");
  ipa.param("", "trainable_point_weights", {h});
  ipa.linear("attention_2d", cfg.c_z, h);
  ipa.linear("kv_point_local", c, h * (s.point_qk + s.point_v) * 3);
  ipa.linear("kv_scalar", c, h * (s.scalar_qk + s.scalar_v));
  ipa.linear("output_projection", h * (s.scalar_v + s.point_v * 4 + cfg.c_z), c);
  ipa.linear("q_point_local", c, h * s.point_qk * 3);
  ipa.linear("q_scalar", c, h * s.scalar_qk);
  SpecBuilder sc = it.scope("rigid_sidechain");
  sc.linear("input_projection", c, s.sidechain_channels);
  sc.linear("input_projection_1", c, s.sidechain_channels);
  for (int k = 0; k < s.sidechain_blocks; ++k) {
    const std::string suffix = k == 0 ? "" : "_" + std::to_string(k);
    sc.linear("resblock1" + suffix, s.sidechain_channels, s.sidechain_channels);
    sc.linear("resblock2" + suffix, s.sidechain_channels, s.sidechain_channels);
  }
  sc.linear("unnormalized_angles", s.sidechain_channels, 14);
  for (int k = 0; k < s.transition_layers; ++k)
    it.linear(k == 0 ? "transition" : "transition_" + std::to_string(k), c, c);
  it.layer_norm("transition_layer_norm", c);
  sm.linear("initial_projection", cfg.c_s, c);
  sm.layer_norm("pair_layer_norm", cfg.c_z);
  sm.layer_norm("single_layer_norm", cfg.c_s);
}

}  // namespace

std::vector<ParamSpec> param_spec(const ModelConfig& cfg) {
  cfg.validate();
  std::vector<ParamSpec> out;
  SpecBuilder root = SpecBuilder(&out).scope("alphafold/alphafold_iteration");
  root.linear("distogram_head/half_logits", cfg.c_z, cfg.distogram_bins);
  SpecBuilder e = root.scope("evoformer");
  trunk_block(e.scope("evoformer_iteration", {cfg.evoformer_blocks}), cfg, cfg.c_m, false);
  e.linear("extra_msa_activations", 25, cfg.c_e);
  trunk_block(e.scope("extra_msa_stack", {cfg.extra_blocks}), cfg, cfg.c_e, true);
  e.linear("left_single", 22, cfg.c_z);
  e.linear("pair_activiations", 2 * cfg.max_relative_feature + 1, cfg.c_z);  // sic
  e.linear("preprocess_1d", 22, cfg.c_m);
  e.linear("preprocess_msa", 49, cfg.c_m);
  e.layer_norm("prev_msa_first_row_norm", cfg.c_m);
  e.layer_norm("prev_pair_norm", cfg.c_z);
  e.linear("prev_pos_linear", cfg.recycle_bins, cfg.c_z);
  e.linear("right_single", 22, cfg.c_z);
  e.linear("single_activations", cfg.c_m, cfg.c_s);
  if (cfg.templates.enabled) template_embedding(e, cfg);
  root.linear("experimentally_resolved_head/logits", cfg.c_s, 37);
  root.linear("masked_msa_head/logits", cfg.c_m, 23);
  if (cfg.ptm) root.linear("predicted_aligned_error_head/logits", cfg.c_z, cfg.pae_bins);
  SpecBuilder pl = root.scope("predicted_lddt_head");
  const int64_t sc = cfg.structure.channels;
  pl.linear("act_0", sc, cfg.plddt_channels);
  pl.linear("act_1", cfg.plddt_channels, cfg.plddt_channels);
  pl.layer_norm("input_layer_norm", sc);
  pl.linear("logits", cfg.plddt_channels, cfg.plddt_bins);
  structure_module(root.scope("structure_module"), cfg);
  return out;
}

}  // namespace exafold::model
