// The cuda backend: exafold's ops on CUDA devices. Today it wires the kernels that exist
// (LayerNorm, cuBLASLt GEMM, fused attention, behind ops::GpuKernels) and says so for every other
// op: supports() is false and the op fails naming op, dtypes and device.
#include <algorithm>

#include "exafold/backend/backend.h"
#include "exafold/core/error.h"
#include "exafold/ops/gpu_kernels.h"

namespace exafold::cuda {
namespace {

using backend::Op;

bool activation(DType d) { return d == DType::float32 || d == DType::bfloat16; }

[[noreturn]] void missing(std::string_view op) {
  fail("the cuda backend does not implement ", op, " yet");
}

void need_contiguous(const Tensor& t, std::string_view op, std::string_view what) {
  check(t.is_contiguous(), "cuda backend: ", op, " takes a contiguous ", what,
        " (strided views are not implemented there yet)");
}

class CudaBackend final : public backend::Backend {
 public:
  std::string_view name() const override { return "cuda"; }

  bool supports(Op op, std::span<const DType> d) const override {
    switch (op) {
      case Op::layer_norm:  // out, x, scale, offset
        return d.size() == 4 && activation(d[0]) && activation(d[1]) && d[2] == DType::float32 &&
               d[3] == DType::float32;
      case Op::linear:  // out, x, w, bias
        return d.size() >= 3 && d.size() <= 4 && activation(d[0]) && activation(d[1]) &&
               d[1] == d[2] && (d.size() == 3 || d[3] == DType::float32);
      case Op::attention:
        return std::all_of(d.begin(), d.end(), [&](DType t) { return t == d[0]; }) &&
               activation(d[0]);
      default:
        return false;
    }
  }

  void layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale, const Tensor& offset,
                  double eps) override {
    need_contiguous(x, "layer_norm", "input");
    const int64_t c = x.size(-1);
    kernels().layer_norm(x.data_ptr(), x.dtype(), c == 0 ? 0 : x.numel() / c, c,
                         static_cast<const float*>(scale.data_ptr()),
                         static_cast<const float*>(offset.data_ptr()), float(eps), out.data_ptr(),
                         out.dtype());
  }

  void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
              const ops::Epilogue& e) override {
    check(!e.accumulate && !e.multiply.defined() && e.activation != ops::Activation::sigmoid,
          "the cuda backend's linear has no accumulate, gate or sigmoid epilogue yet");
    need_contiguous(x, "linear", "input");
    need_contiguous(out, "linear", "output");
    kernels().gemm(x.data_ptr(), w.data_ptr(), x.dtype(), x.size(0), w.size(1), w.size(0),
                   bias.defined() ? static_cast<const float*>(bias.data_ptr()) : nullptr,
                   e.activation == ops::Activation::relu, out.data_ptr(), out.dtype(), false);
  }

  void attention(const Tensor& out, const ops::AttentionInputs& in) override {
    check(!in.mask.defined(), "the cuda backend's attention takes no key mask yet");
    for (const Tensor* t : {&in.q, &in.k, &in.v}) need_contiguous(*t, "attention", "q, k and v");
    if (in.gate.defined()) need_contiguous(in.gate, "attention", "gate");
    ops::GpuAttention a;
    a.q = in.q.data_ptr();
    a.k = in.k.data_ptr();
    a.v = in.v.data_ptr();
    a.gate = in.gate.defined() ? in.gate.data_ptr() : nullptr;
    a.pair_bias = in.pair_bias.defined() ? in.pair_bias.data_ptr() : nullptr;
    a.out = out.data_ptr();
    a.dtype = in.q.dtype();
    a.batch = in.q.size(0);
    a.n_q = in.q.size(1);
    a.n_k = in.k.size(1);
    a.heads = in.q.size(2);
    a.key_dim = in.q.size(3);
    a.value_dim = in.v.size(3);
    a.scale = float(in.scale);
    kernels().attention(a);
  }

  void fill(const Tensor&, double) override { missing("fill"); }
  void copy(const Tensor&, const Tensor&) override { missing("copy"); }
  void unary(ops::Unary, const Tensor&, const Tensor&) override { missing("unary"); }
  void binary(ops::Binary, const Tensor&, const Tensor&, const Tensor&, bool) override {
    missing("binary");
  }
  void scalar(ops::Binary, const Tensor&, const Tensor&, double) override { missing("scalar"); }
  void sigmoid_gate(const Tensor&, const Tensor&, const Tensor&, const Tensor&) override {
    missing("sigmoid_gate");
  }
  void matmul(const Tensor&, const Tensor&, const Tensor&) override { missing("matmul"); }
  void softmax(const Tensor&, const Tensor&) override { missing("softmax"); }
  void expectation(const Tensor&, const Tensor&, const Tensor&) override { missing("expectation"); }
  void masked_mean(const Tensor&, const Tensor&, const Tensor&, double) override {
    missing("masked_mean");
  }
  void predicted_tm_score(const Tensor&, const Tensor&, const Tensor&, const Tensor&) override {
    missing("predicted_tm_score");
  }
  int64_t check_range(const Tensor&, int64_t, int64_t, int64_t*) override {
    missing("check_range");
  }
  void embed(const Tensor&, const Tensor&, const Tensor&, const std::vector<ops::EmbedTerm>&,
             bool) override {
    missing("embed");
  }
  void relative_position_bins(const Tensor&, const Tensor&, int64_t) override {
    missing("relative_position_bins");
  }
  void distogram_bins(const Tensor&, const Tensor&, double, double, int64_t) override {
    missing("distogram_bins");
  }
  void gather(const Tensor&, const Tensor&, const Tensor&) override { missing("gather"); }
  void pseudo_beta(const Tensor&, const Tensor&, const Tensor&) override { missing("pseudo_beta"); }
  void quat_to_rot(const Tensor&, const Tensor&) override { missing("quat_to_rot"); }
  void rigid_apply(const Tensor&, const ops::Frames&, const Tensor&, bool) override {
    missing("rigid_apply");
  }
  void backbone_update(const Tensor&, const Tensor&, const Tensor&) override {
    missing("backbone_update");
  }
  void invariant_point_attention(const ops::IpaOutputs&, const ops::IpaInputs&) override {
    missing("invariant_point_attention");
  }
  void point_norm(const Tensor&, const Tensor&, double) override { missing("point_norm"); }
  void l2_normalize(const Tensor&, const Tensor&, double) override { missing("l2_normalize"); }
  void pairwise_distance(const Tensor&, const Tensor&) override { missing("pairwise_distance"); }
  void torsion_angles_to_frames(const ops::Frames&, const Tensor&, const ops::Frames&,
                                const Tensor&, const Tensor&) override {
    missing("torsion_angles_to_frames");
  }
  void frames_to_atom14(const Tensor&, const Tensor&, const ops::Frames&, const Tensor&,
                        const Tensor&, const Tensor&) override {
    missing("frames_to_atom14");
  }

 private:
  static ops::GpuKernels& kernels() { return *ops::gpu_kernels(); }
};

}  // namespace
}  // namespace exafold::cuda

namespace exafold::backend {

Backend* cuda_backend() {
  // Never destroyed: CUDA may already be torn down when static destructors run.
  static auto* b = new cuda::CudaBackend();
  return b;
}

// The dry replay of the cuda backend's allocations comes with its workspaces (issue 12); until
// then meta:cuda has no backend.
Backend* cuda_meta_backend() { return nullptr; }

}  // namespace exafold::backend
