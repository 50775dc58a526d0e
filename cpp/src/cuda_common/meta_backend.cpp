// The cuda backend's meta twin, which the meta:cuda device replays (model/memory_model.h): each
// op allocates what the cuda backend's op allocates besides its outputs, through the same rules
// (workspaces.h), accepts what it accepts (supports.h), and computes nothing; the ops that
// allocate nothing beyond their outputs (every kernel but the products and the range check)
// only note which pair-shaped operands they read and write (pair_traffic.h).
#include "cuda_common/pair_traffic.h"
#include "cuda_common/supports.h"
#include "cuda_common/workspaces.h"
#include "exafold/backend/backend.h"

namespace exafold::cuda {
namespace {

void reads(std::initializer_list<const Tensor*> ts) {
  for (const Tensor* t : ts) note_read(*t);
}
/// out is written; read too when the op adds into it.
void writes(const Tensor& out, bool accumulate = false) {
  note_written(out);
  if (accumulate) note_read(out);
}

class CudaMetaBackend final : public backend::Backend {
 public:
  std::string_view name() const override { return "meta:cuda"; }
  bool supports(backend::Op op, std::span<const DType> d) const override {
    return cuda_supports(op, d);
  }

  void fill(const Tensor& out, double) override { writes(out); }
  void copy(const Tensor& dst, const Tensor& src) override { writes(dst), reads({&src}); }
  void unary(ops::Unary, const Tensor& out, const Tensor& x) override { writes(out), reads({&x}); }
  void binary(ops::Binary, const Tensor& out, const Tensor& a, const Tensor& b,
              bool accumulate) override {
    writes(out, accumulate), reads({&a, &b});
  }
  void scalar(ops::Binary, const Tensor& out, const Tensor& a, double) override {
    writes(out), reads({&a});
  }
  void sigmoid_gate(const Tensor& out, const Tensor& value, const Tensor& gate,
                    const Tensor& mask) override {
    writes(out), reads({&value, &gate, &mask});
  }
  void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
              const ops::Epilogue& e) override {
    const Tensor product = linear_product(out, e);
    writes(out, e.accumulate), reads({&x, &w, &bias, &e.multiply});
  }
  void matmul(const Tensor& out, const Tensor& a, const Tensor& b) override {
    const Tensor product = matmul_product(out);
    writes(out), reads({&a, &b});
  }
  void layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale, const Tensor& offset,
                  double) override {
    writes(out), reads({&x, &scale, &offset});
  }
  void attention(const Tensor& out, const ops::AttentionInputs& in) override {
    writes(out), reads({&in.q, &in.k, &in.v, &in.gate, &in.mask, &in.pair_bias});
  }
  void softmax(const Tensor& out, const Tensor& x) override { writes(out), reads({&x}); }
  void expectation(const Tensor& out, const Tensor& probs, const Tensor& values) override {
    writes(out), reads({&probs, &values});
  }
  void masked_mean(const Tensor& out, const Tensor& x, const Tensor& mask, double) override {
    writes(out), reads({&x, &mask});
  }
  void predicted_tm_score(const Tensor& out, const Tensor& probs, const Tensor& centres,
                          const Tensor& weights) override {
    writes(out), reads({&probs, &centres, &weights});
  }
  // Nothing is out of range in a replay: the cuda backend's callers (gather and the two atom
  // ops) go on as they do when the check passes.
  int64_t check_range(const Tensor& t, int64_t, int64_t, int64_t*) override {
    const Tensor scratch = check_range_scratch(t);
    reads({&t});
    return -1;
  }
  void embed(const Tensor& out, const Tensor& w, const Tensor& bias,
             const std::vector<ops::EmbedTerm>& terms, bool accumulate) override {
    writes(out, accumulate), reads({&w, &bias});
    for (const ops::EmbedTerm& t : terms) reads({&t.index, &t.value, &t.scale});
  }
  void relative_position_bins(const Tensor& out, const Tensor& residue_index, int64_t) override {
    writes(out), reads({&residue_index});
  }
  void distogram_bins(const Tensor& out, const Tensor& points, double, double, int64_t) override {
    writes(out), reads({&points});
  }
  void gather(const Tensor& out, const Tensor& x, const Tensor& index) override {
    check_range(index, 0, 0, nullptr);
    writes(out), reads({&x});
  }
  void pseudo_beta(const Tensor& out, const Tensor& aatype, const Tensor& x) override {
    writes(out), reads({&aatype, &x});
  }
  void quat_to_rot(const Tensor& out, const Tensor& quat) override { writes(out), reads({&quat}); }
  void rigid_apply(const Tensor& out, const ops::Frames& frames, const Tensor& points,
                   bool) override {
    writes(out), reads({&frames.rot, &frames.trans, &points});
  }
  void backbone_update(const Tensor& quat, const Tensor& trans, const Tensor& update) override {
    writes(quat, true), writes(trans, true), reads({&update});
  }
  void invariant_point_attention(const ops::IpaOutputs& out, const ops::IpaInputs& in) override {
    writes(out.scalar), writes(out.points), writes(out.pair);
    reads({&in.q_scalar, &in.k_scalar, &in.v_scalar, &in.q_points, &in.k_points, &in.v_points,
           &in.bias, &in.pair, &in.mask, &in.point_weights});
  }
  void point_norm(const Tensor& out, const Tensor& x, double) override { writes(out), reads({&x}); }
  void l2_normalize(const Tensor& out, const Tensor& x, double) override {
    writes(out), reads({&x});
  }
  void pairwise_distance(const Tensor& out, const Tensor& points) override {
    writes(out), reads({&points});
  }
  void torsion_angles_to_frames(const ops::Frames& out, const Tensor& aatype,
                                const ops::Frames& backbone, const Tensor& sin_cos,
                                const Tensor& default_frames) override {
    check_range(aatype, 0, 0, nullptr);
    writes(out.rot), writes(out.trans);
    reads({&backbone.rot, &backbone.trans, &sin_cos, &default_frames});
  }
  void frames_to_atom14(const Tensor& out, const Tensor& aatype, const ops::Frames& groups,
                        const Tensor& atom_group, const Tensor& atom_positions,
                        const Tensor& atom_mask) override {
    check_range(aatype, 0, 0, nullptr);
    writes(out), reads({&groups.rot, &groups.trans, &atom_group, &atom_positions, &atom_mask});
  }
};

}  // namespace
}  // namespace exafold::cuda

namespace exafold::backend {

Backend* cuda_meta_backend() {
  static auto* b = new cuda::CudaMetaBackend();
  return b;
}

}  // namespace exafold::backend
