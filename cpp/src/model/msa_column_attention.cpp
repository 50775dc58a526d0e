// AlphaFold2 supplement Algorithm 8: MSA column-wise gated self-attention.
#include "exafold/model/msa_column_attention.h"

#include <algorithm>

#include "exafold/ops/attention.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor msa_column_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                            int64_t chunk_size) {
  check(msa.rank() == 3, "msa_column_attention: msa ", msa.shape().str(), " must be [S, N, c_m]");
  const int64_t s = msa.size(0), n = msa.size(1), c = msa.size(2);
  const ops::AttentionWeights<T> w = attention_params<T>(p / "attention", true);
  check_input<T>(msa, "msa", {s, n, w.c_q});
  check_input<T>(msa_mask, "msa_mask", {s, n});
  const Tensor m = msa.contiguous(), mask = msa_mask.contiguous();

  // Residue columns are the batch, sequences the tokens.
  const Axial cols{s, n, c, true};
  // [N, S]
  const Tensor bias = key_bias<T>(mask.data<T>(), cols);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "query_norm");

  Tensor out = Tensor::empty({s, n, c}, dtype_v<T>);
  const int64_t chunk = chunk_rows(chunk_size, n);
  const Scratch<T> x(chunk * s * c);
  const Scratch<T> y(chunk * s * c);
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    const int64_t nj = std::min(chunk, n - j0);
    // [nj, S, c_m]
    layer_norm_rows<T>(m.data<T>(), cols, j0, nj, ln, x.get());
    ops::attention<T>(x.get(), x.get(), nj, s, s, bias.data<T>() + j0 * s, nullptr, w, y.get());
    place_rows<T>(y.get(), cols, j0, nj, out.data<T>());
  }
  return out;
}

template Tensor msa_column_attention<float>(const ParamScope&, const Tensor&, const Tensor&,
                                            int64_t);
template Tensor msa_column_attention<double>(const ParamScope&, const Tensor&, const Tensor&,
                                             int64_t);

}  // namespace exafold::model
