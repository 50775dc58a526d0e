// Torsion-angle prediction of the structure module: AlphaFold2 supplement Alg 20 lines 11-14.
#include "exafold/model/torsion_angles.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "host_values.h"
#include "layers.h"

namespace exafold::model {
template <class T>
TorsionAngles predict_torsion_angles(const ParamScope& scope, int num_blocks, const Tensor& act,
                                     const Tensor& initial_act) {
  check(act.rank() == 2 && initial_act.rank() == 2 && act.size(0) == initial_act.size(0),
        "torsion angles: act ", act.shape().str(), " and initial_act ", initial_act.shape().str(),
        " must both be [N, c]");
  detail::check_dtype<T>(act, "torsion angles: act");
  detail::check_dtype<T>(initial_act, "torsion angles: initial_act");
  const int64_t n = act.size(0);
  // [N, c_s] -> [N, c_sc]: the sum of two projections is one Linear on the concatenation.
  Tensor x = detail::linear(scope / "input_projection", detail::relu<T>(act));
  detail::add_into<T>(x,
                      detail::linear(scope / "input_projection_1", detail::relu<T>(initial_act)));
  for (int b = 0; b < num_blocks; ++b) {
    // [N, c_sc] -> [N, c_sc] -> [N, c_sc]
    Tensor y = detail::linear(scope / detail::haiku_name("resblock1", b), detail::relu<T>(x));
    y = detail::linear(scope / detail::haiku_name("resblock2", b), detail::relu<T>(y));
    detail::add_into<T>(x, y);
  }
  // [N, c_sc] -> [N, 14] -> [N, 7, 2]
  TorsionAngles out;
  out.unnormalized =
      detail::linear(scope / "unnormalized_angles", detail::relu<T>(x)).reshape(Shape{n, 7, 2});
  out.sin_cos = Tensor::empty(Shape{n, 7, 2}, dtype_v<T>);
  const T* u = out.unnormalized.data<T>();
  T* a = out.sin_cos.data<T>();
  for (int64_t k = 0; k < n * 7; ++k) {
    const T s = u[2 * k], c = u[2 * k + 1];
    const T norm = std::sqrt(std::max(s * s + c * c, T(1e-12)));
    a[2 * k] = s / norm;
    a[2 * k + 1] = c / norm;
  }
  return out;
}

template TorsionAngles predict_torsion_angles<float>(const ParamScope&, int, const Tensor&,
                                                     const Tensor&);
template TorsionAngles predict_torsion_angles<double>(const ParamScope&, int, const Tensor&,
                                                      const Tensor&);

}  // namespace exafold::model
