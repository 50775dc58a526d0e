// AlphaFold2 supplement Algorithm 10: the outer product mean (MSA -> pair update).
#include "exafold/model/outer_product_mean.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

namespace {

// Added to the mask norm before the division; where no sequence covers both residues (padding)
// the output is output_b / 1e-3, as in the reference.
constexpr double kNormEpsilon = 1e-3;

}  // namespace

template <class T>
Tensor outer_product_mean(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                          int64_t chunk_size) {
  check(msa.rank() == 3, "outer_product_mean: msa ", msa.shape().str(), " must be [S, N, c]");
  const int64_t s = msa.size(0), n = msa.size(1);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "layer_norm_input");
  const LinearParams<T> left = linear_params<T>(p / "left_projection");
  const LinearParams<T> right = linear_params<T>(p / "right_projection");
  const Tensor output_w = p["output_w"];
  const int64_t c = ln.c, co = left.out, c_z = output_w.size(2);
  check_input<T>(msa, "msa", {s, n, c});
  check_input<T>(msa_mask, "msa_mask", {s, n});
  const Tensor m = msa.contiguous(), mask_t = msa_mask.contiguous();
  const T* mask = mask_t.data<T>();

  // a, b: [S, N, c_o], masked; computed chunk_size sequences at a time
  const Scratch<T> a(s * n * co);
  const Scratch<T> b(s * n * co);
  {
    const int64_t chunk = chunk_rows(chunk_size, s);
    const Scratch<T> x(chunk * n * c);
    for (int64_t s0 = 0; s0 < s; s0 += chunk) {
      const int64_t rows = std::min(chunk, s - s0) * n;
      ops::layer_norm<T>(m.data<T>() + s0 * n * c, rows, c, ln.scale, ln.offset, x.get());
      ops::linear<T>(x.get(), rows, c, left.weights, left.bias, co, a.get() + s0 * n * co);
      ops::linear<T>(x.get(), rows, c, right.weights, right.bias, co, b.get() + s0 * n * co);
    }
    thread_pool().parallel_for(s * n, 256, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t i = 0; i < co; ++i) {
          a[r * co + i] *= mask[r];
          b[r * co + i] *= mask[r];
        }
    });
  }
  // [N, N]: sum_s mask[s, i] mask[s, j]
  const Scratch<T> norm(n * n);
  ops::gemm<T>(true, false, n, n, s, T(1), mask, n, mask, n, T(0), norm.get(), n);

  Tensor out = Tensor::empty({n, n, c_z}, dtype_v<T>);
  T* o = out.data<T>();
  const int64_t chunk = chunk_rows(chunk_size, n);
  const Scratch<T> outer(chunk * co * n * co);
  const Scratch<T> flat(chunk * n * co * co);
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t ni = std::min(chunk, n - i0);
    // [(ni c_o), (N c_o)] = a[:, i0:i0+ni]^T @ b over the sequences
    ops::gemm<T>(true, false, ni * co, n * co, s, T(1), a.get() + i0 * co, n * co, b.get(), n * co,
                 T(0), outer.get(), n * co);
    // -> [(ni N), (c_o c_o)], the layout output_w [c_o, c_o, c_z] contracts
    thread_pool().parallel_for(ni * n, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t i = r / n, j = r % n;
        for (int64_t x = 0; x < co; ++x)
          std::copy_n(outer.get() + (i * co + x) * n * co + j * co, co,
                      flat.get() + (r * co + x) * co);
      }
    });
    // [(ni N), c_z]: the bias goes in before the division, as in the reference
    T* oi = o + i0 * n * c_z;
    ops::linear<T>(flat.get(), ni * n, co * co, param<T>(p, "output_w"), param<T>(p, "output_b"),
                   c_z, oi);
    thread_pool().parallel_for(ni * n, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const T den = T(kNormEpsilon) + norm[i0 * n + r];
        for (int64_t k = 0; k < c_z; ++k) oi[r * c_z + k] /= den;
      }
    });
  }
  return out;
}

template Tensor outer_product_mean<float>(const ParamScope&, const Tensor&, const Tensor&, int64_t);
template Tensor outer_product_mean<double>(const ParamScope&, const Tensor&, const Tensor&,
                                           int64_t);

}  // namespace exafold::model
