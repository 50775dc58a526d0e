// AlphaFold2 supplement Algorithms 3 and 4: the input embedder and the relative position
// encoding.
#include "exafold/model/input_embedder.h"

#include "exafold/ops/embedding.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

InputEmbedding input_embedder(const ParamScope& p, const Tensor& target_feat,
                              const Tensor& msa_feat, const Tensor& template_rows) {
  const ParamScope pre_1d = p / "preprocess_1d", pre_msa = p / "preprocess_msa";
  const ParamScope left = p / "left_single", right = p / "right_single";
  const int64_t in_1d = pre_1d["weights"].size(0), in_msa = pre_msa["weights"].size(0);
  check(target_feat.rank() == 2 && msa_feat.rank() == 3, "target_feat ", target_feat.shape().str(),
        " and msa_feat ", msa_feat.shape().str(), " must be [N, ", in_1d, "] and [S, N, ", in_msa,
        "]");
  const int64_t n = target_feat.size(0), s = msa_feat.size(0);
  const int64_t c_m = pre_msa["weights"].size(1), c_z = left["weights"].size(1);
  const DType dt = pre_msa["weights"].dtype();
  const Tensor tf = float_input(target_feat, "target_feat", {n, in_1d}, dt);
  const Tensor mf = float_input(msa_feat, "msa_feat", {s, n, in_msa}, dt);

  const int64_t t = template_rows.defined() ? template_rows.size(0) : 0;
  if (t > 0) check_shape(template_rows, "template rows", {t, n, c_m});

  // [S, N, c_m] = preprocess_msa(msa_feat) + preprocess_1d(target_feat)[None], then the
  // template rows
  InputEmbedding e;
  e.msa = Tensor::empty({s + t, n, c_m}, dt, pre_msa["weights"].device());
  const Tensor clusters = e.msa.slice(0, 0, s);
  linear_into(clusters, pre_msa, mf);
  ops::add_(clusters, linear(pre_1d, tf).unsqueeze(0).broadcast_to({s, n, c_m}));
  if (t > 0) ops::copy(e.msa.slice(0, s, s + t), template_rows);
  // [N, N, c_z] = left_single[:, None] + right_single[None, :]
  e.pair = ops::binary(ops::Binary::add, linear(left, tf).unsqueeze(1).broadcast_to({n, n, c_z}),
                       linear(right, tf).unsqueeze(0).broadcast_to({n, n, c_z}));
  return e;
}

void add_relative_position(const ParamScope& p, const Tensor& residue_index, const Tensor& pair) {
  const ParamScope rel = p / "pair_activiations";  // sic, as in haiku
  const Tensor w = rel["weights"];
  const int64_t n = residue_index.rank() == 1 ? residue_index.size(0) : -1;
  check(n >= 0, "residue_index has shape ", residue_index.shape().str(), ", expected [N]");
  const Tensor ri = index_input(residue_index, "residue_index", {n});
  check_shape(pair, "pair", {n, n, w.size(1)});
  // one_hot(...) @ W + b is row clip(d + r) of W, plus b: a gather gives the product exactly
  const Tensor bins = ops::relative_position_bins(ri, (w.size(0) - 1) / 2);
  ops::embed_into(pair, w, rel["bias"], {ops::EmbedTerm::one_hot(bins, 0)}, true);
}

}  // namespace exafold::model
