// AlphaFold2 supplement Algorithm 19: MSA column-wise global attention (extra-MSA stack).
#include "exafold/model/msa_column_global_attention.h"

#include <algorithm>
#include <cmath>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/attention.h"
#include "exafold/ops/gemm.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor msa_column_global_attention(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                                   int64_t chunk_size) {
  check(msa.rank() == 3, "msa_column_global_attention: msa ", msa.shape().str(),
        " must be [E, N, c_e]");
  const int64_t e = msa.size(0), n = msa.size(1), c = msa.size(2);
  const ParamScope a = p / "attention";
  // query_w [c, heads, d]; key_w and value_w [c, d]: one key/value head shared by all queries
  const Tensor query_w = a["query_w"];
  const int64_t heads = query_w.size(1), d = query_w.size(2), hd = heads * d;
  const int64_t c_out = a["output_w"].size(2);
  check_input<T>(msa, "msa", {e, n, query_w.size(0)});
  check_input<T>(msa_mask, "msa_mask", {e, n});
  const Tensor m = msa.contiguous(), mask = msa_mask.contiguous();
  const T* mk = mask.data<T>();

  const Axial cols{e, n, c, true};
  // [N, E]
  const Tensor bias = key_bias<T>(mk, cols);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "query_norm");
  const T scale = T(std::pow(double(d), -0.5));

  Tensor out = Tensor::empty({e, n, c_out}, dtype_v<T>);
  const int64_t chunk = chunk_rows(chunk_size, n);
  const Scratch<T> x(chunk * e * c);
  const Scratch<T> q_avg(chunk * c);
  const Scratch<T> q(chunk * hd);
  const Scratch<T> k(chunk * e * d);
  const Scratch<T> v(chunk * e * d);
  const Scratch<T> o(chunk * hd);
  const Scratch<T> gated(chunk * e * hd);
  const Scratch<T> y(chunk * e * c_out);
  for (int64_t j0 = 0; j0 < n; j0 += chunk) {
    const int64_t nj = std::min(chunk, n - j0);
    // [nj, E, c]
    layer_norm_rows<T>(m.data<T>(), cols, j0, nj, ln, x.get());
    // [nj, c]: masked mean over the sequences of each column
    thread_pool().parallel_for(nj, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        T* avg = q_avg.get() + r * c;
        std::fill_n(avg, c, T(0));
        T count = 0;
        for (int64_t s = 0; s < e; ++s) {
          const T ms = mk[s * n + j0 + r];
          count += ms;
          const T* xs = x.get() + (r * e + s) * c;
          for (int64_t i = 0; i < c; ++i) avg[i] += ms * xs[i];
        }
        for (int64_t i = 0; i < c; ++i) avg[i] /= count + T(1e-10);
      }
    });
    // [nj, heads, d], [nj, E, d], [nj, E, d]
    ops::linear<T>(q_avg.get(), nj, c, param<T>(a, "query_w"), nullptr, hd, q.get());
    for (int64_t i = 0; i < nj * hd; ++i) q[i] *= scale;
    ops::linear<T>(x.get(), nj * e, c, param<T>(a, "key_w"), nullptr, d, k.get());
    ops::linear<T>(x.get(), nj * e, c, param<T>(a, "value_w"), nullptr, d, v.get());
    thread_pool().parallel_for(nj, 1, [&](int64_t r0, int64_t r1) {
      const Scratch<T> logits(heads * e);
      for (int64_t r = r0; r < r1; ++r) {
        // [heads, E] = q[r] @ k[r]^T
        ops::gemm_serial<T>(false, true, heads, e, d, T(1), q.get() + r * hd, d,
                            k.get() + r * e * d, d, T(0), logits.get(), e);
        for (int64_t h = 0; h < heads; ++h)
          ops::biased_softmax<T>(logits.get() + h * e, 1, e, bias.data<T>() + (j0 + r) * e,
                                 nullptr);
        // [heads, d] = weights @ v[r]
        ops::gemm_serial<T>(false, false, heads, d, e, T(1), logits.get(), e, v.get() + r * e * d,
                            d, T(0), o.get() + r * hd, d);
      }
    });
    // [nj, E, heads, d]: every sequence gates the column's result with its own activations
    ops::linear<T>(x.get(), nj * e, c, param<T>(a, "gating_w"), param<T>(a, "gating_b"), hd,
                   gated.get());
    thread_pool().parallel_for(nj * e, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T* oc = o.get() + (r / e) * hd;
        T* g = gated.get() + r * hd;
        for (int64_t i = 0; i < hd; ++i) g[i] = oc[i] * sigmoid(g[i]);
      }
    });
    // [nj, E, c_out]
    ops::linear<T>(gated.get(), nj * e, hd, param<T>(a, "output_w"), param<T>(a, "output_b"), c_out,
                   y.get());
    place_rows<T>(y.get(), Axial{e, n, c_out, true}, j0, nj, out.data<T>());
  }
  return out;
}

template Tensor msa_column_global_attention<float>(const ParamScope&, const Tensor&, const Tensor&,
                                                   int64_t);
template Tensor msa_column_global_attention<double>(const ParamScope&, const Tensor&, const Tensor&,
                                                    int64_t);

}  // namespace exafold::model
