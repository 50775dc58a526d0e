// AlphaFold2 supplement Algorithm 8: MSA column-wise gated self-attention.
#include "exafold/model/msa_column_attention.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

void msa_column_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                          int64_t chunk_size, const Tensor& out) {
  check(msa.rank() == 3, "msa_column_attention: msa ", msa.shape().str(), " must be [S, N, c_m]");
  const int64_t s = msa.size(0), n = msa.size(1);
  check_shape(msa, "msa", {s, n, (p / "query_norm")["scale"].numel()});
  check_shape(msa_mask, "msa_mask", {s, n});
  check_shape(out, "msa update", msa.shape());

  // Residue columns are the batch, sequences the tokens: the transposed views [N, S, ...].
  const Tensor cols = msa.transpose(0, 1), mask = msa_mask.transpose(0, 1);
  const Tensor out_cols = out.transpose(0, 1);
  const ParamScope ln = p / "query_norm";
  const int64_t chunk = chunk_rows(chunk_size, n);
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    const int64_t j1 = std::min(n, j0 + chunk);
    // [nj, S, c_m]
    const Tensor x = layer_norm(ln, cols.slice(0, j0, j1));
    gated_self_attention(p / "attention", x, mask.slice(0, j0, j1), Tensor(),
                         out_cols.slice(0, j0, j1));
  }
}

}  // namespace exafold::model
