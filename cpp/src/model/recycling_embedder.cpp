// AlphaFold2 supplement Algorithm 32: the recycling embedder.
#include "exafold/model/recycling_embedder.h"

#include "exafold/ops/embedding.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

namespace {

// Recycled distances are binned between these pseudo-beta distances (Angstrom).
constexpr double kMinBin = 3.25;
constexpr double kMaxBin = 20.75;
// Rows of the pair layer-normed at a time: the recycled pair's LayerNorm needs no more.
constexpr int64_t kPairRows = 64;

}  // namespace

Recycled Recycled::zeros(int64_t n, int64_t c_m, int64_t c_z, DType dtype, Device device) {
  return {ops::zeros({n, c_m}, dtype, device), ops::zeros({n, n, c_z}, dtype, device),
          ops::zeros({n, 37, 3}, full_precision(dtype), device)};
}

Tensor recycled_distogram_bins(const Tensor& aatype, const Tensor& prev_pos, int64_t bins) {
  const int64_t n = aatype.rank() == 1 ? aatype.size(0) : -1;
  check(n >= 0, "aatype has shape ", aatype.shape().str(), ", expected [N]");
  const Tensor aa = index_input(aatype, "aatype", {n});
  check_shape(prev_pos, "prev_pos", {n, 37, 3});
  // [N, 3]: CB, CA for glycine
  const Tensor beta = ops::pseudo_beta(aa, ops::contiguous(prev_pos));
  return ops::distogram_bins(beta, kMinBin, kMaxBin, bins);
}

void recycling_embedder(const ParamScope& p, const Tensor& aatype, const Recycled& prev,
                        const Tensor& msa, const Tensor& pair) {
  const ParamScope pos_linear = p / "prev_pos_linear";
  const ParamScope msa_norm = p / "prev_msa_first_row_norm", pair_norm = p / "prev_pair_norm";
  check(msa.rank() == 3 && msa.is_contiguous() && pair.is_contiguous(), "recycling_embedder: msa ",
        msa.shape().str(), " and pair must be contiguous [S, N, c_m] and [N, N, c_z]");
  const int64_t n = msa.size(1), c_m = msa_norm["scale"].numel(), c_z = pair_norm["scale"].numel();
  const DType dt = msa.dtype();
  check_shape(msa, "msa", {msa.size(0), n, c_m});
  check_shape(pair, "pair", {n, n, c_z});
  const Tensor first = float_input(prev.prev_msa_first_row, "prev_msa_first_row", {n, c_m}, dt);
  const Tensor prev_pair = float_input(prev.prev_pair, "prev_pair", {n, n, c_z}, dt);
  // The distogram bins come from full-precision coordinates: in bfloat16 a position of 20
  // Angstrom would move by up to 0.06, across bin edges.
  const Tensor prev_pos = float_input(prev.prev_pos, "prev_pos", {n, 37, 3}, full_precision(dt));

  // pair += dgram @ W + b; the one-hot product is row `bin` of W, exactly
  const Tensor w = pos_linear["weights"];
  const Tensor bins = recycled_distogram_bins(aatype, prev_pos, w.size(0));
  ops::embed_into(pair, w, pos_linear["bias"], {ops::EmbedTerm::one_hot(bins, 0)}, true);
  // msa[0] += LayerNorm(prev_msa_first_row)
  ops::add_(msa.select(0, 0), layer_norm(msa_norm, first));
  // pair += LayerNorm(prev_pair), a row block at a time
  for (int64_t i0 = 0; i0 < n; i0 += kPairRows) {
    const int64_t i1 = std::min(n, i0 + kPairRows);
    ops::add_(pair.slice(0, i0, i1), layer_norm(pair_norm, prev_pair.slice(0, i0, i1)));
  }
}

}  // namespace exafold::model
