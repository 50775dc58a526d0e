// The per-op table's attention cases (exafold/ops/attention.h): the gated attention with key
// masks (partly and fully masked rows), pair bias and gates, on the strided projections the model
// hands it, the global column attention's shared key head, and the empty and odd sizes.
#include <cmath>

#include "backend_ops_reference.h"
#include "exafold/ops/attention.h"
#include "exafold/ops/gpu_kernels.h"

namespace exafold::op_table {
namespace {

using backend::Op;

struct Inputs {
  In q, k, v, gate, mask, pair_bias;
  bool gated = false, masked = false, biased = false;
  double scale = 1;

  ops::AttentionInputs device() const {
    ops::AttentionInputs in;
    in.q = q.d;
    in.k = k.d;
    in.v = v.d;
    if (gated) in.gate = gate.d;
    if (masked) in.mask = mask.d;
    if (biased) in.pair_bias = pair_bias.d;
    in.scale = scale;
    return in;
  }
  std::vector<DType> dtypes(DType out) const {
    std::vector<DType> d{out, q.d.dtype(), k.d.dtype(), v.d.dtype()};
    if (gated) d.push_back(gate.d.dtype());
    if (masked) d.push_back(mask.d.dtype());
    if (biased) d.push_back(pair_bias.d.dtype());
    return d;
  }
};

/// The contract term by term: logits, the reference's clip to +-1e8, softmax over the keys,
/// the weighted sum of v, the sigmoid gate. Bounds: a logit is a dk-term dot product of the
/// scaled query (dk + 2 times its magnitude) plus the biases (two roundings); a clipped logit
/// (a masked key, -1e9 + O(1)) is exactly -1e8 whatever its rounding. The weights' errors come
/// from ref::softmax, the n_k-term weighted sum adds (n_k + 1) u of its magnitude, and the gate
/// its sigmoid and one product.
///
/// bf16_probabilities: the cuda backend's tensor-core kernel (bfloat16 storage) rounds each
/// unnormalised weight p_j to bfloat16 before the wmma product with v, and divides by the
/// float32 sum of the unrounded p_j. So the weighted sum is sum_j w_j (1 + d_j) v_j with
/// |d_j| <= 2^-8 (bfloat16's unit roundoff): 2^-8 = 2^16 u (u = 2^-24) of its magnitude
/// sum_j w_j |v_j| more, and nothing else changes (its logits and P V are float32 sums of exact
/// bfloat16 products, bounded as above in any order). Only there: the table holds every other
/// kernel to the bound without it.
Want attention_ref(const Inputs& in, bool bf16_probabilities) {
  const int64_t B = in.q.size(0), nq = in.q.size(1), H = in.q.size(2), dk = in.q.size(3);
  const int64_t nk = in.k.size(1), dv = in.v.size(3);
  Want w({B, nq, H, dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < nq; ++i)
      for (int64_t h = 0; h < H; ++h) {
        std::vector<double> l(static_cast<size_t>(nk)), el(static_cast<size_t>(nk));
        for (int64_t j = 0; j < nk; ++j) {
          double dot = 0, mag = 0;
          for (int64_t c = 0; c < dk; ++c) {
            dot += in.scale * in.q(b, i, h, c) * in.k(b, j, h, c);
            mag += std::abs(in.scale * in.q(b, i, h, c) * in.k(b, j, h, c));
          }
          const double pb = in.biased ? in.pair_bias(h, i, j) : 0.0;
          const double x = dot + (in.masked ? 1e9 * (in.mask(b, j) - 1) : 0.0) + pb;
          const bool clipped = std::abs(x) > 1e8;
          l[size_t(j)] = std::clamp(x, -1e8, 1e8);
          el[size_t(j)] = clipped ? 0.0 : double(dk + 2) * mag + std::abs(pb) + 2 * std::abs(x);
        }
        const ref::Softmax sm = ref::softmax(l, el);
        for (int64_t c = 0; c < dv; ++c) {
          double o = 0, err = 0, mag = 0;
          for (int64_t j = 0; j < nk; ++j) {
            const double vj = in.v(b, j, h, c), wj = sm.w[size_t(j)];
            o += wj * vj;
            err += wj * std::abs(vj) * sm.rel[size_t(j)];
            mag += wj * std::abs(vj);
          }
          err += double(nk + 1) * mag;
          if (bf16_probabilities) err += 0x1p16 * mag;
          if (in.gated) {
            const double g = ref::sigmoid(in.gate(b, i, h, c));
            o *= g;
            err = err * g + (ref::kSigmoid + 1) * std::abs(o);
          }
          w.set(w.at(b, i, h, c), o, err);
        }
      }
  return w;
}

/// q, k, v and the gate as slices of one wider projection, as the model takes them from its
/// fused q/k/v/gate Linear: strided views whose last dimension is contiguous.
In projection(Env& e, int64_t b, int64_t n, int64_t h, int64_t d, double scale = 1) {
  return e.normal({b, n, h, d + 3}, scale).map([&](const Tensor& t) {
    return t.slice(3, 2, 2 + d);
  });
}

void run(Env& e, const std::string& what, const Inputs& in, bool exact = false) {
  if (!e.require(Op::attention, in.dtypes(e.act))) return;
  e.recycle({in.q.size(0), in.q.size(1), in.q.size(2), in.v.size(3)});
  const bool tensor_cores =
      e.device.is_cuda() && ops::attention_kernel_for(e.act) == ops::AttentionKernel::tensor_cores;
  e.variant(what, [&] {
    const Tensor out = ops::attention(in.device());
    if (exact)
      e.expect_exact(what, out, attention_ref(in, tensor_cores));
    else
      e.expect(what, out, attention_ref(in, tensor_cores));
  });
}

OP_CASE(attention, attention) {
  // The old kernel test's problem: 3 batch entries, 5 queries, 7 keys, 2 heads of 3 (values 4);
  // entry 1 has its last two keys masked, entry 2 every key.
  Inputs in;
  in.q = projection(e, 3, 5, 2, 3);
  in.k = projection(e, 3, 7, 2, 3);
  in.v = projection(e, 3, 7, 2, 4);
  in.gate = projection(e, 3, 5, 2, 4);
  in.pair_bias = e.normal({2, 5, 7}, 0.5);
  std::vector<double> mask(21, 1.0);
  mask[7 + 5] = mask[7 + 6] = 0;
  for (int j = 14; j < 21; ++j) mask[size_t(j)] = 0;
  in.mask = e.values({3, 7}, mask, e.act);
  in.scale = 1 / std::sqrt(3.0);
  for (bool gated : {true, false})
    for (bool masked : {true, false})
      for (bool biased : {true, false}) {
        in.gated = gated, in.masked = masked, in.biased = biased;
        run(e,
            std::string(masked ? "masked" : "unmasked") + (biased ? ", pair bias" : "") +
                (gated ? ", gated" : ""),
            in);
      }
}

OP_CASE(attention, attention_masks) {
  // Every key masked: the clip makes all logits -1e8, so the weights are exactly 1/4, and with
  // integer values the mean is exact. One key left: it takes all the weight, exactly.
  for (bool one_left : {false, true}) {
    Inputs in;
    in.q = e.normal({1, 3, 2, 5}, 2);
    in.k = e.normal({1, 4, 2, 5}, 2);
    in.v = e.ints({1, 4, 2, 3}, -8, 8, e.act);
    in.mask = e.values({1, 4}, {0, one_left ? 1.0 : 0.0, 0, 0}, e.act);
    in.pair_bias = e.normal({2, 3, 4});
    in.masked = in.biased = true;
    run(e, one_left ? "one key left" : "every key masked", in, true);
  }
  // A mask that is a transposed view (the column attentions' msa_mask.transpose(0, 1)), key 0
  // masked in both batch entries.
  Inputs in;
  const In m = e.mask({6, 2}, 0.6);
  std::vector<double> mv(12);
  for (int64_t i = 0; i < 12; ++i) mv[size_t(i)] = ref::flat(m, i);
  mv[0] = mv[1] = 0;
  in.mask = e.values({6, 2}, mv, e.act).map([](const Tensor& t) { return t.transpose(0, 1); });
  in.q = projection(e, 2, 4, 3, 8);
  in.k = projection(e, 2, 6, 3, 8);
  in.v = projection(e, 2, 6, 3, 5);
  in.masked = true;
  in.scale = 1 / std::sqrt(8.0);
  run(e, "mask [6, 2]^T", in);
}

OP_CASE(attention, attention_global) {
  // Algorithm 19: one query per column and head, one key/value head shared by every query
  // head (head stride 0), a column with every sequence masked.
  const int64_t cols = 3, seqs = 9, heads = 4, d = 8;
  Inputs in;
  in.q = e.normal({cols, 1, heads, d});
  const In kv = e.normal({cols, seqs, 2 * d});
  in.k = kv.map([&](const Tensor& t) {
    return t.slice(2, 0, d).unsqueeze(2).broadcast_to({cols, seqs, heads, d});
  });
  in.v = kv.map([&](const Tensor& t) {
    return t.slice(2, d, 2 * d).unsqueeze(2).broadcast_to({cols, seqs, heads, d});
  });
  std::vector<double> mask(static_cast<size_t>(cols * seqs), 1.0);
  for (int64_t s = 0; s < seqs; ++s) mask[size_t(2 * seqs + s)] = 0;
  mask[3] = mask[5] = 0;
  in.mask = e.values({cols, seqs}, mask, e.act);
  in.masked = true;
  in.scale = 1 / std::sqrt(double(d));
  run(e, "global: k, v head stride 0", in);
}

OP_CASE(attention, attention_sizes) {
  // Key counts around the 32-lane reductions of the cpu softmax and the 64-key tiles of the
  // GPU kernel, with and without a key mask, on contiguous q, k and v; a peaked softmax (large
  // logits); no keys (the output is 0); no queries.
  for (int64_t nk : {1, 31, 33, 70}) {
    Inputs in;
    in.q = e.normal({2, 3, 2, 4}, nk == 33 ? 4 : 1);
    in.k = e.normal({2, nk, 2, 4}, nk == 33 ? 4 : 1);
    in.v = e.normal({2, nk, 2, 5});
    in.gate = e.normal({2, 3, 2, 5});
    in.mask = e.mask({2, nk}, 0.8);
    in.pair_bias = e.normal({2, 3, nk});
    in.gated = in.masked = in.biased = true;
    in.scale = 0.5;
    const std::string tag = "n_k = " + std::to_string(nk) + (nk == 33 ? ", peaked" : "");
    run(e, tag, in);
    in.masked = false;
    run(e, tag + ", no mask", in);
  }
  for (auto [nq, nk] : {std::pair<int64_t, int64_t>{3, 0}, {0, 4}}) {
    Inputs in;
    in.q = e.normal({2, nq, 2, 4});
    in.k = e.normal({2, nk, 2, 4});
    in.v = e.normal({2, nk, 2, 5});
    in.gate = e.normal({2, nq, 2, 5});
    in.mask = e.mask({2, nk}, 0.5);
    in.pair_bias = e.normal({2, nq, nk});
    in.gated = in.masked = in.biased = true;
    run(e, "n_q = " + std::to_string(nq) + ", n_k = " + std::to_string(nk), in, true);
  }
}

OP_CASE(attention, attention_tiles) {
  // The tiling of the cuda backend's tensor-core kernel (bfloat16): heads of 12, 16, 32 and 64
  // channels (padded to 16, 32, 64; values narrower than keys once), 20 queries (a whole 16-row
  // warp tile and a partial one), 70 keys (a whole 64-key tile, then a 16-key block with 6),
  // a key mask with batch entry 1 fully masked, pair bias and gate.
  std::vector<double> mask(140, 0.0);
  for (int j = 0; j < 70; ++j) mask[size_t(j)] = j % 5 == 2 ? 0.0 : 1.0;
  for (int64_t d : {12, 16, 32, 64}) {
    const int64_t dv = d == 64 ? 40 : d;
    Inputs in;
    in.q = projection(e, 2, 20, 2, d);
    in.k = projection(e, 2, 70, 2, d);
    in.v = projection(e, 2, 70, 2, dv);
    in.gate = projection(e, 2, 20, 2, dv);
    in.pair_bias = e.normal({2, 20, 70});
    in.mask = e.values({2, 70}, mask, e.act);
    in.gated = in.masked = in.biased = true;
    in.scale = 1 / std::sqrt(double(d));
    run(e, "heads " + std::to_string(d) + "/" + std::to_string(dv) + ", entry 1 masked", in);
  }
}

OP_CASE(attention, attention_views) {
  // The pair bias a slice of a larger [H, N, N] (the queries of one chunk), and q, k, v with
  // padded rows: every view the contract allows, its last dimension contiguous.
  Inputs in;
  in.q = projection(e, 2, 4, 3, 6);
  in.k = projection(e, 2, 5, 3, 6);
  in.v = projection(e, 2, 5, 3, 7);
  in.gate = projection(e, 2, 4, 3, 7);
  in.pair_bias = e.normal({3, 9, 5}).map([](const Tensor& t) { return t.slice(1, 2, 6); });
  in.mask = e.mask({2, 5}, 0.7);
  in.gated = in.masked = in.biased = true;
  in.scale = 1 / std::sqrt(6.0);
  run(e, "pair bias rows 2:6 of [3, 9, 5]", in);
}

}  // namespace
}  // namespace exafold::op_table
