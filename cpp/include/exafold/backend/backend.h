// The backend interface: one table of operations per device type, in the shape of ggml's backend
// tables (ggml-backend-impl.h). The op functions of exafold/ops/ check their arguments, allocate
// their outputs on the operands' device and call that device's backend; a backend only
// computes. Backends live side by side (cpp/src/cpu, cpp/src/cuda, cpp/src/strict) and each
// says which ops and dtypes it implements: an op it lacks fails naming op, dtypes and device,
// never falling back to another device.
//
// Contract for every method: shapes and dtypes are checked, outputs are allocated (contiguous
// unless the caller passed a view), and every tensor lives on this backend's device.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "exafold/ops/attention.h"
#include "exafold/ops/elementwise.h"
#include "exafold/ops/embedding.h"
#include "exafold/ops/geometry.h"
#include "exafold/ops/linear.h"
#include "exafold/tensor/tensor.h"

namespace exafold::backend {

/// Every operation the model is written in; names as in exafold/ops/.
enum class Op : uint8_t {
  fill,
  copy,  ///< also the cast, when the dtypes differ
  unary,
  binary,
  scalar,
  sigmoid_gate,
  linear,
  matmul,
  layer_norm,
  attention,
  softmax,
  expectation,
  masked_mean,
  predicted_tm_score,
  check_range,
  embed,
  relative_position_bins,
  distogram_bins,
  gather,
  pseudo_beta,
  quat_to_rot,
  rigid_apply,
  backbone_update,
  invariant_point_attention,
  point_norm,
  l2_normalize,
  pairwise_distance,
  torsion_angles_to_frames,
  frames_to_atom14,
};
inline constexpr int kNumOps = int(Op::frames_to_atom14) + 1;
std::string_view op_name(Op op);

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const = 0;
  /// Whether `op` is implemented for operands of these dtypes (the op's tensors in argument
  /// order, outputs first).
  virtual bool supports(Op op, std::span<const DType> dtypes) const = 0;

  /// Called around every op with all of its tensors (outputs and inputs), so that a backend can
  /// make their memory reachable for exactly that long (the strict backend). Optional.
  virtual void enter(std::span<const Tensor* const> tensors) { (void)tensors; }
  virtual void leave() {}
  /// How many concurrent tasks a dry backend (a meta device's) replays the workspaces of; 0 is
  /// the thread pool's size. Optional.
  virtual void set_tasks(int tasks) { (void)tasks; }

  virtual void fill(const Tensor& out, double value) = 0;
  virtual void copy(const Tensor& dst, const Tensor& src) = 0;
  virtual void unary(ops::Unary f, const Tensor& out, const Tensor& x) = 0;
  virtual void binary(ops::Binary op, const Tensor& out, const Tensor& a, const Tensor& b,
                      bool accumulate) = 0;
  virtual void scalar(ops::Binary op, const Tensor& out, const Tensor& a, double s) = 0;
  virtual void sigmoid_gate(const Tensor& out, const Tensor& value, const Tensor& gate,
                            const Tensor& mask) = 0;
  /// x [rows, in] (unit column stride, any row stride), w [in, out] and bias [out] contiguous;
  /// out any view of rows * out elements whose last dimension is `out` (contiguous); the
  /// epilogue's multiply has out's shape.
  virtual void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
                      const ops::Epilogue& e) = 0;
  /// a [B, m, k], b [B, k, n] (each matrix contiguous along one of its two dimensions; batch
  /// strides any, 0 included), out [B, m, n] contiguous.
  virtual void matmul(const Tensor& out, const Tensor& a, const Tensor& b) = 0;
  virtual void layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale,
                          const Tensor& offset, double eps) = 0;
  virtual void attention(const Tensor& out, const ops::AttentionInputs& in) = 0;
  virtual void softmax(const Tensor& out, const Tensor& x) = 0;
  virtual void expectation(const Tensor& out, const Tensor& probs, const Tensor& values) = 0;
  virtual void masked_mean(const Tensor& out, const Tensor& x, const Tensor& mask, double eps) = 0;
  virtual void predicted_tm_score(const Tensor& out, const Tensor& probs, const Tensor& centres,
                                  const Tensor& weights) = 0;
  /// The flat index of the first element outside [lo, hi], or -1; `value` receives it.
  virtual int64_t check_range(const Tensor& t, int64_t lo, int64_t hi, int64_t* value) = 0;
  virtual void embed(const Tensor& out, const Tensor& w, const Tensor& bias,
                     const std::vector<ops::EmbedTerm>& terms, bool accumulate) = 0;
  virtual void relative_position_bins(const Tensor& out, const Tensor& residue_index,
                                      int64_t max_relative) = 0;
  virtual void distogram_bins(const Tensor& out, const Tensor& points, double min, double max,
                              int64_t bins) = 0;
  virtual void gather(const Tensor& out, const Tensor& x, const Tensor& index) = 0;
  virtual void pseudo_beta(const Tensor& out, const Tensor& aatype, const Tensor& x) = 0;
  virtual void quat_to_rot(const Tensor& out, const Tensor& quat) = 0;
  virtual void rigid_apply(const Tensor& out, const ops::Frames& frames, const Tensor& points,
                           bool inverse) = 0;
  virtual void backbone_update(const Tensor& quat, const Tensor& trans, const Tensor& update) = 0;
  virtual void invariant_point_attention(const ops::IpaOutputs& out, const ops::IpaInputs& in) = 0;
  virtual void point_norm(const Tensor& out, const Tensor& x, double eps) = 0;
  virtual void l2_normalize(const Tensor& out, const Tensor& x, double min_norm_sq) = 0;
  virtual void pairwise_distance(const Tensor& out, const Tensor& points) = 0;
  virtual void torsion_angles_to_frames(const ops::Frames& out, const Tensor& aatype,
                                        const ops::Frames& backbone, const Tensor& sin_cos,
                                        const Tensor& default_frames) = 0;
  virtual void frames_to_atom14(const Tensor& out, const Tensor& aatype, const ops::Frames& groups,
                                const Tensor& atom_group, const Tensor& atom_positions,
                                const Tensor& atom_mask) = 0;
};

/// True while an ops::RangesChecked scope lives on this thread: the index checks that wait for
/// the device, the backends' own included (the cuda backend's gather and residue-type tables),
/// are then the caller's (Note [Range checks before a capture] in ops/reduce.h).
bool range_checks_hoisted();

/// The backend of `device`'s type. Throws InvalidArgument when this build has none for it.
Backend& backend_for(Device device);

/// The CUDA backend of this build (cpp/src/cuda), or nullptr in a build without CUDA.
Backend* cuda_backend();
/// The CUDA backend in dry mode, which the meta device replays, or nullptr without CUDA.
Backend* cuda_meta_backend();

}  // namespace exafold::backend
