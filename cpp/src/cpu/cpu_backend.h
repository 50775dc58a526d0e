// The cpu backend: every op on host memory, float32 and float64, split across exafold's thread
// pool, GEMMs through OpenBLAS. It is the numerical ground truth the other backends are tested
// against. Its methods live in one file per op family (elementwise.cpp, linear.cpp, ...).
//
// Workspaces: every temporary an op needs beyond its outputs is allocated up front, on the op's
// device, before any computing; in a dry run (the meta device) the op stops there. So running
// the model on the meta device replays exactly the allocations a real run makes.
#pragma once

#include <cstdint>

#include "exafold/backend/backend.h"

namespace exafold::cpu {

class CpuBackend : public backend::Backend {
 public:
  /// dry: allocate what the op would, compute nothing.
  explicit CpuBackend(bool dry = false) : dry_(dry) {}

  std::string_view name() const override { return dry_ ? "meta:cpu" : "cpu"; }
  bool supports(backend::Op op, std::span<const DType> dtypes) const override;

  /// Tasks an op splits into, which sets some workspaces' size: the pool's threads, or what a
  /// dry run was told to replay.
  int tasks() const;
  void set_tasks(int n) override { tasks_ = n; }

  void fill(const Tensor& out, double value) override;
  void copy(const Tensor& dst, const Tensor& src) override;
  void unary(ops::Unary f, const Tensor& out, const Tensor& x) override;
  void binary(ops::Binary op, const Tensor& out, const Tensor& a, const Tensor& b,
              bool accumulate) override;
  void scalar(ops::Binary op, const Tensor& out, const Tensor& a, double s) override;
  void sigmoid_gate(const Tensor& out, const Tensor& value, const Tensor& gate,
                    const Tensor& mask) override;
  void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
              const ops::Epilogue& e) override;
  void matmul(const Tensor& out, const Tensor& a, const Tensor& b) override;
  void layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale, const Tensor& offset,
                  double eps) override;
  void attention(const Tensor& out, const ops::AttentionInputs& in) override;
  void softmax(const Tensor& out, const Tensor& x) override;
  void expectation(const Tensor& out, const Tensor& probs, const Tensor& values) override;
  void masked_mean(const Tensor& out, const Tensor& x, const Tensor& mask, double eps) override;
  void predicted_tm_score(const Tensor& out, const Tensor& probs, const Tensor& centres,
                          const Tensor& weights) override;
  int64_t check_range(const Tensor& t, int64_t lo, int64_t hi, int64_t* value) override;
  void embed(const Tensor& out, const Tensor& w, const Tensor& bias,
             const std::vector<ops::EmbedTerm>& terms, bool accumulate) override;
  void relative_position_bins(const Tensor& out, const Tensor& residue_index,
                              int64_t max_relative) override;
  void distogram_bins(const Tensor& out, const Tensor& points, double min, double max,
                      int64_t bins) override;
  void gather(const Tensor& out, const Tensor& x, const Tensor& index) override;
  void pseudo_beta(const Tensor& out, const Tensor& aatype, const Tensor& x) override;
  void quat_to_rot(const Tensor& out, const Tensor& quat) override;
  void rigid_apply(const Tensor& out, const ops::Frames& frames, const Tensor& points,
                   bool inverse) override;
  void backbone_update(const Tensor& quat, const Tensor& trans, const Tensor& update) override;
  void invariant_point_attention(const ops::IpaOutputs& out, const ops::IpaInputs& in) override;
  void point_norm(const Tensor& out, const Tensor& x, double eps) override;
  void l2_normalize(const Tensor& out, const Tensor& x, double min_norm_sq) override;
  void pairwise_distance(const Tensor& out, const Tensor& points) override;
  void torsion_angles_to_frames(const ops::Frames& out, const Tensor& aatype,
                                const ops::Frames& backbone, const Tensor& sin_cos,
                                const Tensor& default_frames) override;
  void frames_to_atom14(const Tensor& out, const Tensor& aatype, const ops::Frames& groups,
                        const Tensor& atom_group, const Tensor& atom_positions,
                        const Tensor& atom_mask) override;

 protected:
  /// An uninitialised contiguous temporary of n elements on `like`'s device.
  static Tensor workspace(const Tensor& like, int64_t n, DType dtype);

  bool dry_;
  int tasks_ = 0;
};

/// The process's cpu backend, and the dry one the meta device replays.
CpuBackend& cpu_backend();
CpuBackend& meta_cpu_backend();

/// Calls f.template operator()<T>() with T the C++ type of a float32 or float64 dtype.
template <class F>
decltype(auto) with_float(DType d, F&& f) {
  if (d == DType::float64) return f.template operator()<double>();
  EXAFOLD_ASSERT(d == DType::float32);
  return f.template operator()<float>();
}

/// Calls f.template operator()<I>() with I the C++ type of an int32 or int64 dtype.
template <class F>
decltype(auto) with_index(DType d, F&& f) {
  if (d == DType::int64) return f.template operator()<int64_t>();
  EXAFOLD_ASSERT(d == DType::int32);
  return f.template operator()<int32_t>();
}

/// Element i of a rank-1 integer tensor of either index type.
int64_t index_at(const Tensor& t, int64_t i);

}  // namespace exafold::cpu
