// AlphaFold2 supplement Algorithm 2 lines 7-11: each template's pair embedding through the
// template pair stack, and the template torsion rows.
#include "exafold/model/template_embedding.h"

#include "exafold/model/template_pair_stack.h"
#include "exafold/ops/embedding.h"
#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

namespace {

constexpr const char* kEvoformer = "alphafold/alphafold_iteration/evoformer";
// atom37 indices of the backbone atoms (residue_constants.atom_order)
constexpr int64_t kAtomN = 0, kAtomCA = 1, kAtomC = 2;
// Template distogram bins (the config's dgram_features)
constexpr double kMinBin = 3.25, kMaxBin = 50.75;
constexpr int64_t kBins = 39;
// one_hot(template_aatype, 22): 20 amino acids, X and the gap
constexpr int64_t kAatypeClasses = 22;
// Rows of embedding2d's weights: the distogram, the pseudo-beta mask, aatype[j], aatype[i], the
// unit vector (3, always zero in the monomer models) and the backbone mask.
constexpr int64_t kRowPseudoBetaMask = kBins;
constexpr int64_t kRowAatypeJ = kRowPseudoBetaMask + 1;
constexpr int64_t kRowAatypeI = kRowAatypeJ + kAatypeClasses;
constexpr int64_t kRowBackboneMask = kRowAatypeI + kAatypeClasses + 3;
constexpr int64_t kPairFeatures = kRowBackboneMask + 1;  // 88
constexpr int64_t kAngleFeatures = 57;

/// m[i] * m[j] for m [N]: a new [N, N].
Tensor outer(const Tensor& m) {
  const int64_t n = m.size(0);
  return ops::binary(ops::Binary::mul, m.unsqueeze(1).broadcast_to({n, n}),
                     m.unsqueeze(0).broadcast_to({n, n}));
}

/// embedding2d of one template's pair features into act [N, N, c_t] (Algorithm 2 line 9).
void embed_template_pair(const ParamScope& embedding2d, const Tensor& aatype,
                         const Tensor& positions, const Tensor& masks, const Tensor& backbone,
                         const Tensor& act) {
  const Tensor w = embedding2d["weights"];
  EXAFOLD_ASSERT(w.size(0) == kPairFeatures);
  const int64_t n = aatype.size(0);
  const Tensor beta = ops::pseudo_beta(aatype, positions);
  const Tensor beta_mask = ops::pseudo_beta(aatype, masks);
  // Every feature is multiplied by the backbone mask in 2D, m2; the backbone mask feature is
  // itself m2, so its row enters as m2 * m2.
  const Tensor m2 = outer(backbone);
  const Tensor beta_m2 = ops::binary(ops::Binary::mul, outer(beta_mask), m2);
  const Tensor m2_m2 = ops::binary(ops::Binary::mul, m2, m2);
  const Tensor bins = ops::distogram_bins(beta, kMinBin, kMaxBin, kBins);
  ops::embed_into(
      act, w, embedding2d["bias"],
      {ops::EmbedTerm::one_hot(bins, 0, m2), ops::EmbedTerm::scalar(beta_m2, kRowPseudoBetaMask),
       ops::EmbedTerm::one_hot(aatype.unsqueeze(0).broadcast_to({n, n}), kRowAatypeJ, m2),
       ops::EmbedTerm::one_hot(aatype.unsqueeze(1).broadcast_to({n, n}), kRowAatypeI, m2),
       ops::EmbedTerm::scalar(m2_m2, kRowBackboneMask)},
      false);
}

Tensor on(const Tensor& t, Device device) { return t.defined() ? migrate(t, device) : t; }

std::string shape_of(const Tensor& t) { return t.defined() ? t.shape().str() : "(missing)"; }

}  // namespace

TemplateEmbedding embed_templates(const ModelConfig& config, const Params& host_params,
                                  const TemplateFeatures& f, const Tensor& seq_mask_in,
                                  const RunOptions& options) {
  check(config.templates.enabled, "the preset '", config.name, "' embeds no templates");
  const Device dev = options.device;
  const Params& params = host_params.on(dev, options.dtype.value_or(host_params.dtype()));
  const DType dt = params.dtype();
  const ParamScope evo(params, kEvoformer);
  const ParamScope single = evo / "template_embedding/single_template_embedding";
  const ParamScope stack = single / "template_pair_stack/__layer_stack_no_state";
  const int64_t have = (stack / "pair_transition/input_layer_norm")["scale"].size(0);
  check(have == config.templates.pair_blocks, stack.prefix(), " holds ", have,
        " blocks but the config runs ", config.templates.pair_blocks);
  const int64_t chunk = options.chunk_size;

  check(f.template_aatype.defined() && f.template_aatype.rank() == 2, "template_aatype has shape ",
        shape_of(f.template_aatype), ", expected [T, N]");
  const int64_t t = f.template_aatype.size(0), n = f.template_aatype.size(1);
  const Tensor aatype = index_input(on(f.template_aatype, dev), "template_aatype", {t, n});
  ops::check_range(aatype, 0, kAatypeClasses - 1, "template_aatype");
  // Coordinates stay in full precision (their pseudo-beta distances are binned); the 0/1 masks
  // are exact in any dtype.
  const Tensor positions =
      float_input(on(f.template_all_atom_positions, dev), "template_all_atom_positions",
                  {t, n, 37, 3}, full_precision(dt));
  const Tensor masks =
      float_input(on(f.template_all_atom_masks, dev), "template_all_atom_masks", {t, n, 37}, dt);
  const Tensor seq_mask = float_input(on(seq_mask_in, dev), "seq_mask", {n}, dt);
  const Tensor pair_mask = outer(seq_mask);

  TemplateEmbedding out;
  out.mask = float_input(on(f.template_mask, dev), "template_mask", {t}, dt);
  out.row_mask = float_input(on(f.template_angle_mask, dev), "template_angle_mask", {t, n}, dt);
  // present = (sum(template_mask) > 0), as a [1] tensor: the sum as a product with ones
  const Tensor sum = ops::linear(out.mask.reshape({1, t}), ops::full({t, 1}, 1.0, dt, dev), {});
  out.present = ops::unary(ops::Unary::positive, sum).reshape({1});

  // Algorithm 2 lines 9-11 per template, each ending in output_layer_norm in its slot of pair.
  // [T, N]: N * CA * C, whether a residue has its backbone frame
  const Tensor backbone =
      ops::binary(ops::Binary::mul,
                  ops::binary(ops::Binary::mul, masks.select(2, kAtomN), masks.select(2, kAtomCA)),
                  masks.select(2, kAtomC));
  const ParamScope out_norm = single / "output_layer_norm";
  const int64_t c_t = out_norm["scale"].numel();
  out.pair = Tensor::empty({n, n, t, c_t}, dt, dev);
  const int64_t rows = chunk_rows(chunk, n);
  for (int64_t k = 0; k < t; ++k) {
    const Tensor act = Tensor::empty({n, n, c_t}, dt, dev);
    embed_template_pair(single / "embedding2d", aatype.select(0, k), positions.select(0, k),
                        masks.select(0, k), backbone.select(0, k), act);
    template_pair_stack(stack, config.templates.pair_blocks, act, pair_mask, chunk);
    for (int64_t i0 = 0; i0 < n; i0 += rows) {
      const int64_t i1 = std::min(n, i0 + rows);
      ops::copy(out.pair.select(2, k).slice(0, i0, i1), layer_norm(out_norm, act.slice(0, i0, i1)));
    }
  }

  // Algorithm 2 lines 7-8: the torsion rows
  const Tensor angles = float_input(on(f.template_angle_feat, dev), "template_angle_feat",
                                    {t, n, kAngleFeatures}, dt);
  out.rows = linear(evo / "template_projection",
                    linear(evo / "template_single_embedding", angles, ops::Epilogue::relu()));
  return out;
}

}  // namespace exafold::model
