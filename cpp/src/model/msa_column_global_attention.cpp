// AlphaFold2 supplement Algorithm 19: MSA column-wise global attention (extra-MSA stack).
#include "exafold/model/msa_column_global_attention.h"

#include <cmath>

#include "exafold/ops/reduce.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

void msa_column_global_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                                 int64_t chunk_size, const Tensor& out) {
  check(msa.rank() == 3, "msa_column_global_attention: msa ", msa.shape().str(),
        " must be [E, N, c_e]");
  const int64_t e = msa.size(0), n = msa.size(1);
  const ParamScope a = p / "attention";
  // query_w [c, heads, d]; key_w and value_w [c, d]: one key/value head shared by all queries
  const Tensor query_w = a["query_w"], output_w = a["output_w"];
  const int64_t c = query_w.size(0), heads = query_w.size(1), d = query_w.size(2);
  check_shape(msa, "msa", {e, n, c});
  check_shape(msa_mask, "msa_mask", {e, n});
  check_shape(out, "msa update", msa.shape());
  const Tensor& kv_w = attention_kv_weights(a);

  const Tensor cols = msa.transpose(0, 1), mask = msa_mask.transpose(0, 1);
  const Tensor out_cols = out.transpose(0, 1);
  const ParamScope ln = p / "query_norm";
  const int64_t chunk = chunk_rows(chunk_size, n);
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    const int64_t j1 = std::min(n, j0 + chunk), nj = j1 - j0;
    // [nj, E, c]
    const Tensor x = layer_norm(ln, cols.slice(0, j0, j1));
    const Tensor m = mask.slice(0, j0, j1);
    // One query per column and head from the masked mean of the column: [nj, 1, heads, d]
    const Tensor q =
        ops::linear(ops::masked_mean(x, m, 1e-10), query_w, Tensor()).reshape({nj, 1, heads, d});
    // [nj, E, 2 d]: the shared key and value head, seen by every query head
    const Tensor kv = ops::linear(x, kv_w, Tensor());
    ops::AttentionInputs in;
    in.q = q;
    in.k = kv.slice(2, 0, d).unsqueeze(2).broadcast_to({nj, e, heads, d});
    in.v = kv.slice(2, d, 2 * d).unsqueeze(2).broadcast_to({nj, e, heads, d});
    in.mask = m;
    in.scale = std::pow(double(d), -0.5);
    // [nj, 1, heads, d]
    const Tensor o = ops::attention(in);
    // [nj, E, heads, d]: every sequence gates the column's result with its own activations
    const Tensor gated =
        ops::linear(x, a["gating_w"], a["gating_b"],
                    ops::Epilogue::sigmoid().times(o.broadcast_to({nj, e, heads, d})));
    // [nj, E, c_out], added to out
    ops::linear_into(out_cols.slice(0, j0, j1), gated.reshape({nj, e, heads * d}),
                     output_w.reshape({heads * d, output_w.size(2)}), a["output_b"],
                     ops::Epilogue().added());
  }
}

}  // namespace exafold::model
