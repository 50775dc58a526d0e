// AlphaFold2 supplement Algorithm 2: inference with recycling (trunk, structure module, heads).
#include "exafold/model/alphafold.h"

#include "exafold/core/error.h"
#include "exafold/model/all_atom.h"
#include "exafold/model/iteration_graph.h"
#include "exafold/model/length_buckets.h"
#include "exafold/model/residue_constants.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {

const Params& prepare(const Params& params, Device device, DType dtype) {
  const Params& placed = params.on(device, dtype);
  detail::prepare_fused_weights(placed);
  prepare_residue_tables(device, full_precision(dtype));
  return placed;
}

namespace {

/// The same memory seen the same way (no values are read).
bool same_tensor(const Tensor& a, const Tensor& b) {
  if (a.defined() != b.defined()) return false;
  return !a.defined() ||
         (a.data_ptr() == b.data_ptr() && a.shape() == b.shape() && a.strides() == b.strides() &&
          a.dtype() == b.dtype() && a.device() == b.device());
}

bool same_templates(const TemplateFeatures& a, const TemplateFeatures& b) {
  return same_tensor(a.template_aatype, b.template_aatype) &&
         same_tensor(a.template_all_atom_positions, b.template_all_atom_positions) &&
         same_tensor(a.template_all_atom_masks, b.template_all_atom_masks) &&
         same_tensor(a.template_mask, b.template_mask) &&
         same_tensor(a.template_angle_feat, b.template_angle_feat) &&
         same_tensor(a.template_angle_mask, b.template_angle_mask);
}

std::vector<Tensor*> template_tensors(TemplateFeatures& t) {
  return {&t.template_aatype, &t.template_all_atom_positions, &t.template_all_atom_masks,
          &t.template_mask,   &t.template_angle_feat,         &t.template_angle_mask};
}

}  // namespace

std::vector<Tensor*> iteration_tensors(ModelFeatures& f) {
  TrunkFeatures& t = f.trunk;
  return {&t.aatype,
          &t.residue_index,
          &t.seq_mask,
          &t.target_feat,
          &t.msa_feat,
          &t.msa_mask,
          &t.extra_msa,
          &t.extra_msa_mask,
          &t.extra_has_deletion,
          &t.extra_deletion_value,
          &f.residx_atom37_to_atom14,
          &f.atom37_atom_exists,
          &f.atom14_atom_exists};
}

std::vector<ModelFeatures> place_features(const std::vector<ModelFeatures>& features,
                                          Device device) {
  std::vector<ModelFeatures> placed = features;
  std::vector<std::pair<Tensor, Tensor>> done;  // (given, placed): shared tensors move once
  auto place = [&](Tensor& t) {
    if (!t.defined()) return;
    for (const auto& [given, there] : done)
      if (same_tensor(given, t)) {
        t = there;
        return;
      }
    Tensor there = migrate(t, device);
    done.emplace_back(t, there);
    t = there;
  };
  for (ModelFeatures& f : placed) {
    for (Tensor* t : iteration_tensors(f)) place(*t);
    for (Tensor* t : template_tensors(f.trunk.templates)) place(*t);
  }
  return placed;
}

void check_feature_ranges(const ModelFeatures& f) {
  ops::check_range(f.trunk.aatype, 0, rc::kNumRestypes - 1, "aatype");
  ops::check_range(f.trunk.extra_msa, 0, rc::kMsaClasses - 1, "extra_msa");
  ops::check_range(f.residx_atom37_to_atom14, 0, rc::kAtom14 - 1, "residx_atom37_to_atom14");
}

IterationOutputs run_iteration(const ModelConfig& config, const Params& params,
                               const ModelFeatures& features, const Recycled& prev,
                               const RunOptions& options, const TemplateEmbedding* templates) {
  const Params& placed = prepare(params, options.device, options.dtype.value_or(params.dtype()));
  IterationOutputs out;
  out.trunk = run_trunk(config, placed, features.trunk, prev, options, templates);
  // The trunk's representations enter the structure module and the
  // heads in full precision (a no-op unless the trunk ran in bfloat16), as AlphaFold2's
  // EmbeddingsAndEvoformer hands them on with bfloat16_output off. The trunk's outputs, and what
  // is recycled of them, stay in the trunk's dtype: their float32 copies hold the same values.
  const DType full = full_precision(placed.dtype());
  const Tensor single = ops::cast(out.trunk.single, full), pair = ops::cast(out.trunk.pair, full);
  StructureModuleFeatures sf{features.trunk.seq_mask, features.trunk.aatype,
                             features.residx_atom37_to_atom14, features.atom37_atom_exists,
                             features.atom14_atom_exists};
  out.structure = run_structure_module(config, placed, single, pair, sf);
  HeadsInputs hi;
  hi.single = single;
  hi.pair = pair;
  hi.msa = ops::cast(out.trunk.msa, full);
  hi.msa_rows = out.trunk.msa.size(0);
  hi.structure_module = out.structure.representation;
  hi.seq_mask = features.trunk.seq_mask;
  out.heads = run_heads(config, placed, hi);
  out.next.prev_msa_first_row = out.trunk.msa_first_row;
  out.next.prev_pair = out.trunk.pair;
  out.next.prev_pos = out.structure.final_atom_positions;
  return out;
}

IterationOutputs run_model(const ModelConfig& config, const Params& params,
                           const std::vector<ModelFeatures>& features, int num_recycle,
                           const RunOptions& options,
                           const std::function<void(int, const IterationOutputs&)>& on_iteration) {
  check(!features.empty(), "run_model needs the features of at least one iteration");
  check(num_recycle >= 0, "num_recycle must be >= 0, got ", num_recycle);
  const Tensor& aatype = features[0].trunk.aatype;
  check(aatype.rank() == 1, "aatype must be [N], got ", aatype.shape().str());
  const DType dtype = options.dtype.value_or(params.dtype());
  const TemplateFeatures& first = features[0].trunk.templates;
  for (size_t r = 1; r < features.size(); ++r) {
    const TemplateFeatures& other = features[r].trunk.templates;
    check(other.count() == 0 || same_templates(other, first), "iteration ", r,
          " holds other template features than iteration 0; templates are the same in every "
          "recycling iteration");
  }
  std::vector<ModelFeatures> run_features = place_features(features, options.device);
  // Note [Template embedding once per prediction]
  TemplateEmbedding templates;
  if (config.templates.enabled && first.count() > 0) {
    const Params& placed = prepare(params, options.device, dtype);
    templates = embed_templates(config, placed, run_features[0].trunk.templates,
                                run_features[0].trunk.seq_mask, options);
  }
  // Note [Length buckets]; features with templates keep their length (Note [Length buckets
  // and templates]). The recycled state stays padded between iterations.
  const int64_t n = aatype.size(0);
  const int64_t length = pads_to_bucket(options) && first.count() == 0 ? bucket_length(n) : n;
  // Each padded in place of its unpadded copy, which then goes unless the caller holds it.
  if (length != n)
    for (ModelFeatures& f : run_features) f = pad_features(f, length);
  if (uses_cuda_graphs(options) && first.count() == 0) {
    const IterationOutputs out = run_iterations_as_graphs(
        config, params, run_features, num_recycle, options, [&](int r, const IterationOutputs& o) {
          if (on_iteration) on_iteration(r, length != n ? crop_outputs(o, n) : o);
        });
    return length != n ? crop_outputs(out, n) : out;
  }
  Recycled prev = Recycled::zeros(length, config.c_m, config.c_z, dtype, options.device);
  IterationOutputs out;
  for (int r = 0; r <= num_recycle; ++r) {
    const ModelFeatures& f = run_features[std::min<size_t>(size_t(r), run_features.size() - 1)];
    out = run_iteration(config, params, f, prev, options,
                        templates.count() > 0 ? &templates : nullptr);
    prev = out.next;
    if (length != n) out = crop_outputs(out, n);
    if (on_iteration) on_iteration(r, out);
  }
  return out;
}

}  // namespace exafold::model
