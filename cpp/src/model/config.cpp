#include "exafold/model/config.h"

#include "exafold/core/error.h"

namespace exafold::model {

void ModelConfig::validate() const {
  std::string problems;
  auto need = [&](bool ok, const std::string& what) {
    if (!ok) problems += "\n  " + what;
  };
  auto divides = [&](int channels, int heads, const char* what) {
    need(heads > 0 && channels % heads == 0,
         cat(what, ": ", channels, " channels do not split into ", heads, " heads"));
  };
  for (int v : {c_m, c_z, c_s, c_e, evoformer_blocks, extra_blocks, plddt_channels})
    need(v > 0, cat("sizes must be positive (got ", v, ")"));
  divides(c_m, trunk.msa_row_heads, "MSA row attention");
  divides(c_m, trunk.msa_column_heads, "MSA column attention");
  divides(c_e, trunk.msa_row_heads, "extra MSA row attention");
  divides(c_e, trunk.msa_column_heads, "extra MSA global column attention");
  divides(c_z, trunk.triangle_heads, "triangle attention");
  if (templates.enabled) {
    divides(templates.attention_key_dim, templates.attention_heads, "template attention");
    divides(templates.triangle_key_dim, templates.triangle_heads, "template triangle attention");
  }
  need(structure.layers > 0 && structure.ipa_heads > 0, "structure module needs layers and heads");
  need(sampled_msa_clusters() >= 1, cat("max_msa_clusters (", max_msa_clusters,
                                        ") must exceed the ", max_templates, " template rows"));
  need(num_recycle >= 0, cat("num_recycle must be >= 0, got ", num_recycle));
  need(recycle_bins == 15, "AlphaFold2 recycles distances in 15 bins");
  if (!problems.empty()) fail("inconsistent model config '", name, "':", problems);
}

ModelConfig preset(std::string_view name) {
  ModelConfig c;
  c.name = std::string(name);
  std::string base(name);
  if (base.size() > 4 && base.compare(base.size() - 4, 4, "_ptm") == 0) {
    c.ptm = true;
    base.resize(base.size() - 4);
  }
  if (base == "reduced") {  // AF2-REFERENCE section 3: every divisibility constraint still holds
    c.evoformer_blocks = 2;
    c.extra_blocks = 1;
    c.c_m = 32;
    c.c_z = 16;
    c.c_s = 32;
    c.c_e = 16;
    c.trunk.opm_channels = 8;
    c.trunk.trimul_channels = 16;
    c.templates.enabled = true;
    c.templates.channels = 16;  // c_t follows the template triangle attention value_dim
    c.templates.attention_key_dim = 16;
    c.templates.pair_blocks = 1;
    c.templates.triangle_key_dim = 16;
    c.templates.trimul_channels = 16;
    c.structure.channels = 32;
    c.structure.sidechain_channels = 16;
    c.plddt_channels = 16;
    c.num_recycle = 2;
    c.max_msa_clusters = 16;
    c.max_extra_msa = 32;
    c.validate();
    return c;
  }
  if (base.size() == 7 && base.compare(0, 6, "model_") == 0 && base[6] >= '1' && base[6] <= '5') {
    const int k = base[6] - '0';
    c.templates.enabled = k <= 2;
    c.max_extra_msa = (k == 2 || k == 5) ? 1024 : 5120;
    c.validate();
    return c;
  }
  std::string known;
  for (const auto& n : preset_names()) known += " " + n;
  fail("unknown model preset '", name, "'; known:", known);
}

ModelConfig with_overrides(ModelConfig c, const std::vector<std::pair<std::string, int>>& sizes) {
  const std::pair<const char*, int*> fields[] = {
      {"evoformer_blocks", &c.evoformer_blocks},
      {"extra_blocks", &c.extra_blocks},
      {"c_m", &c.c_m},
      {"c_z", &c.c_z},
      {"c_s", &c.c_s},
      {"c_e", &c.c_e},
      {"opm_channels", &c.trunk.opm_channels},
      {"trimul_channels", &c.trunk.trimul_channels},
      {"structure_channels", &c.structure.channels},
      {"sidechain_channels", &c.structure.sidechain_channels},
      {"plddt_channels", &c.plddt_channels},
      {"num_recycle", &c.num_recycle},
      {"max_msa_clusters", &c.max_msa_clusters},
      {"max_extra_msa", &c.max_extra_msa},
  };
  for (const auto& [name, value] : sizes) {
    int* field = nullptr;
    for (const auto& [n, f] : fields)
      if (name == n) field = f;
    if (!field) {
      std::string known;
      for (const auto& [n, f] : fields) known += std::string(" ") + n;
      fail("unknown model setting '", name, "'; known:", known);
    }
    *field = value;
  }
  if (!sizes.empty()) c.name += "+overrides";
  c.validate();
  return c;
}

std::vector<std::string> preset_names() {
  std::vector<std::string> v;
  for (int k = 1; k <= 5; ++k) {
    v.push_back("model_" + std::to_string(k));
    v.push_back("model_" + std::to_string(k) + "_ptm");
  }
  v.push_back("reduced");
  v.push_back("reduced_ptm");
  return v;
}

}  // namespace exafold::model
