// AlphaFold2 supplement Algorithms 3 and 4: the input embedder and the relative position
// encoding.
#include "exafold/model/input_embedder.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/linear.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
InputEmbedding input_embedder(const ParamScope& p, const Tensor& target_feat,
                              const Tensor& msa_feat) {
  const LinearParams<T> pre_1d = linear_params<T>(p / "preprocess_1d");
  const LinearParams<T> pre_msa = linear_params<T>(p / "preprocess_msa");
  const LinearParams<T> left = linear_params<T>(p / "left_single");
  const LinearParams<T> right = linear_params<T>(p / "right_single");
  check(target_feat.rank() == 2 && msa_feat.rank() == 3, "target_feat ", target_feat.shape().str(),
        " and msa_feat ", msa_feat.shape().str(), " must be [N, ", pre_1d.in, "] and [S, N, ",
        pre_msa.in, "]");
  const int64_t n = target_feat.size(0), s = msa_feat.size(0);
  const int64_t c_m = pre_msa.out, c_z = left.out;
  const Tensor tf = float_feature<T>(target_feat, "target_feat", {n, pre_1d.in});
  const Tensor mf = float_feature<T>(msa_feat, "msa_feat", {s, n, pre_msa.in});

  InputEmbedding e{Tensor::empty({s, n, c_m}, dtype_v<T>), Tensor::empty({n, n, c_z}, dtype_v<T>)};
  // [S, N, c_m] = preprocess_msa(msa_feat) + preprocess_1d(target_feat)[None]
  T* msa = e.msa.data<T>();
  ops::linear<T>(mf.data<T>(), s * n, pre_msa.in, pre_msa.weights, pre_msa.bias, c_m, msa);
  Tensor one_d = Tensor::empty({n, c_m}, dtype_v<T>);
  const T* od = one_d.data<T>();
  ops::linear<T>(tf.data<T>(), n, pre_1d.in, pre_1d.weights, pre_1d.bias, c_m, one_d.data<T>());
  thread_pool().parallel_for(s, 1, [&](int64_t s0, int64_t s1) {
    for (int64_t r = s0; r < s1; ++r)
      for (int64_t i = 0; i < n * c_m; ++i) msa[r * n * c_m + i] += od[i];
  });
  // [N, N, c_z] = left_single[:, None] + right_single[None, :]
  Tensor l = Tensor::empty({n, c_z}, dtype_v<T>), r = Tensor::empty({n, c_z}, dtype_v<T>);
  ops::linear<T>(tf.data<T>(), n, left.in, left.weights, left.bias, c_z, l.data<T>());
  ops::linear<T>(tf.data<T>(), n, right.in, right.weights, right.bias, c_z, r.data<T>());
  T* pair = e.pair.data<T>();
  const T *lp = l.data<T>(), *rp = r.data<T>();
  thread_pool().parallel_for(n, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = 0; j < n; ++j)
        for (int64_t k = 0; k < c_z; ++k)
          pair[(i * n + j) * c_z + k] = lp[i * c_z + k] + rp[j * c_z + k];
  });
  return e;
}

template <class T>
void add_relative_position(const ParamScope& p, const Tensor& residue_index, Tensor& pair) {
  const LinearParams<T> rel = linear_params<T>(p / "pair_activiations");  // sic, as in haiku
  const int64_t n = residue_index.rank() == 1 ? residue_index.size(0) : -1;
  check(n >= 0, "residue_index has shape ", residue_index.shape().str(), ", expected [N]");
  const std::vector<int64_t> ri = int_feature(residue_index, "residue_index", {n});
  check_input<T>(pair, "pair", {n, n, rel.out});
  const int64_t r = (rel.in - 1) / 2, c_z = rel.out;
  T* z = pair.data<T>();
  // one_hot(...) @ W + b is row clip(d + r) of W, plus b: a gather gives the product exactly
  thread_pool().parallel_for(n, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const int64_t bin = std::clamp<int64_t>(ri[size_t(i)] - ri[size_t(j)] + r, 0, 2 * r);
        const T* w = rel.weights + bin * c_z;
        T* zij = z + (i * n + j) * c_z;
        for (int64_t k = 0; k < c_z; ++k) zij[k] += w[k] + rel.bias[k];
      }
  });
}

template InputEmbedding input_embedder<float>(const ParamScope&, const Tensor&, const Tensor&);
template InputEmbedding input_embedder<double>(const ParamScope&, const Tensor&, const Tensor&);
template void add_relative_position<float>(const ParamScope&, const Tensor&, Tensor&);
template void add_relative_position<double>(const ParamScope&, const Tensor&, Tensor&);

}  // namespace exafold::model
