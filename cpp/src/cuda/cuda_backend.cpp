// The cuda backend: exafold's ops on CUDA devices, each a kernel of cpp/src/cuda over strided
// views, GEMMs through cuBLASLt. Arithmetic is float32 (float32 or bfloat16 storage, float32
// accumulation); float64 is only copied. An op not implemented here (the embeddings and the
// structure module's geometry, docs/gpu.md) has supports() false and fails naming op, dtypes
// and device.
#include "cuda/attention.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/embedding.cuh"
#include "cuda/gemm.h"
#include "cuda/geometry.cuh"
#include "cuda/layer_norm.cuh"
#include "cuda/reduce.cuh"
#include "cuda/view.h"
#include "cuda_common/supports.h"
#include "cuda_common/workspaces.h"
#include "exafold/backend/backend.h"
#include "exafold/core/error.h"

namespace exafold::cuda {
namespace {

using backend::Op;

View view_of(const Tensor& t) {
  View v;
  if (!t.defined()) return v;
  v.data = t.data_ptr();
  v.dtype = t.dtype();
  v.rank = t.rank();
  const auto item = int64_t(t.itemsize());
  for (int k = 0; k < t.rank(); ++k) {
    v.shape[k] = t.size(k);
    v.stride[k] = t.strides()[k] / item;
  }
  return v;
}

// Kernels queue on the calling thread's stream, as ops::GpuKernels' do.
const cudaStream_t kStream = cudaStreamPerThread;

Pointwise pointwise_of(ops::Unary f) {
  switch (f) {
    case ops::Unary::relu:
      return Pointwise::relu;
    case ops::Unary::sigmoid:
      return Pointwise::sigmoid;
    case ops::Unary::softplus:
      return Pointwise::softplus;
    case ops::Unary::sqrt:
      return Pointwise::sqrt;
    case ops::Unary::positive:
      return Pointwise::positive;
  }
  return Pointwise::relu;
}

Pointwise pointwise_of(ops::Binary op) {
  switch (op) {
    case ops::Binary::add:
      return Pointwise::add;
    case ops::Binary::sub:
      return Pointwise::sub;
    case ops::Binary::mul:
      return Pointwise::mul;
    case ops::Binary::div:
      return Pointwise::div;
  }
  return Pointwise::add;
}

// One operand of a product as cuda::Matrix: the last two dimensions of t (after `lead` batch
// dimensions of one stride).
Matrix matrix_of(const Tensor& t, int first) {
  const auto item = int64_t(t.itemsize());
  return {t.data_ptr(), t.strides()[first] / item, t.strides()[first + 1] / item,
          first > 0 ? t.strides()[0] / item : 0};
}

class CudaBackend final : public backend::Backend {
 public:
  std::string_view name() const override { return "cuda"; }

  bool supports(Op op, std::span<const DType> d) const override { return cuda_supports(op, d); }

  void fill(const Tensor& out, double value) override { cuda::fill(view_of(out), value, kStream); }

  void copy(const Tensor& dst, const Tensor& src) override {
    cuda::copy(view_of(dst), view_of(src), kStream);
  }

  void unary(ops::Unary f, const Tensor& out, const Tensor& x) override {
    PointwiseArgs p;
    p.kind = pointwise_of(f);
    p.out = view_of(out);
    p.a = view_of(x);
    pointwise(p, kStream);
  }

  void binary(ops::Binary op, const Tensor& out, const Tensor& a, const Tensor& b,
              bool accumulate) override {
    PointwiseArgs p;
    p.kind = pointwise_of(op);
    p.out = view_of(out);
    p.a = view_of(a);
    p.b = view_of(b);
    p.accumulate = accumulate;
    pointwise(p, kStream);
  }

  void scalar(ops::Binary op, const Tensor& out, const Tensor& a, double s) override {
    PointwiseArgs p;
    p.kind = pointwise_of(op);
    p.out = view_of(out);
    p.a = view_of(a);
    p.s = float(s);
    pointwise(p, kStream);
  }

  void sigmoid_gate(const Tensor& out, const Tensor& value, const Tensor& gate,
                    const Tensor& mask) override {
    PointwiseArgs p;
    p.kind = Pointwise::sigmoid_gate;
    p.out = view_of(out);
    p.a = view_of(value);
    p.b = view_of(gate);
    p.c = view_of(mask);
    pointwise(p, kStream);
  }

  // cuBLASLt computes x @ w (+ bias) (ReLU) in float32 into linear_product(), which one
  // epilogue kernel turns into out unless it is out (cuda_common/workspaces.h). The bias stays
  // float32 either way (cuBLASLt's epilogue would take it in the output's type).
  void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
              const ops::Epilogue& e) override {
    check(!bias.defined() || bias.dtype() == DType::float32,
          "cuda backend: linear takes a float32 bias, not ", dtype_name(bias.dtype()));
    const int64_t rows = x.size(0), k = x.size(1), n = w.size(1);
    const auto* b = bias.defined() ? static_cast<const float*>(bias.data_ptr()) : nullptr;
    const bool relu = e.activation == ops::Activation::relu;
    const bool direct = linear_writes_output(out, e);
    const Tensor product = linear_product(out, e);
    if (k == 0) {
      // An empty sum: the product is the bias alone (or zeros), then the epilogue as usual.
      fill(product, 0.0);
      if (b) {
        const Tensor bias_rows = bias.reshape({1, n}).broadcast_to({rows, n});
        binary(ops::Binary::add, product.reshape({rows, n}), product.reshape({rows, n}), bias_rows,
               false);
      }
      if (relu) unary(ops::Unary::relu, product, product);
    } else {
      batched_gemm(matrix_of(x, 0), matrix_of(w, 0), x.dtype(), 1, rows, n, k, b, relu,
                   static_cast<float*>(product.data_ptr()), n, 0, false, kStream);
    }
    if (direct) return;
    const int act = e.activation == ops::Activation::sigmoid ? 2 : 0;
    linear_epilogue(view_of(out), view_of(product), act, view_of(e.multiply), e.accumulate,
                    kStream);
  }

  void matmul(const Tensor& out, const Tensor& a, const Tensor& b) override {
    const int64_t batch = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
    const bool direct = out.dtype() == DType::float32;
    const Tensor product = matmul_product(out);
    if (k == 0)
      fill(product, 0.0);
    else
      batched_gemm(matrix_of(a, 1), matrix_of(b, 1), a.dtype(), batch, m, n, k, nullptr, false,
                   static_cast<float*>(product.data_ptr()), n, m * n, false, kStream);
    if (!direct) cuda::copy(view_of(out), view_of(product), kStream);
  }

  void layer_norm(const Tensor& out, const Tensor& x, const Tensor& scale, const Tensor& offset,
                  double eps) override {
    cuda::layer_norm(view_of(x), static_cast<const float*>(scale.data_ptr()),
                     static_cast<const float*>(offset.data_ptr()), float(eps), out.data_ptr(),
                     out.dtype(), kStream);
  }

  void attention(const Tensor& out, const ops::AttentionInputs& in) override {
    AttentionViews a;
    a.q = view_of(in.q);
    a.k = view_of(in.k);
    a.v = view_of(in.v);
    a.gate = view_of(in.gate);
    a.mask = view_of(in.mask);
    a.pair_bias = view_of(in.pair_bias);
    a.out = view_of(out);
    a.scale = float(in.scale);
    cuda::attention(a, kStream);
  }

  void softmax(const Tensor& out, const Tensor& x) override {
    cuda::softmax(view_of(out), view_of(x), kStream);
  }
  void expectation(const Tensor& out, const Tensor& probs, const Tensor& values) override {
    cuda::expectation(view_of(out), view_of(probs), view_of(values), kStream);
  }
  void masked_mean(const Tensor& out, const Tensor& x, const Tensor& mask, double eps) override {
    cuda::masked_mean(view_of(out), view_of(x), view_of(mask), float(eps), kStream);
  }
  void predicted_tm_score(const Tensor& out, const Tensor& probs, const Tensor& centres,
                          const Tensor& weights) override {
    cuda::predicted_tm_score(view_of(out), view_of(probs), view_of(centres), view_of(weights),
                             kStream);
  }
  int64_t check_range(const Tensor& t, int64_t lo, int64_t hi, int64_t* value) override {
    const Tensor scratch = check_range_scratch(t);
    return cuda::check_range(view_of(t), lo, hi, value, static_cast<int64_t*>(scratch.data_ptr()),
                             kStream);
  }

  void embed(const Tensor& out, const Tensor& w, const Tensor& bias,
             const std::vector<ops::EmbedTerm>& terms, bool accumulate) override {
    check(terms.size() <= size_t(kMaxEmbedTerms), "cuda backend: embed takes at most ",
          kMaxEmbedTerms, " terms, not ", terms.size());
    EmbedArgs a;
    a.out = view_of(out);
    a.w = w.data_ptr();
    a.bias = bias.defined() ? static_cast<const float*>(bias.data_ptr()) : nullptr;
    for (const ops::EmbedTerm& t : terms) {
      EmbedTermView& v = a.terms[a.n_terms++];
      v.one_hot = t.index.defined();
      v.t = view_of(v.one_hot ? t.index : t.value);
      v.row = t.row;
      v.scale = view_of(t.scale);
    }
    a.accumulate = accumulate;
    cuda::embed(a, kStream);
  }
  void relative_position_bins(const Tensor& out, const Tensor& residue_index,
                              int64_t max_relative) override {
    cuda::relative_position_bins(view_of(out), view_of(residue_index), max_relative, kStream);
  }
  void distogram_bins(const Tensor& out, const Tensor& points, double min, double max,
                      int64_t bins) override {
    cuda::distogram_bins(view_of(out), view_of(points), min, max, bins, kStream);
  }
  // An index outside x is an error that names it, as on the cpu: the indices are checked on
  // the device first (one synchronisation; gathers happen once per iteration, on features),
  // unless the caller checked them (a CUDA graph capture: backend::range_checks_hoisted).
  void gather(const Tensor& out, const Tensor& x, const Tensor& index) override {
    const int64_t a = x.size(1);
    int64_t value = 0;
    const int64_t bad = backend::range_checks_hoisted() ? -1 : check_range(index, 0, a - 1, &value);
    if (bad >= 0)
      fail("gather: index[", bad / index.size(1), ", ", bad % index.size(1), "] = ", value,
           " is outside 0..", a - 1);
    cuda::gather(view_of(out), view_of(x), view_of(index), kStream);
  }
  void pseudo_beta(const Tensor& out, const Tensor& aatype, const Tensor& x) override {
    cuda::pseudo_beta(view_of(out), view_of(aatype), view_of(x), kStream);
  }
  void quat_to_rot(const Tensor& out, const Tensor& quat) override {
    cuda::quat_to_rot(view_of(out), view_of(quat), kStream);
  }
  void rigid_apply(const Tensor& out, const ops::Frames& frames, const Tensor& points,
                   bool inverse) override {
    cuda::rigid_apply(view_of(out), view_of(frames.rot), view_of(frames.trans), view_of(points),
                      inverse, kStream);
  }
  void backbone_update(const Tensor& quat, const Tensor& trans, const Tensor& update) override {
    cuda::backbone_update(view_of(quat), view_of(trans), view_of(update), kStream);
  }
  void invariant_point_attention(const ops::IpaOutputs& out, const ops::IpaInputs& in) override {
    IpaViews a;
    a.q_scalar = view_of(in.q_scalar);
    a.k_scalar = view_of(in.k_scalar);
    a.v_scalar = view_of(in.v_scalar);
    a.q_points = view_of(in.q_points);
    a.k_points = view_of(in.k_points);
    a.v_points = view_of(in.v_points);
    a.bias = view_of(in.bias);
    a.pair = view_of(in.pair);
    a.mask = view_of(in.mask);
    a.point_weights = view_of(in.point_weights);
    a.out_scalar = view_of(out.scalar);
    a.out_points = view_of(out.points);
    a.out_pair = view_of(out.pair);
    a.scalar_weight = float(in.scalar_weight);
    cuda::invariant_point_attention(a, kStream);
  }
  void point_norm(const Tensor& out, const Tensor& x, double eps) override {
    cuda::point_norm(view_of(out), view_of(x), float(eps), kStream);
  }
  void l2_normalize(const Tensor& out, const Tensor& x, double min_norm_sq) override {
    cuda::l2_normalize(view_of(out), view_of(x), float(min_norm_sq), kStream);
  }
  void pairwise_distance(const Tensor& out, const Tensor& points) override {
    cuda::pairwise_distance(view_of(out), view_of(points), kStream);
  }
  void torsion_angles_to_frames(const ops::Frames& out, const Tensor& aatype,
                                const ops::Frames& backbone, const Tensor& sin_cos,
                                const Tensor& default_frames) override {
    check_restypes(aatype, "torsion_angles_to_frames");
    cuda::torsion_angles_to_frames(view_of(out.rot), view_of(out.trans), view_of(aatype),
                                   view_of(backbone.rot), view_of(backbone.trans), view_of(sin_cos),
                                   view_of(default_frames), kStream);
  }
  void frames_to_atom14(const Tensor& out, const Tensor& aatype, const ops::Frames& groups,
                        const Tensor& atom_group, const Tensor& atom_positions,
                        const Tensor& atom_mask) override {
    check_restypes(aatype, "frames_to_atom14");
    cuda::frames_to_atom14(view_of(out), view_of(aatype), view_of(groups.rot),
                           view_of(groups.trans), view_of(atom_group), view_of(atom_positions),
                           view_of(atom_mask), kStream);
  }

 private:
  // The residue types index the tables' 21 rows; an index outside them is an error naming it,
  // found on the device (one synchronisation, once per structure) unless the caller checked
  // them (backend::range_checks_hoisted).
  void check_restypes(const Tensor& aatype, std::string_view op) {
    if (backend::range_checks_hoisted()) return;
    int64_t value = 0;
    const int64_t bad = check_range(aatype, 0, 20, &value);
    if (bad >= 0) fail(op, ": aatype[", bad, "] = ", value, " is outside 0..20");
  }
};
}  // namespace
}  // namespace exafold::cuda

namespace exafold::backend {

Backend* cuda_backend() {
  // Never destroyed: CUDA may already be torn down when static destructors run.
  static auto* b = new cuda::CudaBackend();
  return b;
}

}  // namespace exafold::backend
