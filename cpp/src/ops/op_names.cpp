#include "exafold/backend/backend.h"

namespace exafold::backend {

std::string_view op_name(Op op) {
  static constexpr std::string_view kNames[kNumOps] = {"fill",
                                                       "copy",
                                                       "unary",
                                                       "binary",
                                                       "scalar",
                                                       "sigmoid_gate",
                                                       "linear",
                                                       "matmul",
                                                       "layer_norm",
                                                       "attention",
                                                       "softmax",
                                                       "expectation",
                                                       "masked_mean",
                                                       "predicted_tm_score",
                                                       "check_range",
                                                       "embed",
                                                       "relative_position_bins",
                                                       "distogram_bins",
                                                       "gather",
                                                       "pseudo_beta",
                                                       "quat_to_rot",
                                                       "rigid_apply",
                                                       "backbone_update",
                                                       "invariant_point_attention",
                                                       "point_norm",
                                                       "l2_normalize",
                                                       "pairwise_distance",
                                                       "torsion_angles_to_frames",
                                                       "frames_to_atom14"};
  return kNames[int(op)];
}

}  // namespace exafold::backend
