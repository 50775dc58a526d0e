// The cuda backend: exafold's ops on CUDA devices, each a kernel of cpp/src/cuda over strided
// views, GEMMs through cuBLASLt. Arithmetic is float32 (float32 or bfloat16 storage, float32
// accumulation); float64 is only copied. An op not implemented here (the embeddings and the
// structure module's geometry, docs/gpu.md) has supports() false and fails naming op, dtypes
// and device.
#include <algorithm>

#include "cuda/attention.cuh"
#include "cuda/elementwise.cuh"
#include "cuda/embedding.cuh"
#include "cuda/gemm.h"
#include "cuda/geometry.cuh"
#include "cuda/layer_norm.cuh"
#include "cuda/reduce.cuh"
#include "cuda/view.h"
#include "exafold/backend/backend.h"
#include "exafold/core/error.h"

namespace exafold::cuda {
namespace {

using backend::Op;

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

  bool supports(Op op, std::span<const DType> d) const override {
    switch (op) {
      case Op::fill:
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
        return d.size() == 2 && copyable(d[0]) && copyable(d[1]) &&
               (d[0] == d[1] || !integer(d[0]));
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

  void fill(const Tensor& out, double value) override {
    PointwiseArgs p;
    p.kind = Pointwise::fill;
    p.out = view_of(out);
    p.s = float(value);
    pointwise(p, kStream);
  }

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

  // cuBLASLt computes x @ w (+ bias) (ReLU) in float32; straight into `out` when that is all
  // and out is a contiguous float32 tensor, else into a float32 product that one epilogue
  // kernel turns into out (sigmoid, gate, residual add, bfloat16 rounding, strided rows). The
  // bias stays float32 either way (cuBLASLt's epilogue would take it in the output's type).
  void linear(const Tensor& out, const Tensor& x, const Tensor& w, const Tensor& bias,
              const ops::Epilogue& e) override {
    check(!bias.defined() || bias.dtype() == DType::float32,
          "cuda backend: linear takes a float32 bias, not ", dtype_name(bias.dtype()));
    const int64_t rows = x.size(0), k = x.size(1), n = w.size(1);
    const auto* b = bias.defined() ? static_cast<const float*>(bias.data_ptr()) : nullptr;
    const bool relu = e.activation == ops::Activation::relu;
    const bool direct = out.dtype() == DType::float32 && out.is_contiguous() &&
                        !e.multiply.defined() && !e.accumulate &&
                        e.activation != ops::Activation::sigmoid;
    const Tensor product = direct ? out : Tensor::empty(out.shape(), DType::float32, out.device());
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
    const Tensor product = direct ? out : Tensor::empty(out.shape(), DType::float32, out.device());
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
    const Tensor scratch = Tensor::empty({2}, DType::int64, t.device());
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
  // the device first (one synchronisation; gathers happen once per prediction, on features).
  void gather(const Tensor& out, const Tensor& x, const Tensor& index) override {
    const int64_t a = x.size(1);
    int64_t value = 0;
    const int64_t bad = check_range(index, 0, a - 1, &value);
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
  // found on the device (one synchronisation, once per structure).
  void check_restypes(const Tensor& aatype, std::string_view op) {
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

// The dry replay of the cuda backend's allocations comes with its workspaces (issue 12); until
// then meta:cuda has no backend.
Backend* cuda_meta_backend() { return nullptr; }

}  // namespace exafold::backend
