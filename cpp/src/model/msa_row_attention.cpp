// AlphaFold2 supplement Algorithm 7: MSA row-wise gated self-attention with pair bias.
#include "exafold/model/msa_row_attention.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

void msa_row_attention_with_pair_bias(const ParamScope& p, const Tensor& msa,
                                      const Tensor& msa_mask, const Tensor& pair,
                                      int64_t chunk_size, const Tensor& out) {
  check(msa.rank() == 3 && pair.rank() == 3, "msa_row_attention_with_pair_bias: msa ",
        msa.shape().str(), " and pair ", pair.shape().str(), " must be [S, N, c] and [N, N, c_z]");
  const int64_t s = msa.size(0), n = msa.size(1);
  check_shape(msa, "msa", {s, n, (p / "query_norm")["scale"].numel()});
  check_shape(msa_mask, "msa_mask", {s, n});
  check_shape(pair, "pair", {n, n, p["feat_2d_weights"].size(0)});
  check_shape(out, "msa update", msa.shape());

  // [heads, N, N], shared by every row
  const Tensor bias2d = pair_bias(p, "feat_2d_norm", pair, chunk_size);
  const ParamScope ln = p / "query_norm";
  const int64_t chunk = chunk_rows(chunk_size, s);
  for (int64_t r0 = 0; r0 < s; r0 += chunk) {
    const int64_t r1 = std::min(s, r0 + chunk);
    // [nr, N, c]: each row attends over its residues
    const Tensor x = layer_norm(ln, msa.slice(0, r0, r1));
    gated_self_attention(p / "attention", x, msa_mask.slice(0, r0, r1), bias2d,
                         out.slice(0, r0, r1));
  }
}

}  // namespace exafold::model
