// AlphaFold2 supplement Algorithm 7: MSA row-wise gated self-attention with pair bias.
#include "exafold/model/msa_row_attention.h"

#include <algorithm>

#include "exafold/ops/attention.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor msa_row_attention_with_pair_bias(const ParamScope& p, const Tensor& msa,
                                        const Tensor& msa_mask, const Tensor& pair,
                                        int64_t chunk_size) {
  check(msa.rank() == 3 && pair.rank() == 3, "msa_row_attention_with_pair_bias: msa ",
        msa.shape().str(), " and pair ", pair.shape().str(), " must be [S, N, c] and [N, N, c_z]");
  const int64_t s = msa.size(0), n = msa.size(1), c = msa.size(2);
  const ops::AttentionWeights<T> w = attention_params<T>(p / "attention", true);
  check_input<T>(msa, "msa", {s, n, w.c_q});
  check_input<T>(msa_mask, "msa_mask", {s, n});
  check_input<T>(pair, "pair", {n, n, p["feat_2d_weights"].size(0)});
  const Tensor m = msa.contiguous(), mask = msa_mask.contiguous(), z = pair.contiguous();

  const Axial rows{s, n, c, false};
  const Axial pair_rows{n, n, z.size(2), false};
  // [heads, N, N], shared by every row
  const Tensor bias2d = pair_bias<T>(p, "feat_2d_norm", z.data<T>(), pair_rows, chunk_size);
  // [S, N]
  const Tensor bias = key_bias<T>(mask.data<T>(), rows);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "query_norm");

  Tensor out = Tensor::empty({s, n, c}, dtype_v<T>);
  const int64_t chunk = chunk_rows(chunk_size, s);
  const Scratch<T> x(chunk * n * c);
  for (int64_t r0 = 0; r0 < s; r0 += chunk) {
    const int64_t nr = std::min(chunk, s - r0);
    // [nr, N, c]
    layer_norm_rows<T>(m.data<T>(), rows, r0, nr, ln, x.get());
    ops::attention<T>(x.get(), x.get(), nr, n, n, bias.data<T>() + r0 * n, bias2d.data<T>(), w,
                      out.data<T>() + r0 * n * c);
  }
  return out;
}

template Tensor msa_row_attention_with_pair_bias<float>(const ParamScope&, const Tensor&,
                                                        const Tensor&, const Tensor&, int64_t);
template Tensor msa_row_attention_with_pair_bias<double>(const ParamScope&, const Tensor&,
                                                         const Tensor&, const Tensor&, int64_t);

}  // namespace exafold::model
