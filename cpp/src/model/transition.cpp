// AlphaFold2 supplement Algorithms 9 and 15: the MSA and pair transitions.
#include "exafold/model/transition.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

void transition(const ParamScope& p, const Tensor& act, int64_t chunk_size, const Tensor& out) {
  check(act.rank() == 3, "transition: input ", act.shape().str(), " must be [A, B, c]");
  const int64_t a = act.size(0), b = act.size(1);
  check_shape(act, "transition input", {a, b, (p / "input_layer_norm")["scale"].numel()});
  check_shape(out, "transition update", act.shape());
  const ParamScope ln = p / "input_layer_norm", l1 = p / "transition1", l2 = p / "transition2";
  const int64_t chunk = chunk_rows(chunk_size, a);
  for (int64_t r0 = 0; r0 < a; r0 += chunk) {
    const int64_t r1 = std::min(a, r0 + chunk);
    // [rows, B, c] -> [rows, B, n c] -> [rows, B, c], added to out
    const Tensor h = linear(l1, layer_norm(ln, act.slice(0, r0, r1)), ops::Epilogue::relu());
    linear_into(out.slice(0, r0, r1), l2, h, ops::Epilogue().added());
  }
}

}  // namespace exafold::model
