#include "cuda_common/supports.h"

#include <algorithm>

namespace exafold::cuda {

using backend::Op;

namespace {

bool activation(DType d) { return d == DType::float32 || d == DType::bfloat16; }
// The floating operands share float32 or bfloat16; the others are indices.
bool activations_and_indices(std::span<const DType> d) {
  const DType* first = nullptr;
  for (const DType& t : d) {
    if (t == DType::int32 || t == DType::int64) continue;
    if (!activation(t) || (first && t != *first)) return false;
    if (!first) first = &t;
  }
  return first != nullptr;
}
bool activations(std::span<const DType> d) {
  return !d.empty() && std::all_of(d.begin(), d.end(), [&](DType t) { return t == d[0]; }) &&
         activation(d[0]);
}
bool integer(DType d) { return d == DType::int32 || d == DType::int64; }
bool copyable(DType d) {
  return d == DType::float64 || d == DType::float32 || d == DType::bfloat16 || d == DType::int32 ||
         d == DType::int64;
}

}  // namespace

bool cuda_supports(Op op, std::span<const DType> d) {
  switch (op) {
    case Op::fill:  // any stored dtype: integer features are padded on the device too
      return d.size() == 1 && copyable(d[0]);
    case Op::unary:
    case Op::binary:
    case Op::scalar:
    case Op::sigmoid_gate:
    case Op::softmax:
    case Op::expectation:
    case Op::masked_mean:
    case Op::predicted_tm_score:
    case Op::attention:
      return activations(d);
    case Op::copy:
      // Integers go to floats, never floats to integers (that would truncate).
      return d.size() == 2 && copyable(d[0]) && copyable(d[1]) && (d[0] == d[1] || !integer(d[0]));
    case Op::layer_norm:  // out, x, scale, offset
      return d.size() == 4 && activation(d[0]) && activation(d[1]) && d[2] == DType::float32 &&
             d[3] == DType::float32;
    case Op::linear:  // out, x, w, then the bias (float32) and the multiply when present
      return d.size() >= 3 && d.size() <= 5 && activation(d[0]) && activation(d[1]) &&
             d[1] == d[2] && std::all_of(d.begin() + 3, d.end(), activation) &&
             (d.size() < 5 || d[3] == DType::float32);
    case Op::matmul:
      return activations(d);
    case Op::check_range:
      return d.size() == 1 && integer(d[0]);
    case Op::embed:  // out, w, then the bias (float32, as the Linear's)
      return (d.size() == 2 || d.size() == 3) && activation(d[0]) && d[1] == d[0] &&
             (d.size() == 2 || d[2] == DType::float32);
    case Op::gather:
    case Op::pseudo_beta:
      return activations_and_indices(d);
    case Op::relative_position_bins:
      return d.size() == 2 && d[0] == DType::int32 && integer(d[1]);
    case Op::distogram_bins:  // exact integer bins: float32 coordinates, as the cpu's
      return d.size() == 2 && d[0] == DType::int32 && d[1] == DType::float32;
    // The structure module's geometry is float32, as AlphaFold2 keeps it in bfloat16 runs.
    case Op::quat_to_rot:
    case Op::rigid_apply:
    case Op::backbone_update:
    case Op::invariant_point_attention:
    case Op::point_norm:
    case Op::l2_normalize:
    case Op::pairwise_distance:
    case Op::torsion_angles_to_frames:
    case Op::frames_to_atom14:
      return activations_and_indices(d) &&
             std::all_of(d.begin(), d.end(), [](DType t) { return t != DType::bfloat16; });
    default:
      return false;
  }
}

}  // namespace exafold::cuda
