// AlphaFold2 supplement Algorithms 9 and 15: the MSA and pair transitions.
#include "exafold/model/transition.h"

#include <algorithm>

#include "exafold/core/thread_pool.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/scratch.h"
#include "model/trunk_common.h"

namespace exafold::model {

using namespace detail;

template <class T>
Tensor transition(const ParamScope& p, const Tensor& act, int64_t chunk_size) {
  check(act.rank() == 3, "transition: input ", act.shape().str(), " must be [A, B, c]");
  const int64_t a = act.size(0), b = act.size(1);
  const LayerNormParams<T> ln = layer_norm_params<T>(p / "input_layer_norm");
  const LinearParams<T> l1 = linear_params<T>(p / "transition1");
  const LinearParams<T> l2 = linear_params<T>(p / "transition2");
  const int64_t c = ln.c, hidden = l1.out;
  check_input<T>(act, "transition input", {a, b, c});
  const Tensor x = act.contiguous();

  Tensor out = Tensor::empty({a, b, c}, dtype_v<T>);
  const int64_t chunk = chunk_rows(chunk_size, a);
  const Scratch<T> xn(chunk * b * c);
  const Scratch<T> h(chunk * b * hidden);
  for (int64_t r0 = 0; r0 < a; r0 += chunk) {
    const int64_t rows = std::min(chunk, a - r0) * b;
    // [rows, c] -> [rows, n c] -> [rows, c]
    ops::layer_norm<T>(x.data<T>() + r0 * b * c, rows, c, ln.scale, ln.offset, xn.get());
    ops::linear<T>(xn.get(), rows, c, l1.weights, l1.bias, hidden, h.get());
    thread_pool().parallel_for(rows * hidden, 1 << 14, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) h[i] = std::max(h[i], T(0));
    });
    ops::linear<T>(h.get(), rows, hidden, l2.weights, l2.bias, c, out.data<T>() + r0 * b * c);
  }
  return out;
}

template Tensor transition<float>(const ParamScope&, const Tensor&, int64_t);
template Tensor transition<double>(const ParamScope&, const Tensor&, int64_t);

}  // namespace exafold::model
