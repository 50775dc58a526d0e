// AlphaFold2 supplement Algorithm 2 lines 5-18: the trunk of one recycling iteration.
#include "exafold/model/trunk.h"

#include "exafold/model/evoformer.h"
#include "exafold/model/extra_msa_stack.h"
#include "exafold/model/input_embedder.h"
#include "exafold/model/residue_constants.h"
#include "exafold/model/template_embedding.h"
#include "exafold/model/template_pointwise_attention.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

namespace {

constexpr const char* kEvoformer = "alphafold/alphafold_iteration/evoformer";

/// Stacked parameters must hold as many blocks as the config runs.
void check_blocks(const ParamScope& stack, std::string_view probe, int blocks) {
  const int64_t have = stack[probe].size(0);
  check(have == blocks, stack.prefix(), " holds ", have, " blocks but the config runs ", blocks);
}

std::string shape_of(const Tensor& t) { return t.defined() ? t.shape().str() : "(missing)"; }

/// t on `device` (a no-op where it already is, or where that device reaches it).
Tensor on(const Tensor& t, Device device) { return t.defined() ? migrate(t, device) : t; }

}  // namespace

TrunkOutputs run_trunk(const ModelConfig& config, const Params& host_params, const TrunkFeatures& f,
                       const Recycled& prev, const RunOptions& options,
                       const TemplateEmbedding* embedded) {
  const Device dev = options.device;
  const Params& params = host_params.on(dev, options.dtype.value_or(host_params.dtype()));
  const DType dt = params.dtype();
  const ParamScope evo(params, kEvoformer);
  const ParamScope evoformer = evo / "evoformer_iteration";
  const ParamScope extra_stack = evo / "extra_msa_stack";
  check_blocks(evoformer / "msa_transition/input_layer_norm", "scale", config.evoformer_blocks);
  check_blocks(extra_stack / "msa_transition/input_layer_norm", "scale", config.extra_blocks);
  const int64_t chunk = options.chunk_size;

  check(f.aatype.defined() && f.aatype.rank() == 1, "aatype has shape ", shape_of(f.aatype),
        ", expected [N]");
  const int64_t n = f.aatype.size(0);
  check(f.msa_feat.defined() && f.msa_feat.rank() == 3, "msa_feat has shape ", shape_of(f.msa_feat),
        ", expected [S, ", n, ", 49]");
  check(f.extra_msa.defined() && f.extra_msa.rank() == 2, "extra_msa has shape ",
        shape_of(f.extra_msa), ", expected [E, ", n, "]");
  const int64_t s = f.msa_feat.size(0), e = f.extra_msa.size(0);
  const Tensor aatype = index_input(on(f.aatype, dev), "aatype", {n});
  ops::check_range(aatype, 0, rc::kNumRestypes - 1, "aatype");
  const Tensor seq_mask = float_input(on(f.seq_mask, dev), "seq_mask", {n}, dt);
  const Tensor msa_mask = float_input(on(f.msa_mask, dev), "msa_mask", {s, n}, dt);
  const Tensor extra_mask = float_input(on(f.extra_msa_mask, dev), "extra_msa_mask", {e, n}, dt);

  // [N, N] = seq_mask[:, None] * seq_mask[None, :]
  const Tensor pair_mask = ops::binary(ops::Binary::mul, seq_mask.unsqueeze(1).broadcast_to({n, n}),
                                       seq_mask.unsqueeze(0).broadcast_to({n, n}));

  // The templates' embedding, unless the caller made it once for the whole prediction.
  TemplateEmbedding own;
  const TemplateEmbedding* templates = nullptr;
  if (config.templates.enabled && embedded) {
    templates = embedded;
    const int64_t residues = templates->rows.defined() ? templates->rows.size(1) : 0;
    check(residues == n, "the template embedding is of ", residues, " residues, the features of ",
          n);
  } else if (config.templates.enabled && f.templates.count() > 0) {
    own = embed_templates(config, params, f.templates, seq_mask, options);
    templates = &own;
  }
  const int64_t t = templates ? templates->count() : 0;

  // Embeddings, in the reference's order: input embedder, recycled inputs, relative positions,
  // templates (the torsion rows join the MSA here already: nothing before the Evoformer reads
  // the MSA's rows past the S clusters).
  Recycled recycled{on(prev.prev_msa_first_row, dev), on(prev.prev_pair, dev),
                    on(prev.prev_pos, dev)};
  InputEmbedding emb = input_embedder(evo, on(f.target_feat, dev), on(f.msa_feat, dev),
                                      templates ? templates->rows : Tensor());
  recycling_embedder(evo, aatype, recycled, emb.msa, emb.pair);
  recycled = {};
  add_relative_position(evo, on(f.residue_index, dev), emb.pair);
  const Tensor pair = emb.pair, msa = emb.msa;
  Tensor template_row_mask;
  if (templates) {
    template_pointwise_attention(evo / "template_embedding/attention", templates->pair,
                                 templates->mask, templates->present, pair, chunk, pair);
    template_row_mask = templates->row_mask;
  }
  own = {};  // an embedding made here is not needed past the point-wise attention

  // Extra-MSA stack: only its pair goes on.
  {
    const Tensor extra = embed_extra_msa(evo, on(f.extra_msa, dev), on(f.extra_has_deletion, dev),
                                         on(f.extra_deletion_value, dev));
    extra_msa_stack(extra_stack, config.extra_blocks, extra, pair, extra_mask, pair_mask, chunk);
  }
  // [S + T, N]: the template rows' mask is their psi mask
  Tensor rows_mask = msa_mask;
  if (t > 0) {
    rows_mask = Tensor::empty({s + t, n}, dt, dev);
    ops::copy(rows_mask.slice(0, 0, s), msa_mask);
    ops::copy(rows_mask.slice(0, s, s + t), template_row_mask);
  }
  evoformer_stack(evoformer, config.evoformer_blocks, msa, pair, rows_mask, pair_mask, chunk);

  TrunkOutputs out;
  out.msa_first_row = msa.select(0, 0);
  out.single = linear(evo / "single_activations", out.msa_first_row);
  out.msa = msa.slice(0, 0, s);
  out.pair = pair;
  return out;
}

}  // namespace exafold::model
