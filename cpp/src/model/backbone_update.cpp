// Backbone update of the structure module: AlphaFold2 supplement Alg 23.
#include "exafold/model/backbone_update.h"

#include <cmath>

#include "exafold/core/error.h"
#include "layers.h"

namespace exafold::model {

template <class T>
QuatFrame<T> QuatFrame<T>::pre_compose(const T update[6]) const {
  const T vec[4] = {0, update[0], update[1], update[2]};
  T dq[4];
  quat_multiply(quat, vec, dq);
  QuatFrame out;
  // The supplement's (1, b, c, d) applied to q is q + q (0, b, c, d); normalising afterwards
  // keeps the rotation proper whatever the update's size.
  T norm2 = 0;
  for (int k = 0; k < 4; ++k) {
    out.quat[k] = quat[k] + dq[k];
    norm2 += out.quat[k] * out.quat[k];
  }
  const T norm = std::sqrt(norm2);
  for (T& v : out.quat) v /= norm;
  T rot[3][3];
  quat_to_rot(quat, rot);
  for (int r = 0; r < 3; ++r)
    out.trans[r] = trans[r] + rot[r][0] * update[3] + rot[r][1] * update[4] + rot[r][2] * update[5];
  return out;
}

template <class T>
void backbone_update(const ParamScope& scope, const Tensor& act, std::span<QuatFrame<T>> frames) {
  const int64_t n = int64_t(frames.size());
  check(act.rank() == 2 && act.size(0) == n, "backbone update: act ", act.shape().str(), " for ", n,
        " frames");
  // [N, c_s] -> [N, 6]
  Tensor update = detail::linear(scope, act);
  const T* u = update.data<T>();
  for (int64_t i = 0; i < n; ++i) frames[i] = frames[i].pre_compose(u + 6 * i);
}

template <class T>
std::vector<Rigid<T>> to_rigids(std::span<const QuatFrame<T>> frames, T position_scale) {
  std::vector<Rigid<T>> out;
  out.reserve(frames.size());
  for (const auto& f : frames) out.push_back(f.to_rigid(position_scale));
  return out;
}

template struct QuatFrame<float>;
template struct QuatFrame<double>;
template void backbone_update<float>(const ParamScope&, const Tensor&, std::span<QuatFrame<float>>);
template void backbone_update<double>(const ParamScope&, const Tensor&,
                                      std::span<QuatFrame<double>>);
template std::vector<Rigid<float>> to_rigids<float>(std::span<const QuatFrame<float>>, float);
template std::vector<Rigid<double>> to_rigids<double>(std::span<const QuatFrame<double>>, double);

}  // namespace exafold::model
