// Backbone update of the structure module: AlphaFold2 supplement Alg 23.
#include "exafold/model/backbone_update.h"

#include "exafold/ops/geometry.h"
#include "layers.h"

namespace exafold::model {

void backbone_update(const ParamScope& scope, const Tensor& act, const Tensor& quat,
                     const Tensor& trans) {
  check(act.rank() == 2 && act.size(0) == quat.size(0), "backbone update: act ", act.shape().str(),
        " for ", quat.size(0), " frames");
  // [N, c_s] -> [N, 6]
  ops::backbone_update_(quat, trans, detail::linear(scope, act));
}

}  // namespace exafold::model
