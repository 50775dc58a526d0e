// The fused GPU attention in the per-op table: AlphaFold2's attention shapes and the edges of
// the kernels' tiling and masking, in float32 and bfloat16, against a float64 reference; the
// bfloat16 cases on both kernels (tensor cores, the default for bfloat16, and the portable one).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "exafold/core/error.h"
#include "gpu_ops_test_util.h"

namespace exafold::gpu_test {
namespace {

using ops::AttentionKernel;

struct Case {
  const char* name;
  int64_t batch, n_q, n_k, heads, key_dim, value_dim;
  bool key_bias, pair_bias, gate;
  bool masked_entry;  // batch entry 1 has every key masked
};

// Both kernels tile keys by 64. The portable one tiles queries by 32, 64 or 128 (one thread
// per query) and pads heads to 8, 16, 32 or 64 channels; the tensor-core one gives each warp 16
// queries, up to 4 warps a block, works through keys in blocks of 16 and pads heads to 16, 32
// or 64 channels. The cases cross each of those boundaries.
const Case kCases[] = {
    // MSA row attention with pair bias (Algorithm 7): rows x residues, 8 heads of 32.
    {"msa_row", 16, 64, 64, 8, 32, 32, true, true, true, false},
    // Triangle attention (Algorithms 13, 14): 4 heads of 32, sizes off every tile.
    {"triangle", 37, 37, 37, 4, 32, 32, true, true, true, false},
    // Extra-MSA row attention: many batch entries, 8 heads of 8.
    {"extra_msa", 300, 50, 50, 8, 8, 8, true, true, true, false},
    // Global column attention (Algorithm 19): one query per column.
    {"global_col", 40, 1, 129, 8, 8, 8, true, false, true, false},
    {"no_gate", 4, 33, 70, 4, 16, 16, true, true, false, false},
    {"all_masked", 3, 20, 45, 4, 16, 16, true, true, true, true},
    // Two query blocks of 128, the second partial; n_k = 64 + 36.
    {"ragged", 2, 130, 100, 2, 32, 32, true, true, true, false},
    {"one_key", 5, 17, 1, 4, 16, 16, true, true, true, false},
    {"dk16_dv32", 3, 40, 90, 4, 16, 32, true, true, true, false},
    // The widest instantiation, value heads narrower than key heads.
    {"wide", 2, 24, 80, 2, 64, 48, true, true, true, false},
    {"long_row", 2, 64, 2048, 8, 32, 32, true, true, true, false},
    // Heads of 12 (padded to 16), 16-row query and 16-key blocks partly filled.
    {"odd_width", 3, 21, 77, 2, 12, 12, true, true, true, false},
    // Whole tiles only: 64 queries (4 full warps), 128 keys, 16 channels.
    {"whole_tiles", 2, 64, 128, 2, 16, 16, true, true, true, false},
    // 64-wide heads, a second query block with one warp of 6 rows and three without rows.
    {"wide_full", 1, 70, 65, 2, 64, 64, true, true, true, false},
    {"wide_masked", 3, 40, 30, 1, 64, 16, true, false, false, true},
};

struct Inputs {
  std::vector<double> q, k, v, gate, key_bias, pair_bias;
};

Inputs make_inputs(const Case& c, DType dtype) {
  const auto n = [](int64_t x) { return size_t(x); };
  Inputs in;
  // q spread wider than k: a peaked softmax, whose running maximum moves more often.
  in.q = rounded(normal(n(c.batch * c.n_q * c.heads * c.key_dim), 1, 1.5), dtype);
  in.k = rounded(normal(n(c.batch * c.n_k * c.heads * c.key_dim), 2), dtype);
  in.v = rounded(normal(n(c.batch * c.n_k * c.heads * c.value_dim), 3), dtype);
  if (c.gate) in.gate = rounded(normal(n(c.batch * c.n_q * c.heads * c.value_dim), 4), dtype);
  if (c.pair_bias) in.pair_bias = rounded(normal(n(c.heads * c.n_q * c.n_k), 5), dtype);
  if (c.key_bias) {
    // AlphaFold2's mask bias 1e9 * (mask - 1) with a fifth of the keys masked; 0 and -1e9 are
    // exact in float32.
    std::mt19937_64 rng(6);
    std::bernoulli_distribution masked(0.2);
    in.key_bias.resize(n(c.batch * c.n_k));
    for (int64_t b = 0; b < c.batch; ++b)
      for (int64_t j = 0; j < c.n_k; ++j) {
        const bool off = masked(rng) || (c.masked_entry && b == 1);
        in.key_bias[n(b * c.n_k + j)] = off ? -1e9 : 0.0;
      }
  }
  return in;
}

struct Reference {
  std::vector<double> out;
  std::vector<double> weighted_abs_v;  // sum_j w_j |v_j|, times the gate: see check_case
};

// The contract term by term in float64: logits, the reference's clip to +-1e8, softmax,
// weighted sum of v, sigmoid gate.
Reference reference(const Case& c, const Inputs& in, double scale) {
  const int64_t dk = c.key_dim, dv = c.value_dim, hk = c.heads * dk, hv = c.heads * dv;
  Reference ref;
  std::vector<double>& out = ref.out;
  out.resize(size_t(c.batch * c.n_q * hv));
  ref.weighted_abs_v.resize(out.size());
  std::vector<double> logits(size_t(c.n_k));
  for (int64_t b = 0; b < c.batch; ++b)
    for (int64_t i = 0; i < c.n_q; ++i)
      for (int64_t h = 0; h < c.heads; ++h) {
        const double* q = &in.q[size_t((b * c.n_q + i) * hk + h * dk)];
        for (int64_t j = 0; j < c.n_k; ++j) {
          const double* k = &in.k[size_t((b * c.n_k + j) * hk + h * dk)];
          double x = 0;
          for (int64_t d = 0; d < dk; ++d) x += q[d] * k[d];
          x *= scale;
          if (c.key_bias) x += in.key_bias[size_t(b * c.n_k + j)];
          if (c.pair_bias) x += in.pair_bias[size_t((h * c.n_q + i) * c.n_k + j)];
          logits[size_t(j)] = std::clamp(x, -1e8, 1e8);
        }
        const double max = *std::max_element(logits.begin(), logits.end());
        double sum = 0;
        for (auto& x : logits) {
          x = std::exp(x - max);
          sum += x;
        }
        const size_t o = size_t((b * c.n_q + i) * hv + h * dv);
        for (int64_t d = 0; d < dv; ++d) {
          double y = 0, mag = 0;
          for (int64_t j = 0; j < c.n_k; ++j) {
            const double vj = in.v[size_t((b * c.n_k + j) * hv + h * dv + d)];
            y += logits[size_t(j)] * vj;
            mag += logits[size_t(j)] * std::abs(vj);
          }
          y /= sum;
          mag /= sum;
          if (c.gate) {
            const double g = 1 / (1 + std::exp(-in.gate[o + size_t(d)]));
            y *= g;
            mag *= g;
          }
          out[o + size_t(d)] = y;
          ref.weighted_abs_v[o + size_t(d)] = mag;
        }
      }
  return ref;
}

const void* ptr(const Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

void check_case(ops::GpuKernels& kernels, const Case& c, DType dtype,
                AttentionKernel kernel = AttentionKernel::automatic) {
  SCOPED_TRACE(c.name);
  const Inputs in = make_inputs(c, dtype);
  const Tensor q = to_device(in.q, dtype), k = to_device(in.k, dtype), v = to_device(in.v, dtype);
  const Tensor gate = c.gate ? to_device(in.gate, dtype) : Tensor();
  const Tensor pair_bias = c.pair_bias ? to_device(in.pair_bias, dtype) : Tensor();
  const Tensor key_bias = c.key_bias ? to_device(in.key_bias, DType::float32) : Tensor();
  const Tensor out = device_empty(c.batch * c.n_q * c.heads * c.value_dim, dtype);

  ops::GpuAttention a;
  a.q = q.data_ptr();
  a.k = k.data_ptr();
  a.v = v.data_ptr();
  a.gate = ptr(gate);
  a.key_bias = static_cast<const float*>(ptr(key_bias));
  a.pair_bias = ptr(pair_bias);
  a.out = out.data_ptr();
  a.dtype = dtype;
  a.batch = c.batch, a.n_q = c.n_q, a.n_k = c.n_k, a.heads = c.heads;
  a.key_dim = c.key_dim, a.value_dim = c.value_dim;
  a.scale = float(1 / std::sqrt(double(c.key_dim)));
  a.kernel = kernel;
  kernels.attention(a);
  kernels.synchronize();

  // float32: each output is a softmax-weighted average accumulated key by key in float32;
  // the rounding errors of the running sums grow like sqrt(n_k) ulp (about 3e-6 of the scale
  // at n_k = 2048) and those of expf and the rescalings stay at a few ulp, so 1e-5 of the
  // output scale holds with room. bfloat16: the inputs are rounded before the reference too,
  // and probabilities and accumulator stay float32, so the error is the output's rounding to
  // 8 significant bits, at most 2^-8 (3.9e-3) of the scale, plus the float32 error: 8e-3.
  const double tolerance = dtype == DType::float32 ? 1e-5 : 8e-3;
  // The tensor-core kernel rounds each probability p_j to bfloat16 before it weights v_j (the
  // wmma product takes bfloat16), while its sum of p_j stays float32: out = sum_j p_j (1 +
  // d_j) v_j / sum_j p_j with |d_j| <= 2^-8, bfloat16's unit roundoff, so that rounding moves
  // an output by at most 2^-8 sum_j w_j |v_j| (w the exact weights, then times the gate): at
  // most 2^-8 max |v|, which can be far above 2^-8 of the output's scale when the weighted
  // values cancel. Everything else it does in float32, in the same error terms as the portable
  // kernel (its logits and P V are float32 sums of exact bfloat16 products, in the tensor
  // cores' order).
  const Reference ref = reference(c, in, double(a.scale));
  const AttentionKernel used =
      kernel == AttentionKernel::automatic ? ops::attention_kernel_for(dtype) : kernel;
  std::vector<double> slack;
  if (used == AttentionKernel::tensor_cores)
    for (double m : ref.weighted_abs_v) slack.push_back(0x1p-8 * m);
  const std::string shape =
      std::string(c.name) + " b" + std::to_string(c.batch) + " q" + std::to_string(c.n_q) + " k" +
      std::to_string(c.n_k) + " h" + std::to_string(c.heads) + " d" + std::to_string(c.key_dim) +
      "/" + std::to_string(c.value_dim) + (used == AttentionKernel::tensor_cores ? " mma" : "");
  expect_close("attention", shape, dtype, to_host(out), ref.out, tolerance, slack);
}

TEST_F(GpuOps, AttentionFloat32) {
  for (const Case& c : kCases) check_case(k(), c, DType::float32);
}

TEST_F(GpuOps, AttentionBFloat16OnTensorCores) {
  ASSERT_EQ(ops::attention_kernel_for(DType::bfloat16), AttentionKernel::tensor_cores);
  for (const Case& c : kCases) check_case(k(), c, DType::bfloat16);
}

TEST_F(GpuOps, AttentionBFloat16Portable) {
  for (const Case& c : kCases) check_case(k(), c, DType::bfloat16, AttentionKernel::portable);
}

TEST_F(GpuOps, AttentionOnTensorCoresRefusesFloat32) {
  const Tensor x = device_empty(16, DType::float32);
  ops::GpuAttention a;
  a.q = a.k = a.v = a.out = x.data_ptr();
  a.batch = a.n_q = a.n_k = a.heads = 1;
  a.key_dim = a.value_dim = 8;
  a.kernel = AttentionKernel::tensor_cores;
  EXPECT_THROW(k().attention(a), InvalidArgument);
}

TEST_F(GpuOps, AttentionWithoutQueriesLeavesOutputAlone) {
  const Tensor x = to_device(std::vector<double>(64, 1.0), DType::float32);
  const Tensor out = to_device(std::vector<double>(64, 7.0), DType::float32);
  ops::GpuAttention a;
  a.q = a.k = a.v = x.data_ptr();
  a.out = out.data_ptr();
  a.n_k = 4, a.heads = 2, a.key_dim = a.value_dim = 8;
  a.batch = 0, a.n_q = 4;
  k().attention(a);
  a.batch = 1, a.n_q = 0;
  k().attention(a);
  k().synchronize();
  for (double y : to_host(out)) EXPECT_EQ(y, 7.0);
}

TEST_F(GpuOps, AttentionRejectsHeadsWiderThan64) {
  const Tensor x = device_empty(2 * 65, DType::float32);
  ops::GpuAttention a;
  a.q = a.k = a.v = a.out = x.data_ptr();
  a.batch = a.n_q = a.n_k = a.heads = 1;
  a.key_dim = 65, a.value_dim = 8;
  EXPECT_THROW(k().attention(a), InvalidArgument);
  a.key_dim = 8, a.value_dim = 65;
  EXPECT_THROW(k().attention(a), InvalidArgument);
}

}  // namespace
}  // namespace exafold::gpu_test
