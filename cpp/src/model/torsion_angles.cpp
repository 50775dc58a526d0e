// Torsion-angle prediction of the structure module: AlphaFold2 supplement Alg 20 lines 11-14.
#include "exafold/model/torsion_angles.h"

#include "exafold/ops/geometry.h"
#include "layers.h"

namespace exafold::model {

using namespace detail;

TorsionAngles predict_torsion_angles(const ParamScope& scope, int num_blocks, const Tensor& act,
                                     const Tensor& initial_act) {
  check(act.rank() == 2 && initial_act.rank() == 2 && act.size(0) == initial_act.size(0),
        "torsion angles: act ", act.shape().str(), " and initial_act ", initial_act.shape().str(),
        " must both be [N, c]");
  const int64_t n = act.size(0);
  auto relu = [](const Tensor& t) { return ops::unary(ops::Unary::relu, t); };
  // [N, c_s] -> [N, c_sc]: the sum of two projections of the relu'd activations.
  const Tensor x = linear(scope / "input_projection", relu(act));
  ops::add_(x, linear(scope / "input_projection_1", relu(initial_act)));
  for (int b = 0; b < num_blocks; ++b) {
    // [N, c_sc] -> [N, c_sc] -> [N, c_sc]
    const Tensor y = linear(scope / haiku_name("resblock1", b), relu(x), ops::Epilogue::relu());
    ops::add_(x, linear(scope / haiku_name("resblock2", b), y));
  }
  // [N, c_sc] -> [N, 14] -> [N, 7, 2]
  TorsionAngles out;
  out.unnormalized = linear(scope / "unnormalized_angles", relu(x)).reshape({n, 7, 2});
  out.sin_cos = ops::l2_normalize(out.unnormalized, 1e-12);
  return out;
}

}  // namespace exafold::model
