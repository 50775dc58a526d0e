// The network heads: pLDDT (AlphaFold2 supplement Alg 29), distogram, masked MSA, experimentally
// resolved and predicted aligned error (supplement 1.9.6-1.9.10), with pLDDT, PAE and pTM.
#include "exafold/model/heads.h"

#include "exafold/model/confidence.h"
#include "layers.h"

namespace exafold::model {
namespace {

/// jnp.linspace(first, last, count).
std::vector<double> linspace(double first, double last, int count) {
  check(count >= 2, "at least two bin edges are needed, got ", count);
  std::vector<double> v(static_cast<size_t>(count));
  for (int k = 0; k < count; ++k)
    v[size_t(k)] = first + (last - first) * double(k) / double(count - 1);
  return v;
}

}  // namespace

std::vector<double> distogram_bin_edges(int num_bins) {
  return linspace(2.3125, 21.6875, num_bins - 1);
}

std::vector<double> aligned_error_breaks(int num_bins) { return linspace(0.0, 31.0, num_bins - 1); }

HeadsOutputs run_heads(const ModelConfig& config, const Params& params, const HeadsInputs& in) {
  check(in.single.rank() == 2 && in.single.size(1) == config.c_s, "single has shape ",
        in.single.shape().str(), ", expected [N, ", config.c_s, "]");
  const int64_t n = in.single.size(0);
  detail::check_shape(in.pair, "pair", {n, n, config.c_z});
  detail::check_shape(in.structure_module, "structure_module representation",
                      {n, config.structure.channels});
  detail::check_shape(in.seq_mask, "seq_mask", {n});
  check(in.msa.rank() == 3 && in.msa.size(1) == n && in.msa.size(2) == config.c_m, "msa has shape ",
        in.msa.shape().str(), ", expected [S, ", n, ", ", config.c_m, "]");
  check(in.msa_rows > 0 && in.msa_rows <= in.msa.size(0), "msa_rows = ", in.msa_rows,
        " must be in 1..", in.msa.size(0));
  // The heads compute in full precision (float32 in a bfloat16 run), as AlphaFold2's do.
  const DType dt = full_precision(params.dtype());
  for (const Tensor* t : {&in.single, &in.pair, &in.msa, &in.structure_module})
    check(t->dtype() == dt && t->device() == params.device(), "heads: an input in ",
          dtype_name(t->dtype()), " on ", t->device().str(), ", the heads compute in ",
          dtype_name(dt), " on ", params.device().str());
  const Tensor seq_mask = migrate(in.seq_mask, params.device());

  const ParamScope root(params, "alphafold/alphafold_iteration");
  HeadsOutputs out;

  // [N, N, c_z] -> [N, N, B]; the distogram is symmetric by construction.
  const Tensor half = detail::linear(root / "distogram_head/half_logits", in.pair);
  out.distogram_logits = ops::binary(ops::Binary::add, half, half.transpose(0, 1));

  // [S, N, c_m] -> [S, N, 23]
  out.masked_msa_logits =
      detail::linear(root / "masked_msa_head/logits", in.msa.slice(0, 0, in.msa_rows));
  // [N, c_s] -> [N, 37]
  out.experimentally_resolved_logits =
      detail::linear(root / "experimentally_resolved_head/logits", in.single);

  // [N, c_sm] -> [N, c_h] -> [N, c_h] -> [N, 50]
  const ParamScope pl = root / "predicted_lddt_head";
  const ops::Epilogue relu = ops::Epilogue::relu();
  Tensor act = detail::layer_norm(pl / "input_layer_norm", in.structure_module);
  act = detail::linear(pl / "act_0", act, relu);
  act = detail::linear(pl / "act_1", act, relu);
  out.plddt_logits = detail::linear(pl / "logits", act);
  out.plddt = compute_plddt(out.plddt_logits);
  out.mean_plddt = mean_plddt(out.plddt, seq_mask);

  if (config.ptm) {
    // [N, N, c_z] -> [N, N, B]
    out.pae_logits = detail::linear(root / "predicted_aligned_error_head/logits", in.pair);
    const std::vector<double> breaks = aligned_error_breaks(config.pae_bins);
    PredictedAlignedError pae = compute_predicted_aligned_error(out.pae_logits, breaks);
    out.aligned_confidence_probs = pae.aligned_confidence_probs;
    out.predicted_aligned_error = pae.predicted_aligned_error;
    out.max_predicted_aligned_error = pae.max_predicted_aligned_error;
    out.ptm = predicted_tm_score(out.aligned_confidence_probs, breaks, seq_mask);
  }
  return out;
}

}  // namespace exafold::model
