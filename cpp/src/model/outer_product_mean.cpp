// AlphaFold2 supplement Algorithm 10: the outer product mean (MSA -> pair update).
#include "exafold/model/outer_product_mean.h"

#include "layers.h"

namespace exafold::model {

using namespace detail;

namespace {

// Added to the mask norm before the division; where no sequence covers both residues (padding)
// the output is output_b / 1e-3, as in the reference.
constexpr double kNormEpsilon = 1e-3;

}  // namespace

void outer_product_mean(const ParamScope& p, const Tensor& msa, const Tensor& msa_mask,
                        int64_t chunk_size, const Tensor& out) {
  check(msa.rank() == 3, "outer_product_mean: msa ", msa.shape().str(), " must be [S, N, c]");
  const int64_t s = msa.size(0), n = msa.size(1);
  const ParamScope ln = p / "layer_norm_input";
  const ParamScope left = p / "left_projection", right = p / "right_projection";
  const Tensor output_w = p["output_w"];
  const int64_t co = left["weights"].size(1), c_z = output_w.size(2);
  check_shape(msa, "msa", {s, n, ln["scale"].numel()});
  check_shape(msa_mask, "msa_mask", {s, n});
  check_shape(out, "pair update", {n, n, c_z});
  const DType dt = msa.dtype();

  // a, b: [S, N, c_o], masked; computed chunk_size sequences at a time
  const Tensor a = Tensor::empty({s, n, co}, dt, msa.device());
  const Tensor b = Tensor::empty({s, n, co}, dt, msa.device());
  {
    const int64_t chunk = chunk_rows(chunk_size, s);
    for (int64_t s0 = 0; s0 < s; s0 += chunk) {
      const int64_t s1 = std::min(s, s0 + chunk);
      const Tensor x = layer_norm(ln, msa.slice(0, s0, s1));
      const Tensor m = msa_mask.slice(0, s0, s1).unsqueeze(2).broadcast_to({s1 - s0, n, co});
      linear_into(a.slice(0, s0, s1), left, x, ops::Epilogue().times(m));
      linear_into(b.slice(0, s0, s1), right, x, ops::Epilogue().times(m));
    }
  }
  // [N, N]: sum_s mask[s, i] mask[s, j]
  const Tensor norm = ops::matmul(msa_mask.transpose(0, 1), msa_mask);
  const Tensor b2 = b.reshape({s, n * co});
  const Tensor w2 = output_w.reshape({co * co, c_z});
  const int64_t chunk = chunk_rows(chunk_size, n);
  for (int64_t i0 = 0; i0 < n; i0 += chunk) {
    const int64_t i1 = std::min(n, i0 + chunk), ni = i1 - i0;
    // [(ni c_o), (N c_o)] = a[:, i0:i1]^T @ b over the sequences
    const Tensor a2 = merge_last(a.slice(1, i0, i1));
    const Tensor outer = ops::matmul(a2.transpose(0, 1), b2);
    // -> [ni, N, c_o, c_o], the layout output_w [c_o, c_o, c_z] contracts
    const Tensor flat = ops::contiguous(outer.reshape({ni, co, n, co}).permute({0, 2, 1, 3}))
                            .reshape({ni * n, co * co});
    // [ni, N, c_z]: the bias goes in before the division, as in the reference
    const Tensor y = ops::linear(flat, w2, p["output_b"]).reshape({ni, n, c_z});
    const Tensor den = ops::scalar(ops::Binary::add, norm.slice(0, i0, i1), kNormEpsilon);
    ops::binary_into(ops::Binary::div, out.slice(0, i0, i1), y,
                     den.unsqueeze(2).broadcast_to({ni, n, c_z}), true);
  }
}

}  // namespace exafold::model
