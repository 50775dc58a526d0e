// The structure module's geometry (exafold/ops/geometry.h, supplement Algorithms 20-25) on the
// device, float32. Frames' rot and trans, the update, the default frames and the atom tables are
// contiguous, as their contracts say; the other operands are strided views.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "cuda/view.h"

namespace exafold::cuda {

void quat_to_rot(const View& out, const View& quat, cudaStream_t stream);
void rigid_apply(const View& out, const View& rot, const View& trans, const View& points,
                 bool inverse, cudaStream_t stream);
void backbone_update(const View& quat, const View& trans, const View& update, cudaStream_t stream);

struct IpaViews {
  View q_scalar, k_scalar, v_scalar, q_points, k_points, v_points, bias, pair, mask, point_weights;
  View out_scalar, out_points, out_pair;  ///< contiguous
  float scalar_weight = 1.f;
};
/// Fails naming the limit when a query's N weights do not fit one block's shared memory.
void invariant_point_attention(const IpaViews& a, cudaStream_t stream);

void point_norm(const View& out, const View& x, float eps, cudaStream_t stream);
void l2_normalize(const View& out, const View& x, float min_norm_sq, cudaStream_t stream);
void pairwise_distance(const View& out, const View& points, cudaStream_t stream);
void torsion_angles_to_frames(const View& out_rot, const View& out_trans, const View& aatype,
                              const View& rot, const View& trans, const View& sin_cos,
                              const View& default_frames, cudaStream_t stream);
void frames_to_atom14(const View& out, const View& aatype, const View& group_rot,
                      const View& group_trans, const View& atom_group, const View& atom_positions,
                      const View& atom_mask, cudaStream_t stream);

}  // namespace exafold::cuda
