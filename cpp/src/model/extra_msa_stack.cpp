// AlphaFold2 supplement Algorithm 18: the extra-MSA stack, with its input embedding (Algorithm 2
// lines 14-15).
#include "exafold/model/extra_msa_stack.h"

#include "exafold/core/thread_pool.h"
#include "exafold/model/evoformer.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

namespace {

// one_hot(extra_msa, 23): 20 amino acids, X, gap, and the mask token
constexpr int64_t kMsaClasses = 23;

}  // namespace

template <class T>
Tensor embed_extra_msa(const ParamScope& p, const Tensor& extra_msa,
                       const Tensor& extra_has_deletion, const Tensor& extra_deletion_value) {
  const LinearParams<T> lin = linear_params<T>(p / "extra_msa_activations");
  EXAFOLD_ASSERT(lin.in == kMsaClasses + 2);
  check(extra_msa.rank() == 2, "extra_msa has shape ", extra_msa.shape().str(),
        ", expected [E, N]");
  const int64_t e = extra_msa.size(0), n = extra_msa.size(1), c = lin.out;
  const std::vector<int64_t> aa = int_feature(extra_msa, "extra_msa", {e, n});
  for (int64_t v : aa)
    check(v >= 0 && v < kMsaClasses, "extra_msa holds ", v, ", outside 0..", kMsaClasses - 1);
  const Tensor has_del = float_feature<T>(extra_has_deletion, "extra_has_deletion", {e, n});
  const Tensor del = float_feature<T>(extra_deletion_value, "extra_deletion_value", {e, n});
  const T *hd = has_del.data<T>(), *dv = del.data<T>();

  // The one-hot part of the product is a row of the weights; the two scalar features add their
  // rows scaled.
  Tensor out = Tensor::empty({e, n, c}, dtype_v<T>);
  T* o = out.data<T>();
  const T* w_has = lin.weights + kMsaClasses * c;
  const T* w_del = lin.weights + (kMsaClasses + 1) * c;
  thread_pool().parallel_for(e * n, 64, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const T* w_aa = lin.weights + aa[size_t(r)] * c;
      for (int64_t k = 0; k < c; ++k)
        o[r * c + k] = w_aa[k] + hd[r] * w_has[k] + dv[r] * w_del[k] + lin.bias[k];
    }
  });
  return out;
}

template <class T>
void extra_msa_stack(const ParamScope& p, int blocks, Tensor& extra, Tensor& pair,
                     const Tensor& extra_msa_mask, const Tensor& pair_mask, int64_t chunk_size) {
  for (int i = 0; i < blocks; ++i)
    evoformer_block<T>(p.block(i), ColumnAttention::global, extra, pair, extra_msa_mask, pair_mask,
                       chunk_size);
}

template Tensor embed_extra_msa<float>(const ParamScope&, const Tensor&, const Tensor&,
                                       const Tensor&);
template Tensor embed_extra_msa<double>(const ParamScope&, const Tensor&, const Tensor&,
                                        const Tensor&);
template void extra_msa_stack<float>(const ParamScope&, int, Tensor&, Tensor&, const Tensor&,
                                     const Tensor&, int64_t);
template void extra_msa_stack<double>(const ParamScope&, int, Tensor&, Tensor&, const Tensor&,
                                      const Tensor&, int64_t);

}  // namespace exafold::model
