// The network heads: pLDDT (AlphaFold2 supplement Alg 29), distogram, masked MSA, experimentally
// resolved and predicted aligned error (supplement 1.9.6-1.9.10), with pLDDT, PAE and pTM.
#include "exafold/model/heads.h"

#include "exafold/model/confidence.h"
#include "host_values.h"
#include "layers.h"

namespace exafold::model {
namespace {

/// jnp.linspace(first, last, count) in T.
template <class T>
std::vector<T> linspace(double first, double last, int count) {
  check(count >= 2, "at least two bin edges are needed, got ", count);
  std::vector<T> v(static_cast<size_t>(count));
  for (int k = 0; k < count; ++k) v[k] = T(first + (last - first) * double(k) / double(count - 1));
  return v;
}

}  // namespace

template <class T>
std::vector<T> distogram_bin_edges(int num_bins) {
  return linspace<T>(2.3125, 21.6875, num_bins - 1);
}

template <class T>
std::vector<T> aligned_error_breaks(int num_bins) {
  return linspace<T>(0.0, 31.0, num_bins - 1);
}

template <class T>
HeadsOutputs run_heads(const ModelConfig& config, const Params& params, const HeadsInputs& in) {
  check(params.dtype() == dtype_v<T>, "heads in ", dtype_name(dtype_v<T>), " need ",
        dtype_name(dtype_v<T>), " parameters, got ", dtype_name(params.dtype()));
  check(in.single.rank() == 2 && in.single.size(1) == config.c_s, "single has shape ",
        in.single.shape().str(), ", expected [N, ", config.c_s, "]");
  const int64_t n = in.single.size(0);
  detail::check_shape(in.pair, Shape{n, n, config.c_z}, "pair");
  detail::check_shape(in.structure_module, Shape{n, config.structure.channels},
                      "structure_module representation");
  detail::check_shape(in.seq_mask, Shape{n}, "seq_mask");
  check(in.msa.rank() == 3 && in.msa.size(1) == n && in.msa.size(2) == config.c_m, "msa has shape ",
        in.msa.shape().str(), ", expected [S, ", n, ", ", config.c_m, "]");
  check(in.msa_rows > 0 && in.msa_rows <= in.msa.size(0), "msa_rows = ", in.msa_rows,
        " must be in 1..", in.msa.size(0));
  for (const Tensor* t : {&in.single, &in.pair, &in.msa, &in.structure_module})
    detail::check_dtype<T>(*t, "head input");

  const ParamScope root(params, "alphafold/alphafold_iteration");
  HeadsOutputs out;

  // [N, N, c_z] -> [N, N, B]; the distogram is symmetric by construction.
  const Tensor half = detail::linear(root / "distogram_head/half_logits", in.pair);
  out.distogram_logits = Tensor::empty(half.shape(), dtype_v<T>);
  {
    const int64_t b = half.size(2);
    const T* h = half.data<T>();
    T* d = out.distogram_logits.data<T>();
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < b; ++k)
          d[(i * n + j) * b + k] = h[(i * n + j) * b + k] + h[(j * n + i) * b + k];
  }

  // [S, N, c_m] -> [S, N, 23]
  out.masked_msa_logits =
      detail::linear(root / "masked_msa_head/logits", in.msa.slice(0, 0, in.msa_rows));
  // [N, c_s] -> [N, 37]
  out.experimentally_resolved_logits =
      detail::linear(root / "experimentally_resolved_head/logits", in.single);

  // [N, c_sm] -> [N, c_h] -> [N, c_h] -> [N, 50]
  const ParamScope pl = root / "predicted_lddt_head";
  Tensor act = detail::layer_norm(pl / "input_layer_norm", in.structure_module);
  act = detail::relu<T>(detail::linear(pl / "act_0", act));
  act = detail::relu<T>(detail::linear(pl / "act_1", act));
  out.plddt_logits = detail::linear(pl / "logits", act);
  out.plddt = compute_plddt<T>(out.plddt_logits);
  out.mean_plddt = double(mean_plddt<T>(out.plddt, in.seq_mask));

  if (config.ptm) {
    // [N, N, c_z] -> [N, N, B]
    out.pae_logits = detail::linear(root / "predicted_aligned_error_head/logits", in.pair);
    const std::vector<T> breaks = aligned_error_breaks<T>(config.pae_bins);
    PredictedAlignedError pae = compute_predicted_aligned_error<T>(out.pae_logits, breaks);
    out.aligned_confidence_probs = pae.aligned_confidence_probs;
    out.predicted_aligned_error = pae.predicted_aligned_error;
    out.max_predicted_aligned_error = pae.max_predicted_aligned_error;
    out.ptm = double(predicted_tm_score<T>(out.pae_logits, breaks, in.seq_mask));
  }
  return out;
}

template std::vector<float> distogram_bin_edges<float>(int);
template std::vector<double> distogram_bin_edges<double>(int);
template std::vector<float> aligned_error_breaks<float>(int);
template std::vector<double> aligned_error_breaks<double>(int);
template HeadsOutputs run_heads<float>(const ModelConfig&, const Params&, const HeadsInputs&);
template HeadsOutputs run_heads<double>(const ModelConfig&, const Params&, const HeadsInputs&);

}  // namespace exafold::model
