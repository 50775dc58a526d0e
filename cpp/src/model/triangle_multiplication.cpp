// AlphaFold2 supplement Algorithms 11 and 12: triangle multiplicative updates, outgoing and
// incoming edges, in the official (unfused) parameter layout.
#include "exafold/model/triangle_multiplication.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/gemm.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor triangle_multiplication(const ParamScope& p, TriangleEdges edges, const Tensor& pair,
                               const Tensor& pair_mask, int64_t chunk_size) {
  check(pair.rank() == 3, "triangle_multiplication: pair ", pair.shape().str(),
        " must be [N, N, c_z]");
  const int64_t n = pair.size(0);
  const LayerNormParams<T> ln_in = layer_norm_params<T>(p / "layer_norm_input");
  const LayerNormParams<T> ln_center = layer_norm_params<T>(p / "center_layer_norm");
  const LinearParams<T> left = linear_params<T>(p / "left_projection");
  const LinearParams<T> right = linear_params<T>(p / "right_projection");
  const LinearParams<T> left_gate = linear_params<T>(p / "left_gate");
  const LinearParams<T> right_gate = linear_params<T>(p / "right_gate");
  const LinearParams<T> output = linear_params<T>(p / "output_projection");
  const LinearParams<T> gating = linear_params<T>(p / "gating_linear");
  const int64_t c = ln_in.c, ci = left.out;
  check_input<T>(pair, "pair", {n, n, c});
  check_input<T>(pair_mask, "pair_mask", {n, n});
  const Tensor z = pair.contiguous(), mask_t = pair_mask.contiguous();
  const T* mask = mask_t.data<T>();
  const int64_t chunk = chunk_rows(chunk_size, n);
  const int64_t nn = n * n;

  // Channel-major operands [c_i, N, N], so each channel's contraction is one product
  // lhs @ rhs^T: outgoing o = a b^T; incoming o = b^T a = (b^T) (a^T)^T, so there both are
  // stored transposed and swapped.
  const bool incoming = edges == TriangleEdges::incoming;
  const Scratch<T> lhs(ci * nn);
  const Scratch<T> rhs(ci * nn);
  const Scratch<T> x(chunk * n * c);
  {
    const Scratch<T> proj(chunk * n * ci);
    const Scratch<T> gate(chunk * n * ci);
    auto project = [&](int64_t r0, int64_t nr, const LinearParams<T>& lin,
                       const LinearParams<T>& gate_lin, T* dst) {
      const int64_t rows = nr * n;
      // [rows, c_i], gated and masked, then scattered channel-major (transposed: incoming)
      ops::linear<T>(x.get(), rows, c, lin.weights, lin.bias, ci, proj.get());
      ops::linear<T>(x.get(), rows, c, gate_lin.weights, gate_lin.bias, ci, gate.get());
      thread_pool().parallel_for(ci, 1, [&](int64_t k0, int64_t k1) {
        for (int64_t k = k0; k < k1; ++k)
          for (int64_t p = r0; p < r0 + nr; ++p)
            for (int64_t q = 0; q < n; ++q) {
              const int64_t e = ((p - r0) * n + q) * ci + k;
              dst[k * nn + (incoming ? q * n + p : p * n + q)] =
                  mask[p * n + q] * proj[e] * sigmoid(gate[e]);
            }
      });
    };
    for (int64_t r0 = 0; r0 < n; r0 += chunk) {
      const int64_t nr = std::min(chunk, n - r0);
      // [nr, N, c_z]
      ops::layer_norm<T>(z.data<T>() + r0 * n * c, nr * n, c, ln_in.scale, ln_in.offset, x.get());
      project(r0, nr, left, left_gate, incoming ? rhs.get() : lhs.get());
      project(r0, nr, right, right_gate, incoming ? lhs.get() : rhs.get());
    }
  }

  Tensor out = Tensor::empty({n, n, c}, dtype_v<T>);
  const Scratch<T> prod(ci * chunk * n);
  const Scratch<T> center(chunk * n * ci);
  const Scratch<T> gate(chunk * n * c);
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t ni = std::min(chunk, n - i0);
    // [c_i, ni, N], one product per channel: outgoing o[i, j] = sum_k a[i, k] b[j, k],
    // incoming o[i, j] = sum_k a[k, j] b[k, i] (the left operand is row k of column j)
    thread_pool().parallel_for(ci, 1, [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k)
        ops::gemm_serial<T>(false, true, ni, n, n, T(1), lhs.get() + k * nn + i0 * n, n,
                            rhs.get() + k * nn, n, T(0), prod.get() + k * ni * n, n);
    });
    // [ni, N, c_i], then center_layer_norm over c_i
    thread_pool().parallel_for(ni * n, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t k = 0; k < ci; ++k) center[r * ci + k] = prod[k * ni * n + r];
    });
    ops::layer_norm<T>(center.get(), ni * n, ci, ln_center.scale, ln_center.offset, center.get());
    // [ni, N, c_z] = output_projection(center) * sigmoid(gating_linear(LayerNorm(pair)))
    T* oi = out.data<T>() + i0 * n * c;
    ops::linear<T>(center.get(), ni * n, ci, output.weights, output.bias, c, oi);
    ops::layer_norm<T>(z.data<T>() + i0 * n * c, ni * n, c, ln_in.scale, ln_in.offset, x.get());
    ops::linear<T>(x.get(), ni * n, c, gating.weights, gating.bias, c, gate.get());
    thread_pool().parallel_for(ni * n * c, 1 << 14, [&](int64_t e0, int64_t e1) {
      for (int64_t e = e0; e < e1; ++e) oi[e] *= sigmoid(gate[e]);
    });
  }
  return out;
}

template Tensor triangle_multiplication<float>(const ParamScope&, TriangleEdges, const Tensor&,
                                               const Tensor&, int64_t);
template Tensor triangle_multiplication<double>(const ParamScope&, TriangleEdges, const Tensor&,
                                                const Tensor&, int64_t);

}  // namespace exafold::model
