// AlphaFold2 supplement Algorithm 2 lines 5-18: the trunk of one recycling iteration.
#include "exafold/model/trunk.h"

#include "exafold/model/evoformer.h"
#include "exafold/model/extra_msa_stack.h"
#include "exafold/model/input_embedder.h"
#include "exafold/ops/linear.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

namespace {

constexpr const char* kEvoformer = "alphafold/alphafold_iteration/evoformer";

/// Stacked parameters must hold as many blocks as the config runs.
void check_blocks(const ParamScope& stack, std::string_view probe, int blocks) {
  const int64_t have = stack[probe].size(0);
  check(have == blocks, stack.prefix(), " holds ", have, " blocks but the config runs ", blocks);
}

}  // namespace

template <class T>
TrunkOutputs run_trunk(const ModelConfig& config, const Params& params, const TrunkFeatures& f,
                       const Recycled& prev, const RunOptions& options) {
  check(params.dtype() == dtype_v<T>, "run_trunk<", dtype_name(dtype_v<T>), ">: parameters are ",
        dtype_name(params.dtype()));
  const ParamScope evo(params, kEvoformer);
  const ParamScope evoformer = evo / "evoformer_iteration";
  const ParamScope extra_stack = evo / "extra_msa_stack";
  check_blocks(evoformer / "msa_transition/input_layer_norm", "scale", config.evoformer_blocks);
  check_blocks(extra_stack / "msa_transition/input_layer_norm", "scale", config.extra_blocks);
  const int64_t chunk = options.chunk_size;

  check(f.aatype.defined() && f.aatype.rank() == 1, "aatype has shape ",
        f.aatype.defined() ? f.aatype.shape().str() : "(missing)", ", expected [N]");
  const int64_t n = f.aatype.size(0);
  auto shape_of = [](const Tensor& t) { return t.defined() ? t.shape().str() : "(missing)"; };
  check(f.msa_feat.defined() && f.msa_feat.rank() == 3, "msa_feat has shape ", shape_of(f.msa_feat),
        ", expected [S, ", n, ", 49]");
  check(f.extra_msa.defined() && f.extra_msa.rank() == 2, "extra_msa has shape ",
        shape_of(f.extra_msa), ", expected [E, ", n, "]");
  const int64_t s = f.msa_feat.size(0), e = f.extra_msa.size(0);
  const std::vector<int64_t> aatype = int_feature(f.aatype, "aatype", {n});
  for (int64_t a : aatype) check(a >= 0 && a <= 20, "aatype holds ", a, ", outside 0..20");
  const Tensor seq_mask = float_feature<T>(f.seq_mask, "seq_mask", {n});
  const Tensor msa_mask = float_feature<T>(f.msa_mask, "msa_mask", {s, n});
  const Tensor extra_mask = float_feature<T>(f.extra_msa_mask, "extra_msa_mask", {e, n});

  // [N, N] = seq_mask[:, None] * seq_mask[None, :]
  Tensor pair_mask = Tensor::empty({n, n}, dtype_v<T>);
  const T* sm = seq_mask.data<T>();
  T* pm = pair_mask.data<T>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) pm[i * n + j] = sm[i] * sm[j];

  // Embeddings, in the reference's order: input embedder, recycled inputs, relative positions.
  InputEmbedding emb = input_embedder<T>(evo, f.target_feat, f.msa_feat);
  recycling_embedder<T>(evo, f.aatype, prev, emb.msa, emb.pair);
  add_relative_position<T>(evo, f.residue_index, emb.pair);
  Tensor pair = emb.pair, msa = emb.msa;

  // Extra-MSA stack: only its pair goes on.
  {
    Tensor extra =
        embed_extra_msa<T>(evo, f.extra_msa, f.extra_has_deletion, f.extra_deletion_value);
    extra_msa_stack<T>(extra_stack, config.extra_blocks, extra, pair, extra_mask, pair_mask, chunk);
  }
  evoformer_stack<T>(evoformer, config.evoformer_blocks, msa, pair, msa_mask, pair_mask, chunk);

  TrunkOutputs out;
  out.msa_first_row = msa.select(0, 0);
  const LinearParams<T> single = linear_params<T>(evo / "single_activations");
  out.single = Tensor::empty({n, single.out}, dtype_v<T>);
  ops::linear<T>(out.msa_first_row.data<T>(), n, single.in, single.weights, single.bias, single.out,
                 out.single.data<T>());
  out.msa = msa;
  out.pair = pair;
  return out;
}

TrunkOutputs run_trunk(const ModelConfig& config, const Params& params,
                       const TrunkFeatures& features, const Recycled& prev,
                       const RunOptions& options) {
  if (params.dtype() == DType::float64)
    return run_trunk<double>(config, params, features, prev, options);
  return run_trunk<float>(config, params, features, prev, options);
}

template TrunkOutputs run_trunk<float>(const ModelConfig&, const Params&, const TrunkFeatures&,
                                       const Recycled&, const RunOptions&);
template TrunkOutputs run_trunk<double>(const ModelConfig&, const Params&, const TrunkFeatures&,
                                        const Recycled&, const RunOptions&);

}  // namespace exafold::model
